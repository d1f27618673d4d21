/* The container's root file system: mounts resolved inside the root (a symlink in the image
 * cannot send a mount to the host), devices, symlinks, pivot_root, masked and read-only
 * paths, hostname and sysctls. Runs in the child, in its new mount namespace. */
#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum { CREATE_NONE = 0, CREATE_DIR = 1, CREATE_FILE = 2 };

static int openat2_in_root(int rootfd, const char *rel, int flags) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  for (;;) {
    long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
    if (fd < 0 && errno == EAGAIN) continue; /* a rename raced the lookup */
    return (int)fd;
  }
}

/* An O_PATH fd for `path` resolved with the container's root as "/", creating what is
 * missing as directories (and the last component as a file when asked). Each step is
 * resolved from the root, so a symlink met on the way (even one pointing at the host's
 * paths) stays inside it; a dangling one has its target made there, as runc's MkdirAll does. */
static int open_in_root_at(int rootfd, const char *path, int create_kind, mode_t mode, int depth) {
  while (*path == '/') path++;
  if (!*path) return fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  int fd = openat2_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || create_kind == CREATE_NONE) return fd;

  char *copy = strdup(path);
  if (!copy) die("out of memory");
  int dirfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  char *save = NULL;
  char *comp = strtok_r(copy, "/", &save);
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    char *upto = strndup(path, (size_t)(comp - copy) + strlen(comp));
    if (!upto) die("out of memory");
    int child = openat2_in_root(rootfd, upto, O_PATH);
    if (child < 0 && errno == ENOENT) {
      if (!next && create_kind == CREATE_FILE) {
        int f = openat(dirfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode ? mode : 0644);
        if (f >= 0) close(f);
        else if (errno != EEXIST) goto fail_upto;
      } else if (mkdirat(dirfd, comp, 0755) < 0 && errno != EEXIST) {
        goto fail_upto;
      }
      child = openat2_in_root(rootfd, upto, O_PATH);
      char target[4096];
      ssize_t n;
      if (child < 0 && errno == ENOENT && depth < 40 && (n = readlinkat(dirfd, comp, target, sizeof target - 1)) > 0) {
        target[n] = '\0';
        char *joined = NULL;
        int base = target[0] == '/' ? 0 : (int)(comp - copy);
        if (asprintf(&joined, "%.*s/%s/%s", base, path, target, next ? path + (next - copy) : "") < 0) die("out of memory");
        child = open_in_root_at(rootfd, joined, create_kind, mode, depth + 1);
        int saved = errno;
        free(joined);
        free(upto);
        close(dirfd);
        free(copy);
        errno = saved;
        return child;
      }
    }
    free(upto);
    if (child < 0) goto fail;
    close(dirfd);
    dirfd = child;
    comp = next;
    continue;
  fail_upto:
    free(upto);
    goto fail;
  }
  free(copy);
  return dirfd;
fail: {
  int saved = errno;
  close(dirfd);
  free(copy);
  errno = saved;
  return -1;
}
}

int open_in_root(int rootfd, const char *path, int create_kind, mode_t mode) {
  return open_in_root_at(rootfd, path, create_kind, mode, 0);
}

static void fd_path(int fd, char *buf, size_t len) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

/* Flags a bind remount must keep: in a user namespace the kernel locks them. */
static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  if (statvfs(path, &st) < 0) return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

static const unsigned long PROPAGATION = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

