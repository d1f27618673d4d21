/* `berth-nsexec monitor`: the per-container monitor. It is the parent of the container's
 * process (a subreaper that outlives the nsexec step), owns its stdio, writes every line to a
 * json-file log with timestamps (rotated by size; or in the Kubernetes CRI format with --log-format cri,
 * reopened at its path on SIGUSR1), serves the output to attach clients in
 * Docker's multiplexed frames and passes their input on, and records the exit status to a
 * file. It never blocks on a reader: a client that cannot keep up is dropped, and the log is
 * always drained, so a container writing to stdout never stalls while berthd is down. Nor does
 * it block on the container: its stdin is written without blocking from a bounded buffer, and
 * while that is full the attach clients' input waits in their sockets (backpressure).
 * With a terminal, a control socket of its own (--control) takes window sizes for the pty
 * master it holds: records of two native-endian u16, rows then columns (as
 * src/runtime/native/winsize.ts writes them). A socket apart from the attach socket, because attach input is the container's
 * raw stdin, where no byte can be set aside for a message; and a path, not an inherited fd,
 * because the monitor outlives the berthd that started it. */
#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 32
#define MAX_CONTROLS 4
/* Input taken from attach clients that the container has not read yet: the most held here. */
#define STDIN_BUF 65536

struct log {
  const char *path;
  int fd;
  long long size, max_size;
  int max_file;
  int cri;   /* --log-format cri: Kubernetes' `<time> <stream> <F|P> <text>` lines, not json-file */
};

struct monitor {
  struct log log;
  const char *exit_file, *attach_path, *console_path, *control_path;
  int exit_fd;            /* the exit file's temp, its block allocated at start (see prepare_exit), or -1 */
  int out, err, in;       /* pipes to the container; in is -1 without --stdin */
  int master;             /* the pty master with --terminal, once received */
  int listen_fd, console_listen, control_listen;
  int console_conn;       /* the container's connection to console_listen, until the master arrives */
  int controls[MAX_CONTROLS];
  int ncontrols;
  struct winsize winsize; /* the last size asked for, kept until the master arrives */
  int clients[MAX_CLIENTS];
  unsigned char client_eof[MAX_CLIENTS]; /* the client's input has ended; it still reads */
  int nclients;
  int stdin_once;         /* --stdin-once: the container's stdin closes when a client's input ends */
  int in_closing;         /* close stdin once what is buffered for it is written */
  size_t in_off, in_len;  /* the part of in_buf not written yet */
  pid_t nsexec, container;
  int nsexec_done, exited;
  /* --runtime-pid-file: the child is another OCI runtime's `create` (argv after --), not the
   * nsexec step; once it exits, the container's pid is read from this file and reported on sync. */
  const char *runtime_pid_file;
  int sync;
};

static void log_open(struct log *l) {
  l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (l->fd < 0) die_errno("open log %s", l->path);
  struct stat st;
  l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
}

static void log_rotate(struct log *l) {
  close(l->fd);
  char from[4096], to[4096];
  for (int i = l->max_file - 1; i >= 1; i--) {
    snprintf(from, sizeof from, i == 1 ? "%s" : "%s.%d", l->path, i - 1);
    snprintf(to, sizeof to, "%s.%d", l->path, i);
    rename(from, to);
  }
  if (l->max_file <= 1) (void)!truncate(l->path, 0);
  log_open(l);
}

static size_t json_escape(const char *in, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
    else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; }
    else if (c < 0x20) o += (size_t)sprintf(out + o, "\\u%04x", c);
    else out[o++] = (char)c;
  }
  return o;
}

static void timestamp(char *buf, size_t len) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

/* A line is one json-file entry, however the reads cut it; a line longer than this is cut into
 * entries of this size (the last without its newline), as Docker's 16 kB buffer does. */
#define LINE_MAX_BYTES 16384

/* The part of a line read so far, per stream. In .bss: pages a quiet container never touches
 * cost nothing. */
struct partial {
  size_t len;
  char buf[LINE_MAX_BYTES];
};

/* A CRI entry: F (full) for a line that ended, its newline dropped, or the stream's last bytes;
 * P (partial) for a part of a line cut at LINE_MAX_BYTES. The text is raw, as kubelet reads it. */
