/* berth-nsexec entry: read the plan, join namespaces, clone the container process into new
 * ones, write its id maps, tell the TypeScript side its pid, then either leave (create,
 * detached exec) or stay its parent until it exits (run, exec). */
#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct options {
  const char *mode;
  int foreground;
  unsigned long clone_flags;
  int terminal;
  const char *console_path;
  const char *fifo_path;
  int preserve_fds;
};

static void parse_options(struct plan *plan, struct options *o) {
  memset(o, 0, sizeof *o);
  o->mode = "create";
  for (struct record *r = plan->head; r; r = r->next) {
    switch (r->type) {
    case OP_MODE:
      o->mode = r->fields[0];
      o->foreground = r->nfields > 1 && !strcmp(r->fields[1], "1");
      break;
    case OP_NS_CLONE: o->clone_flags = parse_ull(r->fields[0], 10); break;
    case OP_TERMINAL: o->terminal = 1; break;
    case OP_CONSOLE_SOCKET: o->console_path = r->fields[0]; break;
    case OP_EXEC_FIFO: o->fifo_path = r->fields[0]; break;
    case OP_PRESERVE_FDS: o->preserve_fds = (int)parse_ull(r->fields[0], 10); break;
    }
  }
}

static void join_namespaces(struct plan *plan) {
  /* Open them all before joining any: once in the container's mount namespace, /proc is its
   * own and the other /proc/PID/ns paths no longer resolve (runc's nsexec does the same). */
  struct record *recs[16];
  int fds[16], flags[16], n = 0;
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type != OP_NS_JOIN) continue;
    if (n == 16) die("too many namespaces to join");
    flags[n] = (int)parse_ull(r->fields[0], 10);
    if ((fds[n] = open(r->fields[1], O_RDONLY | O_CLOEXEC)) < 0) die_errno("open namespace %s", r->fields[1]);
    recs[n++] = r;
  }
  /* The user namespace first: the others may belong to it. */
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < n; i++) {
      if ((pass == 0) != (flags[i] == CLONE_NEWUSER)) continue;
      if (setns(fds[i], flags[i]) < 0) die_errno("join namespace %s", recs[i]->fields[1]);
      close(fds[i]);
    }
  }
}

static void set_time_offsets(struct plan *plan, unsigned long *flags) {
  if (!(*flags & CLONE_NEWTIME)) return;
  /* A new time namespace applies to children; its offsets must be written before any. */
  if (unshare(CLONE_NEWTIME) < 0) die_errno("unshare time namespace");
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type != OP_TIME_OFFSET) continue;
    char line[128];
    int n = snprintf(line, sizeof line, "%s %s %s\n", r->fields[0], r->fields[1], r->fields[2]);
    if (n < 0 || n >= (int)sizeof line) die("time offset for %s too long", r->fields[0]);
    if (write_file("/proc/self/timens_offsets", line, (size_t)n) < 0) die_errno("write time offsets");
  }
  *flags &= ~(unsigned long)CLONE_NEWTIME;
}

static int connect_console(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die("console socket path too long: %s", path);
  strcpy(addr.sun_path, path);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die_errno("connect to console socket %s", path);
  return fd;
}

static void write_maps(struct plan *plan, pid_t pid) {
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type != OP_UID_MAP && r->type != OP_GID_MAP) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, r->type == OP_UID_MAP ? "uid_map" : "gid_map");
    if (write_file(path, r->fields[0], strlen(r->fields[0])) < 0) die_errno("write %s", path);
  }
}

/* The container's mount namespace: a new one, one joined by path, or none (it shares ours, and
 * its mounts are made in it, as runc makes them). */
static int mount_ns_mode(struct plan *plan, unsigned long clone_flags) {
  if (clone_flags & CLONE_NEWNS) return MNTNS_OWN;
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == OP_NS_JOIN && parse_ull(r->fields[0], 10) == CLONE_NEWNS) return MNTNS_OWN;
  return MNTNS_SHARED;
}

/* Whether this process runs in a user namespace other than the host's (a rootless berthd's). */
static int in_user_namespace(void) {
  char buf[128];
  int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0; /* no user namespaces in this kernel */
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long in, out, len;
  return !(sscanf(buf, "%lu %lu %lu", &in, &out, &len) == 3 && in == 0 && out == 0 && len == 4294967295UL);
}

