/* `berth-nsexec bpf-devices DIR`: attach a cgroup v2 device filter (struct bpf_insn[] on
 * stdin, generated in TypeScript) to the cgroup DIR, replacing the filters attached before,
 * so an update never leaves a moment with no filter. */
#include "berth.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

int bpf_devices_main(const char *dir) {
  size_t cap = 4096, len = 0;
  unsigned char *prog = malloc(cap);
  ssize_t n;
  while (prog && (n = read(0, prog + len, cap - len)) > 0) {
    len += (size_t)n;
    if (len == cap) prog = realloc(prog, cap *= 2);
  }
  if (!prog || len == 0 || len % sizeof(struct bpf_insn)) die("bpf-devices: expected a program on stdin");

  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) die_errno("open cgroup %s", dir);

  /* What is attached now, to detach once the new filter is in. */
  __u32 old[64], count = 64;
  union bpf_attr q;
  memset(&q, 0, sizeof q);
  q.query.target_fd = (__u32)cg;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (__u64)(uintptr_t)old;
  q.query.prog_cnt = count;
  if (bpf(BPF_PROG_QUERY, &q) < 0) die_errno("query device filters of %s", dir);
  count = q.query.prog_cnt;

  char log[4096] = {0};
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (__u64)(uintptr_t)prog;
  load.insn_cnt = (__u32)(len / sizeof(struct bpf_insn));
  load.license = (__u64)(uintptr_t) "Apache";
  load.log_buf = (__u64)(uintptr_t)log;
  load.log_size = sizeof log;
  load.log_level = 1;
  int fd = (int)bpf(BPF_PROG_LOAD, &load);
  if (fd < 0) die_errno("load device filter (%s)", log[0] ? log : "no verifier log");

  union bpf_attr at;
  memset(&at, 0, sizeof at);
  at.target_fd = (__u32)cg;
  at.attach_bpf_fd = (__u32)fd;
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &at) < 0) die_errno("attach device filter to %s", dir);

  for (__u32 i = 0; i < count; i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof g);
    g.prog_id = old[i];
    int ofd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (ofd < 0) continue;
    union bpf_attr d;
    memset(&d, 0, sizeof d);
    d.target_fd = (__u32)cg;
    d.attach_bpf_fd = (__u32)ofd;
    d.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT) die_errno("detach old device filter from %s", dir);
    close(ofd);
  }
  return 0;
}