static size_t cri_entry(char *out, const char *ts, const char *stream, const char *data, size_t n, int full) {
  int nl = n && data[n - 1] == '\n';
  size_t o = (size_t)sprintf(out, "%s %s %c ", ts, stream, nl || full ? 'F' : 'P');
  memcpy(out + o, data, n - (size_t)nl);
  o += n - (size_t)nl;
  out[o++] = '\n';
  return o;
}

static void log_entry(struct log *l, const char *stream, const char *data, size_t n, int full) {
  static char out[LINE_MAX_BYTES * 6 + 160];
  char ts[64];
  timestamp(ts, sizeof ts);
  size_t o;
  if (l->cri) o = cri_entry(out, ts, stream, data, n, full);
  else {
    o = (size_t)sprintf(out, "{\"log\":\"");
    o += json_escape(data, n, out + o);
    o += (size_t)sprintf(out + o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
  }
  if (l->max_size > 0 && l->size > 0 && l->size + (long long)o > l->max_size) log_rotate(l);
  if (write(l->fd, out, o) == (ssize_t)o) l->size += (long long)o;
}

static void log_write(struct log *l, struct partial *p, const char *stream, const char *data, size_t n) {
  while (n > 0) {
    const char *nl = memchr(data, '\n', n);
    size_t len = nl ? (size_t)(nl - data) + 1 : n;
    if (!p->len && nl && len <= LINE_MAX_BYTES) { /* a whole line: no copy */
      log_entry(l, stream, data, len, 1);
    } else {
      if (len > LINE_MAX_BYTES - p->len) len = LINE_MAX_BYTES - p->len;
      memcpy(p->buf + p->len, data, len);
      p->len += len;
      if (p->len == LINE_MAX_BYTES || p->buf[p->len - 1] == '\n') {
        log_entry(l, stream, p->buf, p->len, 0);
        p->len = 0;
      }
    }
    data += len;
    n -= len;
  }
}

/* The stream ended (or the container did) in the middle of a line: what there is, as an entry. */
static void log_flush(struct log *l, struct partial *p, const char *stream) {
  if (p->len) log_entry(l, stream, p->buf, p->len, 1);
  p->len = 0;
}

static void drop_client(struct monitor *m, int i) {
  close(m->clients[i]);
  m->nclients--;
  m->clients[i] = m->clients[m->nclients];
  m->client_eof[i] = m->client_eof[m->nclients];
}

/* Docker's stream framing: [stream, 0, 0, 0, big-endian u32 size] then the bytes. */
static void broadcast(struct monitor *m, int stream, const char *data, size_t n) {
  unsigned char head[8] = {(unsigned char)stream, 0, 0, 0,
                           (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
  for (int i = 0; i < m->nclients;) {
    struct iovec iov[2] = {{head, 8}, {(void *)data, n}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w = sendmsg(m->clients[i], &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w != (ssize_t)(n + 8)) drop_client(m, i); /* slow or gone: never let it stall the container */
    else i++;
  }
}

static struct partial partial_out, partial_err;
static char in_buf[STDIN_BUF];

/* Where attach input goes: the pty master with a terminal, else the stdin pipe; -1 for none. */
static int stdin_target(struct monitor *m) { return m->master >= 0 ? m->master : m->in; }

static void close_stdin(struct monitor *m) {
  if (m->in >= 0) close(m->in);
  m->in = -1;
  m->in_closing = 0;
}

/* Free space at the end of in_buf, moving what is pending to the front first. */
static size_t stdin_room(struct monitor *m) {
  if (m->in_off) {
    memmove(in_buf, in_buf + m->in_off, m->in_len);
    m->in_off = 0;
  }
  return STDIN_BUF - m->in_len;
}

/* Writes what the container takes now of the buffered input; never waits for it. */
static void stdin_flush(struct monitor *m) {
  int fd = stdin_target(m);
  while (m->in_len && fd >= 0) {
    ssize_t w = write(fd, in_buf + m->in_off, m->in_len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w < 0) {
      /* The container closed its stdin (EPIPE), or its terminal went: nothing more reaches it. */
      m->in_len = 0;
      if (fd == m->in) close_stdin(m);
      break;
    }
    m->in_off += (size_t)w;
    m->in_len -= (size_t)w;
  }
  if (!m->in_len) m->in_off = 0;
  if (!m->in_len && m->in_closing) close_stdin(m);
}

/* A client's input is readable: into the buffer, or dropped where nothing takes it. A client is
 * read only while the buffer has room (serve leaves it out of poll when it is full). */
static void client_input(struct monitor *m, int ci) {
  static char scratch[32768];
  int keep = stdin_target(m) >= 0 && !m->in_closing && !m->client_eof[ci];
  size_t room = keep ? stdin_room(m) : sizeof scratch;
  if (!room) return;
  ssize_t k = read(m->clients[ci], keep ? in_buf + m->in_len : scratch, room);
  if (k < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (k < 0 || (k == 0 && m->client_eof[ci])) drop_client(m, ci);
  else if (k == 0) {
    /* A half-close: the client's input ended, and it still reads the output. With
     * --stdin-once the container's stdin ends with it (Docker's StdinOnce), after what is
     * buffered for it. */
    m->client_eof[ci] = 1;
    if (m->stdin_once && m->in >= 0) {
      m->in_closing = 1;
      stdin_flush(m);
    }
  } else if (keep) {
    m->in_len += (size_t)k;
    stdin_flush(m);
  }
}

static int pump(struct monitor *m, int fd, int stream) {
  char buf[32768];
  struct partial *p = stream == 2 ? &partial_err : &partial_out;
  const char *name = stream == 2 ? "stderr" : "stdout";
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) {
    log_flush(&m->log, p, name);
    return 0;
  }
  log_write(&m->log, p, name, buf, (size_t)n);
  broadcast(m, stream, buf, (size_t)n);
  return 1;
}

/* The exit file's size: its JSON padded with spaces, which JSON allows after the value. */
#define EXIT_SIZE 256

/* The exit file's temp, opened and its block allocated now, so that the exit is recorded with no
 * new space on a data root the container filled (berthd could not see the exit otherwise). */
static void prepare_exit(struct monitor *m) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", m->exit_file);
  m->exit_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (m->exit_fd >= 0 && fallocate(m->exit_fd, 0, 0, EXIT_SIZE) < 0) {
    /* No fallocate here (or no space already): written at the exit as any file. */
    close(m->exit_fd);
    m->exit_fd = -1;
  }
}

static void write_exit(struct monitor *m, int status) {
  char tmp[4096], ts[64], body[256];
  timestamp(ts, sizeof ts);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int n = snprintf(body, sizeof body, "{\"pid\":%d,\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", m->container, code, sig, ts);
  if (n < 0 || n >= EXIT_SIZE) return;
  snprintf(tmp, sizeof tmp, "%s.tmp", m->exit_file);
  int fd = m->exit_fd;
  if (fd >= 0) {
    /* Over the allocated block: no new space needed. */
    memset(body + n, ' ', (size_t)(EXIT_SIZE - n));
    n = EXIT_SIZE;
    m->exit_fd = -1;
  } else {
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
  }
  int whole = pwrite(fd, body, (size_t)n, 0) == n && fsync(fd) == 0;
  close(fd);
  /* A part-written exit file would read as an exit never recorded: only a whole one is put in place. */
  if (whole) rename(tmp, m->exit_file);
  else unlink(tmp);
}

static int listen_unix(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die("socket path too long: %s", path);
  strcpy(addr.sun_path, path);
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) die_errno("listen on %s", path);
  chmod(path, 0600);
  return fd;
}

/* The other runtime's `create` has exited: on success its pid file names the container's init
 * (now our child, as we are its subreaper); the caller learns the pid, or how create ended, on
 * the sync socket, which then closes. */
static void runtime_created(struct monitor *m, int status) {
  char buf[32] = {0}, msg[128];
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    int fd = open(m->runtime_pid_file, O_RDONLY | O_CLOEXEC);
    ssize_t k = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    pid_t pid = k > 0 ? (pid_t)atoi(buf) : 0;
    if (pid > 0) {
      m->container = pid;
      const char *f[] = {buf};
      snprintf(buf, sizeof buf, "%d", pid);
      send_msg(m->sync, MSG_PID, f, 1);
      send_msg(m->sync, MSG_READY, NULL, 0);
    } else {
      snprintf(msg, sizeof msg, "the runtime's create wrote no pid to its pid file");
      const char *f[] = {msg};
      send_msg(m->sync, MSG_ERROR, f, 1);
    }
  } else {
    if (WIFEXITED(status)) snprintf(msg, sizeof msg, "the runtime's create exited with status %d", WEXITSTATUS(status));
    else snprintf(msg, sizeof msg, "the runtime's create was killed by signal %d", WTERMSIG(status));
    const char *f[] = {msg};
    send_msg(m->sync, MSG_ERROR, f, 1);
  }
  close(m->sync);
  m->sync = -1;
}

static void reap(struct monitor *m) {
  int status;
  pid_t p;
  while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
    if (p == m->nsexec) {
      m->nsexec_done = 1;
      if (m->runtime_pid_file) runtime_created(m, status);
    }
    if (p == m->container && !m->exited) {
      m->exited = 1;
      write_exit(m, status);
    }
  }
}

