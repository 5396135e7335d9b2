/*
 * The floor for `npm run bench`: the least a FIFO .env server can do per read, in C with nothing else in the
 * process. The next FIFO waits beside the path while no reader waits; a reader's open() completes the blocking
 * open(O_WRONLY), one rename exchange puts the next FIFO at the path (the rotation that gives every reader its own
 * pipe), one write sends the content, close ends the read, and only then is the following FIFO readied: the one
 * served the read before, which rested at a third name, if nobody holds it any more (a non-blocking open for
 * writing finds no reader, so its next reader gets a fresh pipe), else a new one. Making a FIFO per read allocates
 * an inode, which on ext4 without a journal costs more with every inode deleted in the last minutes (the daemon
 * reuses its FIFOs the same way: native/reuse.c). No policy, no identification, no events to anyone. Content over
 * the pipe buffer is finished with blocking writes.
 *
 * Usage: floor PATH CONTENT_FILE   (runs until killed; removes PATH on SIGTERM)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *path;
static char temp[4096], rest[4096];

static void on_term(int sig) {
  (void)sig;
  unlink(path);
  unlink(temp);
  unlink(rest);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: floor PATH CONTENT_FILE\n");
    return 2;
  }
  path = argv[1];
  static char content[1 << 20];
  int cf = open(argv[2], O_RDONLY);
  ssize_t len = cf >= 0 ? read(cf, content, sizeof content) : -1;
  if (len < 0) {
    perror("content");
    return 1;
  }
  close(cf);
  snprintf(temp, sizeof temp, "%s.floor-next", path);
  snprintf(rest, sizeof rest, "%s.floor-rest", path);
  signal(SIGTERM, on_term);
  signal(SIGPIPE, SIG_IGN);
  unlink(path);
  unlink(temp);
  unlink(rest);
  if (mkfifo(path, 0600) != 0 || mkfifo(temp, 0600) != 0 || mkfifo(rest, 0600) != 0) {
    perror("mkfifo");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) continue;
    int renamed = renameat2(AT_FDCWD, temp, AT_FDCWD, path, RENAME_EXCHANGE) == 0;
    for (ssize_t off = 0; off < len;) {
      ssize_t n = write(fd, content + off, (size_t)(len - off));
      if (n <= 0) break;
      off += n;
    }
    close(fd);
    /* Off the reader's clock: the served FIFO rests, the one that rested becomes the next reader's if free. */
    if (!renamed || renameat2(AT_FDCWD, temp, AT_FDCWD, rest, RENAME_EXCHANGE) != 0) continue;
    int held = open(temp, O_WRONLY | O_NONBLOCK);
    if (held < 0) continue;
    close(held);
    unlink(temp);
    mkfifo(temp, 0600);
  }
}
