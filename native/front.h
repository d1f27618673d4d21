/* berth-runtime's native front: the executable users call. It answers the light verbs (state,
 * start, kill, delete, pause, resume, ps) from the state the TypeScript writes
 * (docs/runtime-state.md) and hands every other command, and every case it does not fully
 * handle, to Node.js on the bundled runtime with the same argv. Shared declarations of its
 * three files: front.c (argv, verbs, hand-over), front-json.c (JSON), front-cgroup.c. */
#ifndef BERTH_FRONT_H
#define BERTH_FRONT_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- JSON (front-json.c): a DOM over state.json, which JSON.stringify wrote. */
enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };
struct jv;
struct jmember {
  const char *rawkey; /* as written, without the quotes: JSON.stringify's own escaping */
  size_t rawkeylen;
  char *key;          /* decoded; NULL when it cannot be a C string */
  struct jv *val;
};
struct jv {
  enum jtype type;
  const char *raw; /* the token as written (a string's without its quotes) */
  size_t rawlen;
  char *s;         /* J_STR decoded, NUL-terminated; NULL when it holds a NUL or a lone surrogate */
  size_t n;        /* items or members */
  struct jv **items;
  struct jmember *members;
};
/* NULL when `text` is not one JSON value. */
struct jv *json_parse(const char *text, size_t len);
/* The member `key` of an object (the last, as JSON.parse keeps), or NULL. */
struct jv *json_get(const struct jv *obj, const char *key);
/* JSON.stringify(v, null, '  ') of a value nested `depth` levels deep. */
void json_pretty(FILE *out, const struct jv *v, int depth);
/* `s` as JSON.stringify writes a string, quotes included. */
void json_string(FILE *out, const char *s);

/* ---- Failure handling (front.c). */
/* Hands the command to Node.js with the argv this process was given; never returns. Only
 * called before the command changed anything, so Node does the whole of it. */
_Noreturn void hand_to_node(const char *why);
/* Records an error of the command (stderr and --log), as the TypeScript CLI prints it. */
void error_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Node's message for a failed fs call: "ECODE: description, syscall 'path'" (path may be NULL). */
char *node_errmsg(int err, const char *syscall, const char *path);
/* Node's errno name ("ENOENT"). */
const char *errno_name(int err);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sleep_ms(int ms);

/* ---- Errors gathered by a teardown, joined as the TypeScript joins them. */
struct errs {
  char **msg;
  size_t n;
};
void errs_add(struct errs *e, char *msg);
/* NULL when empty; the one message; or "<context>: a; b". */
char *errs_join(const struct errs *e, const char *context);

/* ---- A container's cgroups (front-cgroup.c), reopened from the saved layout and paths. */
struct cgroups {
  int layout; /* CG_V1, CG_V2, CG_HYBRID */
  char **v1dirs; /* each distinct v1 directory once */
  size_t nv1;
  const char *freezer; /* the v1 freezer directory, or NULL */
  const char *unified; /* the v2 directory, or NULL (v1) */
};
enum { CG_V1 = 1, CG_V2, CG_HYBRID };

/* 0, or -1 when the saved paths are not what reopenCgroups accepts (Node then says why). */
int cgroups_open(struct cgroups *cg, const char *layout, const struct jv *paths);
int cgroups_frozen(const struct cgroups *cg);
/* Every pid in the cgroups and their descendants, ascending and once; NULL + message on error. */
pid_t *cgroups_pids(const struct cgroups *cg, size_t *n, char **err);
/* Freeze or thaw through the v1 freezer or cgroup.freeze; NULL, or the error's message.
 * `first_ok` is set once the first write succeeded (something changed). */
char *cgroups_freeze(const struct cgroups *cg, int *first_ok);
char *cgroups_thaw(const struct cgroups *cg);
/* Whether pause/resume can work: v1 needs its freezer. */
int cgroups_can_freeze(const struct cgroups *cg);
/* SIGKILL to everything in the cgroups (cgroup.kill where there is one); NULL or a message. */
char *cgroups_kill(const struct cgroups *cg);
/* rmdir the cgroups and what is below them; errors appended as `delete` reports them. */
void cgroups_destroy(const struct cgroups *cg, struct errs *e);

#endif
