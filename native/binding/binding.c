/* The one in-process binding (DESIGN.md, "Native code"): system calls that are safe from a
 * multithreaded process and that Node.js lacks, each a thin synchronous wrapper. Errors are
 * thrown as Node-style errors (code 'ENOENT', errno -2, syscall, path). No policy lives here:
 * callers in src/native/binding.ts choose every path, flag and value. */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "netlink.h"

/* errno → the name and message libuv (so Node) uses for it. */
#define ERRNOS(X)                                                                             \
  X(EPERM, "operation not permitted") X(ENOENT, "no such file or directory")                  \
  X(ESRCH, "no such process") X(EINTR, "interrupted system call") X(EIO, "i/o error")         \
  X(ENXIO, "no such device or address") X(E2BIG, "argument list too long")                    \
  X(EBADF, "bad file descriptor") X(EAGAIN, "resource temporarily unavailable")              \
  X(ENOMEM, "not enough memory") X(EACCES, "permission denied") X(EFAULT, "bad address")      \
  X(ENOTBLK, "block device required") X(EBUSY, "resource busy or locked")                     \
  X(EEXIST, "file already exists") X(EXDEV, "cross-device link not permitted")               \
  X(ENODEV, "no such device") X(ENOTDIR, "not a directory")                                   \
  X(EISDIR, "illegal operation on a directory") X(EINVAL, "invalid argument")                \
  X(ENFILE, "file table overflow") X(EMFILE, "too many open files")                           \
  X(ETXTBSY, "text file is busy") X(EFBIG, "file too large")                                  \
  X(ENOSPC, "no space left on device") X(EROFS, "read-only file system")                     \
  X(EMLINK, "too many links") X(ERANGE, "result too large")                                   \
  X(ENAMETOOLONG, "name too long") X(ENOSYS, "function not implemented")                      \
  X(ENOTEMPTY, "directory not empty") X(ELOOP, "too many symbolic links encountered")         \
  X(ENODATA, "no data available") X(EOVERFLOW, "value too large for defined data type")      \
  X(ENOTSUP, "operation not supported") X(EDQUOT, "disk quota exceeded")                      \
  X(ESTALE, "stale file handle")

static void errno_name(int e, const char **name, const char **msg) {
  switch (e) {
#define CASE(n, m) case n: *name = #n; *msg = m; return;
    ERRNOS(CASE)
#undef CASE
  }
  *name = "UNKNOWN";
  *msg = "unknown error";
}

/* Throws `<syscall> <what>: <message>` with code, errno (negative, as Node's), syscall, path. */
static napi_value throw_errno(napi_env env, int e, const char *syscall, const char *path, const char *what) {
  const char *name, *msg;
  errno_name(e, &name, &msg);
  size_t n = strlen(syscall) + strlen(what) + strlen(msg) + 32;
  char *text = malloc(n);
  if (!text) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  if (strcmp(name, "UNKNOWN") == 0) snprintf(text, n, "%s %s: %s %d", syscall, what, msg, e);
  else snprintf(text, n, "%s %s: %s", syscall, what, msg);
  napi_value jmsg, jcode, err, v;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &jmsg);
  free(text);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &jcode);
  napi_create_error(env, jcode, jmsg, &err);
  napi_create_int32(env, -e, &v);
  napi_set_named_property(env, err, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "syscall", v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, err, "path", v);
  }
  napi_throw(env, err);
  return NULL;
}

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* A string argument as a malloc'ed C string; NULL (with a TypeError thrown) when it is not a
 * string or holds a NUL byte. With `nullable`, null or undefined give *out = NULL and true. */
static int arg_string(napi_env env, napi_value v, const char *what, int nullable, char **out) {
  napi_valuetype t;
  *out = NULL;
  napi_typeof(env, v, &t);
  if (nullable && (t == napi_null || t == napi_undefined)) return 1;
  char m[96];
  if (t != napi_string) {
    snprintf(m, sizeof m, "%s must be a string", what);
    type_error(env, m);
    return 0;
  }
  size_t len;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (!s) { napi_throw_error(env, "ENOMEM", "out of memory"); return 0; }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {
    free(s);
    snprintf(m, sizeof m, "%s must not contain a NUL byte", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", m);
    return 0;
  }
  *out = s;
  return 1;
}

/* A non-negative integer argument (undefined → 0). */
static int arg_uint(napi_env env, napi_value v, const char *what, uint64_t max, uint64_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  *out = 0;
  if (t == napi_undefined) return 1;
  double d;
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > (double)max || d != (double)(uint64_t)d) {
    char m[96];
    snprintf(m, sizeof m, "%s must be an integer from 0 to %llu", what, (unsigned long long)max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", m);
    return 0;
  }
  *out = (uint64_t)d;
  return 1;
}

#define ARGS(n)                                                                              \
  size_t argc = n;                                                                            \
  napi_value argv[n];                                                                         \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);                                       \
  for (size_t i = argc; i < n; i++) napi_get_undefined(env, &argv[i]);

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* "<path> <name>" for messages; NULL when out of memory. */
static char *join2(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s %s", a, b);
  return s;
}

static napi_value throw_xattr(napi_env env, int e, const char *syscall, const char *path, const char *name) {
  char *what = join2(path, name);
  throw_errno(env, e, syscall, path, what ? what : path);
  free(what);
  return NULL;
}

/* lsetxattr(path, name, value: Uint8Array, flags = 0) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *path = NULL, *name = NULL;
  uint64_t flags;
  napi_value ret = NULL;
  bool is_ta = false;
  if (!arg_string(env, argv[0], "path", 0, &path) || !arg_string(env, argv[1], "name", 0, &name)) goto out;
  napi_is_typedarray(env, argv[2], &is_ta);
  if (!is_ta) { type_error(env, "value must be a Uint8Array or Buffer"); goto out; }
  napi_typedarray_type tt;
  size_t len;
  void *data;
  napi_get_typedarray_info(env, argv[2], &tt, &len, &data, NULL, NULL);
  if (tt != napi_uint8_array) { type_error(env, "value must be a Uint8Array or Buffer"); goto out; }
  if (!arg_uint(env, argv[3], "flags", 0xffffffffu, &flags)) goto out;
  if (lsetxattr(path, name, len ? data : "", len, (int)flags) < 0) throw_xattr(env, errno, "lsetxattr", path, name);
  else ret = undefined(env);
out:
  free(path);
  free(name);
  return ret;
}

/* lgetxattr(path, name): Buffer */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = NULL, *name = NULL, *buf = NULL;
  napi_value ret = NULL;
  if (!arg_string(env, argv[0], "path", 0, &path) || !arg_string(env, argv[1], "name", 0, &name)) goto out;
  for (;;) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) { throw_xattr(env, errno, "lgetxattr", path, name); goto out; }
    buf = malloc(size ? size : 1);
    if (!buf) { throw_xattr(env, ENOMEM, "lgetxattr", path, name); goto out; }
    ssize_t n = lgetxattr(path, name, buf, size);
    if (n >= 0) {
      napi_create_buffer_copy(env, n, buf, NULL, &ret);
      goto out;
    }
    if (errno != ERANGE) { throw_xattr(env, errno, "lgetxattr", path, name); goto out; }
    free(buf); /* grew between the two calls: ask again */
    buf = NULL;
  }
out:
  free(path);
  free(name);
  free(buf);
  return ret;
}