static void child_main(struct plan *plan, struct options *o, int sync_fd, int console_fd, int maps_fd, int fifo) {
  int is_exec = !strcmp(o->mode, "exec");
  int userns = (o->clone_flags & CLONE_NEWUSER) != 0;
  /* In any user namespace but the host's, devices are bound rather than made and the flags the
   * kernel locked on bind mounts are kept: the container's own or the one berthd runs in. */
  int unprivileged = userns || in_user_namespace();
  int mntns = mount_ns_mode(plan, o->clone_flags);
  if (userns) {
    char c;
    if (read(maps_fd, &c, 1) != 1) _exit(1); /* the parent died before writing the id maps */
    close(maps_fd);
    if (setresgid(0, 0, 0) < 0) die_errno("setgid 0 in the user namespace");
    if (setresuid(0, 0, 0) < 0) die_errno("setuid 0 in the user namespace");
  }
  /* The mounts go on while the runtime joins us to our cgroups and runs its hooks. */
  set_drain_fd(sync_fd);
  if (!is_exec) mount_rootfs(plan, unprivileged, 0, mntns);

  struct record *cont = recv_msg(sync_fd);
  set_drain_fd(-1);
  if (!cont || cont->type != MSG_CONTINUE) _exit(1);
  const char *state = cont->nfields > 0 ? cont->fields[0] : "{}";
  if (o->clone_flags & CLONE_NEWCGROUP && unshare(CLONE_NEWCGROUP) < 0) die_errno("unshare cgroup namespace");
  if (!is_exec) finish_rootfs(plan, unprivileged, state, mntns);
  apply_early_process(plan);
  if (o->terminal) setup_terminal(plan, console_fd);
  free(lookup_exec(plan)); /* fail at create, not at start, when there is nothing to run */

  if (send_msg(sync_fd, MSG_READY, NULL, 0) < 0) die_errno("report ready");
  if (fifo >= 0) {
    /* Block until `start` opens the fifo for reading. */
    close(sync_fd);
    set_error_fd(-1);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fifo);
    int w = open(p, O_WRONLY | O_CLOEXEC);
    if (w < 0) die_errno("open exec fifo");
    /* startContainer hooks before the byte `start` waits for: its poststart hooks come after
     * them, and a failing one makes `start` fail (the fifo closes with nothing written). */
    run_hooks(plan, 2, state);
    if (write(w, "0", 1) != 1) die_errno("write exec fifo");
    close(w);
    close(fifo);
  } else {
    run_hooks(plan, 2, state);
  }
  finish_process(plan, o->preserve_fds);
}

/* CVE-2019-5736: a process in the container could open /proc/PID/exe of this helper while it
 * sits in the container's namespaces, and write to the host binary once it has exec'd. So the
 * helper runs from a sealed in-memory copy of itself: writes to it fail, and the file on the
 * host is never the one mapped. A monitor that berthd started from its one sealed copy (the
 * binding's sealedCopy) is running from such a copy already: its nsexec step goes on in it,
 * under the name an exec of the copy gives. */
static void run_from_sealed_copy(char **argv) {
  if (getenv("_BERTH_SEALED")) {
    unsetenv("_BERTH_SEALED");
    return;
  }
  int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0) die_errno("open /proc/self/exe");
  int seals = fcntl(exe, F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL)) {
    close(exe);
    if (prctl(PR_SET_NAME, "memfd:berth-nsexec", 0, 0, 0) < 0) die_errno("set the process name");
    return;
  }
  int mem = memfd_create("berth-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mem < 0) die_errno("copy berth-nsexec to memory");
  struct stat st;
  if (fstat(exe, &st) < 0) die_errno("stat /proc/self/exe");
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mem, exe, NULL, (size_t)(st.st_size - off));
    if (n <= 0) die_errno("copy berth-nsexec to memory");
    off += n;
  }
  if (fcntl(mem, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) die_errno("seal berth-nsexec copy");
  close(exe);
  setenv("_BERTH_SEALED", "1", 1);
  fexecve(mem, argv, environ);
  die_errno("exec sealed berth-nsexec");
}

