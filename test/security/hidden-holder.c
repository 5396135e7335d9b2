/*
 * A holder the leader's fd table does not show: a thread unshares its fd table (unshare(CLONE_FILES)) and opens
 * PATH for reading there (non-blocking: it joins whatever pipe is there without waiting for a writer). Prints
 * "ready PID TID FD" and holds it until killed. With READ as a third argument the thread then reads the pipe and
 * prints how many bytes it got ("got N") at EOF. Usage: hidden-holder PATH [read]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *path;
static int do_read;

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
  if (do_read) {
    fcntl(fd, F_SETFL, 0);
    char buf[65536];
    long total = 0;
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) != 0;)
      if (n > 0) total += n;
    printf("got %ld\n", total);
    fflush(stdout);
  }
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  path = argv[1];
  do_read = argc > 2 && strcmp(argv[2], "read") == 0;
  pthread_t thread;
  pthread_create(&thread, NULL, hide, NULL);
  for (;;) pause();
}
