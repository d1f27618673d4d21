/* berth-nsexec: the step between clone and execve that Node.js cannot take (it is
 * multithreaded). The TypeScript side decides everything and sends a plan; this program
 * only carries it out and reports errors as one line. No policy lives here. */
#ifndef BERTH_H
#define BERTH_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Plan records, TypeScript -> C. Mirrored by `Op` in src/runtime/native/protocol.ts, which its
 * unit test compares with this enum (OP_UID_MAP is Op.UidMap, MSG_PID Op.MsgPid). Each record
 * on the wire: u32 length (little-endian, of what follows), u16 type, then NUL-terminated
 * string fields. */
enum op {
  OP_MODE = 1,          /* "create" | "run" | "exec" */
  OP_NS_CLONE,          /* clone flags (decimal) */
  OP_NS_JOIN,           /* clone flag, path */
  OP_UID_MAP,           /* map text */
  OP_GID_MAP,           /* map text */
  OP_CONSOLE_SOCKET,    /* path */
  OP_TERMINAL,          /* rows, cols */
  OP_EXEC_FIFO,         /* path */
  OP_ROOTFS,            /* path */
  OP_MOUNT,             /* source, destination, type, flags, propagation flags, data, kind */
  OP_DEVICE,            /* path, type (c|b|p), major, minor, mode, uid, gid */
  OP_SYMLINK,           /* target, link path */
  OP_NO_PIVOT,
  OP_ROOTFS_PROPAGATION,/* flags */
  OP_MASK,              /* path */
  OP_READONLY,          /* path */
  OP_ROOT_READONLY,
  OP_HOSTNAME,          /* name */
  OP_DOMAINNAME,        /* name */
  OP_SYSCTL,            /* key, value */
  OP_RLIMIT,            /* resource, soft, hard */
  OP_OOM_SCORE_ADJ,     /* n */
  OP_PERSONALITY,       /* persona */
  OP_CAPS,              /* bounding, effective, permitted, inheritable, ambient (hex) */
  OP_USER,              /* uid, gid, additional gids (comma separated) */
  OP_UMASK,             /* octal */
  OP_NO_NEW_PRIVS,
  OP_SECCOMP,           /* flags, program (hex of struct sock_filter[]) */
  OP_CWD,               /* path */
  OP_ENV,               /* KEY=value */
  OP_ARG,               /* argument */
  OP_HOOK,              /* kind (1 createContainer, 2 startContainer), path, timeout, then "a:" args and "e:" env */
  OP_PRESERVE_FDS,      /* n */
  OP_TIME_OFFSET,       /* clock, secs, nanosecs */
  OP_END,
  /* C -> TypeScript */
  MSG_PID = 100,        /* pid of the container process */
  MSG_READY,            /* set up; waiting on the exec fifo (create) or about to exec */
  MSG_ERROR,            /* one line */
  /* TypeScript -> C after MSG_PID */
  MSG_CONTINUE = 200,   /* state JSON for the hooks run inside the container */
};

/* Kinds of OP_MOUNT; a late mount waits for the container's cgroup namespace. */
enum mount_kind { MK_NORMAL = 0, MK_BIND = 1, MK_LATE = 2 };

struct record {
  uint16_t type;
  int nfields;
  struct record *next;
  char *fields[]; /* nfields of them, then the strings they point into */
};

struct plan {
  struct record *head, *tail;
};

/* util.c */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void die_errno(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void set_error_fd(int fd);
void set_drain_fd(int fd);
int send_msg(int fd, uint16_t type, const char *const *fields, int n);
struct record *recv_msg(int fd);
int read_plan(int fd, struct plan *plan);
void reset_signals(void);
unsigned long long parse_ull(const char *s, int base);
long long parse_ll(const char *s);
int write_file(const char *path, const char *data, size_t len);
size_t hex_decode(const char *hex, unsigned char **out);

/* rootfs.c; the container's mount namespace is its own (new or joined), or the caller's. */
enum { MNTNS_SHARED = 0, MNTNS_OWN = 1 };
void mount_rootfs(struct plan *plan, int userns, int late, int mntns);
void finish_rootfs(struct plan *plan, int userns, const char *state_json, int mntns);
int open_in_root(int rootfd, const char *path, int create_kind, mode_t mode);

/* process.c */
void run_hooks(struct plan *plan, int kind, const char *state_json);
void finish_process(struct plan *plan, int preserve_fds);
char *lookup_exec(struct plan *plan);
void apply_early_process(struct plan *plan);

/* monitor.c */
int monitor_main(int argc, char **argv, int (*nsexec)(char **));

/* bpf.c */
int bpf_devices_main(const char *dir);

/* terminal.c */
int setup_terminal(struct plan *plan, int console_fd);
int send_fd(int sock, int fd);
int recv_fd(int sock, int timeout_ms);
int relay_terminal(int master, pid_t child, int resize_fd);
int tty_relay_main(int argc, char **argv);
int wait_and_forward(pid_t child);

/* netns-dial.c */
int netns_dial_main(int argc, char **argv);

#endif
