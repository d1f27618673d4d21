// /proc/self/mountinfo as the kernel writes it: space-separated fields, with space, tab, newline
// and backslash in a path escaped as \ooo octal. Pure: callers read the file.

/** A mountinfo field with its octal escapes undone. */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface MountEntry {
  /** The mount's ID (the first field). */
  id: number;
  /** Where it is mounted (the fifth field), unescaped. */
  mountPoint: string;
}

/** Each mount of a mountinfo text, in its order. */
export function mountEntries(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    out.push({ id: Number(f[0]), mountPoint: unescapeMountinfo(f[4]) });
  }
  return out;
}
