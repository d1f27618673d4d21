/* `berth-nsexec netns-dial NETNS PORT`: the CRI's port forwarding into a pod. It enters the
 * network namespace at NETNS (setns needs a single-threaded process, which Node.js is not),
 * connects to 127.0.0.1:PORT there, as containerd and CRI-O do, and relays stdin to the
 * connection and the connection to stdout. Its stdin's end half-closes the connection; the
 * connection's end ends the program. A failure to connect is one line on stderr and status 1. */
#include "berth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, (size_t)n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    buf += w;
    n -= w;
  }
  return 0;
}

int netns_dial_main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: berth-nsexec netns-dial NETNS PORT\n");
    return 2;
  }
  char *end;
  long port = strtol(argv[3], &end, 10);
  if (*end || port < 1 || port > 65535) {
    fprintf(stderr, "netns-dial: invalid port %s\n", argv[3]);
    return 2;
  }
  int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    fprintf(stderr, "enter network namespace %s: %s\n", argv[2], strerror(errno));
    return 1;
  }
  close(ns);
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "connect to 127.0.0.1:%ld: %s\n", port, strerror(errno));
    return 1;
  }
  static char buf[65536];
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = s, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("netns-dial: poll");
      return 1;
    }
    if (fds[0].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        shutdown(s, SHUT_WR);
        fds[0].fd = -1; /* poll skips it from now on */
      } else if (write_all(s, buf, n) < 0) {
        fprintf(stderr, "write to 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
      }
    }
    if (fds[1].revents) {
      ssize_t n = read(s, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        fprintf(stderr, "read from 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
      }
      if (n == 0) return 0;
      if (write_all(1, buf, n) < 0) return 0; /* the reader has gone: nothing left to relay to */
    }
  }
}
