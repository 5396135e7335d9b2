/*
 * Several readers on one pipe: readers that queued on a FIFO while no daemon was there (the daemon crashed or was
 * restarting) are all woken by the writer's open() and share one pipe; so are readers that opened in the instant
 * of a rotation. Each still gets a whole copy of its own:
 *
 * Linux wakes one reader per write on an empty pipe, the one that has slept longest in read() (pipe_read waits
 * exclusively, in FIFO order, since 5.5). So when every reader sleeps in read() on the empty pipe, a copy written
 * in one piece goes to exactly one of them, who reads it and sleeps again at the back of the queue. Waiting for
 * that state before each copy hands out one copy per reader; the close, once the last copy has been read, gives
 * them all EOF.
 *
 * The limits: a reader that reads a copy in more than one read() (a buffer smaller than the content) wakes the next
 * one, and a reader that polls instead of sleeping in read() (epoll, Go's runtime) never shows as asleep. When the
 * readers do not all sleep in read() within SETTLE_US, the copies stop there: the readers still waiting get EOF,
 * never a piece of a copy and never a second one. Readers on other platforms get the single copy of before.
 */
#define _GNU_SOURCE
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "holders.h"
#include "lifetime.h"
#include "serve.h"

#ifdef __linux__
#include <dirent.h>
#include <sys/syscall.h>

#define SETTLE_US 500000
#define STEP_US 500

/* Reads a small /proc file into buf (NUL-terminated); the length, or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
  int f = open(path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return -errno;
  ssize_t n = read(f, buf, size - 1);
  int err = errno;
  close(f);
  if (n < 0) return -err;
  buf[n] = 0;
  return n;
}

/* Whether `pid` waits in read() on `fd` for a whole copy of `len` bytes: 1 when a thread sleeps there with room for
 * `len` bytes at once; 0 when none sleeps there; -EMSGSIZE when one sleeps there with less room (a reader that takes
 * the content in pieces would take the next reader's copy too, spliced), or with a count that cannot be told
 * (readv, or /proc/PID/task/TID/syscall closed to us and only wchan says "pipe_read"). Sleeping: state S (a thread
 * preempted inside read() after taking its copy is R, and would take the next copy too). */
static int asleep_in_read(int pid, int fd, size_t len) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *dir = opendir(path);
  if (dir == NULL) return 0;
  int asleep = 0;
  struct dirent *e;
  while (asleep >= 0 && (e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/%d/task/%.16s/stat", pid, e->d_name);
    char *state = read_small(path, buf, sizeof buf) > 0 ? strrchr(buf, ')') : NULL;
    if (state == NULL || state[1] != ' ' || state[2] != 'S') continue;
    snprintf(path, sizeof path, "/proc/%d/task/%.16s/syscall", pid, e->d_name);
    if (read_small(path, buf, sizeof buf) > 0) {
      /* "NR ARG1 ARG2 ARG3 ...": read(fd, buf, count) */
      char *end;
      long nr = strtol(buf, &end, 10);
      if (end == buf || (nr != SYS_read && nr != SYS_readv)) continue;
      char *p = end;
      unsigned long arg1 = strtoul(p, &p, 16);
      strtoul(p, &p, 16);
      unsigned long count = strtoul(p, &p, 16);
      if (arg1 != (unsigned long)fd) continue;
      asleep = nr == SYS_read && count >= len ? 1 : -EMSGSIZE;
      continue;
    }
    snprintf(path, sizeof path, "/proc/%d/task/%.16s/wchan", pid, e->d_name);
    if (read_small(path, buf, sizeof buf) > 0 && strstr(buf, "pipe_read") != NULL) asleep = -EMSGSIZE;
  }
  closedir(dir);
  return asleep;
}

/* The processes reading the pipe now (one entry per pid), or -errno. */
static int readers_now(dev_t dev, ino_t ino, holder_t *out) {
  holder_t all[HOLDERS_MAX];
  int n = fifo_holders(dev, ino, getpid(), all, HOLDERS_MAX), k = 0;
  for (int i = 0; i < n; i++) {
    if (all[i].mode == HOLD_WRITE) continue;
    int seen = 0;
    for (int j = 0; j < k; j++) seen |= out[j].pid == all[i].pid;
    if (!seen) out[k++] = all[i];
  }
  return n < 0 ? n : k;
}

/* Waits until the pipe is empty and every reader sleeps in read() with room for a whole copy: 1 when so, 0 at the
 * deadline or, once some copy went out (`served`), when no reader is left; -EMSGSIZE at once when a reader waits
 * with less room than a copy (or room that cannot be told). Readers woken from open() may not have installed their fd yet:
 * none seen before the first copy is waited for. */