/* `p` names the mount itself (its root), `dest` is for messages. */
static void set_propagation(const char *p, const char *dest, unsigned long prop) {
  unsigned long rec = prop & MS_REC;
  unsigned long kinds[] = {MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if ((prop & kinds[i]) && mount(NULL, p, NULL, kinds[i] | rec, NULL) < 0)
      die_errno("set propagation of %s", dest);
}

static void apply_propagation(int rootfd, const char *dest, unsigned long prop) {
  if (!prop) return;
  int fd = open_in_root(rootfd, dest, CREATE_NONE, 0);
  if (fd < 0) die_errno("open %s", dest);
  char p[64];
  fd_path(fd, p, sizeof p);
  set_propagation(p, dest, prop);
  close(fd);
}

/* What a bind remount with `flags` would set, on the detached mount `tree`: the per-mount
 * flags (the others belong to the file system and a bind remount ignores them), the rest
 * cleared, atime relatime unless said; in a user namespace the flags the kernel locked are
 * kept, as it requires. */
static void set_bind_options(int tree, unsigned long flags, int userns, const char *dest) {
  char p[64];
  fd_path(tree, p, sizeof p);
  if (userns) flags |= locked_flags(p) & ~MS_RDONLY;
  static const struct {
    unsigned long ms;
    uint64_t attr;
  } map[] = {{MS_RDONLY, MOUNT_ATTR_RDONLY},         {MS_NOSUID, MOUNT_ATTR_NOSUID},
             {MS_NODEV, MOUNT_ATTR_NODEV},           {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
             {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW}};
  struct mount_attr attr = {.attr_clr = MOUNT_ATTR__ATIME};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    if (flags & map[i].ms) attr.attr_set |= map[i].attr;
    else attr.attr_clr |= map[i].attr;
  }
  /* As mount(2): strictatime wins over noatime, relatime is the default. */
  attr.attr_set |= flags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME
                   : flags & MS_NOATIME   ? MOUNT_ATTR_NOATIME
                                          : MOUNT_ATTR_RELATIME;
  if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) die_errno("remount %s with its options", dest);
}

/* The recursive attributes (the spec's "rro", "rnosuid", …: MOUNT_ATTR_* bits to set and to
 * clear) on every mount of the tree at `fd`, as runc applies them; the kernel refuses a mount
 * it cannot change (a locked flag in a user namespace), and so does the start. */
static void set_recursive_attrs(int fd, uint64_t set, uint64_t clr, const char *dest) {
  if (!set && !clr) return;
  struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
  if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    die_errno("set the recursive mount attributes of %s", dest);
}

/* A target other than "/" that resolves to the container's root is a symlink to / (in the
 * image, or swapped in by a container sharing a volume while this one starts): mounting there
 * would cover the whole root, so the start fails saying so, as runc's does. */
static void refuse_root_target(int rootfd, int fd, const char *what, const char *dest) {
  struct stat r, t;
  if (fstat(rootfd, &r) < 0 || fstat(fd, &t) < 0) die_errno("mount %s to %s: stat", what, dest);
  if (r.st_dev == t.st_dev && r.st_ino == t.st_ino && strspn(dest, "/") != strlen(dest))
    die("mount %s to %s: the target resolves to the container's root (a symlink to /), refused", what, dest);
}

static void do_mount(int rootfd, struct record *r, int userns) {
  if (r->nfields < 7) die("bad mount record");
  const char *src = r->fields[0], *dest = r->fields[1], *type = r->fields[2];
  unsigned long flags = parse_ull(r->fields[3], 10), prop = parse_ull(r->fields[4], 10);
  const char *data = r->fields[5];
  int kind = (int)parse_ull(r->fields[6], 10);
  /* Records without the two recursive-attribute fields (the cgroup mounts') set none. */
  uint64_t rset = r->nfields > 8 ? parse_ull(r->fields[7], 10) : 0, rclr = r->nfields > 8 ? parse_ull(r->fields[8], 10) : 0;
  char p[64];

  if (kind == MK_BIND) {
    struct stat st;
    if (stat(src, &st) < 0) die_errno("mount %s to %s: stat %s", src, dest, src);
    int fd = open_in_root(rootfd, dest, S_ISDIR(st.st_mode) ? CREATE_DIR : CREATE_FILE, 0644);
    if (fd < 0) die_errno("mount %s to %s: create mount point", src, dest);
    refuse_root_target(rootfd, fd, src, dest);
    /* The bind is made detached, given its options and propagation through its own fd, and
     * attached at the target's fd: no name is looked up again once the target is resolved,
     * so a container that swaps the target for a symlink (CVE-2021-30465, through a volume
     * it shares) cannot send the mount, its read-only flag or its propagation elsewhere. */
    int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (flags & MS_REC ? AT_RECURSIVE : 0));
    if (tree < 0) die_errno("mount %s to %s: clone %s", src, dest, src);
    unsigned long extra = flags & ~(MS_BIND | MS_REC | PROPAGATION);
    if (extra) set_bind_options(tree, extra, userns, dest);
    set_recursive_attrs(tree, rset, rclr, dest);
    if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      die_errno("mount %s to %s", src, dest);
    close(fd);
    fd_path(tree, p, sizeof p);
    set_propagation(p, dest, prop & (PROPAGATION | MS_REC));
    close(tree);
    return;
  } else {
    int fd = open_in_root(rootfd, dest, CREATE_DIR, 0);
    if (fd < 0) die_errno("mount %s to %s: create mount point", type, dest);
    refuse_root_target(rootfd, fd, *type ? type : src, dest);
    fd_path(fd, p, sizeof p);
    if (mount(src, p, type, flags & ~PROPAGATION, *data ? data : NULL) < 0)
      die_errno("mount %s to %s", *type ? type : src, dest);
    close(fd);
  }
  if (rset || rclr) {
    /* Opened again: the fd above is the directory under the new mount. */
    int m = open_in_root(rootfd, dest, CREATE_NONE, 0);
    if (m < 0) die_errno("open %s", dest);
    set_recursive_attrs(m, rset, rclr, dest);
    close(m);
  }
  apply_propagation(rootfd, dest, prop & (PROPAGATION | MS_REC));
}

