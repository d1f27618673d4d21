/* A container's cgroups as the front sees them: reopened from the layout and paths state.json
 * keeps (v1, v2 or hybrid), frozen or not, their pids, freeze and thaw, kill, and removal. Each
 * step does what src/runtime/cgroups/{v1,v2,hybrid,fs}.ts do, with the same waits and the
 * same messages; the TypeScript stays the model, this is its reading for the light verbs. */
#include "front.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cgroups_open(struct cgroups *cg, const char *layout, const struct jv *paths) {
  memset(cg, 0, sizeof *cg);
  if (!paths || paths->type != J_OBJ) return -1;
  if (!strcmp(layout, "v1")) cg->layout = CG_V1;
  else if (!strcmp(layout, "v2")) cg->layout = CG_V2;
  else if (!strcmp(layout, "hybrid")) cg->layout = CG_HYBRID;
  else return -1;
  cg->v1dirs = calloc(paths->n + 1, sizeof *cg->v1dirs);
  if (!cg->v1dirs) abort();
  for (size_t i = 0; i < paths->n; i++) {
    const struct jmember *m = &paths->members[i];
    if (!m->key || m->val->type != J_STR || !m->val->s || m->val->s[0] != '/') return -1;
    for (size_t j = i + 1; j < paths->n; j++)
      if (paths->members[j].key && !strcmp(paths->members[j].key, m->key)) return -1; /* not as JSON.stringify writes */
    if (m->key[0] == 0 && cg->layout != CG_V1) {
      cg->unified = m->val->s;
      continue;
    }
    if (cg->layout == CG_V2) continue;
    if (!strcmp(m->key, "freezer")) cg->freezer = m->val->s;
    size_t k = 0;
    while (k < cg->nv1 && strcmp(cg->v1dirs[k], m->val->s)) k++;
    if (k == cg->nv1) cg->v1dirs[cg->nv1++] = m->val->s;
  }
  if (cg->layout != CG_V1 && !cg->unified) return -1;
  return 0;
}

/* The contents of dir/file, or NULL with errno set. */
static char *read_file(const char *dir, const char *file) {
  char *path = xasprintf("%s/%s", dir, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  free(path);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) abort();
  for (;;) {
    if (len + 1 >= cap && !(buf = realloc(buf, cap *= 2))) abort();
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0) {
      int e = errno;
      close(fd);
      free(buf);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    len += (size_t)r;
  }
  close(fd);
  buf[len] = 0;
  return buf;
}

/* readControl: the file's text, or the TypeScript's message for why not (in *err). */
static char *read_control(const char *dir, const char *file, char **err) {
  char *s = read_file(dir, file);
  if (s) return s;
  char *path = xasprintf("%s/%s", dir, file);
  if (errno == ENOENT) *err = xasprintf("read %s: the file does not exist (controller missing or kernel too old)", path);
  else *err = xasprintf("read %s: %s", path, node_errmsg(errno, "open", path));
  return NULL;
}

static const char *trim_eq(const char *s, const char *want) {
  while (*s == ' ' || *s == '\n' || *s == '\t') s++;
  size_t l = strlen(want);
  if (strncmp(s, want, l)) return NULL;
  for (const char *p = s + l; *p; p++)
    if (*p != ' ' && *p != '\n' && *p != '\t') return NULL;
  return s;
}

/* writeControl, with fs.ts's messages for a refused write. */
static char *write_control(const char *dir, const char *file, const char *value) {
  char *path = xasprintf("%s/%s", dir, file);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  const char *sys = "open";
  int e = 0;
  if (fd < 0) e = errno;
  else {
    ssize_t w = write(fd, value, strlen(value));
    if (w < 0) {
      e = errno;
      sys = "write";
    }
    close(fd);
  }
  if (!e) return NULL;
  if (e == ENOENT) return xasprintf("write \"%s\" to %s: the file does not exist (controller missing or kernel too old)", value, path);
  if (e == EINVAL) return xasprintf("write \"%s\" to %s: invalid argument", value, path);
  if (e == EOPNOTSUPP) return xasprintf("write \"%s\" to %s: not supported by this kernel", value, path);
  return xasprintf("write \"%s\" to %s: %s", value, path, node_errmsg(e, sys, !strcmp(sys, "open") ? path : NULL));
}

/* "frozen 1" in cgroup.events (parseKeyValues). */
static int events_frozen(const char *ev) {
  const char *p = ev ? strstr(ev, "frozen ") : NULL;
  while (p && p != ev && p[-1] != '\n') p = strstr(p + 1, "frozen ");
  return p && p[7] == '1' && (p[8] == '\n' || p[8] == 0);
}

static int v1_frozen(const struct cgroups *cg) {
  char *err = NULL, *s = read_control(cg->freezer, "freezer.state", &err);
  return s && trim_eq(s, "FROZEN");
}

