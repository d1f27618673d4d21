/* berth-runtime's native front (DESIGN.md, "Native code"): the executable users and engines
 * call. A Node.js start costs more than all of runc's light verbs, so the front answers
 * `state`, `start`, `kill`, `delete`, `pause`, `resume` and `ps` itself, from state.json as
 * docs/runtime-state.md describes it, with the TypeScript CLI's output, messages and exit
 * codes. Every other command, any flag or shape it does not know, and any case it does not
 * fully handle (hooks to run, mounts to undo, a record it cannot read, an error before it
 * changed anything) go to Node.js on the bundled runtime with the same argv, so what a user
 * sees never depends on which of the two answered. It takes no lock: neither does the
 * TypeScript, and state.json is replaced by rename, so a reader sees a whole record. */
#include "front.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OCI_VERSION "1.2.0" /* src/oci/runtime-spec.ts's OCI_VERSION; test/runtime-front compares the output */
#define DEFAULT_ROOT "/run/berth/runtime"
#ifndef BERTH_NODE
#define BERTH_NODE "node"
#endif

extern char **environ;

static char **g_argv;
static const char *g_log;
static int g_log_json;

/* ------------------------------------------------------------------ small helpers */

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) abort();
  va_end(ap);
  return s;
}

void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

void errs_add(struct errs *e, char *msg) {
  if (!(e->msg = realloc(e->msg, (e->n + 1) * sizeof *e->msg))) abort();
  e->msg[e->n++] = msg;
}

char *errs_join(const struct errs *e, const char *context) {
  if (!e->n) return NULL;
  if (e->n == 1) return e->msg[0];
  size_t len = strlen(context) + 3;
  for (size_t i = 0; i < e->n; i++) len += strlen(e->msg[i]) + 2;
  char *s = malloc(len);
  if (!s) abort();
  strcpy(s, context);
  strcat(s, ": ");
  for (size_t i = 0; i < e->n; i++) {
    if (i) strcat(s, "; ");
    strcat(s, e->msg[i]);
  }
  return s;
}

/* libuv's names and words, which Node's fs and process errors carry. */
static const struct {
  int no;
  const char *name, *text;
} ERRNOS[] = {
  {EPERM, "EPERM", "operation not permitted"},       {ENOENT, "ENOENT", "no such file or directory"},
  {ESRCH, "ESRCH", "no such process"},               {EINTR, "EINTR", "interrupted system call"},
  {EIO, "EIO", "i/o error"},                         {ENXIO, "ENXIO", "no such device or address"},
  {EBADF, "EBADF", "bad file descriptor"},           {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
  {ENOMEM, "ENOMEM", "not enough memory"},           {EACCES, "EACCES", "permission denied"},
  {EFAULT, "EFAULT", "bad address in system call argument"},
  {EBUSY, "EBUSY", "resource busy or locked"},       {EEXIST, "EEXIST", "file already exists"},
  {ENODEV, "ENODEV", "no such device"},              {ENOTDIR, "ENOTDIR", "not a directory"},
  {EISDIR, "EISDIR", "illegal operation on a directory"},
  {EINVAL, "EINVAL", "invalid argument"},            {EMFILE, "EMFILE", "too many open files"},
  {ENOSPC, "ENOSPC", "no space left on device"},     {EROFS, "EROFS", "read-only file system"},
  {ENAMETOOLONG, "ENAMETOOLONG", "name too long"},   {ENOTEMPTY, "ENOTEMPTY", "directory not empty"},
  {ELOOP, "ELOOP", "too many symbolic links encountered"},
  {EOPNOTSUPP, "ENOTSUP", "operation not supported on socket"},
  {ERANGE, "ERANGE", "result too large"},            {EOVERFLOW, "EOVERFLOW", "value too large for defined data type"},
};

const char *errno_name(int err) {
  for (size_t i = 0; i < sizeof ERRNOS / sizeof *ERRNOS; i++)
    if (ERRNOS[i].no == err) return ERRNOS[i].name;
  return xasprintf("Unknown system error -%d", err);
}

char *node_errmsg(int err, const char *syscall, const char *path) {
  const char *text = NULL;
  for (size_t i = 0; i < sizeof ERRNOS / sizeof *ERRNOS; i++)
    if (ERRNOS[i].no == err) text = ERRNOS[i].text;
  if (!text) text = xasprintf("Unknown system error -%d", err);
  return path ? xasprintf("%s: %s, %s '%s'", errno_name(err), text, syscall, path) : xasprintf("%s: %s, %s", errno_name(err), text, syscall);
}

/* ------------------------------------------------------------------ hand-over and errors */

/* Node.js: $BERTH_NODE, else the node that built the front, else the first on PATH. */
static const char *find_node(void) {
  const char *env = getenv("BERTH_NODE");
  if (env && *env) return env;
  if (BERTH_NODE[0] == '/' && access(BERTH_NODE, X_OK) == 0) return BERTH_NODE;
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; *p;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char *cand = xasprintf("%.*s/node", (int)len, p);
    if (len && access(cand, X_OK) == 0) return cand;
    p += len + (end ? 1 : 0);
  }
  return NULL;
}