static void do_device(int rootfd, struct record *r, int userns) {
  if (r->nfields < 7) die("bad device record");
  const char *path = r->fields[0];
  char type = r->fields[1][0];
  unsigned int maj = (unsigned int)parse_ull(r->fields[2], 10), min = (unsigned int)parse_ull(r->fields[3], 10);
  mode_t mode = (mode_t)parse_ull(r->fields[4], 10);
  uid_t uid = (uid_t)parse_ull(r->fields[5], 10);
  gid_t gid = (gid_t)parse_ull(r->fields[6], 10);
  char p[64];

  if (userns) {
    /* No mknod in a user namespace: bind the host's node instead, as runc does. */
    int fd = open_in_root(rootfd, path, CREATE_FILE, 0600);
    if (fd < 0) die_errno("create device %s", path);
    fd_path(fd, p, sizeof p);
    if (mount(path, p, NULL, MS_BIND, NULL) < 0) die_errno("bind device %s", path);
    close(fd);
    return;
  }
  char *copy = strdup(path), *slash = strrchr(copy, '/');
  const char *name = slash ? slash + 1 : copy;
  if (slash) *slash = '\0';
  int dirfd = open_in_root(rootfd, slash ? copy : "/", CREATE_DIR, 0);
  if (dirfd < 0) die_errno("create device %s", path);
  mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  /* mknodat needs a real directory fd, not O_PATH. */
  fd_path(dirfd, p, sizeof p);
  int realdir = open(p, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (realdir < 0) die_errno("open parent of %s", path);
  unlinkat(realdir, name, 0);
  if (mknodat(realdir, name, fmt | (mode & 07777), makedev(maj, min)) < 0) die_errno("mknod %s", path);
  if (fchownat(realdir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) die_errno("chown %s", path);
  /* mknod applies the umask; the spec's fileMode is exact. */
  if (fchmodat(realdir, name, mode & 07777, 0) < 0) die_errno("chmod %s", path);
  close(realdir);
  close(dirfd);
  free(copy);
}

static void do_symlink(int rootfd, struct record *r) {
  const char *target = r->fields[0], *link = r->fields[1];
  char *copy = strdup(link), *slash = strrchr(copy, '/');
  const char *name = slash ? slash + 1 : copy;
  if (slash) *slash = '\0';
  int dirfd = open_in_root(rootfd, slash && *copy ? copy : "/", CREATE_DIR, 0);
  if (dirfd < 0) die_errno("symlink %s", link);
  if (symlinkat(target, dirfd, name) < 0 && errno != EEXIST) die_errno("symlink %s -> %s", link, target);
  close(dirfd);
  free(copy);
}

static void pivot(const char *rootfs) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0) die_errno("open root for pivot_root");
  if (fchdir(newroot) < 0) die_errno("chdir to rootfs");
  /* pivot_root(".", ".") stacks the old root over the new one; unmounting "." then drops it,
   * with no directory inside the container ever naming the host. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root %s", rootfs);
  if (fchdir(oldroot) < 0) die_errno("chdir to old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) die_errno("make old root rslave");
  if (umount2(".", MNT_DETACH) < 0) die_errno("unmount old root");
  if (chdir("/") < 0) die_errno("chdir /");
  close(oldroot);
  close(newroot);
}

static void no_pivot(const char *rootfs) {
  if (chdir(rootfs) < 0) die_errno("chdir to rootfs");
  if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0) die_errno("move rootfs to /");
  if (chroot(".") < 0) die_errno("chroot");
  if (chdir("/") < 0) die_errno("chdir /");
}

static void chroot_rootfs(const char *rootfs) {
  if (chdir(rootfs) < 0) die_errno("chdir to rootfs");
  if (chroot(".") < 0) die_errno("chroot");
  if (chdir("/") < 0) die_errno("chdir /");
}

static void mask_path(int rootfd, const char *path) {
  int fd = open_in_root(rootfd, path, CREATE_NONE, 0);
  if (fd < 0) {
    if (errno == ENOENT) return;
    die_errno("mask %s", path);
  }
  struct stat st;
  char p[64];
  fd_path(fd, p, sizeof p);
  if (fstat(fd, &st) < 0) die_errno("stat %s", path);
  int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
                              : mount("/dev/null", p, NULL, MS_BIND, NULL);
  if (r < 0) die_errno("mask %s", path);
  close(fd);
}

static void readonly_path(int rootfd, const char *path) {
  int fd = open_in_root(rootfd, path, CREATE_NONE, 0);
  if (fd < 0) {
    if (errno == ENOENT) return;
    die_errno("make %s read-only", path);
  }
  char p[64];
  fd_path(fd, p, sizeof p);
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) die_errno("bind %s read-only", path);
  close(fd);
  fd = open_in_root(rootfd, path, CREATE_NONE, 0);
  fd_path(fd, p, sizeof p);
  unsigned long keep = locked_flags(p) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
    die_errno("remount %s read-only", path);
  close(fd);
}

static void write_sysctl(const char *key, const char *value) {
  char path[512];
  int n = snprintf(path, sizeof path, "/proc/sys/");
  for (const char *k = key; *k; k++) {
    if (n >= (int)sizeof path - 1) die("sysctl %s: name too long", key); /* cut, it would name another */
    path[n++] = *k == '.' ? '/' : *k;
  }
  path[n] = '\0';
  if (write_file(path, value, strlen(value)) < 0) die_errno("write sysctl %s", key);
}

