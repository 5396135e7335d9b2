/*
 * A holder the leader's fd table does not show: a thread unshares its fd table (unshare(CLONE_FILES)) and opens
 * PATH for reading there (non-blocking: it joins whatever pipe is there without waiting for a writer). Prints
 * "ready PID TID FD" and holds it, unread, until killed. Usage: hidden-holder PATH
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *path;

static void *hide(void *arg) {
  (void)arg;
  if (unshare(CLONE_FILES) != 0) {
    perror("unshare");
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) {
    perror("open");
    return NULL;
  }
  printf("ready %d %ld %d\n", getpid(), (long)syscall(SYS_gettid), fd);
  fflush(stdout);
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  path = argv[1];
  pthread_t thread;
  pthread_create(&thread, NULL, hide, NULL);
  for (;;) pause();
}
