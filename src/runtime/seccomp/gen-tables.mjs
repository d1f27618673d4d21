#!/usr/bin/env node
// Generates syscalls-<arch>.ts (syscall name → number, one table per architecture) from the
// kernel's uapi headers on this machine, through the C preprocessor. A dev-time tool: its
// output is committed and the runtime never runs it. Usage: node src/runtime/seccomp/gen-tables.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const inc = '/usr/include';
const x86 = `${inc}/x86_64-linux-gnu/asm`;

// Each table: the SCMP_ARCH name, its source, the preprocessor input that yields its __NR_*
// macros, and a few numbers every kernel agrees on, checked so a wrong header fails loudly.
const tables = [
  {
    arch: 'x86_64',
    header: `${x86}/unistd_64.h`,
    source: `#include "${x86}/unistd_64.h"\n`,
    check: { read: 0, mkdir: 83, mkdirat: 258, clone3: 435 },
  },
  {
    arch: 'x86',
    header: `${x86}/unistd_32.h`,
    source: `#include "${x86}/unistd_32.h"\n`,
    check: { exit: 1, mkdir: 39, mkdirat: 296, socketcall: 102 },
  },
  {
    arch: 'x32',
    header: `${x86}/unistd_x32.h`,
    // Numbers keep the __X32_SYSCALL_BIT, as the kernel reports them in seccomp_data.nr.
    source: `#define __X32_SYSCALL_BIT 0x40000000\n#include "${x86}/unistd_x32.h"\n`,
    check: { read: 0x40000000, mkdirat: 0x40000000 + 258, rt_sigaction: 0x40000000 + 512 },
  },
  {
    arch: 'aarch64',
    header: `${inc}/asm-generic/unistd.h`,
    // The switches arch/arm64/include/uapi/asm/unistd.h sets before including the generic
    // table (Linux 5.14 to 6.10; later kernels generate the same list from syscall.tbl).
    source: [
      '#define __ARCH_WANT_RENAMEAT',
      '#define __ARCH_WANT_NEW_STAT',
      '#define __ARCH_WANT_SET_GET_RLIMIT',
      '#define __ARCH_WANT_TIME32_SYSCALLS',
      '#define __ARCH_WANT_SYS_CLONE3',
      '#define __ARCH_WANT_MEMFD_SECRET',
      `#include "${inc}/asm-generic/unistd.h"`,
      '',
    ].join('\n'),
    bits64: true,
    check: { io_setup: 0, mkdirat: 34, renameat: 38, newfstatat: 79, fstat: 80, mmap: 222, clone3: 435 },
    absent: ['mkdir', 'open', 'fork', 'sync_file_range2', 'mmap2'],
  },
];

// Macros that look like syscalls but are not.
const notSyscalls = new Set(['syscalls', 'arch_specific_syscall']);

function kernelVersion() {
  const text = readFileSync(`${inc}/linux/version.h`, 'utf8');
  const part = (n) => (text.match(new RegExp(`LINUX_VERSION_${n} (\\d+)`)) ?? [])[1];
  return [part('MAJOR'), part('PATCHLEVEL'), part('SUBLEVEL')].filter(Boolean).join('.') || 'unknown';
}

/** Evaluates a macro body made of numbers, macro names, +, -, and parentheses. */
function evaluate(expr, macros, depth = 0) {
  if (depth > 20) throw new Error(`macro nesting too deep in ${expr}`);
  const tokens = expr.match(/0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|[()+-]/g) ?? [];
  if (tokens.join('') !== expr.replace(/\s+/g, '')) throw new Error(`cannot evaluate ${expr}`);
  let i = 0;
  const primary = () => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') throw new Error(`unbalanced ${expr}`);
      return v;
    }
    if (t === '-') return -primary();
    if (/^\d|^0[xX]/.test(t)) return Number(t);
    if (t !== undefined && macros.has(t)) return evaluate(macros.get(t), macros, depth + 1);
    throw new Error(`unknown token ${t} in ${expr}`);
  };
  const sum = () => {
    let v = primary();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + primary() : v - primary();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${expr}`);
  return v;
}

function table({ arch, header, source, bits64, check, absent = [] }) {
  if (!existsSync(header)) return null;
  const args = ['-E', '-dM', '-x', 'c', '-'];
  if (bits64) args.push('-D__BITS_PER_LONG=64');
  const out = execFileSync('cc', args, { input: source, encoding: 'utf8' });
  const macros = new Map();
  for (const line of out.split('\n')) {
    const m = /^#define (\w+) (.+)$/.exec(line);
    if (m) macros.set(m[1], m[2].trim());
  }
  const nrs = new Map();
  for (const [name, body] of macros) {
    if (!name.startsWith('__NR_')) continue;
    const sys = name.slice(5);
    if (notSyscalls.has(sys)) continue;
    nrs.set(sys, evaluate(body, macros));
  }
  for (const [name, nr] of Object.entries(check)) {
    if (nrs.get(name) !== nr) throw new Error(`${arch}: expected ${name} = ${nr}, got ${nrs.get(name)}`);
  }
  for (const name of absent) if (nrs.has(name)) throw new Error(`${arch}: ${name} should not exist`);
  return [...nrs].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
}

const version = kernelVersion();
for (const t of tables) {
  const rows = table(t);
  const file = join(here, `syscalls-${t.arch}.ts`);
  if (!rows) {
    console.log(`skip ${t.arch}: ${t.header} not found`);
    continue;
  }
  const constName = `SYSCALLS_${t.arch.toUpperCase()}`;
  const body = rows.map(([n, nr]) => `  ['${n}', ${nr >= 0x40000000 ? '0x' + nr.toString(16) : nr}],`).join('\n');
  writeFileSync(
    file,
    [
      `// Syscall numbers of ${t.arch}, name → seccomp_data.nr. Generated by gen-tables.mjs from`,
      `// ${t.header} (Linux uapi headers ${version}); do not edit, rerun the generator.`,
      '',
      `export const ${constName}: ReadonlyMap<string, number> = new Map([`,
      body,
      ']);',
      '',
    ].join('\n'),
  );
  console.log(`wrote ${file}: ${rows.length} syscalls`);
}
