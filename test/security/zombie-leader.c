/* A reader whose main thread has exited (a zombie thread-group leader: /proc/PID/exe and cmdline read as nothing):
 * a second thread opens PATH, waits up to 10 s for bytes, prints what it read (or "nothing"), and exits.
 * Usage: zombie-leader PATH */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *path;

static void *reader(void *unused) {
  (void)unused;
  usleep(200000); /* the leader is a zombie by now */
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) {
    perror("open");
    exit(2);
  }
  printf("open\n");
  fflush(stdout);
  struct pollfd p = {fd, POLLIN, 0};
  char buf[4096];
  ssize_t total = 0;
  for (int i = 0; i < 100 && total == 0; i++) {
    if (poll(&p, 1, 100) > 0) {
      ssize_t n = read(fd, buf, sizeof buf - 1);
      if (n > 0) {
        buf[n] = 0;
        total = n;
        printf("GOT %s\n", buf);
      }
    }
  }
  if (total == 0) printf("nothing\n");
  fflush(stdout);
  exit(0);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  path = argv[1];
  pthread_t t;
  if (pthread_create(&t, NULL, reader, NULL) != 0) return 2;
  pthread_exit(NULL);
}