/* llistxattr(path): string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *path = NULL, *buf = NULL;
  napi_value ret = NULL;
  char small[1024];
  if (!arg_string(env, argv[0], "path", 0, &path)) goto out;
  ssize_t n = llistxattr(path, small, sizeof small);
  char *list = small;
  while (n < 0 && errno == ERANGE) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) break;
    free(buf);
    buf = malloc(size ? size : 1);
    if (!buf) { errno = ENOMEM; break; }
    n = llistxattr(path, buf, size);
    list = buf;
  }
  if (n < 0) { throw_errno(env, errno, "llistxattr", path, path); goto out; }
  napi_create_array(env, &ret);
  uint32_t i = 0;
  for (ssize_t off = 0; off < n; i++) {
    size_t len = strnlen(list + off, n - off);
    napi_value s;
    napi_create_string_utf8(env, list + off, len, &s);
    napi_set_element(env, ret, i, s);
    off += len + 1;
  }
out:
  free(path);
  free(buf);
  return ret;
}

/* lremovexattr(path, name) */
static napi_value js_lremovexattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = NULL, *name = NULL;
  napi_value ret = NULL;
  if (!arg_string(env, argv[0], "path", 0, &path) || !arg_string(env, argv[1], "name", 0, &name)) goto out;
  if (lremovexattr(path, name) < 0) throw_xattr(env, errno, "lremovexattr", path, name);
  else ret = undefined(env);
out:
  free(path);
  free(name);
  return ret;
}

/* mknod(path, mode (type and permission bits), major = 0, minor = 0); the umask applies. */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *path = NULL;
  uint64_t mode, major, minor;
  napi_value ret = NULL;
  if (!arg_string(env, argv[0], "path", 0, &path) || !arg_uint(env, argv[1], "mode", 0xffffffffu, &mode) ||
      !arg_uint(env, argv[2], "major", 0xffffffffu, &major) || !arg_uint(env, argv[3], "minor", 0xffffffffu, &minor))
    goto out;
  if (mknod(path, (mode_t)mode, makedev((unsigned)major, (unsigned)minor)) < 0) throw_errno(env, errno, "mknod", path, path);
  else ret = undefined(env);
out:
  free(path);
  return ret;
}

/* A mount whose relative paths (in `data` too) resolve against `dir`: done on a short-lived
 * thread with its own working directory (unshare(CLONE_FS)), so the process's stays put. */
struct mount_call {
  const char *dir, *source, *target, *fstype, *data;
  unsigned long flags;
  int err;
  const char *failed; /* "chdir" or "mount" */
};

static void *mount_in_dir(void *p) {
  struct mount_call *c = p;
  if (unshare(CLONE_FS) < 0) { c->err = errno; c->failed = "unshare"; return NULL; }
  if (chdir(c->dir) < 0) { c->err = errno; c->failed = "chdir"; return NULL; }
  if (mount(c->source, c->target, c->fstype, c->flags, c->data) < 0) { c->err = errno; c->failed = "mount"; }
  return NULL;
}

/* mount(source | null, target, fstype | null, flags, data | null, cwd?) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(6);
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL, *dir = NULL, *what = NULL;
  uint64_t flags;
  napi_value ret = NULL;
  if (!arg_string(env, argv[0], "source", 1, &source) || !arg_string(env, argv[1], "target", 0, &target) ||
      !arg_string(env, argv[2], "fstype", 1, &fstype) || !arg_uint(env, argv[3], "flags", 0xffffffffu, &flags) ||
      !arg_string(env, argv[4], "data", 1, &data) || !arg_string(env, argv[5], "cwd", 1, &dir))
    goto out;
  struct mount_call c = { dir, source, target, fstype, data, (unsigned long)flags, 0, NULL };
  if (dir) {
    pthread_t t;
    int e = pthread_create(&t, NULL, mount_in_dir, &c);
    if (e) { c.err = e; c.failed = "pthread_create"; }
    else pthread_join(t, NULL);
  } else if (mount(source, target, fstype, c.flags, data) < 0) {
    c.err = errno;
    c.failed = "mount";
  }
  if (!c.err) { ret = undefined(env); goto out; }
  if (strcmp(c.failed, "mount") != 0) { throw_errno(env, c.err, c.failed, dir, dir); goto out; }
  const char *src = source ? source : "none";
  size_t n = strlen(src) + strlen(target) + 5;
  what = malloc(n);
  if (what) snprintf(what, n, "%s on %s", src, target);
  throw_errno(env, c.err, "mount", target, what ? what : target);
out:
  free(source);
  free(target);
  free(fstype);
  free(data);
  free(dir);
  free(what);
  return ret;
}

/* umount2(target, flags = 0) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *target = NULL;
  uint64_t flags;
  napi_value ret = NULL;
  if (!arg_string(env, argv[0], "target", 0, &target) || !arg_uint(env, argv[1], "flags", 0xffffffffu, &flags)) goto out;
  if (umount2(target, (int)flags) < 0) throw_errno(env, errno, "umount2", target, target);
  else ret = undefined(env);
out:
  free(target);
  return ret;
}

/* mountAsync(source | null, target, fstype | null, flags, data | null, cwd | null) and
 * umount2Async(target, flags): promises, the call made on a thread of its own (a mount with
 * `cwd` changes that thread's working directory, which a pool thread must keep). An overlay
 * mount or an unmount can wait on the kernel's mount lock for milliseconds while other
 * containers start and stop: the event loop goes on meanwhile. */
struct mount_job {
  struct mount_call c;
  char *source, *target, *fstype, *data, *dir;
  int umount_flags, is_umount, is_loopback, is_idmapped;
  /* idmappedOverlayAsync: lower dirs top first, the upper and work dirs (source, data), the maps. */
  char **lowers, *uid_map, *gid_map;
  char what[512];
  napi_deferred deferred;
  napi_threadsafe_function done;
};

static void free_strings(char **a);

static void free_mount_job(struct mount_job *j) {
  free_strings(j->lowers);
  free(j->uid_map);
  free(j->gid_map);
  free(j->source);
  free(j->target);
  free(j->fstype);
  free(j->data);
  free(j->dir);
  free(j);
}

/* Sets `lo` up in the network namespace pinned at `path`. This thread joins it (setns of a
 * network namespace is allowed in a multithreaded process and moves this thread only) and
 * ends right after; the namespace keeps no reference of it. */
static void loopback_up(struct mount_call *c, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { c->err = errno; c->failed = "open"; return; }
  int r = setns(fd, CLONE_NEWNET);
  c->err = errno;
  close(fd);
  if (r < 0) { c->failed = "setns"; return; }
  c->err = 0;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { c->err = errno; c->failed = "socket"; return; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { c->err = errno; c->failed = "ioctl SIOCGIFFLAGS lo"; }
  else if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { c->err = errno; c->failed = "ioctl SIOCSIFFLAGS lo"; }
  }
  close(s);
}

/* The user namespace's child: waits until the parent closes the pipe (the fd of its namespace
 * is open by then), then ends. */
static int userns_child(void *arg) {
  int *p = arg;
  char ch;
  syscall(SYS_close, p[1]);
  syscall(SYS_read, p[0], &ch, 1);
  return 0;
}

static int write_whole(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = strlen(text);
  ssize_t w = write(fd, text, n);
  int e = errno;
  close(fd);
  if (w != (ssize_t)n) { errno = w < 0 ? e : EIO; return -1; }
  return 0;
}

/* An fd of a new user namespace with these id maps (uid_map's lines), made by a child cloned
 * into it that shares our memory (CLONE_VM: no copy of the process's page tables) and only
 * waits on a pipe; -1 with the job's error set. The namespace lives on as long as the fd. */
