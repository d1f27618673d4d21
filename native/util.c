/* Wire records, error reporting and small file helpers shared by every mode. */
#include "berth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One record, or NULL at EOF. The record and its strings are one allocation. */
struct record *recv_msg(int fd) {
  uint32_t len;
  int r = read_all(fd, &len, 4);
  if (r == 1) return NULL;
  if (r < 0) die_errno("read plan");
  if (len < 2 || len > (64u << 20)) die("bad plan record length %u", len);
  struct record *rec = calloc(1, sizeof *rec + len + 1);
  if (!rec) die("out of memory");
  char *data = (char *)(rec + 1);
  if (read_all(fd, data, len) != 0) die("truncated plan record");
  data[len] = '\0';
  memcpy(&rec->type, data, 2);
  char *p = data + 2, *end = data + len;
  while (p < end && rec->nfields < MAX_FIELDS) {
    rec->fields[rec->nfields++] = p;
    p += strlen(p) + 1;
  }
  return rec;
}

int read_plan(int fd, struct plan *plan) {
  for (;;) {
    struct record *rec = recv_msg(fd);
    if (!rec) die("plan ended before its end record");
    if (rec->type == OP_END) {
      free(rec);
      return 0;
    }
    if (plan->tail) plan->tail->next = rec;
    else plan->head = rec;
    plan->tail = rec;
  }
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
