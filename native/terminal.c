/* Terminals and waiting: the container's pty (master handed over a console socket by
 * SCM_RIGHTS, as runc does), and the foreground parent that relays a terminal or forwards
 * signals until the container process exits. */
#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int send_fd(int sock, int fd) {
  char dummy = 0;
  struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

/* One fd sent with SCM_RIGHTS, waiting at most timeout_ms (-1: until the sender sends or
 * closes). -1 with errno set otherwise: ETIMEDOUT, EAGAIN (non-blocking, none yet), or EPROTO
 * where the peer closed or sent no fd. */
int recv_fd(int sock, int timeout_ms) {
  char dummy;
  struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct pollfd p = {.fd = sock, .events = POLLIN};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  if (r == 0) {
    errno = timeout_ms ? ETIMEDOUT : EAGAIN;
    return -1;
  }
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
    errno = EPROTO;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

/* In the child, after pivot_root: a pty from the container's own devpts. */
int setup_terminal(struct plan *plan, int console_fd) {
  unsigned short rows = 0, cols = 0;
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == OP_TERMINAL) {
      rows = (unsigned short)parse_ull(r->fields[0], 10);
      cols = (unsigned short)parse_ull(r->fields[1], 10);
    }
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die_errno("open /dev/ptmx");
  if (unlockpt(master) < 0) die_errno("unlockpt");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) die_errno("open pty peer");
  if (rows || cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    ioctl(master, TIOCSWINSZ, &ws);
  }
  char name[64];
  if (ptsname_r(master, name, sizeof name) != 0) die_errno("ptsname");
  /* /dev/console is the init's terminal: an exec'd process must not mount over it in the
   * container's mount namespace (runc sets it up for init only). */
  int is_exec = 0;
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == OP_MODE) is_exec = !strcmp(r->fields[0], "exec");
  int rootfd = is_exec ? -1 : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int cons = is_exec ? -1 : open_in_root(rootfd, "/dev/console", 2, 0600);
  if (cons >= 0) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", cons);
    if (mount(name, p, NULL, MS_BIND, NULL) < 0) die_errno("bind %s to /dev/console", name);
    close(cons);
  }
  if (rootfd >= 0) close(rootfd);
  if (send_fd(console_fd, master) < 0) die_errno("send pty master over the console socket");
  close(master);
  close(console_fd);
  if (setsid() < 0) die_errno("setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) die_errno("set controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) die_errno("dup2 pty");
  if (slave > 2) close(slave);
  return 0;
}

static int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP};

static int signal_fd(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int fd = signalfd(-1, &set, SFD_CLOEXEC);
  if (fd < 0) die_errno("signalfd");
  return fd;
}

/* Returns -1 while the child runs, else its exit code. */
static int handle_signal(int sfd, pid_t child, int master) {
  struct signalfd_siginfo si;
  if (read(sfd, &si, sizeof si) != sizeof si) return -1;
  if (si.ssi_signo == SIGCHLD) {
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0)
      if (p == child) return exit_code(status);
    return -1;
  }
  if (si.ssi_signo == SIGWINCH && master >= 0) {
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    return -1;
  }
  kill(child, (int)si.ssi_signo);
  return -1;
}

int wait_and_forward(pid_t child) {
  int sfd = signal_fd();
  int status;
  if (waitpid(child, &status, WNOHANG) == child) return exit_code(status);
  for (;;) {
    int r = handle_signal(sfd, child, -1);
    if (r >= 0) return r;
  }
}

static void copy(int from, int to, int *open_flag) {
  char buf[8192];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) {
    *open_flag = 0;
    return;
  }
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += w;
  }
}

/* Window sizes from the caller (berthd has no terminal of its own to take SIGWINCH from): the
 * monitor's records, two native-endian u16, rows then columns; the last whole one wins. */
