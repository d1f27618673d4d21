// Reading a JSON request body within bounds, then decoding it as its declared Go type. A body is
// refused with a 413 once it passes MAX_JSON_BODY, counted as it arrives (a Content-Length over
// the cap is refused before a byte is read), so a refused request never holds more than the cap;
// the rest is never read. JSON nested deeper than MAX_JSON_DEPTH is refused
// before it is parsed. dockerd has no limit of its own on these bodies; berth's caps are
// documented in the README.

import type { Readable } from 'node:stream';
import { errorMessage, invalid, tooLarge } from '../../errors.js';
import { decodeBody, type GoType } from './body-decode.js';

/** The most bytes a JSON request body may have: far above any real create, exec or network body. */
export const MAX_JSON_BODY = 1024 * 1024;
/** The deepest nesting of arrays and objects a JSON body may have (the declared types need under 10). */
export const MAX_JSON_DEPTH = 100;

/**
 * Reads `stream` to its end, or throws a 413 as soon as more than `limit` bytes arrived. On a
 * refusal the stream is left paused, not destroyed, so the 413 can still go out on its socket
 * (sendError then closes the connection: the rest is never read).
 */
export function readBounded(stream: Readable, declaredLength: string | undefined, limit = MAX_JSON_BODY): Promise<Buffer> {
  const tooBig = () => tooLarge(`request body is larger than berthd's limit of ${limit} bytes for a JSON body`);
  if (declaredLength !== undefined && Number(declaredLength) > limit) return Promise.reject(tooBig());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const done = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (c: Buffer) => {
      have += c.length;
      if (have <= limit) {
        chunks.push(c);
        return;
      }
      done();
      stream.pause();
      reject(tooBig());
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** The nesting depth of JSON `text` is at most `max` (a scan that knows strings and escapes). */
export function checkDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) throw invalid(`invalid JSON: nested deeper than ${max} levels (exceeded max depth)`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

export interface BodyOptions {
  /** A body of `null`: refused (the default), or taken as empty (old clients send it to /commit). */
  allowNull?: boolean;
}

/** Parses `buf` (empty is `{}`) and decodes it as `type`; every failure is a 400 naming what is wrong. */
export function parseBody(type: Extract<GoType, { kind: 'struct' }>, buf: Buffer, opts: BodyOptions = {}): Record<string, any> {
  const text = buf.toString('utf8');
  if (!text.trim()) return {};
  checkDepth(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid(`invalid JSON: ${errorMessage(e)}`);
  }
  if (parsed === null && !opts.allowNull) throw invalid('invalid JSON: the request body is null; send a JSON object');
  return decodeBody(type, parsed);
}