static void apply_winsize(struct monitor *m) {
  if (m->master >= 0 && (m->winsize.ws_row || m->winsize.ws_col)) ioctl(m->master, TIOCSWINSZ, &m->winsize);
}

/* A control connection is readable: every whole record is a size; the last one wins. At end
 * of input the connection closes, which tells the client its sizes are applied. */
static void control_read(struct monitor *m, int i) {
  unsigned short rec[32];
  ssize_t n = read(m->controls[i], rec, sizeof rec);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n >= 4) {
    size_t last = (size_t)n / 4 - 1;
    m->winsize = (struct winsize){.ws_row = rec[last * 2], .ws_col = rec[last * 2 + 1]};
    apply_winsize(m);
    return;
  }
  close(m->controls[i]);
  m->controls[i] = m->controls[--m->ncontrols];
}

static void serve(struct monitor *m, int pid_fd, int sfd) {
  int out_open = 1, err_open = m->err >= 0;
  struct timespec deadline = {0};
  for (;;) {
    if (m->exited) {
      if (!out_open && !err_open) break;
      /* The container's init has gone; give what it left in the pipes a moment to drain. */
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (!deadline.tv_sec) deadline = (struct timespec){now.tv_sec + 5, now.tv_nsec};
      else if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec > deadline.tv_nsec)) break;
    }
    struct pollfd p[8 + MAX_CONTROLS + MAX_CLIENTS];
    int n = 0;
    p[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = pid_fd, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = out_open ? (m->master >= 0 ? m->master : m->out) : -1, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = err_open ? m->err : -1, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = m->console_conn >= 0 ? m->console_conn : m->console_listen, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = m->control_listen, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = m->in_len ? stdin_target(m) : -1, .events = POLLOUT};
    int first_control = n;
    for (int i = 0; i < m->ncontrols; i++) p[n++] = (struct pollfd){.fd = m->controls[i], .events = POLLIN};
    int first_client = n;
    /* Backpressure: while the container's input is full, its clients' input stays in their
     * sockets (a client whose input has ended is still watched for its hang-up). */
    int full = stdin_target(m) >= 0 && !m->in_closing && m->in_len == STDIN_BUF;
    for (int i = 0; i < m->nclients; i++)
      p[n++] = (struct pollfd){.fd = full && !m->client_eof[i] ? -1 : m->clients[i], .events = m->client_eof[i] ? 0 : POLLIN};
    int r = poll(p, (nfds_t)n, m->exited ? 100 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die_errno("poll");
    if (p[1].revents) {
      char buf[32] = {0};
      ssize_t k = read(pid_fd, buf, sizeof buf - 1);
      if (k > 0) m->container = atoi(buf);
      if (k <= 0) pid_fd = -1;
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      /* SIGUSR1: the log was moved away (kubelet's rotation, then ReopenContainerLog): a new one at the path. */
      while (read(sfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo == SIGUSR1) {
          close(m->log.fd);
          log_open(&m->log);
        }
    }
    /* Clients first, every one queued: one that connected before the output was written
     * (berthd attaches before start) must see it, even when both wake the same poll. */
    if (p[4].revents & POLLIN) {
      int c;
      while ((c = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        if (m->nclients < MAX_CLIENTS) {
          m->client_eof[m->nclients] = 0;
          m->clients[m->nclients++] = c;
        } else close(c);
      }
    }
    if (p[2].revents && !pump(m, p[2].fd, 1)) {
      /* With a terminal, the pipe ends when the container takes its pty as stdout, which may
       * come before its master reaches us: the output goes on there. */
      if (p[2].fd == m->out && (m->console_listen >= 0 || m->console_conn >= 0)) {
        close(m->out);
        m->out = -1;
      } else out_open = 0;
    }
    if (p[3].revents) err_open = pump(m, m->err, 2);
    if (p[5].revents && p[5].fd == m->console_listen) {
      /* One connection, the container's: its message is awaited in the poll, not here. */
      if ((m->console_conn = accept4(m->console_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        close(m->console_listen);
        m->console_listen = -1;
        unlink(m->console_path);
      }
    } else if (p[5].revents) {
      int master = recv_fd(m->console_conn, 0);
      if (master >= 0 || errno != EAGAIN) {
        close(m->console_conn);
        m->console_conn = -1;
      }
      if (master >= 0) {
        /* Read and written in this poll loop, which never waits on it. */
        if (fcntl(master, F_SETFL, O_RDWR | O_NONBLOCK) < 0) die_errno("set the pty master non-blocking");
        m->master = master;
        if (m->out >= 0) close(m->out);
        m->out = -1;
        apply_winsize(m);
      }
    }
    if (p[7].revents) stdin_flush(m);
    if (p[6].revents & POLLIN) {
      int c;
      while ((c = accept4(m->control_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        if (m->ncontrols < MAX_CONTROLS) m->controls[m->ncontrols++] = c;
        else close(c);
      }
    }
    /* Backwards: control_read may move the last connection into the slot it frees. */
    for (int i = first_client - 1; i >= first_control; i--) {
      if (!p[i].revents) continue;
      for (int ci = 0; ci < m->ncontrols; ci++)
        if (m->controls[ci] == p[i].fd) { control_read(m, ci); break; }
    }
    for (int i = first_client; i < n; i++) {
      if (!p[i].revents) continue;
      int ci = 0;
      while (ci < m->nclients && m->clients[ci] != p[i].fd) ci++;
      if (ci < m->nclients) client_input(m, ci);
    }
    reap(m);
    /* Setup failed: the nsexec step ended without a container to wait for. */
    if (m->nsexec_done && !m->container && pid_fd < 0) break;
  }
}

/* Options end at "--": what follows is another runtime's command line. */
static const char *arg(int argc, char **argv, const char *name) {
  for (int i = 2; i + 1 < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], name)) return argv[i + 1];
  return NULL;
}

static int flag(int argc, char **argv, const char *name) {
  for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], name)) return 1;
  return 0;
}