static int settle(int wfd, dev_t dev, ino_t ino, size_t len, int served, int *readers) {
  struct timespec t0, pause = {.tv_nsec = STEP_US * 1000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  holder_t r[HOLDERS_MAX];
  for (;;) {
    int queued = 0, n = readers_now(dev, ino, r), all = n > 0;
    if (ioctl(wfd, FIONREAD, &queued) != 0) queued = 0;
    for (int i = 0; all > 0 && i < n; i++) all = asleep_in_read(r[i].pid, r[i].fd, len);
    *readers = n;
    if (all < 0) return all;
    if (queued == 0 && all) return 1;
    if (n < 0 || (n == 0 && served > 0) || micros_since(&t0) >= SETTLE_US) return 0;
    nanosleep(&pause, NULL);
  }
}

/* Writes one whole copy (the pipe is empty, so up to its capacity goes at once), waiting at most timeout_ms: 0, or
 * -errno. *written grows by what went out. */
static int write_copy(int wfd, const unsigned char *buf, size_t len, int timeout_ms, size_t *written) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  size_t off = 0;
  int r = 0;
  while (off < len && r == 0) {
    ssize_t n = write(wfd, buf + off, len - off);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      r = -errno;
      break;
    }
    int left = timeout_ms - (int)(micros_since(&t0) / 1000);
    /* The environment's end gives up. */
    struct pollfd p[2] = {{.fd = wfd, .events = POLLOUT}, {.fd = life_cancel_fd(), .events = POLLIN}};
    if (left <= 0 || poll(p, 2, left) == 0 || p[1].revents) r = -ETIMEDOUT;
  }
  *written += off;
  return r;
}

/* The copies, on a write end already non-blocking: 0, or -errno (EMSGSIZE: withheld, see below). */
static int share_copies(const reader_pipe_t *pipe, const unsigned char *buf, size_t len, int max_copies,
                        size_t *written, int *copies, int *seen) {
  int wfd = pipe->fd;
  dev_t dev = pipe->dev;
  ino_t ino = (ino_t)pipe->inode;
  int readers = 0, r = 0;
  *seen = 0;
  *copies = 0;
  *written = 0;
  /* Readers woken together from open() install their fds one by one: let them all finish first. */
  holder_t all[HOLDERS_MAX];
  fifo_holders_settle(dev, ino, getpid(), all, HOLDERS_MAX, SETTLE_US / 10);
  /* Each round hands one copy to one sleeping reader; a reader that took its copy sleeps again, and one that
   * closed drops out of the count, so the round in which nobody is left without a copy is the last. A decided
   * read caps the copies at the readers JS allowed: a process that joins the pipe later gets none. */
  for (int served = 0; (served == 0 || served < readers) && (max_copies == 0 || served < max_copies); served++) {
    /* A copy goes out only when it cannot be spliced: every reader asleep in read() with room for all of it. A
     * reader alone on the pipe cannot be spliced with anyone, and gets its copy however it reads. Otherwise the
     * readers still waiting get EOF: one whole copy or nothing, never pieces (EMSGSIZE: withheld, reported). */
    int settled = settle(wfd, dev, ino, len, served, &readers);
    if (readers > *seen) *seen = readers;
    if (settled <= 0 && !(served == 0 && readers <= 1)) {
      if (served == 0) r = -EMSGSIZE;
      break;
    }
    r = write_copy(wfd, buf, len, pipe->timeout_ms, written);
    if (r != 0) break;
    (*copies)++;
  }
  /* The close wakes every reader at once, and whichever runs first would take a copy still in the pipe: the last
   * copy is left to be read before the close. */
  struct timespec t0, pause = {.tv_nsec = STEP_US * 1000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int queued = 1; r == 0 && micros_since(&t0) < SETTLE_US; nanosleep(&pause, NULL))
    if (ioctl(wfd, FIONREAD, &queued) != 0 || queued == 0) break;
  return r;
}
#else
static int share_copies(const reader_pipe_t *pipe, const unsigned char *buf, size_t len, int max_copies,
                        size_t *written, int *copies, int *seen) {
  (void)max_copies;
  *seen = 0;
  ssize_t n = write(pipe->fd, buf, len);
  *written = n > 0 ? (size_t)n : 0;
  *copies = n > 0;
  return n < 0 ? -errno : 0;
}
#endif

typedef struct {
  reader_pipe_t pipe;
  int locked, done_type, max_copies;
  unsigned char *buf;
  size_t len;
} share_t;

static void *share_main(void *arg) {
  share_t *s = arg;
  size_t written = 0;
  int copies = 0, seen = 0;
  int r = share_copies(&s->pipe, s->buf, s->len, s->max_copies, &written, &copies, &seen);
  free_secret(s->buf, s->len, s->locked);
  writer_done(&s->pipe, r, s->done_type, written, copies, seen);
  free(s);
  return NULL;
}

int share_spawn(const reader_pipe_t *pipe, const unsigned char *buf, size_t len, int max_copies, int done_type) {
  /* Non-blocking before anything is taken over: a reader that never reads must not hold the thread past its
   * deadline. F_SETFL ignores the access mode; the fd has no other status flags. */
  if (fcntl(pipe->fd, F_SETFL, O_NONBLOCK) != 0) return -errno;
  share_t *s = calloc(1, sizeof *s);
  if (s == NULL) return -ENOMEM;
  *s = (share_t){.pipe = *pipe, .done_type = done_type, .max_copies = max_copies, .len = len};
  s->pipe.probe_fd = -1;
  s->buf = copy_secret(buf, len, &s->locked);
  int r = len > 0 && s->buf == NULL ? -ENOMEM : 0;
  if (r == 0) r = pipe_thread_start(&s->pipe, pipe, share_main, s);
  if (r == 0) return 0;
  if (s->pipe.probe_fd >= 0) close(s->pipe.probe_fd);
  free_secret(s->buf, s->len, s->locked);
  free(s);
  return r;
}
