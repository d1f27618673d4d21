/* berth-pause: the infra process of a pod. It holds the pod's namespaces (network, IPC, UTS,
 * and PID when shared, where it is PID 1) for as long as the pod lives, reaps the zombies that
 * fall to it, and exits on SIGTERM or SIGINT. Signals are taken synchronously (sigwaitinfo),
 * so no handler runs and PID 1's default-ignored signals need no special case. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "berth-pause: takes no arguments\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
    perror("berth-pause: sigprocmask");
    return 1;
  }
  for (;;) {
    int sig = sigwaitinfo(&set, NULL);
    if (sig == SIGTERM || sig == SIGINT) return 0;
    if (sig == SIGCHLD)
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
  }
}