_Noreturn void hand_to_node(const char *why) {
  if (getenv("BERTH_FRONT_TRACE")) fprintf(stderr, "berth-runtime front: to node: %s\n", why);
  /* Nothing printed so far goes out: stdout is written only once a verb has its whole answer. */
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    fprintf(stderr, "berth-runtime: readlink /proc/self/exe: %s\n", strerror(errno));
    exit(1);
  }
  exe[n] = 0;
  /* <package>/native/build/berth-runtime → <package>/bin/berth-runtime.js */
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
  }
  char *script = xasprintf("%s/bin/berth-runtime.js", exe);
  const char *node = find_node();
  if (!node) {
    fprintf(stderr, "berth-runtime: node (Node.js 20 or newer) is not on PATH; set BERTH_NODE to its path\n");
    exit(1);
  }
  int argc = 0;
  while (g_argv[argc]) argc++;
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) abort();
  args[0] = (char *)node;
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = g_argv[i];
  /* No TLS is made by the runtime: the CA bundle would add ~50 ms to Node's start. */
  unsetenv("NODE_EXTRA_CA_CERTS");
  execve(node, args, environ);
  fprintf(stderr, "berth-runtime: exec %s: %s\n", node, strerror(errno));
  exit(1);
}

void error_line(const char *fmt, ...) {
  va_list ap;
  char *msg;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0) abort();
  va_end(ap);
  if (g_log) {
    /* logLine in cli.ts: runc's text or json line, the time as toISOString() gives it. */
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (long)(tv.tv_usec / 1000));
    FILE *f = fopen(g_log, "a");
    if (!f) {
      fprintf(stderr, "write %s: %s\n", g_log, node_errmsg(errno, "open", g_log));
    } else {
      if (g_log_json) {
        fputs("{\"level\":\"error\",\"msg\":", f);
        json_string(f, msg);
        fprintf(f, ",\"time\":\"%s\"}\n", when);
      } else {
        fprintf(f, "time=\"%s\" level=error msg=", when);
        json_string(f, msg);
        fputc('\n', f);
      }
      fclose(f);
    }
  }
  fprintf(stderr, "%s\n", msg);
}

/* ------------------------------------------------------------------ the container record */

struct container {
  const char *root, *id;
  char *dir;
  struct jv *rec;
  long pid;
  const char *start_time;
  const struct jv *id_tok, *bundle, *annotations; /* annotations: NULL when JS finds them falsy */
  const struct jv *config;
  struct cgroups cg;
  const char *status;
};

static int truthy(const struct jv *v) {
  if (!v) return 0;
  switch (v->type) {
  case J_NULL:
  case J_FALSE:
    return 0;
  case J_STR:
    return v->rawlen > 0;
  case J_NUM: {
    for (size_t i = 0; i < v->rawlen; i++)
      if (v->raw[i] >= '1' && v->raw[i] <= '9') return 1;
    return 0;
  }
  default:
    return 1;
  }
}

