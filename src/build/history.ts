// The history lines the classic Docker builder writes (`created_by`), byte for byte: metadata
// steps as `/bin/sh -c #(nop)  ENV a=b` (the two spaces are Docker's: "#(nop) " and the
// comment are separate words it joins with a space), RUN as its command line (build args in
// use prefixed `|N k=v`), COPY/ADD as `#(nop) COPY file:<hash> in <dest> `. Go's %q and
// Duration formatting, which those lines carry, are reproduced here. Pure.

/** Go's strconv.Quote for the printable ASCII and common escapes Dockerfiles hold. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(list: string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** Go's `%v` of a []string: `[a b]`. */
export function goList(list: string[]): string {
  return `[${list.join(' ')}]`;
}

/** Go's time.Duration.String of nanoseconds: `0s`, `1.5s`, `5m0s`, `1h0m0s`, `300ms`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  const frac = (v: number, digits: number) => {
    const s = String(v).padStart(digits, '0').replace(/0+$/, '');
    return s ? `.${s}` : '';
  };
  let out: string;
  if (u < 1e9) {
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${Math.floor(u / 1e3)}${frac(u % 1e3, 3)}µs`;
    else out = `${Math.floor(u / 1e6)}${frac(u % 1e6, 6)}ms`;
  } else {
    const secs = Math.floor(u / 1e9);
    const rest = u % 1e9;
    let s = `${secs % 60}${frac(rest, 9)}s`;
    u = Math.floor(secs / 60);
    if (u > 0) {
      s = `${u % 60}m${s}`;
      u = Math.floor(u / 60);
      if (u > 0) s = `${u}h${s}`;
    }
    out = s;
  }
  return neg ? `-${out}` : out;
}

/** A metadata step's history line: `/bin/sh -c #(nop)  <comment>`, with the stage's shell. */
export function nopLine(shell: string[], comment: string): string {
  return [...shell, '#(nop) ', comment].join(' ');
}

/** COPY/ADD's line: `/bin/sh -c #(nop) COPY file:<hash> in <dest> `. */
export function copyLine(shell: string[], instr: 'COPY' | 'ADD', srcHash: string, dest: string): string {
  return [...shell, `#(nop) ${instr} ${srcHash} in ${dest} `].join(' ');
}

/** RUN's line: its argv joined, after `|N k=v …` when build args are in the step's environment. */
export function runLine(args: string[], buildArgs: [string, string][]): string {
  const prefix = buildArgs.length ? [`|${buildArgs.length}`, ...buildArgs.map(([k, v]) => `${k}=${v}`)] : [];
  return [...prefix, ...args].join(' ');
}

/** HEALTHCHECK's comment: Go's `%q` of the *HealthConfig dockerd 20.10 prints. */
export function healthLine(h: {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}): string {
  const retries = h.Retries ?? 0;
  const rune = retries < 0x20 || retries === 0x7f ? `'\\x${retries.toString(16).padStart(2, '0')}'` : `'${String.fromCodePoint(retries)}'`;
  return `HEALTHCHECK &{${goQuoteList(h.Test ?? [])} ${goQuote(goDuration(h.Interval ?? 0))} ${goQuote(goDuration(h.Timeout ?? 0))} ${goQuote(goDuration(h.StartPeriod ?? 0))} ${rune}}`;
}
