// The code of a failed system call (`ENOENT`, `EBUSY`…), for the callers that expect one
// failure and must let every other one through.

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}