/* Set and not an empty array: work for the TypeScript (hooks, mounts to undo). */
static int has_work(const struct jv *v) {
  return v && v->type != J_NULL && !(v->type == J_ARR && v->n == 0);
}

/* checkId in state.ts: [\w+\-.]+, not "." or "..". */
static int valid_id(const char *id) {
  if (!*id || !strcmp(id, ".") || !strcmp(id, "..")) return 0;
  for (const char *p = id; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.')) return 0;
  }
  return 1;
}

/* Field 22 of /proc/PID/stat, or NULL for a process that is gone or a zombie (pidStartTime). */
static char *pid_start_time(long pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return NULL;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return NULL;
  p += 2;
  if (*p == 'Z' || *p == 'X') return NULL;
  for (int field = 0; field < 19; field++) {
    p = strchr(p, ' ');
    if (!p) return NULL;
    p++;
  }
  char *end = strchr(p, ' ');
  return end ? strndup(p, (size_t)(end - p)) : strdup(p);
}

static int alive(const struct container *c) {
  if (c->pid <= 0) return 0;
  char *st = pid_start_time(c->pid);
  return st && !strcmp(st, c->start_time);
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* openContainer: the record, its cgroups and its status. Not found is berth's error (exit 1);
 * whatever the front cannot read as the TypeScript would goes to Node. */
static void open_container(struct container *c, const char *root, const char *id) {
  memset(c, 0, sizeof *c);
  c->root = root;
  c->id = id;
  c->dir = xasprintf("%s/%s", root, id);
  char *path = xasprintf("%s/state.json", c->dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      error_line("container does not exist: %s", id);
      exit(1);
    }
    hand_to_node("state.json cannot be opened");
  }
  size_t cap = 65536, len = 0;
  char *text = malloc(cap);
  if (!text) abort();
  for (;;) {
    if (len == cap && !(text = realloc(text, cap *= 2))) abort();
    ssize_t r = read(fd, text + len, cap - len);
    if (r < 0) hand_to_node("state.json cannot be read");
    if (r == 0) break;
    len += (size_t)r;
  }
  close(fd);
  struct jv *rec = json_parse(text, len);
  if (!rec || rec->type != J_OBJ) hand_to_node("state.json is not a JSON object");
  c->rec = rec;
  const struct jv *pid = json_get(rec, "pid"), *st = json_get(rec, "pidStartTime"), *cgroup = json_get(rec, "cgroup");
  c->id_tok = json_get(rec, "id");
  c->bundle = json_get(rec, "bundle");
  c->config = json_get(rec, "config");
  if (!pid || pid->type != J_NUM || !st || st->type != J_STR || !st->s || !c->id_tok || c->id_tok->type != J_STR || !c->id_tok->s ||
      !c->bundle || c->bundle->type != J_STR || !c->config || c->config->type != J_OBJ || !cgroup || cgroup->type != J_OBJ)
    hand_to_node("state.json lacks a field the front reads");
  char *end;
  errno = 0;
  c->pid = strtol(pid->raw, &end, 10);
  if (errno || end != pid->raw + pid->rawlen) hand_to_node("the pid is not an integer");
  c->start_time = st->s;
  const struct jv *ann = json_get(c->config, "annotations");
  c->annotations = truthy(ann) ? ann : NULL;
  const struct jv *layout = json_get(cgroup, "layout");
  if (!layout || layout->type != J_STR || !layout->s || cgroups_open(&c->cg, layout->s, json_get(cgroup, "paths")))
    hand_to_node("the saved cgroups are not what reopenCgroups takes");
  char *fifo = xasprintf("%s/exec.fifo", c->dir);
  if (!alive(c)) c->status = "stopped";
  else if (cgroups_frozen(&c->cg)) c->status = "paused";
  else c->status = exists(fifo) ? "created" : "running";
}

