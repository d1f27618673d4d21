/* The last steps before execve: hooks inside the container, rlimits, personality, user,
 * capabilities, no_new_privs, seccomp, working directory, the executable's lookup. */
#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static char **collect(struct plan *plan, uint16_t type) {
  size_t n = 0;
  for (struct record *r = plan->head; r; r = r->next) n += r->type == type;
  char **v = calloc(n + 1, sizeof *v);
  if (!v) die("out of memory");
  n = 0;
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == type) v[n++] = r->fields[0];
  return v;
}

static struct record *find(struct plan *plan, uint16_t type) {
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == type) return r;
  return NULL;
}

static int wait_timeout(pid_t pid, int timeout_s, int *status) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd >= 0 && timeout_s > 0) {
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r;
    do r = poll(&p, 1, timeout_s * 1000);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, status, 0);
      close(pidfd);
      return -1;
    }
  }
  if (pidfd >= 0) close(pidfd);
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR) die_errno("wait for hook");
  return 0;
}

void run_hooks(struct plan *plan, int kind, const char *state_json) {
  static const char *names[] = {"", "createContainer", "startContainer"};
  int index = 0;
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type != OP_HOOK || (int)parse_ull(r->fields[0], 10) != kind) continue;
    const char *path = r->fields[1];
    int timeout = (int)parse_ull(r->fields[2], 10);
    char **argv = calloc((size_t)r->nfields + 1, sizeof *argv), **envp = calloc((size_t)r->nfields + 1, sizeof *envp);
    if (!argv || !envp) die("out of memory");
    int na = 0, ne = 0;
    for (int i = 3; i < r->nfields; i++) {
      if (!strncmp(r->fields[i], "a:", 2)) argv[na++] = r->fields[i] + 2;
      else if (!strncmp(r->fields[i], "e:", 2)) envp[ne++] = r->fields[i] + 2;
    }
    if (na == 0) argv[na++] = (char *)path;
    argv[na] = NULL;
    envp[ne] = NULL;
    int in[2];
    if (pipe2(in, O_CLOEXEC) < 0) die_errno("pipe for hook");
    pid_t pid = fork();
    if (pid < 0) die_errno("fork hook");
    if (pid == 0) {
      reset_signals();
      dup2(in[0], 0);
      execve(path, argv, envp);
      fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
      _exit(127);
    }
    close(in[0]);
    signal(SIGPIPE, SIG_IGN);
    ssize_t ignored = write(in[1], state_json, strlen(state_json));
    (void)ignored;
    close(in[1]);
    free(argv);
    free(envp);
    int status;
    if (wait_timeout(pid, timeout, &status) < 0)
      die("%s hook #%d (%s) timed out after %ds", names[kind], index, path, timeout);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      die("%s hook #%d (%s) failed: %s %d", names[kind], index, path,
          WIFEXITED(status) ? "exit status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    index++;
  }
}

static int executable(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  if (S_ISDIR(st.st_mode)) {
    errno = EACCES;
    return -1;
  }
  return access(path, X_OK);
}

/* The program to exec, found as Go's exec.LookPath finds it (runc's messages). */
char *lookup_exec(struct plan *plan) {
  struct record *arg = find(plan, OP_ARG);
  if (!arg) die("no process args given");
  const char *name = arg->fields[0];
  if (strchr(name, '/')) {
    struct stat st;
    if (stat(name, &st) < 0) die_errno("exec: \"%s\": stat %s", name, name);
    if (executable(name) < 0) die("exec: \"%s\": permission denied", name);
    return strdup(name);
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (struct record *r = plan->head; r; r = r->next)
    if (r->type == OP_ENV && !strncmp(r->fields[0], "PATH=", 5)) path = r->fields[0] + 5;
  char *copy = strdup(path), *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char full[4096];
    int n = snprintf(full, sizeof full, "%s/%s", *dir ? dir : ".", name);
    if (n >= (int)sizeof full) continue; /* too long to be a path: as stat's ENAMETOOLONG to Go */
    if (executable(full) == 0) {
      free(copy);
      return strdup(full);
    }
  }
  free(copy);
  die("exec: \"%s\": executable file not found in $PATH", name);
}

static void load_seccomp(struct record *r) {
  unsigned long flags = parse_ull(r->fields[0], 10);
  unsigned char *bytes;
  size_t n = hex_decode(r->fields[1], &bytes);
  struct sock_fprog prog = {.len = (unsigned short)(n / sizeof(struct sock_filter)), .filter = (struct sock_filter *)bytes};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0) die_errno("load seccomp filter");
}