static int v2_frozen(const char *dir) {
  char *ev = read_file(dir, "cgroup.events");
  if (ev) return events_frozen(ev);
  if (errno != ENOENT && errno != ENODEV && errno != EOPNOTSUPP) return 0;
  char *s = read_file(dir, "cgroup.freeze");
  return s && trim_eq(s, "1");
}

static int use_v1_freezer(const struct cgroups *cg) {
  return cg->layout == CG_V1 || (cg->layout == CG_HYBRID && cg->freezer);
}

int cgroups_frozen(const struct cgroups *cg) {
  if (use_v1_freezer(cg)) return cg->freezer && v1_frozen(cg);
  return v2_frozen(cg->unified);
}

int cgroups_can_freeze(const struct cgroups *cg) {
  return !use_v1_freezer(cg) || cg->freezer;
}

struct pidset {
  pid_t *p;
  size_t n, cap;
};

static void pid_add(struct pidset *s, pid_t pid) {
  for (size_t i = 0; i < s->n; i++)
    if (s->p[i] == pid) return;
  if (s->n == s->cap && !(s->p = realloc(s->p, (s->cap = s->cap ? s->cap * 2 : 64) * sizeof *s->p))) abort();
  s->p[s->n++] = pid;
}

/* pidsRecursive: cgroup.procs of dir and each cgroup below it. */
static char *pids_walk(const char *dir, struct pidset *s) {
  char *procs = read_file(dir, "cgroup.procs");
  if (!procs) {
    if (errno == ENOENT || errno == ENODEV || errno == EOPNOTSUPP) return NULL;
    char *path = xasprintf("%s/cgroup.procs", dir);
    return xasprintf("read %s: %s", path, node_errmsg(errno, "open", path));
  }
  for (char *line = strtok(procs, "\n"); line; line = strtok(NULL, "\n")) {
    char *end;
    long v = strtol(line, &end, 10);
    if (end != line) pid_add(s, (pid_t)v);
  }
  DIR *d = opendir(dir);
  if (!d) return NULL;
  struct dirent *de;
  char *err = NULL;
  while (!err && (de = readdir(d))) {
    if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *sub = xasprintf("%s/%s", dir, de->d_name);
    err = pids_walk(sub, s);
    free(sub);
  }
  closedir(d);
  return err;
}

static int cmp_pid(const void *a, const void *b) {
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return x < y ? -1 : x > y;
}

static pid_t *pids_of(char *const *dirs, size_t ndirs, const char *unified, size_t *n, char **err) {
  struct pidset s = {0};
  for (size_t i = 0; i < ndirs; i++)
    if ((*err = pids_walk(dirs[i], &s))) return NULL;
  if (unified && (*err = pids_walk(unified, &s))) return NULL;
  if (s.n) qsort(s.p, s.n, sizeof *s.p, cmp_pid);
  *n = s.n;
  return s.p ? s.p : calloc(1, sizeof(pid_t));
}

pid_t *cgroups_pids(const struct cgroups *cg, size_t *n, char **err) {
  *err = NULL;
  return pids_of(cg->v1dirs, cg->layout == CG_V2 ? 0 : cg->nv1, cg->layout == CG_V1 ? NULL : cg->unified, n, err);
}

static char *v1_freeze(const char *d, int *first_ok) {
  char *err = NULL;
  for (int i = 0; i < 500; i++) {
    if (i % 10 == 0 && (err = write_control(d, "freezer.state", "FROZEN"))) return err;
    if (first_ok) *first_ok = 1;
    char *s = read_control(d, "freezer.state", &err);
    if (!s) return err;
    if (trim_eq(s, "FROZEN")) return NULL;
    sleep_ms(i < 10 ? 1 : 10);
  }
  if ((err = write_control(d, "freezer.state", "THAWED"))) return err;
  return xasprintf("freeze %s: processes did not stop within 5 s", d);
}

static char *v1_thaw(const char *d) {
  char *err = write_control(d, "freezer.state", "THAWED");
  if (err) return err;
  for (int i = 0; i < 500; i++) {
    char *s = read_control(d, "freezer.state", &err);
    if (!s) return err;
    if (trim_eq(s, "THAWED")) return NULL;
    sleep_ms(i < 10 ? 1 : 10);
  }
  return NULL;
}

static int v2_wait_frozen(const char *dir, int want) {
  for (int i = 0; i < 500; i++) {
    char *ev = read_file(dir, "cgroup.events");
    if (ev || errno == ENOENT || errno == ENODEV || errno == EOPNOTSUPP) {
      if (events_frozen(ev) == want) return 1;
    } else {
      return -1;
    }
    sleep_ms(i < 10 ? 1 : 10);
  }
  return 0;
}