static const struct jv *hooks(const struct container *c, const char *kind) {
  return json_get(json_get(c->config, "hooks"), kind);
}

/* ------------------------------------------------------------------ the verbs */

static int cmd_state(struct container *c) {
  printf("{\n  \"ociVersion\": \"" OCI_VERSION "\",\n  \"id\": ");
  json_pretty(stdout, c->id_tok, 1);
  printf(",\n  \"status\": \"%s\",\n", c->status);
  if (strcmp(c->status, "stopped") && c->pid) printf("  \"pid\": %ld,\n", c->pid);
  printf("  \"bundle\": ");
  json_pretty(stdout, c->bundle, 1);
  if (c->annotations) {
    printf(",\n  \"annotations\": ");
    json_pretty(stdout, c->annotations, 1);
  }
  printf("\n}\n");
  return 0;
}

static int cmd_start(struct container *c) {
  if (has_work(hooks(c, "poststart"))) hand_to_node("poststart hooks");
  if (!strcmp(c->status, "stopped")) {
    error_line("cannot start a container that has stopped");
    return 1;
  }
  if (!strcmp(c->status, "paused")) {
    error_line("cannot start a container in the paused state");
    return 1;
  }
  if (strcmp(c->status, "created")) {
    error_line("cannot start an already running container");
    return 1;
  }
  char *fifo = xasprintf("%s/exec.fifo", c->dir);
  /* Non-blocking, as start.ts: an init that died after create must not hang us. */
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) hand_to_node("the exec fifo cannot be opened");
  for (;;) {
    char b;
    ssize_t r = read(fd, &b, 1);
    if (r == 1) break;
    if (r < 0 && errno != EAGAIN && errno != EINTR) {
      error_line("%s", node_errmsg(errno, "read", NULL));
      return 1;
    }
    if (!alive(c)) {
      error_line("cannot start a container whose process has exited");
      return 1;
    }
    /* Another start read the byte and removed the fifo (no lock is taken): it started the container. */
    if (!exists(fifo)) {
      error_line("cannot start an already running container");
      return 1;
    }
    /* Woken by the init's byte, or a look at whether it still lives every 10 ms. */
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 10);
  }
  close(fd);
  if (unlink(fifo) < 0 && errno != ENOENT) {
    error_line("%s", node_errmsg(errno, "unlink", fifo));
    return 1;
  }
  return 0;
}

/* parseSignal in signals.ts: a number 1..64, or a name Node's os.constants.signals knows. */
static const struct {
  const char *name;
  int no;
} SIGNALS[] = {
  {"SIGHUP", 1},     {"SIGINT", 2},   {"SIGQUIT", 3},   {"SIGILL", 4},     {"SIGTRAP", 5},    {"SIGABRT", 6},   {"SIGIOT", 6},
  {"SIGBUS", 7},     {"SIGFPE", 8},   {"SIGKILL", 9},   {"SIGUSR1", 10},   {"SIGSEGV", 11},   {"SIGUSR2", 12},  {"SIGPIPE", 13},
  {"SIGALRM", 14},   {"SIGTERM", 15}, {"SIGCHLD", 17},  {"SIGSTKFLT", 16}, {"SIGCONT", 18},   {"SIGSTOP", 19},  {"SIGTSTP", 20},
  {"SIGTTIN", 21},   {"SIGTTOU", 22}, {"SIGURG", 23},   {"SIGXCPU", 24},   {"SIGXFSZ", 25},   {"SIGVTALRM", 26}, {"SIGPROF", 27},
  {"SIGWINCH", 28},  {"SIGIO", 29},   {"SIGPOLL", 29},  {"SIGPWR", 30},    {"SIGSYS", 31},
};

