/*
 * The keyctl case of the escape suite. Kernel keyrings are not namespaced (but for user
 * namespaces), so a container's root that can add_key lands a key in the host root's user
 * keyring, where the host sees it in /proc/keys. `add NAME` tries add_key and keyctl and
 * prints ESCAPED for each that got through; `rm ID` invalidates a key, the host's clean-up.
 * Built static by the test: the busybox images have no C library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEY_SPEC_USER_KEYRING (-4)
#define KEYCTL_GET_KEYRING_ID 0
#define KEYCTL_INVALIDATE 21

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "add") == 0) {
    long id = syscall(SYS_add_key, "user", argv[2], "escape", 6, KEY_SPEC_USER_KEYRING);
    if (id < 0)
      printf("add_key: %s\n", strerror(errno));
    else
      printf("ESCAPED add_key %ld\n", id);
    long ring = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
    if (ring < 0)
      printf("keyctl: %s\n", strerror(errno));
    else
      printf("ESCAPED keyctl user keyring %ld\n", ring);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "rm") == 0)
    return syscall(SYS_keyctl, KEYCTL_INVALIDATE, atol(argv[2])) < 0 ? 1 : 0;
  fprintf(stderr, "usage: keyctl-probe add NAME | rm ID\n");
  return 2;
}