static int make_userns(struct mount_job *j) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) { j->c.err = errno; j->c.failed = "pipe2"; return -1; }
  size_t size = 64 << 10;
  char *stack = malloc(size);
  if (!stack) { j->c.err = ENOMEM; j->c.failed = "malloc"; close(p[0]); close(p[1]); return -1; }
  pid_t pid = clone(userns_child, stack + size, CLONE_VM | CLONE_NEWUSER, p);
  if (pid < 0) {
    j->c.err = errno; j->c.failed = "clone"; snprintf(j->what, sizeof j->what, "a user namespace");
    close(p[0]); close(p[1]); free(stack);
    return -1;
  }
  int ns = -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  if (write_whole(path, j->uid_map) < 0) { j->c.err = errno; j->c.failed = "write"; snprintf(j->what, sizeof j->what, "uid_map %s", j->uid_map); goto out; }
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  if (write_whole(path, j->gid_map) < 0) { j->c.err = errno; j->c.failed = "write"; snprintf(j->what, sizeof j->what, "gid_map %s", j->gid_map); goto out; }
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) { j->c.err = errno; j->c.failed = "open"; snprintf(j->what, sizeof j->what, "%s", path); }
out:
  close(p[1]);
  close(p[0]);
  while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
  free(stack);
  return ns;
}

/* fsconfig's failure, with the message the kernel left in the context's log. */
static void fsconfig_failed(struct mount_job *j, int fs, const char *key, const char *value) {
  j->c.err = errno;
  j->c.failed = "fsconfig";
  char log[256] = "";
  ssize_t n = read(fs, log, sizeof log - 1);
  log[n > 0 ? n : 0] = 0;
  if (n > 0 && log[n - 1] == '\n') log[n - 1] = 0;
  snprintf(j->what, sizeof j->what, "%s %s%s%s", key, value, *log ? ": " : "", log);
}

/* An overlay at `target` over lower dirs each seen through an idmapped mount of the user
 * namespace of the maps (open_tree, mount_setattr MOUNT_ATTR_IDMAP; the layers' files stay as
 * they are on disk: root's files are shown as the mapped root's), given to overlayfs by fd
 * (lowerdir+, Linux 6.13 and later), with a plain upper dir, or none: read-only. */
static void idmapped_overlay(struct mount_job *j) {
  size_t n = 0;
  while (j->lowers[n]) n++;
  int *trees = malloc((n ? n : 1) * sizeof *trees);
  if (!trees) { j->c.err = ENOMEM; j->c.failed = "malloc"; return; }
  size_t opened = 0;
  int fs = -1, mnt = -1;
  int ns = make_userns(j);
  if (ns < 0) goto out;
  fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) { j->c.err = errno; j->c.failed = "fsopen"; snprintf(j->what, sizeof j->what, "overlay"); goto out; }
  for (; opened < n; opened++) {
    const char *dir = j->lowers[opened];
    int t = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (t < 0) { j->c.err = errno; j->c.failed = "open_tree"; snprintf(j->what, sizeof j->what, "%s", dir); goto out; }
    trees[opened] = t;
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
    if (mount_setattr(t, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
      j->c.err = errno; j->c.failed = "mount_setattr"; snprintf(j->what, sizeof j->what, "MOUNT_ATTR_IDMAP %s", dir);
      opened++;
      goto out;
    }
    if (fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, t) < 0) { fsconfig_failed(j, fs, "lowerdir+", dir); opened++; goto out; }
  }
  if (j->source) {
    if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", j->source, 0) < 0) { fsconfig_failed(j, fs, "upperdir", j->source); goto out; }
    if (fsconfig(fs, FSCONFIG_SET_STRING, "workdir", j->data, 0) < 0) { fsconfig_failed(j, fs, "workdir", j->data); goto out; }
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) { fsconfig_failed(j, fs, "create", j->target); goto out; }
  mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) { j->c.err = errno; j->c.failed = "fsmount"; snprintf(j->what, sizeof j->what, "overlay for %s", j->target); goto out; }
  if (move_mount(mnt, "", AT_FDCWD, j->target, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    j->c.err = errno; j->c.failed = "move_mount"; snprintf(j->what, sizeof j->what, "overlay to %s", j->target);
  }
out:
  if (mnt >= 0) close(mnt);
  if (fs >= 0) close(fs);
  for (size_t i = 0; i < opened; i++) close(trees[i]);
  if (ns >= 0) close(ns);
  free(trees);
}