static int parse_signal(const char *s) {
  if (*s && strspn(s, "0123456789") == strlen(s)) {
    const char *p = s;
    while (*p == '0' && p[1]) p++;
    if (strlen(p) > 2 || atoi(p) < 1 || atoi(p) > 64) return -1;
    return atoi(p);
  }
  char up[32] = "SIG";
  size_t l = strlen(s);
  if (l > 20) return -1;
  for (size_t i = 0; i < l; i++) {
    if ((unsigned char)s[i] >= 0x80) hand_to_node("a signal name outside ASCII");
    up[3 + i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
  }
  up[3 + l] = 0;
  const char *name = strncmp(up + 3, "SIG", 3) ? up : up + 3;
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++)
    if (!strcmp(SIGNALS[i].name, name)) return SIGNALS[i].no;
  return -1;
}

static int cmd_kill(struct container *c, const char *signame, int all) {
  int sig = parse_signal(signame);
  if (sig < 0) {
    error_line("invalid signal: %s", signame);
    return 1;
  }
  int stopped = !strcmp(c->status, "stopped"), paused = !strcmp(c->status, "paused");
  if (stopped && !all) {
    error_line("container not running");
    return 1;
  }
  /* A frozen task does not die of SIGKILL until thawed (v1): thaw after the signal, as runc. */
  int thaw_killed = paused && sig == SIGKILL;
  char *err;
  if (!all) {
    if (kill((pid_t)c->pid, sig) < 0) {
      error_line("kill %s", errno_name(errno));
      return 1;
    }
    if (thaw_killed && (err = cgroups_thaw(&c->cg))) {
      error_line("%s", err);
      return 1;
    }
    return 0;
  }
  size_t n;
  pid_t *pids = cgroups_pids(&c->cg, &n, &err);
  if (!pids) hand_to_node("the cgroups cannot be read");
  if (stopped && n == 0) return 0;
  if (!cgroups_can_freeze(&c->cg)) hand_to_node("no freezer");
  /* A frozen cgroup keeps new forks from escaping the loop below. */
  if (!paused) {
    int changed = 0;
    if ((err = cgroups_freeze(&c->cg, &changed))) {
      if (!changed) hand_to_node("the freeze failed");
      error_line("%s", err);
      return 1;
    }
  }
  char *fail = NULL;
  if (!(pids = cgroups_pids(&c->cg, &n, &fail))) n = 0;
  for (size_t i = 0; i < n && !fail; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH) fail = xasprintf("kill %s", errno_name(errno));
  if (!paused || thaw_killed) {
    char *t = cgroups_thaw(&c->cg);
    if (t) fail = t;
  }
  if (fail) {
    error_line("%s", fail);
    return 1;
  }
  return 0;
}

static int cmd_pause(struct container *c) {
  if (strcmp(c->status, "running") && strcmp(c->status, "created")) {
    error_line("container not running");
    return 1;
  }
  if (!cgroups_can_freeze(&c->cg)) hand_to_node("no freezer");
  int changed = 0;
  char *err = cgroups_freeze(&c->cg, &changed);
  if (err && !changed) hand_to_node("the freeze failed");
  if (err) {
    error_line("%s", err);
    return 1;
  }
  return 0;
}

static int cmd_resume(struct container *c) {
  if (strcmp(c->status, "paused")) {
    error_line("container not paused");
    return 1;
  }
  char *err = cgroups_thaw(&c->cg);
  if (err) {
    error_line("%s", err);
    return 1;
  }
  return 0;
}

/* rm -rf, as rmSync(dir, { recursive: true, force: true }). */
static char *remove_all(int parent, const char *name, const char *path) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return NULL;
  if (errno != EISDIR && errno != EPERM) return node_errmsg(errno, "unlink", path);
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? NULL : node_errmsg(errno, "rmdir", path);
  DIR *d = fdopendir(fd);
  struct dirent *de;
  char *err = NULL;
  while (!err && d && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    err = remove_all(fd, de->d_name, xasprintf("%s/%s", path, de->d_name));
  }
  if (d) closedir(d);
  if (!err && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT) err = node_errmsg(errno, "rmdir", path);
  return err;
}