static const char *plan_rootfs(struct plan *plan) {
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == OP_ROOTFS) return r->fields[0];
  die("plan has no rootfs");
}

static unsigned long plan_rootfs_propagation(struct plan *plan) {
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == OP_ROOTFS_PROPAGATION) return parse_ull(r->fields[0], 10);
  return 0;
}

/* Undoes the octal escapes of a /proc/self/mountinfo path in place. */
static void unescape_mountinfo(char *s) {
  char *out = s;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      *out++ = *s;
    }
  }
  *out = '\0';
}

/* The mount that holds `path` (the longest mount point above it) is made private if it is
 * shared, as runc does: pivot_root refuses a new root whose parent mount is shared, and the
 * bind of the root onto itself would propagate to the host's peers. */
static void make_parent_mount_private(const char *path) {
  char *real = realpath(path, NULL);
  if (!real) die_errno("resolve rootfs %s", path);
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) die_errno("open /proc/self/mountinfo");
  char line[8192], best[4096] = "";
  int best_shared = 0;
  while (fgets(line, sizeof line, f)) {
    /* id parent major:minor root mountpoint options [optional fields...] - fstype ... */
    char *save = NULL, *field = strtok_r(line, " ", &save);
    char *mp = NULL;
    int shared = 0;
    for (int i = 0; field && strcmp(field, "-"); i++, field = strtok_r(NULL, " ", &save)) {
      if (i == 4) mp = field;
      else if (i >= 6 && !strncmp(field, "shared:", 7)) shared = 1;
    }
    if (!mp) continue;
    unescape_mountinfo(mp);
    size_t n = strlen(mp);
    int above = !strcmp(mp, "/") || (!strncmp(real, mp, n) && (real[n] == '/' || real[n] == '\0'));
    if (above && n >= strlen(best) && n < sizeof best) {
      strcpy(best, mp);
      best_shared = shared;
    }
  }
  fclose(f);
  free(real);
  if (best_shared && mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0) die_errno("make %s private", best);
}