static void *mount_thread(void *p) {
  struct mount_job *j = p;
  if (j->is_idmapped) {
    idmapped_overlay(j);
  } else if (j->is_loopback) {
    loopback_up(&j->c, j->target);
  } else if (j->is_umount) {
    if (umount2(j->target, j->umount_flags) < 0) { j->c.err = errno; j->c.failed = "umount2"; }
  } else if (j->dir) {
    mount_in_dir(&j->c);
  } else if (mount(j->source, j->target, j->fstype, j->c.flags, j->data) < 0) {
    j->c.err = errno;
    j->c.failed = "mount";
  }
  napi_threadsafe_function tsfn = j->done; /* j is freed on the loop once called */
  napi_call_threadsafe_function(tsfn, j, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static void mount_complete(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  struct mount_job *j = data;
  if (!env) { free_mount_job(j); return; }
  if (!j->c.err) {
    napi_resolve_deferred(env, j->deferred, undefined(env));
  } else {
    napi_value e;
    if (j->is_idmapped) {
      throw_errno(env, j->c.err, j->c.failed, j->target, j->what[0] ? j->what : j->target);
    } else if (strcmp(j->c.failed, "mount") == 0) {
      const char *src = j->source ? j->source : "none";
      size_t n = strlen(src) + strlen(j->target) + 5;
      char *what = malloc(n);
      if (what) snprintf(what, n, "%s on %s", src, j->target);
      throw_errno(env, j->c.err, "mount", j->target, what ? what : j->target);
      free(what);
    } else if (strcmp(j->c.failed, "umount2") == 0) {
      throw_errno(env, j->c.err, "umount2", j->target, j->target);
    } else {
      throw_errno(env, j->c.err, j->c.failed, j->dir ? j->dir : j->target, j->dir ? j->dir : j->target);
    }
    napi_get_and_clear_last_exception(env, &e);
    napi_reject_deferred(env, j->deferred, e);
  }
  free_mount_job(j);
}

/* Runs fn(arg) on a detached thread with a stack of `stack` bytes: 0, or pthread_create's error
 * (the caller then settles the job itself, as the thread would have). */
static int start_detached(void *(*fn)(void *), void *arg, size_t stack) {
  pthread_attr_t pa;
  pthread_t t;
  pthread_attr_init(&pa);
  pthread_attr_setdetachstate(&pa, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&pa, stack);
  int e = pthread_create(&t, &pa, fn, arg);
  pthread_attr_destroy(&pa);
  return e;
}

static napi_value start_mount_job(napi_env env, struct mount_job *j) {
  napi_value promise, name;
  j->c.dir = j->dir;
  j->c.source = j->source;
  j->c.target = j->target;
  j->c.fstype = j->fstype;
  j->c.data = j->data;
  napi_create_string_utf8(env, "berth:mount", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, mount_complete, &j->done) != napi_ok) {
    free_mount_job(j);
    return NULL;
  }
  napi_create_promise(env, &j->deferred, &promise);
  int e = start_detached(mount_thread, j, 64 << 10);
  if (e) {
    napi_threadsafe_function done = j->done;
    j->c.err = e;
    j->c.failed = "pthread_create";
    mount_complete(env, NULL, NULL, j);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }
  return promise;
}

static napi_value js_mount_async(napi_env env, napi_callback_info info) {
  ARGS(6);
  struct mount_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  uint64_t flags;
  if (!arg_string(env, argv[0], "source", 1, &j->source) || !arg_string(env, argv[1], "target", 0, &j->target) ||
      !arg_string(env, argv[2], "fstype", 1, &j->fstype) || !arg_uint(env, argv[3], "flags", 0xffffffffu, &flags) ||
      !arg_string(env, argv[4], "data", 1, &j->data) || !arg_string(env, argv[5], "cwd", 1, &j->dir)) {
    free_mount_job(j);
    return NULL;
  }
  j->c.flags = (unsigned long)flags;
  return start_mount_job(env, j);
}

static napi_value js_umount2_async(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct mount_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  uint64_t flags;
  if (!arg_string(env, argv[0], "target", 0, &j->target) || !arg_uint(env, argv[1], "flags", 0xffffffffu, &flags)) {
    free_mount_job(j);
    return NULL;
  }
  j->is_umount = 1;
  j->umount_flags = (int)flags;
  return start_mount_job(env, j);
}

/* loopbackUp(netnsPath): a promise; `lo` set up in that network namespace on a thread of its
 * own (one syscall's worth, where CNI's loopback plugin is a program started for it). */
static napi_value js_loopback_up(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct mount_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  if (!arg_string(env, argv[0], "netns", 0, &j->target)) {
    free_mount_job(j);
    return NULL;
  }
  j->is_loopback = 1;
  return start_mount_job(env, j);
}

static char **arg_strings(napi_env env, napi_value v, const char *what);

/* bridgeAttach(netns, bridge, bridgeMac, host, ifname, mac, mtu, gateways, addresses, routes,
 * sysctls), subLinkAttach(netns, kind, parent, mode, flags, ifname, mac, mtu, addresses, routes,
 * sysctls), setDefaultRoutes(netns, routes), linkDelete(name[, netns]) and linkAdd(kind, name,
 * parent, vlanId): promises; a container's endpoint on a bridge (or a macvlan or ipvlan
 * parent) made through rtnetlink (netlink.c) on a thread of its own, which the attach (and
 * setDefaultRoutes, and a deletion in a namespace) moves into the container's network namespace
 * and which ends after it. linkDelete resolves true when it deleted the link, false when there
 * was none. */
struct net_job {
  struct bridge_attach a;
  char *netns, *bridge, *bridge_mac, *host, *ifname, *mac, **gateways, **addresses, **routes, **sysctls, *kind, *parent;
  unsigned short *ports;
  int nports;
  unsigned vlan_id;
  int is_delete, is_routes, is_conntrack, is_add, deleted, family;
  napi_deferred deferred;
  napi_threadsafe_function done;
};

static void free_net_job(struct net_job *j) {
  free(j->netns);
  free(j->bridge);
  free(j->bridge_mac);
  free(j->host);
  free(j->ifname);
  free(j->mac);
  free(j->kind);
  free(j->parent);
  free_strings(j->gateways);
  free_strings(j->addresses);
  free_strings(j->routes);
  free_strings(j->sysctls);
  free(j->ports);
  free(j);
}

static void *net_thread(void *p) {
  struct net_job *j = p;
  if (j->is_delete) j->deleted = link_delete(j->host, j->netns, &j->a.err, j->a.what, sizeof j->a.what);
  else if (j->is_add) link_add(j->kind, j->host, j->parent, j->vlan_id, &j->a.err, j->a.what, sizeof j->a.what);
  else if (j->is_conntrack) conntrack_delete_udp(j->family, j->ports, j->nports, &j->deleted, &j->a.err, j->a.what, sizeof j->a.what);
  else if (j->is_routes) set_default_routes(&j->a);
  else bridge_attach(&j->a);
  napi_threadsafe_function tsfn = j->done; /* j is freed on the loop once called */
  napi_call_threadsafe_function(tsfn, j, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static void net_complete(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  struct net_job *j = data;
  if (!env) { free_net_job(j); return; }
  if (!j->a.err) {
    napi_value v;
    if (j->is_delete) napi_get_boolean(env, j->deleted > 0, &v);
    else if (j->is_conntrack) napi_create_uint32(env, (uint32_t)j->deleted, &v);
    else v = undefined(env);
    napi_resolve_deferred(env, j->deferred, v);
  } else {
    napi_value e;
    throw_errno(env, j->a.err, "netlink", NULL, j->a.what);
    napi_get_and_clear_last_exception(env, &e);
    napi_reject_deferred(env, j->deferred, e);
  }
  free_net_job(j);
}

static napi_value start_net_job(napi_env env, struct net_job *j) {
  napi_value promise, name;
  napi_create_string_utf8(env, "berth:netlink", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, net_complete, &j->done) != napi_ok) {
    free_net_job(j);
    return NULL;
  }
  napi_create_promise(env, &j->deferred, &promise);
  int e = start_detached(net_thread, j, 128 << 10);
  if (e) {
    napi_threadsafe_function done = j->done;
    j->a.err = e;
    snprintf(j->a.what, sizeof j->a.what, "a thread for netlink");
    net_complete(env, NULL, NULL, j);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }
  return promise;
}

static napi_value js_bridge_attach(napi_env env, napi_callback_info info) {
  ARGS(11);
  struct net_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  uint64_t mtu;
  if (!arg_string(env, argv[0], "netns", 0, &j->netns) || !arg_string(env, argv[1], "bridge", 0, &j->bridge) ||
      !arg_string(env, argv[2], "bridgeMac", 0, &j->bridge_mac) || !arg_string(env, argv[3], "host", 0, &j->host) ||
      !arg_string(env, argv[4], "ifname", 0, &j->ifname) || !arg_string(env, argv[5], "mac", 0, &j->mac) ||
      !arg_uint(env, argv[6], "mtu", 0xffff, &mtu) || !(j->gateways = arg_strings(env, argv[7], "gateways")) ||
      !(j->addresses = arg_strings(env, argv[8], "addresses")) || !(j->routes = arg_strings(env, argv[9], "routes")) ||
      !(j->sysctls = arg_strings(env, argv[10], "sysctls"))) {
    free_net_job(j);
    return NULL;
  }
  j->a = (struct bridge_attach){
    .netns = j->netns, .bridge = j->bridge, .bridge_mac = j->bridge_mac, .host = j->host, .ifname = j->ifname,
    .mac = j->mac, .mtu = (unsigned)mtu, .gateways = j->gateways, .addresses = j->addresses, .routes = j->routes,
    .sysctls = j->sysctls,
  };
  return start_net_job(env, j);
}

static napi_value js_sub_link_attach(napi_env env, napi_callback_info info) {
  ARGS(11);
  struct net_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  uint64_t mode, flags, mtu;
  if (!arg_string(env, argv[0], "netns", 0, &j->netns) || !arg_string(env, argv[1], "kind", 0, &j->kind) ||
      !arg_string(env, argv[2], "parent", 0, &j->parent) || !arg_uint(env, argv[3], "mode", 0xffffffffu, &mode) ||
      !arg_uint(env, argv[4], "flags", 0xffff, &flags) || !arg_string(env, argv[5], "ifname", 0, &j->ifname) ||
      !arg_string(env, argv[6], "mac", 1, &j->mac) || !arg_uint(env, argv[7], "mtu", 0xffff, &mtu) ||
      !(j->addresses = arg_strings(env, argv[8], "addresses")) || !(j->routes = arg_strings(env, argv[9], "routes")) ||
      !(j->sysctls = arg_strings(env, argv[10], "sysctls"))) {
    free_net_job(j);
    return NULL;
  }
  j->a = (struct bridge_attach){
    .netns = j->netns, .kind = j->kind, .parent = j->parent, .mode = (unsigned)mode, .flags = (unsigned)flags,
    .ifname = j->ifname, .mac = j->mac, .mtu = (unsigned)mtu, .addresses = j->addresses, .routes = j->routes,
    .sysctls = j->sysctls,
  };
  return start_net_job(env, j);
}

static napi_value js_link_add(napi_env env, napi_callback_info info) {
  ARGS(4);
  struct net_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  uint64_t vid;
  if (!arg_string(env, argv[0], "kind", 0, &j->kind) || !arg_string(env, argv[1], "name", 0, &j->host) ||
      !arg_string(env, argv[2], "parent", 1, &j->parent) || !arg_uint(env, argv[3], "vlanId", 4094, &vid)) {
    free_net_job(j);
    return NULL;
  }
  j->vlan_id = (unsigned)vid;
  j->is_add = 1;
  return start_net_job(env, j);
}

static napi_value js_set_default_routes(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct net_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  if (!arg_string(env, argv[0], "netns", 0, &j->netns) || !(j->routes = arg_strings(env, argv[1], "routes"))) {
    free_net_job(j);
    return NULL;
  }
  j->is_routes = 1;
  j->a = (struct bridge_attach){ .netns = j->netns, .routes = j->routes };
  return start_net_job(env, j);
}

static napi_value js_link_delete(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct net_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  if (!arg_string(env, argv[0], "name", 0, &j->host) || !arg_string(env, argv[1], "netns", 1, &j->netns)) {
    free_net_job(j);
    return NULL;
  }
  j->is_delete = 1;
  return start_net_job(env, j);
}

/* conntrackDeleteUdp(family, ports): a promise of how many conntrack entries of UDP flows of the
 * family (4 or 6) to those destination ports it deleted, on a thread of its own (netlink.c). */
static napi_value js_conntrack_delete_udp(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint64_t fam;
  if (!arg_uint(env, argv[0], "family", 6, &fam)) return NULL;
  if (fam != 4 && fam != 6) return type_error(env, "family must be 4 or 6");
  uint32_t n = 0;
  bool is_array = false;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &n) != napi_ok ||
      n > 65536)
    return type_error(env, "ports must be an array of port numbers");
  struct net_job *j = calloc(1, sizeof *j);
  if (!j || !(j->ports = calloc(n ? n : 1, sizeof *j->ports))) {
    if (j) free(j);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    uint64_t port;
    if (napi_get_element(env, argv[1], i, &e) != napi_ok || !arg_uint(env, e, "port", 0xffff, &port)) {
      free_net_job(j);
      return NULL;
    }
    j->ports[i] = (unsigned short)port;
  }
  j->nports = (int)n;
  j->family = fam == 6 ? AF_INET6 : AF_INET;
  j->is_conntrack = 1;
  return start_net_job(env, j);
}