static int last_cap(void) {
  char buf[16] = {0};
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CAP_LAST_CAP;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 ? atoi(buf) : CAP_LAST_CAP;
}

static void set_caps(struct record *r, int after_user) {
  uint64_t bounding = parse_ull(r->fields[0], 16), effective = parse_ull(r->fields[1], 16);
  uint64_t permitted = parse_ull(r->fields[2], 16), inheritable = parse_ull(r->fields[3], 16);
  uint64_t ambient = parse_ull(r->fields[4], 16);
  int last = last_cap();
  if (!after_user) {
    for (int c = 0; c <= last; c++)
      if (!(bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        die_errno("drop capability %d from the bounding set", c);
    return;
  }
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)effective, .permitted = (uint32_t)permitted, .inheritable = (uint32_t)inheritable},
      {.effective = (uint32_t)(effective >> 32), .permitted = (uint32_t)(permitted >> 32), .inheritable = (uint32_t)(inheritable >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) die_errno("set capabilities");
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int c = 0; c <= last; c++)
    if ((ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      die_errno("raise ambient capability %d", c);
}

static void set_user(struct record *r) {
  uid_t uid = (uid_t)parse_ull(r->fields[0], 10);
  gid_t gid = (gid_t)parse_ull(r->fields[1], 10);
  gid_t groups[256];
  int n = 0;
  if (r->nfields > 2 && *r->fields[2]) {
    char *copy = strdup(r->fields[2]), *save = NULL;
    for (char *g = strtok_r(copy, ",", &save); g && n < 256; g = strtok_r(NULL, ",", &save))
      groups[n++] = (gid_t)parse_ull(g, 10);
    free(copy);
  }
  /* EPERM from setgroups in a user namespace with setgroups denied is not ours to fix. */
  if (setgroups((size_t)n, groups) < 0 && !(errno == EPERM && n == 0)) die_errno("setgroups");
  if (setresgid(gid, gid, gid) < 0) die_errno("setgid %u", gid);
  if (setresuid(uid, uid, uid) < 0) die_errno("setuid %u", uid);
}

/* Settings that need the container's /proc but not the final credentials. */
void apply_early_process(struct plan *plan) {
  for (struct record *r = plan->head; r; r = r->next) {
    if (r->type == OP_OOM_SCORE_ADJ && write_file("/proc/self/oom_score_adj", r->fields[0], strlen(r->fields[0])) < 0)
      die_errno("set oom_score_adj to %s", r->fields[0]);
    if (r->type == OP_PERSONALITY && personality((unsigned long)parse_ull(r->fields[0], 10)) < 0)
      die_errno("set personality");
    /* Here, not after the exec fifo: a limit the kernel refuses fails `create`, as in runc. */
    if (r->type == OP_RLIMIT) {
      struct rlimit rl = {.rlim_cur = parse_ull(r->fields[1], 10), .rlim_max = parse_ull(r->fields[2], 10)};
      if (setrlimit((int)parse_ull(r->fields[0], 10), &rl) < 0)
        die_errno("setrlimit %s (soft %s, hard %s)", r->fields[0], r->fields[1], r->fields[2]);
    }
  }
}

void finish_process(struct plan *plan, int preserve_fds) {
  struct record *caps = find(plan, OP_CAPS), *user = find(plan, OP_USER), *seccomp = find(plan, OP_SECCOMP);
  struct record *cwd = find(plan, OP_CWD), *umask_r = find(plan, OP_UMASK);
  int nnp = find(plan, OP_NO_NEW_PRIVS) != NULL;
  char *path = lookup_exec(plan);
  char **argv = collect(plan, OP_ARG), **envp = collect(plan, OP_ENV);

  if (umask_r) umask((mode_t)parse_ull(umask_r->fields[0], 8));
  /* Before the filter: a profile need only allow what the program itself calls. */
  if (syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) die_errno("close_range");
  reset_signals();
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we have it. */
  if (seccomp && !nnp) load_seccomp(seccomp);
  if (caps) {
    set_caps(caps, 0);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die_errno("keep capabilities");
  }
  if (user) set_user(user);
  if (caps) {
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    set_caps(caps, 1);
  }
  if (cwd && chdir(cwd->fields[0]) < 0) die_errno("chdir to cwd (\"%s\") set in config.json failed", cwd->fields[0]);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("set no_new_privs");
  if (seccomp && nnp) load_seccomp(seccomp);
  execve(path, argv, envp);
  die_errno("exec %s", path);
}