int monitor_main(int argc, char **argv, int (*nsexec)(char **)) {
  /* Started from berthd's sealed copy (execve of /proc/self/fd/N), the kernel named us "N". */
  if (prctl(PR_SET_NAME, "berth-nsexec", 0, 0, 0) < 0) die_errno("set the process name");
  struct monitor m = {.sync = -1, .exit_fd = -1, .in = -1, .master = -1, .console_listen = -1, .control_listen = -1, .console_conn = -1, .out = -1, .err = -1};
  m.log.path = arg(argc, argv, "--log");
  m.exit_file = arg(argc, argv, "--exit-file");
  m.attach_path = arg(argc, argv, "--attach");
  m.console_path = arg(argc, argv, "--console-socket");
  m.control_path = arg(argc, argv, "--control");
  m.stdin_once = flag(argc, argv, "--stdin-once");
  m.runtime_pid_file = arg(argc, argv, "--runtime-pid-file");
  char **runtime_argv = NULL;
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--")) {
      runtime_argv = argv + i + 1;
      break;
    }
  if (m.runtime_pid_file && (!runtime_argv || !runtime_argv[0])) die("monitor --runtime-pid-file needs the runtime's create after --");
  const char *max_size = arg(argc, argv, "--log-max-size"), *max_file = arg(argc, argv, "--log-max-file");
  m.log.max_size = max_size ? parse_ll(max_size) : 0;
  m.log.max_file = max_file ? (int)parse_ll(max_file) : 1;
  const char *format = arg(argc, argv, "--log-format");
  if (format && strcmp(format, "cri") && strcmp(format, "json-file")) die("monitor --log-format: json-file or cri, not %s", format);
  m.log.cri = format && !strcmp(format, "cri");
  if (!m.log.path || !m.exit_file || !m.attach_path) die("monitor needs --log, --exit-file and --attach");

  /* --reparent: the caller does not wait for us (it spawned us without forking itself, see
   * src/runtime/native/helper.ts): we go on in a child, init's to reap, not the caller's. */
  if (flag(argc, argv, "--reparent")) {
    pid_t p = fork();
    if (p < 0) die_errno("fork");
    if (p > 0) _exit(0);
  }
  /* Outlive berthd: a session of our own, and the container's process as our child. */
  setsid();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) die_errno("become a subreaper");
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

  log_open(&m.log);
  prepare_exit(&m);
  m.listen_fd = listen_unix(m.attach_path);
  if (m.console_path) m.console_listen = listen_unix(m.console_path);
  if (m.control_path) m.control_listen = listen_unix(m.control_path);
  int out[2], err[2], in[2] = {-1, -1}, pid_pipe[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(pid_pipe, O_CLOEXEC) < 0) die_errno("pipe");
  if (flag(argc, argv, "--stdin") && pipe2(in, O_CLOEXEC) < 0) die_errno("pipe");

  pid_t child = fork();
  if (child < 0) die_errno("fork");
  if (child == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(in[0] >= 0 ? in[0] : devnull, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (m.runtime_pid_file) {
      /* The runtime reports through its pid file and exit status, not through our sockets. */
      const char *sync_env = getenv("_BERTH_SYNC_FD");
      fcntl(sync_env ? atoi(sync_env) : 3, F_SETFD, FD_CLOEXEC);
      unsetenv("_BERTH_SYNC_FD");
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      execv(runtime_argv[0], runtime_argv);
      die_errno("exec %s", runtime_argv[0]);
    }
    int pfd = fcntl(pid_pipe[1], F_DUPFD, 10); /* without CLOEXEC: it must survive the sealed re-exec */
    char buf[16];
    snprintf(buf, sizeof buf, "%d", pfd);
    setenv("_BERTH_PID_FD", buf, 1);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    char *nargv[] = {argv[0], NULL};
    _exit(nsexec(nargv));
  }
  m.nsexec = child;
  close(out[1]);
  close(err[1]);
  close(pid_pipe[1]);
  if (in[0] >= 0) close(in[0]);
  m.out = out[0];
  m.err = err[0];
  m.in = in[1];
  if (m.in >= 0 && fcntl(m.in, F_SETFL, O_WRONLY | O_NONBLOCK) < 0) die_errno("set stdin non-blocking");
  /* The caller keeps the sync socket; ours would hold it open after the nsexec step ends. With
   * another runtime, ours is where its create's outcome is reported (runtime_created). */
  const char *env = getenv("_BERTH_SYNC_FD");
  int sync_fd = env ? atoi(env) : 3;
  if (m.runtime_pid_file) {
    m.sync = fcntl(sync_fd, F_DUPFD_CLOEXEC, 10);
    close(pid_pipe[0]);
    pid_pipe[0] = -1;
  }
  close(sync_fd);
  set_error_fd(-1);
  int dn = open("/dev/null", O_RDWR);
  dup2(dn, 0);
  dup2(dn, 1);
  dup2(dn, 2);

  serve(&m, pid_pipe[0], sfd);
  log_flush(&m.log, &partial_out, "stdout");
  log_flush(&m.log, &partial_err, "stderr");
  unlink(m.attach_path);
  if (m.console_path) unlink(m.console_path);
  if (m.control_path) unlink(m.control_path);
  return 0;
}