/* The mounts, devices and symlinks; with `late`, only the mounts that must wait for the
 * container's cgroup namespace (a fresh cgroup2 mount). With no mount namespace of its own
 * the container's mounts are made in the caller's, under the root, and nothing else changes. */
void mount_rootfs(struct plan *plan, int userns, int late, int mntns) {
  const char *rootfs = plan_rootfs(plan);
  if (!late && mntns == MNTNS_OWN) {
    /* As runc: the whole tree takes the config's root propagation (rslave unless it says
     * otherwise), so that an rshared volume stays in its host peer group; the root's own
     * mount is made private, so that what we mount under it stays in the container. */
    unsigned long prop = plan_rootfs_propagation(plan);
    if (!prop) prop = MS_SLAVE | MS_REC;
    if (mount(NULL, "/", NULL, prop, NULL) < 0) die_errno("set propagation of /");
    /* After a recursive slave, private or unbindable no mount is shared: nothing to look up. */
    if (!(prop & MS_REC) || (prop & MS_SHARED)) make_parent_mount_private(rootfs);
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die_errno("bind rootfs %s", rootfs);
  }
  int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die_errno("open rootfs %s", rootfs);

  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type == OP_MOUNT) {
      if ((r->nfields > 6 && parse_ull(r->fields[6], 10) == MK_LATE) == (late != 0)) do_mount(rootfd, r, userns);
      continue;
    }
    if (late) continue;
    switch (r->type) {
    case OP_DEVICE: do_device(rootfd, r, userns); break;
    case OP_SYMLINK: do_symlink(rootfd, r); break;
    case OP_CWD: {
      /* A missing working directory is made, as runc does, while / may still be written. */
      int fd = open_in_root(rootfd, r->fields[0], CREATE_DIR, 0);
      if (fd < 0) die_errno("mkdir cwd %s", r->fields[0]);
      close(fd);
      break;
    }
    }
  }
  close(rootfd);
}

/* After the runtime's hooks: the container's hooks, pivot_root, then what needs the new root. */
void finish_rootfs(struct plan *plan, int userns, const char *state_json, int mntns) {
  const char *rootfs = plan_rootfs(plan);
  unsigned long userprop = 0;
  int pivot_wanted = 1, root_ro = 0;
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type == OP_NO_PIVOT) pivot_wanted = 0;
    else if (r->type == OP_ROOT_READONLY) root_ro = 1;
    else if (r->type == OP_ROOTFS_PROPAGATION) userprop = parse_ull(r->fields[0], 10);
  }
  mount_rootfs(plan, userns, 1, mntns);
  run_hooks(plan, 1, state_json);

  /* Sharing the caller's mount namespace, the container may only chroot (runc's choice);
   * the runtime refuses the settings that would change mounts outside its root. */
  if (mntns == MNTNS_SHARED) chroot_rootfs(rootfs);
  else if (pivot_wanted) pivot(rootfs);
  else no_pivot(rootfs);
  if (userprop && mount(NULL, "/", NULL, userprop, NULL) < 0) die_errno("set rootfs propagation");

  /* Sysctls before the read-only and masked paths (as runc): /proc/sys is usually read-only. */
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type == OP_HOSTNAME && sethostname(r->fields[0], strlen(r->fields[0])) < 0)
      die_errno("sethostname %s", r->fields[0]);
    if (r->type == OP_DOMAINNAME && setdomainname(r->fields[0], strlen(r->fields[0])) < 0)
      die_errno("setdomainname %s", r->fields[0]);
    if (r->type == OP_SYSCTL) write_sysctl(r->fields[0], r->fields[1]);
  }
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type == OP_MASK) mask_path(rootfd, r->fields[0]);
    else if (r->type == OP_READONLY) readonly_path(rootfd, r->fields[0]);
  }
  close(rootfd);
  if (root_ro && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | (locked_flags("/") & ~MS_RDONLY), NULL) < 0)
    die_errno("remount / read-only");
}