/* teardown and removeContainer in create.ts, for a record with no hooks and no mounts to undo. */
static int cmd_delete(struct container *c, int force) {
  int stopped = !strcmp(c->status, "stopped");
  if (!stopped && strcmp(c->status, "created") && !force) {
    error_line("cannot delete container %s that is not stopped: %s", c->id, c->status);
    return 1;
  }
  if (has_work(hooks(c, "poststop"))) hand_to_node("poststop hooks");
  if (truthy(json_get(c->rec, "mountsBefore"))) hand_to_node("mounts to undo in the caller's namespace");
  const struct jv *nss = json_get(json_get(c->config, "linux"), "namespaces");
  if (nss && nss->type != J_NULL && nss->type != J_ARR) hand_to_node("linux.namespaces is not a list");
  int own_pid_ns = 0;
  for (size_t i = 0; nss && nss->type == J_ARR && i < nss->n; i++) {
    const struct jv *t = json_get(nss->items[i], "type");
    if (t && t->type == J_STR && t->s && !strcmp(t->s, "pid") && !truthy(json_get(nss->items[i], "path"))) own_pid_ns = 1;
  }
  size_t n;
  char *err;
  if (!cgroups_pids(&c->cg, &n, &err)) hand_to_node("the cgroups cannot be read");
  if (!strcmp(c->status, "paused") && (err = cgroups_thaw(&c->cg))) hand_to_node("the thaw failed");

  struct errs errs = {0};
  long pid = stopped ? 0 : c->pid;
  if (pid > 0 && kill((pid_t)pid, SIGKILL) < 0 && errno != ESRCH) errs_add(&errs, xasprintf("kill %ld: kill %s", pid, errno_name(errno)));
  /* With its own pid namespace, an init that exited took the rest with it: no need to look. */
  if (pid > 0 || !own_pid_ns || c->pid == 0) {
    pid_t *left = cgroups_pids(&c->cg, &n, &err);
    if (left && n > 0) err = cgroups_kill(&c->cg);
    for (int i = 0; !err && i < 400; i++) {
      char *st = pid > 0 ? pid_start_time(pid) : NULL;
      int init_left = st != NULL;
      free(st);
      if (!(left = cgroups_pids(&c->cg, &n, &err)) || (!init_left && n == 0)) break;
      sleep_ms(i < 20 ? 1 : 5);
    }
    if (err) errs_add(&errs, err);
  }
  cgroups_destroy(&c->cg, &errs);
  /* berth's default parent (/berth/<id>) goes with its last container; a busy one stays. */
  const struct jv *paths = json_get(json_get(c->rec, "cgroup"), "paths");
  for (size_t i = 0; i < paths->n; i++) {
    char *parent = strdup(paths->members[i].val->s), *slash = strrchr(parent, '/');
    if (slash) *slash = 0;
    int seen = 0;
    for (size_t j = 0; j < i; j++) {
      const char *o = paths->members[j].val->s, *os = strrchr(o, '/');
      if (os && (size_t)(os - o) == strlen(parent) && !strncmp(o, parent, strlen(parent))) seen = 1;
    }
    const char *base = strrchr(parent, '/');
    if (seen || !base || strcmp(base + 1, "berth")) continue;
    if (rmdir(parent) < 0 && errno != ENOTEMPTY && errno != EBUSY && errno != ENOENT)
      errs_add(&errs, xasprintf("rmdir %s: %s", parent, node_errmsg(errno, "rmdir", parent)));
  }
  if ((err = remove_all(AT_FDCWD, c->dir, c->dir))) errs_add(&errs, err);
  char *ctx = xasprintf("delete %s", c->id_tok->s);
  if ((err = errs_join(&errs, ctx))) {
    error_line("%s", err);
    return 1;
  }
  return 0;
}

/* A separator in JS's String.prototype.trim and /\s/ (UTF-8); 0, or its length in bytes. */
static int js_space(const unsigned char *p) {
  if (*p == ' ' || (*p >= '\t' && *p <= '\r')) return 1;
  if (p[0] == 0xc2 && p[1] == 0xa0) return 2;
  if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) return 3;
  if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) return 3;
  if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) return 3;
  if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) return 3;
  if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) return 3;
  return 0;
}

