/* Wire records, error reporting and small file helpers shared by every mode. */
#include "berth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int error_fd = -1;

void set_error_fd(int fd) { error_fd = fd; }

/* Set while the runtime may still write to us (before its MSG_CONTINUE): after an error we
 * wait for that record (or EOF), so that its write cannot fail on a closed socket and make
 * it drop our error unread. */
static int drain_fd = -1;

void set_drain_fd(int fd) { drain_fd = fd; }

static void __attribute__((noreturn)) exit_after_error(void) {
  int fd = drain_fd;
  drain_fd = -1;
  if (fd >= 0) free(recv_msg(fd));
  _exit(1);
}

static void report(const char *msg) {
  if (error_fd >= 0) {
    const char *f[1] = {msg};
    if (send_msg(error_fd, MSG_ERROR, f, 1) == 0) return;
  }
  fprintf(stderr, "berth-nsexec: %s\n", msg);
}

void die(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  report(buf);
  exit_after_error();
}

/* Go-style error text ("no such file or directory"): engines parse runc's messages, and
 * runc is written in Go. */
void die_errno(const char *fmt, ...) {
  char buf[4096], msg[256];
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "%s", strerror(err));
  msg[0] = (char)tolower((unsigned char)msg[0]);
  size_t len = strlen(buf);
  snprintf(buf + len, sizeof buf - len, ": %s", msg);
  report(buf);
  exit_after_error();
}

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return 1; /* EOF */
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int send_msg(int fd, uint16_t type, const char *const *fields, int n) {
  size_t len = 2;
  for (int i = 0; i < n; i++) len += strlen(fields[i]) + 1;
  char *buf = malloc(4 + len);
  if (!buf) return -1;
  uint32_t l = (uint32_t)len;
  memcpy(buf, &l, 4);
  memcpy(buf + 4, &type, 2);
  size_t off = 6;
  for (int i = 0; i < n; i++) {
    size_t fl = strlen(fields[i]) + 1;
    memcpy(buf + off, fields[i], fl);
    off += fl;
  }
  int r = write_all(fd, buf, 4 + len);
  free(buf);
  return r;
}

/* One record, or NULL at EOF. The record, its field pointers and its strings are one
 * allocation. Every field must end in its NUL: a record cut inside a field is an error, never
 * a shorter field. */
struct record *recv_msg(int fd) {
  uint32_t len;
  int r = read_all(fd, &len, 4);
  if (r == 1) return NULL;
  if (r < 0) die_errno("read plan");
  if (len < 2 || len > (64u << 20)) die("bad plan record length %u", len);
  char *data = malloc(len);
  if (!data) die("out of memory");
  if (read_all(fd, data, len) != 0) die("truncated plan record");
  uint16_t type;
  memcpy(&type, data, 2);
  if (len > 2 && data[len - 1] != '\0') die("plan record of type %u: its last field has no NUL", type);
  size_t nfields = 0;
  for (uint32_t i = 2; i < len; i++) nfields += data[i] == '\0';
  struct record *rec = calloc(1, sizeof *rec + nfields * sizeof(char *) + len);
  if (!rec) die("out of memory");
  char *body = (char *)(rec->fields + nfields);
  memcpy(body, data, len);
  free(data);
  rec->type = type;
  for (char *p = body + 2, *end = body + len; p < end; p += strlen(p) + 1) rec->fields[rec->nfields++] = p;
  return rec;
}

/* The fewest fields each plan record carries (berth.h); a record with fewer is refused here,
 * so no reader indexes past what arrived. Optional fields are checked where they are read. */
static const int min_fields[OP_END] = {
    [OP_MODE] = 1, [OP_NS_CLONE] = 1, [OP_NS_JOIN] = 2, [OP_UID_MAP] = 1, [OP_GID_MAP] = 1,
    [OP_CONSOLE_SOCKET] = 1, [OP_TERMINAL] = 2, [OP_EXEC_FIFO] = 1, [OP_ROOTFS] = 1, [OP_MOUNT] = 7,
    [OP_DEVICE] = 7, [OP_SYMLINK] = 2, [OP_ROOTFS_PROPAGATION] = 1, [OP_MASK] = 1, [OP_READONLY] = 1,
    [OP_HOSTNAME] = 1, [OP_DOMAINNAME] = 1, [OP_SYSCTL] = 2, [OP_RLIMIT] = 3, [OP_OOM_SCORE_ADJ] = 1,
    [OP_PERSONALITY] = 1, [OP_CAPS] = 5, [OP_USER] = 2, [OP_UMASK] = 1, [OP_SECCOMP] = 2, [OP_CWD] = 1,
    [OP_ENV] = 1, [OP_ARG] = 1, [OP_HOOK] = 3, [OP_PRESERVE_FDS] = 1, [OP_TIME_OFFSET] = 3,
};

int read_plan(int fd, struct plan *plan) {
  for (;;) {
    struct record *rec = recv_msg(fd);
    if (!rec) die("plan ended before its end record");
    if (rec->type == OP_END) {
      free(rec);
      return 0;
    }
    if (rec->type < OP_MODE || rec->type > OP_END) die("unknown plan record type %u", rec->type);
    if (rec->nfields < min_fields[rec->type])
      die("plan record of type %u has %d fields, needs %d", rec->type, rec->nfields, min_fields[rec->type]);
    if (plan->tail) plan->tail->next = rec;
    else plan->head = rec;
    plan->tail = rec;
  }
}

/* Every signal at its default disposition and none blocked, whatever this process inherited
 * (berthd's Node.js ignores SIGPIPE, the monitor SIGHUP and SIGPIPE, posix_spawn leaves glibc's
 * internal signals 32 and 33 ignored): a container's process starts as under runc. Raw system
 * calls, because glibc refuses to touch its internal signals. Handlers need no reset: execve
 * resets them; only ignored dispositions and the mask survive it. */
void reset_signals(void) {
  struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } dfl = {SIG_DFL, 0, NULL, 0};
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask) < 0) die_errno("reset signal %d", sig);
  }
  uint64_t none = 0;
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none) < 0) die_errno("clear the signal mask");
}

unsigned long long parse_ull(const char *s, int base) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, base);
  if (errno || *end || end == s) die("bad number in plan: %s", s);
  return v;
}

long long parse_ll(const char *s) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s) die("bad number in plan: %s", s);
  return v;
}

int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = write_all(fd, data, len);
  int saved = errno;
  close(fd);
  errno = saved;
  return r;
}

size_t hex_decode(const char *hex, unsigned char **out) {
  size_t n = strlen(hex) / 2;
  unsigned char *buf = malloc(n ? n : 1);
  if (!buf) die("out of memory");
  for (size_t i = 0; i < n; i++) {
    unsigned int b;
    if (sscanf(hex + 2 * i, "%2x", &b) != 1) die("bad hex in plan");
    buf[i] = (unsigned char)b;
  }
  *out = buf;
  return n;
}