static void read_winsize(int *fd, int master) {
  unsigned short rec[32];
  ssize_t n = read(*fd, rec, sizeof rec);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 4) {
    close(*fd);
    *fd = -1;
    return;
  }
  size_t last = (size_t)n / 4 - 1;
  struct winsize ws = {.ws_row = rec[last * 2], .ws_col = rec[last * 2 + 1]};
  ioctl(master, TIOCSWINSZ, &ws);
}

int relay_terminal(int master, pid_t child, int resize_fd) {
  int sfd = signal_fd();
  struct termios saved;
  int raw = isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
  }
  int in_open = 1, out_open = 1, code = -1;
  /* A child that exited before SIGCHLD was blocked above sent no signal the fd will see. */
  int early;
  if (waitpid(child, &early, WNOHANG) == child) code = exit_code(early);
  while (code < 0 || out_open) {
    struct pollfd p[4] = {{.fd = sfd, .events = POLLIN}, {.fd = out_open ? master : -1, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN},
                          {.fd = resize_fd, .events = POLLIN}};
    int n = poll(p, 4, code >= 0 ? 100 : -1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break; /* exited, and the pty has gone quiet */
    if (p[0].revents & POLLIN) {
      int r = handle_signal(sfd, child, master);
      if (r >= 0) code = r;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) copy(master, 1, &out_open);
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) copy(0, master, &in_open);
    if (p[3].revents) read_winsize(&resize_fd, master);
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  if (code < 0) {
    int status;
    waitpid(child, &status, 0);
    code = exit_code(status);
  }
  return code;
}

/* The terminal master a runtime sends to the listening console socket `l`, waiting up to
 * `timeout_ms` for it to connect; -1 when none came. */
static int take_terminal(int l, int timeout_ms) {
  struct pollfd p = {.fd = l, .events = POLLIN};
  int r = poll(&p, 1, timeout_ms);
  if (r < 0 && errno != EINTR) die_errno("poll");
  if (r <= 0) return -1;
  int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return -1;
  int master = recv_fd(c, 10000);
  close(c);
  return master;
}

/* `berth-nsexec tty-relay SOCKET PIDFILE -- RUNTIME-EXEC...`: another OCI runtime's `exec
 * --detach --tty --console-socket SOCKET --pid-file PIDFILE` as a foreground exec. runc passes a
 * terminal's master only to a console socket, which it takes only when it detaches, and Node
 * cannot take a master over SCM_RIGHTS: so this listens on SOCKET, runs the command as a
 * subreaper (the process it leaves falls to us), takes the master and relays it to our stdio
 * (window sizes from _BERTH_RESIZE_FD, as berth's own exec) until the process exits, with its
 * exit code. A command that fails ends this with its code. */
int tty_relay_main(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[4], "--")) die("usage: tty-relay SOCKET PIDFILE -- COMMAND...");
  const char *path = argv[2], *pid_file = argv[3];
  char **cmd = argv + 5;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die("socket path too long: %s", path);
  strcpy(addr.sun_path, path);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) die_errno("become a subreaper");
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(l, 1) < 0) die_errno("listen on %s", path);
  pid_t child = fork();
  if (child < 0) die_errno("fork");
  if (child == 0) {
    execv(cmd[0], cmd);
    die_errno("exec %s", cmd[0]);
  }
  int master = -1, status, exited = 0;
  while (master < 0 && !exited) {
    master = take_terminal(l, 50);
    exited = waitpid(child, &status, WNOHANG) == child;
  }
  /* The command may have sent the terminal and exited between our last poll and its reaping:
   * its connection waits in the backlog. */
  if (master < 0) master = take_terminal(l, 0);
  close(l);
  unlink(path);
  if (!exited && waitpid(child, &status, 0) != child) die_errno("wait for %s", cmd[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return exit_code(status);
  if (master < 0) die("%s sent no terminal", cmd[0]);
  char buf[32] = {0};
  int fd = open(pid_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) die_errno("read %s", pid_file);
  close(fd);
  const char *rz = getenv("_BERTH_RESIZE_FD");
  return relay_terminal(master, (pid_t)atoi(buf), rz ? atoi(rz) : -1);
}