static int nsexec_main(char **argv) {
  const char *env = getenv("_BERTH_SYNC_FD");
  int sync_fd = env ? atoi(env) : 3;
  if (fcntl(sync_fd, F_GETFD) < 0) {
    fprintf(stderr, "berth-nsexec: run by berth-runtime, not by hand\n");
    return 2;
  }
  set_error_fd(sync_fd);
  run_from_sealed_copy(argv);
  if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) die_errno("set close-on-exec on the sync socket");
  /* Under a monitor: where to tell it the container's pid (see monitor.c). */
  int pid_fd = -1;
  if ((env = getenv("_BERTH_PID_FD"))) {
    pid_fd = atoi(env);
    unsetenv("_BERTH_PID_FD");
    if (fcntl(pid_fd, F_SETFD, FD_CLOEXEC) < 0) die_errno("pid fd");
  }
  /* A foreground terminal's window sizes, from a caller without a terminal (terminal.c). */
  int resize_fd = -1;
  if ((env = getenv("_BERTH_RESIZE_FD"))) {
    resize_fd = atoi(env);
    unsetenv("_BERTH_RESIZE_FD");
    if (fcntl(resize_fd, F_SETFD, FD_CLOEXEC) < 0) die_errno("resize fd");
  }
  /* Nothing in the container may ptrace or open /proc/PID/ of this process before it execs
   * (execve makes the user's program dumpable again). */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die_errno("set non-dumpable");

  struct plan plan = {0};
  read_plan(sync_fd, &plan);
  struct options o;
  parse_options(&plan, &o);

  /* Node.js has no mkfifo; `start` opens this fifo to let the container exec. Opened here, as
   * its path may not resolve in a mount namespace joined below. */
  int fifo = -1;
  if (o.fifo_path) {
    if (mkfifo(o.fifo_path, 0622) < 0) die_errno("mkfifo %s", o.fifo_path);
    if ((fifo = open(o.fifo_path, O_PATH | O_CLOEXEC)) < 0) die_errno("open exec fifo %s", o.fifo_path);
  }
  /* The console socket is a host path: connect before joining a mount namespace. */
  int console_fd = -1, relay[2] = {-1, -1};
  if (o.terminal) {
    if (o.console_path) console_fd = connect_console(o.console_path);
    else if (o.foreground) {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, relay) < 0) die_errno("socketpair");
      console_fd = relay[1];
    } else die("a terminal needs --console-socket when detached");
  }
  join_namespaces(&plan);
  unsigned long flags = o.clone_flags & ~(unsigned long)CLONE_NEWCGROUP;
  set_time_offsets(&plan, &flags);

  /* Signals that arrive before the child can take them are kept for it. */
  int maps[2] = {-1, -1};
  if ((flags & CLONE_NEWUSER) && pipe2(maps, O_CLOEXEC) < 0) die_errno("pipe");
  struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) die_errno("clone");
  if (pid == 0) {
    if (relay[0] >= 0) close(relay[0]);
    if (maps[1] >= 0) close(maps[1]);
    child_main(&plan, &o, sync_fd, console_fd, maps[0], fifo);
    _exit(1);
  }
  if (console_fd >= 0) close(console_fd);
  if (fifo >= 0) close(fifo);
  if (flags & CLONE_NEWUSER) {
    close(maps[0]);
    write_maps(&plan, pid);
    if (write(maps[1], "1", 1) != 1) die_errno("signal id maps written");
    close(maps[1]);
  }
  char pidbuf[32];
  snprintf(pidbuf, sizeof pidbuf, "%d", pid);
  if (pid_fd >= 0 && (write(pid_fd, pidbuf, strlen(pidbuf)) < 0 || close(pid_fd) < 0)) die_errno("tell the monitor the pid");
  const char *f[1] = {pidbuf};
  if (send_msg(sync_fd, MSG_PID, f, 1) < 0) die_errno("report pid");
  close(sync_fd);
  if (!o.foreground) return 0;
  if (relay[0] >= 0) {
    /* No time limit, but bounded: the child holds the only other end (close-on-exec), so this
     * ends when it sends the master, fails or execs; its setup waits on the caller's hooks. */
    int master = recv_fd(relay[0], -1);
    close(relay[0]);
    if (master >= 0) return relay_terminal(master, pid, resize_fd);
  }
  return wait_and_forward(pid);
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "bpf-devices")) return bpf_devices_main(argv[2]);
  if (argc >= 2 && !strcmp(argv[1], "monitor")) return monitor_main(argc, argv, nsexec_main);
  if (argc >= 2 && !strcmp(argv[1], "tty-relay")) return tty_relay_main(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "netns-dial")) return netns_dial_main(argc, argv);
  return nsexec_main(argv);
}