/* dnsSockets(netns, address, port): a promise of [udp, tcp], the fds of a UDP socket and a
 * listening TCP socket bound to address:port (IPv4) in the network namespace pinned at `netns`,
 * close-on-exec and non-blocking, for berthd to serve a container's embedded DNS (dockerd's
 * 127.0.0.11) from its own event loop. A thread of its own joins the namespace, makes them and
 * ends: a socket stays in the namespace it was made in. IP_FREEBIND: the address need not be up
 * yet (the container's `lo` is set up beside its endpoints). */
struct dns_job {
  char *netns, *address;
  unsigned port;
  int fds[2];
  int err;
  const char *failed;
  napi_deferred deferred;
  napi_threadsafe_function done;
};

static void dns_sockets(struct dns_job *j) {
  int ns = open(j->netns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) { j->err = errno; j->failed = "open"; return; }
  int r = setns(ns, CLONE_NEWNET);
  j->err = errno;
  close(ns);
  if (r < 0) { j->failed = "setns"; return; }
  j->err = 0;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)j->port)};
  if (inet_pton(AF_INET, j->address, &sa.sin_addr) != 1) { j->err = EINVAL; j->failed = "inet_pton"; return; }
  static const int types[2] = {SOCK_DGRAM, SOCK_STREAM};
  for (int i = 0; i < 2; i++) {
    int one = 1;
    int s = socket(AF_INET, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) { j->err = errno; j->failed = "socket"; return; }
    j->fds[i] = s;
    if (setsockopt(s, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) < 0) { j->err = errno; j->failed = "setsockopt IP_FREEBIND"; return; }
    if (types[i] == SOCK_STREAM && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
      j->err = errno; j->failed = "setsockopt SO_REUSEADDR"; return;
    }
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0) { j->err = errno; j->failed = "bind"; return; }
    if (types[i] == SOCK_STREAM && listen(s, 128) < 0) { j->err = errno; j->failed = "listen"; return; }
  }
}

static void *dns_thread(void *p) {
  struct dns_job *j = p;
  dns_sockets(j);
  napi_threadsafe_function tsfn = j->done; /* j is freed on the loop once called */
  napi_call_threadsafe_function(tsfn, j, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static void free_dns_job(struct dns_job *j) {
  for (int i = 0; i < 2; i++)
    if (j->fds[i] >= 0) close(j->fds[i]);
  free(j->netns);
  free(j->address);
  free(j);
}

static void dns_complete(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  struct dns_job *j = data;
  if (!env) { free_dns_job(j); return; }
  if (!j->err) {
    napi_value arr, v;
    napi_create_array_with_length(env, 2, &arr);
    for (uint32_t i = 0; i < 2; i++) {
      napi_create_int32(env, j->fds[i], &v);
      napi_set_element(env, arr, i, v);
      j->fds[i] = -1; /* the caller's now */
    }
    napi_resolve_deferred(env, j->deferred, arr);
  } else {
    napi_value e;
    char what[600];
    snprintf(what, sizeof what, "%s:%u in %s", j->address, j->port, j->netns);
    throw_errno(env, j->err, j->failed, j->netns, what);
    napi_get_and_clear_last_exception(env, &e);
    napi_reject_deferred(env, j->deferred, e);
  }
  free_dns_job(j);
}

static napi_value js_dns_sockets(napi_env env, napi_callback_info info) {
  ARGS(3);
  struct dns_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  j->fds[0] = j->fds[1] = -1;
  uint64_t port;
  if (!arg_string(env, argv[0], "netns", 0, &j->netns) || !arg_string(env, argv[1], "address", 0, &j->address) ||
      !arg_uint(env, argv[2], "port", 0xffff, &port)) {
    free_dns_job(j);
    return NULL;
  }
  j->port = (unsigned)port;
  napi_value promise, name;
  napi_create_string_utf8(env, "berth:dnsSockets", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, dns_complete, &j->done) != napi_ok) {
    free_dns_job(j);
    return NULL;
  }
  napi_create_promise(env, &j->deferred, &promise);
  int e = start_detached(dns_thread, j, 64 << 10);
  if (e) {
    napi_threadsafe_function done = j->done;
    j->err = e;
    j->failed = "pthread_create";
    dns_complete(env, NULL, NULL, j);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }
  return promise;
}

/* idmappedOverlayAsync(target, lowers, upper, work, uidMap, gidMap): a promise; an overlay at
 * `target` over `lowers` (absolute, top first) idmapped by the maps (uid_map's text), with
 * `upper` and `work` as they are (both null: a read-only overlay), made on a thread of its own. */
static napi_value js_idmapped_overlay_async(napi_env env, napi_callback_info info) {
  ARGS(6);
  struct mount_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  if (!arg_string(env, argv[0], "target", 0, &j->target) || !(j->lowers = arg_strings(env, argv[1], "lowers")) ||
      !arg_string(env, argv[2], "upper", 1, &j->source) || !arg_string(env, argv[3], "work", !j->source, &j->data) ||
      !arg_string(env, argv[4], "uidMap", 0, &j->uid_map) || !arg_string(env, argv[5], "gidMap", 0, &j->gid_map)) {
    free_mount_job(j);
    return NULL;
  }
  j->is_idmapped = 1;
  return start_mount_job(env, j);
}

/* openInRoot(root, path, flags[, beneath]): an fd for `path` resolved with `root` as "/" (openat2
 * with RESOLVE_IN_ROOT), so no symlink or ".." in a container's file system reaches the host.
 * `beneath`: RESOLVE_BENEATH instead, where a way out of `root` (an absolute symlink, ".." past
 * it) is an error (EXDEV) rather than taken as inside. */
static napi_value js_open_in_root(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *root = NULL, *path = NULL;
  uint64_t flags;
  bool beneath = false;
  napi_value ret = NULL;
  if (!arg_string(env, argv[0], "root", 0, &root) || !arg_string(env, argv[1], "path", 0, &path) ||
      !arg_uint(env, argv[2], "flags", 0xffffffffu, &flags)) goto out;
  napi_valuetype t;
  if (napi_typeof(env, argv[3], &t) == napi_ok && t == napi_boolean) napi_get_value_bool(env, argv[3], &beneath);
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) { throw_errno(env, errno, "open", root, root); goto out; }
  struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = (beneath ? RESOLVE_BENEATH : RESOLVE_IN_ROOT) | RESOLVE_NO_MAGICLINKS};
  const char *rel = path;
  while (*rel == '/') rel++;
  long fd;
  do fd = syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  int e = errno;
  close(rootfd);
  if (fd < 0) throw_errno(env, e, "openat2", path, path);
  else napi_create_int32(env, (int32_t)fd, &ret);
