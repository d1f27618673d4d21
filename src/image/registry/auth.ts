// Registry challenges: `WWW-Authenticate` parsing, and the Basic header of credentials (which
// common/credentials.ts reads). Never logs a secret.

import type { Credentials } from '../../common/credentials.js';

export interface Challenge {
  scheme: string; // lower-case: 'bearer' or 'basic'
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: RegExp) => {
    while (i < n && chars.test(header[i])) i++;
  };
  const token = () => {
    const s = i;
    while (i < n && /[A-Za-z0-9_.~+\/!#$%&'*^`|-]/.test(header[i])) i++;
    return header.slice(s, i);
  };
  let cur: Challenge | undefined;
  while (i < n) {
    skip(/[\s,]/);
    const t = token();
    if (!t) {
      i++;
      continue;
    }
    skip(/\s/);
    if (header[i] === '=' && cur) {
      i++;
      skip(/\s/);
      let v = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\') i++;
          v += header[i] ?? '';
          i++;
        }
        i++;
      } else {
        const s = i;
        while (i < n && !/[\s,]/.test(header[i])) i++;
        v = header.slice(s, i);
      }
      cur.params[t.toLowerCase()] = v;
    } else {
      cur = { scheme: t.toLowerCase(), params: {} };
      out.push(cur);
    }
  }
  return out;
}

export const basicHeader = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