/* Field `col` (0-based) of a line split as `l.trim().split(/\s+/)`; its start and length. */
static int field(const char *line, const char *end, int col, const char **start, size_t *len) {
  const unsigned char *p = (const unsigned char *)line, *e = (const unsigned char *)end;
  for (int k = 0;; k++) {
    int w;
    while (p < e && (w = js_space(p))) p += w;
    if (p >= e) return -1;
    const unsigned char *s = p;
    while (p < e && !js_space(p)) p++;
    if (k == col) {
      *start = (const char *)s;
      *len = (size_t)(p - s);
      return 0;
    }
  }
}

static int cmd_ps(struct container *c, int json, char **ps_args, int nargs) {
  size_t n;
  char *err;
  pid_t *pids = cgroups_pids(&c->cg, &n, &err);
  if (!pids) hand_to_node("the cgroups cannot be read");
  if (json) {
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", pids[i]);
    printf("]\n");
    return 0;
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) hand_to_node("pipe");
  pid_t child = fork();
  if (child < 0) hand_to_node("fork");
  if (child == 0) {
    char **argv = calloc((size_t)nargs + 2, sizeof *argv);
    argv[0] = "ps";
    if (nargs)
      for (int i = 0; i < nargs; i++) argv[i + 1] = ps_args[i];
    else
      argv[1] = "-ef";
    dup2(out[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2); /* a failure is told by Node, which runs ps again */
    execvp("ps", argv);
    _exit(127);
  }
  close(out[1]);
  size_t cap = 65536, len = 0;
  char *text = malloc(cap);
  for (;;) {
    if (len == cap && !(text = realloc(text, cap *= 2))) abort();
    ssize_t r = read(out[0], text + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(out[0]);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) hand_to_node("ps failed");
  const char *nl = memchr(text, '\n', len), *hend = nl ? nl : text + len;
  /* The PID column of the header. */
  int col = -1;
  for (int k = 0;; k++) {
    const char *s;
    size_t l;
    if (field(text, hend, k, &s, &l)) break;
    if (l == 3 && !memcmp(s, "PID", 3)) {
      col = k;
      break;
    }
  }
  if (col < 0) hand_to_node("ps output has no PID column");
  char *table;
  size_t table_len;
  FILE *o = open_memstream(&table, &table_len);
  if (!o) abort();
  fwrite(text, 1, (size_t)(hend - text), o);
  for (const char *line = nl ? nl + 1 : text + len; line < text + len;) {
    const char *e = memchr(line, '\n', (size_t)(text + len - line));
    if (!e) e = text + len;
    const char *s;
    size_t l;
    if (!field(line, e, col, &s, &l)) {
      if (strspn(s, "0123456789") >= l) {
        long v = l < 12 ? strtol(s, NULL, 10) : -1;
        for (size_t i = 0; i < n; i++)
          if (pids[i] == v) {
            fputc('\n', o);
            fwrite(line, 1, (size_t)(e - line), o);
            break;
          }
      } else if ((*s >= '0' && *s <= '9') || strchr("+-.", *s) || !strncmp(s, "Inf", 3)) {
        hand_to_node("a PID field JavaScript's Number() may read");
      }
    }
    line = e + 1;
  }
  fputc('\n', o);
  fclose(o);
  fwrite(table, 1, table_len, stdout);
  return 0;
}

/* ------------------------------------------------------------------ argv */

enum { FLAG_NONE, FLAG_FORCE, FLAG_ALL, FLAG_FORMAT };

int main(int argc, char **argv) {
  g_argv = argv;
  const char *root = DEFAULT_ROOT, *logfmt = "text";
  int i = 1;
  /* runc's global flags, as cli.ts parses them: a string option takes "--x=v" or "--x v". */
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *a = argv[i];
    if (a[1] != '-' || !a[2]) hand_to_node("a short or terminating flag");
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    static const char *const STRING_FLAGS[] = {"root", "log", "log-format", "criu", "rootless"};
    const char *known = NULL;
    for (size_t k = 0; k < sizeof STRING_FLAGS / sizeof *STRING_FLAGS; k++)
      if (strlen(STRING_FLAGS[k]) == nl && !strncmp(a + 2, STRING_FLAGS[k], nl)) known = STRING_FLAGS[k];
    if (!known) hand_to_node("a global flag the front leaves to Node"); /* --debug, --systemd-cgroup, --version, --help */
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
      if (i + 1 >= argc || argv[i + 1][0] == '-') hand_to_node("a flag without its value");
      v = argv[++i];
    }
    if (!strcmp(known, "root")) root = v;
    else if (!strcmp(known, "log")) g_log = v;
    else if (!strcmp(known, "log-format")) logfmt = v;
  }
  if (i >= argc) hand_to_node("no command");
  if (!*root) hand_to_node("an empty --root");
  if (strcmp(logfmt, "text") && strcmp(logfmt, "json")) hand_to_node("an unknown --log-format");
  g_log_json = !strcmp(logfmt, "json");
  const char *cmd = argv[i++];
  int flag = FLAG_NONE;
  if (!strcmp(cmd, "delete")) flag = FLAG_FORCE;
  else if (!strcmp(cmd, "kill")) flag = FLAG_ALL;
  else if (!strcmp(cmd, "ps")) flag = FLAG_FORMAT;
  else if (strcmp(cmd, "state") && strcmp(cmd, "start") && strcmp(cmd, "pause") && strcmp(cmd, "resume"))
    hand_to_node("a command the front leaves to Node");
  /* The command's flags, up to the container id (parseUntilPositional). */
  int set = 0;
  const char *format = "table";
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *a = argv[i];
    if (flag == FLAG_FORCE && (!strcmp(a, "-f") || !strcmp(a, "--force"))) set = 1;
    else if (flag == FLAG_ALL && (!strcmp(a, "-a") || !strcmp(a, "--all"))) set = 1;
    else if (flag == FLAG_FORMAT && !strncmp(a, "--format=", 9)) format = a + 9;
    else if (flag == FLAG_FORMAT && (!strcmp(a, "-f") || !strcmp(a, "--format"))) {
      if (i + 1 >= argc || argv[i + 1][0] == '-') hand_to_node("a flag without its value");
      format = argv[++i];
    } else
      hand_to_node("a flag the front leaves to Node");
  }
  if (i >= argc) hand_to_node("no container id");
  const char *id = argv[i++];
  if (i < argc && !strcmp(argv[i], "--")) i++;
  if (!valid_id(id)) hand_to_node("an id state.ts refuses");
  if (flag == FLAG_FORMAT && strcmp(format, "table") && strcmp(format, "json")) hand_to_node("an unknown ps format");

  /* delete --force of what does not exist: nothing to do, as runc (a folder left without its
   * state.json is Node's to remove). */
  if (flag == FLAG_FORCE && set) {
    char *dir = xasprintf("%s/%s", root, id);
    if (!exists(dir) && errno == ENOENT) return 0;
    char *state = xasprintf("%s/state.json", dir);
    if (!exists(state)) hand_to_node("a state folder without its state.json");
  }
  struct container c;
  open_container(&c, root, id);
  int rc;
  if (!strcmp(cmd, "state")) rc = cmd_state(&c);
  else if (!strcmp(cmd, "start")) rc = cmd_start(&c);
  else if (!strcmp(cmd, "kill")) rc = cmd_kill(&c, i < argc ? argv[i] : "SIGTERM", set);
  else if (!strcmp(cmd, "delete")) rc = cmd_delete(&c, set);
  else if (!strcmp(cmd, "pause")) rc = cmd_pause(&c);
  else if (!strcmp(cmd, "resume")) rc = cmd_resume(&c);
  else rc = cmd_ps(&c, !strcmp(format, "json"), argv + i, argc - i);
  if (fflush(stdout) != 0) return 1;
  return rc;
}