out:
  free(root);
  free(path);
  return ret;
}

/* A JS array of strings as a NULL-terminated, malloc'ed C array; NULL (an error thrown) otherwise. */
static char **arg_strings(napi_env env, napi_value v, const char *what) {
  uint32_t n = 0;
  bool is;
  if (napi_is_array(env, v, &is) != napi_ok || !is) { char m[96]; snprintf(m, sizeof m, "%s must be an array", what); type_error(env, m); return NULL; }
  napi_get_array_length(env, v, &n);
  char **out = calloc(n + 1, sizeof *out);
  if (!out) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    if (!arg_string(env, e, what, 0, &out[i])) {
      for (uint32_t j = 0; j < i; j++) free(out[j]);
      free(out);
      return NULL;
    }
  }
  return out;
}

static void free_strings(char **a) {
  for (char **p = a; p && *p; p++) free(*p);
  free(a);
}

/* spawnDetached(path, argv, env): a promise of [pid, fd]. Starts `path` in a session of its
 * own with /dev/null as its stdio and one end of a new unix socketpair as its fd 3; the other
 * end is returned (close-on-exec). posix_spawn (vfork's shared memory: no copy of a large
 * parent's page tables) on a thread of libuv's pool: the calling thread does not wait for the
 * child to be scheduled and exec, which Node's spawn makes it do (~5-8 ms a start on a loaded
 * machine). The caller reaps the pid (reap()). */
struct spawn_job {
  char *path, **args, **envp;
  pid_t pid;
  int fd, err;
  const char *syscall;
  napi_deferred deferred;
  napi_async_work work;
};

static void spawn_execute(napi_env env, void *data) {
  (void)env;
  struct spawn_job *j = data;
  int sv[2];
  j->fd = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) { j->err = errno; j->syscall = "socketpair"; return; }
  if (sv[1] == 3) { /* dup2 onto itself would leave close-on-exec set */
    int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
    close(sv[1]);
    sv[1] = moved;
    if (moved < 0) { j->err = errno; j->syscall = "fcntl"; close(sv[0]); return; }
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(&fa, 0, 1);
  posix_spawn_file_actions_adddup2(&fa, 0, 2);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
  posix_spawnattr_init(&at);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  j->err = posix_spawn(&j->pid, j->path, &fa, &at, j->args, j->envp);
  j->syscall = "posix_spawn";
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(sv[1]);
  if (j->err) close(sv[0]);
  else j->fd = sv[0];
}

static void spawn_complete(napi_env env, napi_status status, void *data) {
  struct spawn_job *j = data;
  if (status == napi_ok && !j->err) {
    napi_value ret, p, f;
    napi_create_array_with_length(env, 2, &ret);
    napi_create_int32(env, j->pid, &p);
    napi_create_int32(env, j->fd, &f);
    napi_set_element(env, ret, 0, p);
    napi_set_element(env, ret, 1, f);
    napi_resolve_deferred(env, j->deferred, ret);
  } else {
    throw_errno(env, j->err ? j->err : EINVAL, j->syscall ? j->syscall : "posix_spawn", j->path, j->path);
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_reject_deferred(env, j->deferred, e);
  }
  napi_delete_async_work(env, j->work);
  free(j->path);
  free_strings(j->args);
  free_strings(j->envp);
  free(j);
}

static napi_value js_spawn_detached(napi_env env, napi_callback_info info) {
  ARGS(3);
  struct spawn_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  napi_value promise, name;
  if (!arg_string(env, argv[0], "path", 0, &j->path) || !(j->args = arg_strings(env, argv[1], "argv")) ||
      !(j->envp = arg_strings(env, argv[2], "env"))) {
    free(j->path);
    free_strings(j->args);
    free(j);
    return NULL;
  }
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "berth:spawnDetached", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, spawn_execute, spawn_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

/* runProgram(path, argv, env, input, maxBuffer): a promise of [status, signal, stdout, stderr]
 * (status -1 when a signal ended it, signal 0 otherwise). Runs a program to completion, as
 * Node's execFile does, without forking the caller: posix_spawn (vfork's shared memory) on a
 * thread of its own, which also writes `input` to the child's stdin, reads its stdout and
 * stderr, and waits for it. Node's spawn forks the whole process: for a daemon of a few hundred
 * MB that copies its page tables and write-protects every page, so its event-loop thread then
 * takes a copy-on-write fault (and a TLB flush on every CPU) on each page it writes until the
 * child execs. A thread per run rather than libuv's pool: a run lasts as long as the program
 * does, and the pool's four threads serve the file system. `path` without a slash is looked up
 * on the child's PATH. Output beyond `maxBuffer` bytes of either stream ends the child (SIGTERM)
 * and rejects with code ERR_CHILD_PROCESS_STDIO_MAXBUFFER. */
struct run_job {
  char *path, **args, **envp;
  unsigned char *input;
  size_t input_len, max;
  struct { unsigned char *data; size_t len, cap; } out[2];
  int status, err, overflow;
  const char *syscall;
  napi_deferred deferred;
  napi_threadsafe_function done;
};

/* The program `file` names: itself when it holds a slash, else the first executable on PATH
 * (the child's, or the default shells use). NULL with errno set when there is none. */
static char *find_program(const char *file, char **envp) {
  if (strchr(file, '/')) return strdup(file);
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) { path = *e + 5; break; }
  int seen_eacces = 0;
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    size_t n = (size_t)(end - p);
    char *cand = malloc(n + strlen(file) + 3);
    if (!cand) return NULL;
    sprintf(cand, "%.*s/%s", (int)n, n ? p : ".", file);
    if (access(cand, X_OK) == 0) return cand;
    if (errno == EACCES) seen_eacces = 1;
    free(cand);
    if (!*end) break;
    p = end;
  }
  errno = seen_eacces ? EACCES : ENOENT;
  return NULL;
}

static int append(struct run_job *j, int which, const unsigned char *buf, size_t n) {
  typeof(j->out[0]) *o = &j->out[which];
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 4096;
    while (cap < o->len + n) cap *= 2;
    unsigned char *d = realloc(o->data, cap);
    if (!d) return -1;
    o->data = d;
    o->cap = cap;
  }
  memcpy(o->data + o->len, buf, n);
  o->len += n;
  return 0;
}

