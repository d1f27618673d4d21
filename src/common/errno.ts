// The code of a failed system call (`ENOENT`, `EBUSY`…), for the callers that expect one
// failure and must let every other one through.

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** Whether `e` is a failed system call with one of `codes`. */
export function isErrno(e: unknown, ...codes: string[]): boolean {
  const code = errno(e);
  return code !== undefined && codes.includes(code);
}