static char *v2_freeze(const char *dir, int *first_ok) {
  char *err = write_control(dir, "cgroup.freeze", "1");
  if (err) return err;
  if (first_ok) *first_ok = 1;
  int r = v2_wait_frozen(dir, 1);
  if (r < 0) return xasprintf("read %s/cgroup.events: %s", dir, node_errmsg(errno, "open", NULL));
  if (r == 0) {
    if ((err = write_control(dir, "cgroup.freeze", "0"))) return err;
    return xasprintf("freeze %s: processes did not stop within 5 s", dir);
  }
  return NULL;
}

static char *v2_thaw(const char *dir) {
  char *err = write_control(dir, "cgroup.freeze", "0");
  if (err) return err;
  if (v2_wait_frozen(dir, 0) < 0) return xasprintf("read %s/cgroup.events: %s", dir, node_errmsg(errno, "open", NULL));
  return NULL;
}

char *cgroups_freeze(const struct cgroups *cg, int *first_ok) {
  return use_v1_freezer(cg) ? v1_freeze(cg->freezer, first_ok) : v2_freeze(cg->unified, first_ok);
}

char *cgroups_thaw(const struct cgroups *cg) {
  return use_v1_freezer(cg) ? v1_thaw(cg->freezer) : v2_thaw(cg->unified);
}

/* Freeze (when `freeze` names how), SIGKILL each pid, thaw: a cgroup with no cgroup.kill. */
static char *kill_each(char *const *dirs, size_t ndirs, const char *unified, int v1freezer, const char *freezedir) {
  char *err = NULL;
  if (freezedir && (err = v1freezer ? v1_freeze(freezedir, NULL) : v2_freeze(freezedir, NULL))) return err;
  size_t n;
  pid_t *pids = pids_of(dirs, ndirs, unified, &n, &err);
  for (size_t i = 0; pids && i < n && !err; i++)
    if (kill(pids[i], SIGKILL) < 0 && errno != ESRCH) err = xasprintf("kill %s", errno_name(errno));
  if (freezedir) {
    char *t = v1freezer ? v1_thaw(freezedir) : v2_thaw(freezedir);
    if (t) err = t; /* as a `finally` that throws */
  }
  return err;
}

static char *v2_kill(const char *dir) {
  char *path = xasprintf("%s/cgroup.kill", dir);
  struct stat st;
  int has = stat(path, &st) == 0;
  free(path);
  if (has) return write_control(dir, "cgroup.kill", "1");
  return kill_each(NULL, 0, dir, 0, dir);
}

char *cgroups_kill(const struct cgroups *cg) {
  char *err;
  switch (cg->layout) {
  case CG_V1:
    return kill_each(cg->v1dirs, cg->nv1, NULL, 1, cg->freezer);
  case CG_V2:
    return v2_kill(cg->unified);
  default:
    if ((err = v2_kill(cg->unified))) return err;
    size_t n;
    pid_t *left = pids_of(cg->v1dirs, cg->nv1, NULL, &n, &err);
    if (!left) return err;
    return n ? kill_each(cg->v1dirs, cg->nv1, NULL, 1, cg->freezer) : NULL;
  }
}

/* removeTree: every cgroup below dir, deepest first, then dir; rmdir retried on EBUSY. */
static char *tree_order(const char *dir, char ***order, size_t *n) {
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return NULL;
    return xasprintf("read %s: %s", dir, node_errmsg(errno, "scandir", dir));
  }
  struct dirent *de;
  char *err = NULL;
  while (!err && (de = readdir(d))) {
    if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    err = tree_order(xasprintf("%s/%s", dir, de->d_name), order, n);
  }
  closedir(d);
  if (err) return err;
  if (!(*order = realloc(*order, (*n + 1) * sizeof **order))) abort();
  (*order)[(*n)++] = (char *)dir;
  return NULL;
}

static void remove_tree(const char *dir, struct errs *e) {
  char **order = NULL;
  size_t n = 0;
  char *err = tree_order(dir, &order, &n);
  if (err) {
    errs_add(e, err);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    for (int attempt = 0;; attempt++) {
      if (rmdir(order[i]) == 0 || errno == ENOENT) break;
      if (errno == EBUSY && attempt < 40) {
        int ms = 10 * (attempt + 1);
        sleep_ms(ms < 100 ? ms : 100);
        continue;
      }
      errs_add(e, xasprintf("rmdir %s: %s", order[i], node_errmsg(errno, "rmdir", order[i])));
      break;
    }
  }
}

void cgroups_destroy(const struct cgroups *cg, struct errs *e) {
  struct errs v1 = {0}, v2 = {0}, both = {0};
  if (cg->layout != CG_V1) remove_tree(cg->unified, &v2);
  if (cg->layout != CG_V2)
    for (size_t i = 0; i < cg->nv1; i++) remove_tree(cg->v1dirs[i], &v1);
  char *a = errs_join(&v2, "remove cgroups"), *b = errs_join(&v1, "remove cgroups");
  if (a) errs_add(&both, a);
  if (b) errs_add(&both, b);
  char *all = errs_join(&both, "remove cgroups");
  if (all) errs_add(e, all);
}