/* A pipe whose two ends are both above fd 2 (so dup2 onto 0-2 always copies), close-on-exec. */
static int high_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) < 0) return -1;
  for (int i = 0; i < 2; i++)
    if (fds[i] <= 2) {
      int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
      close(fds[i]);
      fds[i] = moved;
      if (moved < 0) { close(fds[1 - i]); return -1; }
    }
  return 0;
}

static void *run_thread(void *data) {
  struct run_job *j = data;
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
  char *prog = find_program(j->path, j->envp);
  if (!prog) { j->err = errno; j->syscall = "spawn"; goto done; }
  if (high_pipe(in) < 0 || high_pipe(out) < 0 || high_pipe(err) < 0) { j->err = errno; j->syscall = "pipe2"; goto done; }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_init(&at);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  j->err = posix_spawn(&pid, prog, &fa, &at, j->args, j->envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(in[0]), close(out[1]), close(err[1]);
  in[0] = out[1] = err[1] = -1;
  if (j->err) { j->syscall = "spawn"; goto done; }

  /* stdin written as the child takes it, stdout and stderr read as they come: a child that
   * writes before it reads never waits on us. */
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t off = 0;
  if (j->input_len == 0) { close(in[1]); in[1] = -1; }
  unsigned char buf[16384];
  while (out[0] >= 0 || err[0] >= 0) {
    struct pollfd p[3] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 }, { in[1], POLLOUT, 0 } };
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int w = 0; w < 2; w++) {
      int *fd = w ? &err[0] : &out[0];
      if (*fd < 0 || !p[w].revents) continue;
      ssize_t n = read(*fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) { close(*fd); *fd = -1; continue; }
      if (j->out[w].len + (size_t)n > j->max) {
        if (!j->overflow) kill(pid, SIGTERM);
        j->overflow = w + 1;
        close(out[0]), close(err[0]);
        out[0] = err[0] = -1;
        break;
      }
      if (append(j, w, buf, (size_t)n) < 0) {
        kill(pid, SIGKILL);
        j->err = ENOMEM;
        j->syscall = "read";
        close(out[0]), close(err[0]);
        out[0] = err[0] = -1;
        break;
      }
    }
    if (in[1] >= 0 && p[2].revents) {
      ssize_t n = (p[2].revents & POLLOUT) ? write(in[1], j->input + off, j->input_len - off) : -1;
      if (n > 0) off += (size_t)n;
      /* EPIPE: the child ended, or closed its stdin, before reading all of it: its exit says why. */
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || off == j->input_len) { close(in[1]); in[1] = -1; }
    }
  }
  if (in[1] >= 0) { close(in[1]); in[1] = -1; }
  while (waitpid(pid, &j->status, 0) < 0) {
    if (errno != EINTR) { if (!j->err) { j->err = errno; j->syscall = "waitpid"; } break; }
  }
done:
  for (int *fd = (int[]){ in[0], in[1], out[0], out[1], err[0], err[1] }, k = 0; k < 6; k++)
    if (fd[k] >= 0) close(fd[k]);
  free(prog);
  napi_threadsafe_function tsfn = j->done; /* j is freed on the loop once called */
  napi_call_threadsafe_function(tsfn, j, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static void free_run_job(struct run_job *j) {
  free(j->path);
  free_strings(j->args);
  free_strings(j->envp);
  free(j->input);
  free(j->out[0].data);
  free(j->out[1].data);
  free(j);
}

/* On the event loop, once the thread is done: the promise settled, the job freed. */
static void run_complete(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  struct run_job *j = data;
  if (!env) { free_run_job(j); return; } /* the environment is going away */
  if (j->err || j->overflow) {
    napi_value e, code, msg;
    if (j->overflow) {
      napi_create_string_utf8(env, "ERR_CHILD_PROCESS_STDIO_MAXBUFFER", NAPI_AUTO_LENGTH, &code);
      napi_create_string_utf8(env, j->overflow == 1 ? "stdout maxBuffer length exceeded" : "stderr maxBuffer length exceeded",
                              NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, code, msg, &e);
    } else {
      throw_errno(env, j->err, j->syscall, j->path, j->path);
      napi_get_and_clear_last_exception(env, &e);
    }
    napi_reject_deferred(env, j->deferred, e);
  } else {
    napi_value ret, v;
    napi_create_array_with_length(env, 4, &ret);
    napi_create_int32(env, WIFEXITED(j->status) ? WEXITSTATUS(j->status) : -1, &v);
    napi_set_element(env, ret, 0, v);
    napi_create_int32(env, WIFSIGNALED(j->status) ? WTERMSIG(j->status) : 0, &v);
    napi_set_element(env, ret, 1, v);
    for (int w = 0; w < 2; w++) {
      napi_create_buffer_copy(env, j->out[w].len, j->out[w].len ? (void *)j->out[w].data : (void *)"", NULL, &v);
      napi_set_element(env, ret, 2 + (uint32_t)w, v);
    }
    napi_resolve_deferred(env, j->deferred, ret);
  }
  free_run_job(j);
}

static napi_value js_run_program(napi_env env, napi_callback_info info) {
  ARGS(5);
  struct run_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  uint64_t max;
  bool is_ta = false;
  napi_value promise, name;
  if (!arg_string(env, argv[0], "path", 0, &j->path) || !(j->args = arg_strings(env, argv[1], "argv")) ||
      !(j->envp = arg_strings(env, argv[2], "env")) || !arg_uint(env, argv[4], "maxBuffer", 1ull << 40, &max))
    goto fail;
  napi_is_typedarray(env, argv[3], &is_ta);
  if (!is_ta) { type_error(env, "input must be a Uint8Array or Buffer"); goto fail; }
  napi_typedarray_type tt;
  void *data;
  napi_get_typedarray_info(env, argv[3], &tt, &j->input_len, &data, NULL, NULL);
  if (tt != napi_uint8_array) { type_error(env, "input must be a Uint8Array or Buffer"); goto fail; }
  if (j->input_len) {
    if (!(j->input = malloc(j->input_len))) { napi_throw_error(env, "ENOMEM", "out of memory"); goto fail; }
    memcpy(j->input, data, j->input_len);
  }
  j->max = (size_t)max;
  napi_create_string_utf8(env, "berth:runProgram", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, run_complete, &j->done) != napi_ok) goto fail;
  napi_create_promise(env, &j->deferred, &promise);
  int e = start_detached(run_thread, j, 256 << 10);
  if (e) {
    /* No thread: the job is settled here, as the thread would have. */
    napi_threadsafe_function done = j->done;
    j->err = e;
    j->syscall = "pthread_create";
    run_complete(env, NULL, NULL, j);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }
  return promise;
fail:
  free_run_job(j);
  return NULL;
}

/* prioritizeThread(nice): the calling thread (berthd's event loop) gets this nice value, with
 * SCHED_RESET_ON_FORK so that every thread and process it creates from now on starts at nice 0:
 * the loop that answers the API, DNS and health probes goes first when containers, CNI plugins
 * and iptables crowd the CPUs, and none of them inherits its priority. */
static napi_value js_prioritize_thread(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t nice;
  if (napi_get_value_int64(env, argv[0], &nice) != napi_ok || nice < -20 || nice > 19) {
    napi_throw_type_error(env, "EINVAL", "nice must be an integer from -20 to 19");
    return NULL;
  }
  struct sched_param sp = {.sched_priority = 0};
  if (sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp) < 0)
    return throw_errno(env, errno, "sched_setscheduler", NULL, "SCHED_RESET_ON_FORK");
  if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), (int)nice) < 0)
    return throw_errno(env, errno, "setpriority", NULL, "of the calling thread");
  return NULL;
}

