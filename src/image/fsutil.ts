// Small file-system helpers the image store shares (atomic writes are common/atomic.ts's).

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}