/* reap(pid): true once the child has ended and is reaped (waitpid WNOHANG), false while it runs. */
static napi_value js_reap(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint64_t pid;
  if (!arg_uint(env, argv[0], "pid", 0x7fffffff, &pid)) return NULL;
  int st;
  pid_t r = waitpid((pid_t)pid, &st, WNOHANG);
  if (r < 0 && errno != ECHILD) return throw_errno(env, errno, "waitpid", NULL, "for a helper");
  napi_value b;
  napi_get_boolean(env, r != 0, &b);
  return b;
}

/* writeAtomic(tmp, path, data, mode, durable): a promise. common/atomic.ts's write in one job on
 * libuv's pool: `tmp` made (O_EXCL, `mode` under the umask) and written, fsync'ed when
 * `durable`, renamed over `path`, and then the folder fsync'ed when `durable`; on a failure
 * `tmp` is removed. One trip to the pool and one callback where fs/promises takes ten (open,
 * write, sync, close, rename, and the folder's open, sync, close), each resuming JavaScript on
 * berthd's thread: a container's records are written so several times a start. */
struct write_job {
  char *tmp, *path, *dir;
  uint8_t *data;
  size_t len;
  int mode, durable, err;
  const char *syscall, *at;
  napi_deferred deferred;
  napi_async_work work;
};

static int write_all(int fd, const uint8_t *p, size_t len) {
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void write_execute(napi_env env, void *data) {
  (void)env;
  struct write_job *j = data;
  int fd = open(j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, j->mode);
  if (fd < 0) { j->err = errno; j->syscall = "open"; j->at = j->tmp; return; }
  if (write_all(fd, j->data, j->len) < 0) { j->err = errno; j->syscall = "write"; }
  else if (j->durable && fsync(fd) < 0) { j->err = errno; j->syscall = "fsync"; }
  if (close(fd) < 0 && !j->err) { j->err = errno; j->syscall = "close"; }
  if (!j->err && rename(j->tmp, j->path) < 0) { j->err = errno; j->syscall = "rename"; }
  if (j->err) {
    j->at = j->tmp;
    unlink(j->tmp);
    return;
  }
  if (!j->durable) return;
  /* The rename itself durable: the folder's entry. */
  char *slash = strrchr(j->path, '/');
  if (!slash) return;
  j->dir = slash == j->path ? strdup("/") : strndup(j->path, (size_t)(slash - j->path));
  if (!j->dir) { j->err = ENOMEM; j->syscall = "fsync"; return; }
  int dir = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || fsync(dir) < 0) { j->err = errno; j->syscall = dir < 0 ? "open" : "fsync"; j->at = j->dir; }
  if (dir >= 0) close(dir);
}

static void write_complete(napi_env env, napi_status status, void *data) {
  struct write_job *j = data;
  if (status == napi_ok && !j->err) {
    napi_resolve_deferred(env, j->deferred, undefined(env));
  } else {
    throw_errno(env, j->err ? j->err : EINVAL, j->syscall ? j->syscall : "write", j->at ? j->at : j->path, j->at ? j->at : j->path);
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_reject_deferred(env, j->deferred, e);
  }
  napi_delete_async_work(env, j->work);
  free(j->tmp);
  free(j->path);
  free(j->dir);
  free(j->data);
  free(j);
}

static napi_value js_write_atomic(napi_env env, napi_callback_info info) {
  ARGS(5);
  struct write_job *j = calloc(1, sizeof *j);
  if (!j) { napi_throw_error(env, "ENOMEM", "out of memory"); return NULL; }
  uint64_t mode;
  bool is_ta = false, durable = false;
  napi_value promise, name;
  if (!arg_string(env, argv[0], "tmp", 0, &j->tmp) || !arg_string(env, argv[1], "path", 0, &j->path) ||
      !arg_uint(env, argv[3], "mode", 07777, &mode))
    goto fail;
  napi_is_typedarray(env, argv[2], &is_ta);
  if (!is_ta) { type_error(env, "data must be a Uint8Array or Buffer"); goto fail; }
  napi_typedarray_type tt;
  void *bytes;
  napi_get_typedarray_info(env, argv[2], &tt, &j->len, &bytes, NULL, NULL);
  if (tt != napi_uint8_array) { type_error(env, "data must be a Uint8Array or Buffer"); goto fail; }
  if (j->len) {
    if (!(j->data = malloc(j->len))) { napi_throw_error(env, "ENOMEM", "out of memory"); goto fail; }
    memcpy(j->data, bytes, j->len);
  }
  napi_get_value_bool(env, argv[4], &durable);
  j->mode = (int)mode;
  j->durable = durable;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "berth:writeAtomic", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, write_execute, write_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
fail:
  free(j->tmp);
  free(j->path);
  free(j->data);
  free(j);
  return NULL;
}

/* sealedCopy(path, name): a memfd called `name` holding a copy of the file at `path`, sealed so
 * that nothing can ever write it (F_SEAL_WRITE, and F_SEAL_SEAL so the seals stay), close-on-exec;
 * its fd. berthd starts its monitors from it (posix_spawn of /proc/self/fd/N), so berth-nsexec,
 * already running from a sealed copy, need not make one of its own per container (main.c,
 * CVE-2019-5736): one copy per daemon instead of a 1 MB copy and a second exec per start. */
static napi_value js_sealed_copy(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = NULL, *name = NULL;
  napi_value ret = NULL;
  int src = -1, mem = -1;
  if (!arg_string(env, argv[0], "path", 0, &path) || !arg_string(env, argv[1], "name", 0, &name)) goto out;
  struct stat st;
  if ((src = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(src, &st) < 0) { throw_errno(env, errno, "open", path, path); goto out; }
  if ((mem = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0) { throw_errno(env, errno, "memfd_create", path, name); goto out; }
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mem, src, NULL, (size_t)(st.st_size - off));
    if (n <= 0) { throw_errno(env, n < 0 ? errno : EIO, "sendfile", path, path); goto out; }
    off += n;
  }
  if (fcntl(mem, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) { throw_errno(env, errno, "fcntl", path, path); goto out; }
  napi_create_int32(env, mem, &ret);
  mem = -1;
out:
  if (src >= 0) close(src);
  if (mem >= 0) close(mem);
  free(path);
  free(name);
  return ret;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "lsetxattr", js_lsetxattr }, { "lgetxattr", js_lgetxattr }, { "llistxattr", js_llistxattr },
    { "lremovexattr", js_lremovexattr }, { "mknod", js_mknod }, { "mount", js_mount },
    { "umount2", js_umount2 }, { "openInRoot", js_open_in_root }, { "spawnDetached", js_spawn_detached },
    { "reap", js_reap }, { "sealedCopy", js_sealed_copy }, { "writeAtomic", js_write_atomic }, { "runProgram", js_run_program },
    { "mountAsync", js_mount_async }, { "umount2Async", js_umount2_async }, { "loopbackUp", js_loopback_up },
    { "idmappedOverlayAsync", js_idmapped_overlay_async }, { "bridgeAttach", js_bridge_attach },
    { "linkDelete", js_link_delete }, { "setDefaultRoutes", js_set_default_routes },
    { "subLinkAttach", js_sub_link_attach }, { "linkAdd", js_link_add },
    { "conntrackDeleteUdp", js_conntrack_delete_udp }, { "dnsSockets", js_dns_sockets },
    { "prioritizeThread", js_prioritize_thread },
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  return exports;
}
