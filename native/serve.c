/* Serving one reader: secret buffers, one non-blocking write, a deadline-bound writer thread for the rest, and the
 * events that report each serve to JS through a thread-safe function. */
#define _GNU_SOURCE
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "event.h"
#include "lifetime.h"

void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

void free_secret(unsigned char *buf, size_t len, int locked) {
  if (buf == NULL) return;
  wipe(buf, len);
  if (locked) munlock(buf, len);
  free(buf);
}

unsigned char *copy_secret(const void *src, size_t len, int *locked) {
  *locked = 0;
  if (len == 0) return NULL;
  unsigned char *buf = malloc(len);
  if (buf == NULL) return NULL;
  memcpy(buf, src, len);
  *locked = mlock(buf, len) == 0;
  return buf;
}

double micros_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e6 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e3;
}

void proc_fd_path(char out[32], int fd) {
  static const char prefix[] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  unsigned v = fd < 0 ? 0 : (unsigned)fd;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  memcpy(out, prefix, sizeof prefix - 1);
  for (int i = 0; i < n; i++) out[sizeof prefix - 1 + i] = digits[n - 1 - i];
  out[sizeof prefix - 1 + n] = '\0';
}

int open_inode(int handle, const char *path, int flags) {
#ifdef O_PATH
  char proc[32];
  (void)path;
  proc_fd_path(proc, handle);
  int fd = open(proc, flags | O_CLOEXEC);
#else
  (void)handle;
  int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
#endif
  return fd >= 0 ? fd : -errno;
}

/* A reader that resolved the path to the old inode just before the swap, and reached open() after we closed, would
 * wait forever for a writer. Opening and closing a writer on the old inode releases it with EOF (never a second
 * copy: nothing is written), and is harmless to the reader that was served. */
void release_late_readers(int old_handle, const char *path) {
  int fd = open_inode(old_handle, path, O_WRONLY | O_NONBLOCK);
  if (fd >= 0) close(fd);
}

typedef struct {
  reader_pipe_t pipe;
  int locked, done_type;
  unsigned char *buf;
  size_t len, already;
} slow_t;

static void *slow_main(void *arg) {
  slow_t *s = arg;
  size_t off = 0;
  int r = 0;
  while (off < s->len) {
    int left = s->pipe.timeout_ms - (int)(micros_since(&s->pipe.start) / 1000);
    if (left <= 0) {
      r = -ETIMEDOUT;
      break;
    }
    /* The environment's end (lifetime.c) cuts the deadline short. */
    struct pollfd p[2] = {{.fd = s->pipe.fd, .events = POLLOUT}, {.fd = life_cancel_fd(), .events = POLLIN}};
    int ready = poll(p, 2, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || p[1].revents) {
      r = ready == 0 || p[1].revents ? -ETIMEDOUT : -errno;
      break;
    }
    ssize_t n = write(s->pipe.fd, s->buf + off, s->len - off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      r = -errno;
      break;
    }
    off += (size_t)n;
  }
  free_secret(s->buf, s->len, s->locked);
  writer_done(&s->pipe, r, s->done_type, s->already + off, 0, 0);
  free(s);
  return NULL;
}

void writer_done(const reader_pipe_t *pipe, int r, int done_type, uint64_t bytes, int copies, int readers) {
  close(pipe->fd);
  if (pipe->probe_fd >= 0) {
    release_late_readers(pipe->probe_fd, NULL);
    close(pipe->probe_fd);
  }
  emit_write(pipe->tsfn, r, done_type, bytes, pipe->inode, micros_since(&pipe->start), copies, readers);
  napi_release_threadsafe_function(pipe->tsfn, napi_tsfn_release);
}

/* A writer thread takes over the write end and the `len` bytes left (`already` went out): 0, or -errno with
 * nothing taken over. */
static int hand_over(const reader_pipe_t *pipe, const unsigned char *rest, size_t len, size_t already, int done_type) {
  slow_t *s = calloc(1, sizeof *s);
  if (s == NULL) return -ENOMEM;
  *s = (slow_t){.pipe = *pipe, .done_type = done_type, .len = len, .already = already};
  s->pipe.probe_fd = -1;
  s->buf = copy_secret(rest, len, &s->locked);
  int r = s->buf != NULL ? 0 : -ENOMEM;
  if (r == 0) r = pipe_thread_start(&s->pipe, pipe, slow_main, s);
  if (r == 0) return 0;
  if (s->pipe.probe_fd >= 0) close(s->pipe.probe_fd);
  free_secret(s->buf, s->len, s->locked);
  free(s);
  return r;
}

int pipe_thread_start(reader_pipe_t *own, const reader_pipe_t *from, void *(*fn)(void *), void *arg) {
  own->probe_fd = -1;
  if (from->probe_fd >= 0) {
    own->probe_fd = fcntl(from->probe_fd, F_DUPFD_CLOEXEC, 0);
    if (own->probe_fd < 0) return -errno;
  }
  napi_acquire_threadsafe_function(from->tsfn);
  int r = spawn_thread(fn, arg);
  if (r != 0) napi_release_threadsafe_function(from->tsfn, napi_tsfn_release);
  return r;
}

int write_or_hand_over(const reader_pipe_t *pipe, const unsigned char *buf, size_t len, size_t already,
                       int done_type, size_t *written) {
  *written = already;
  /* Content that fits a fresh pipe's smallest buffer (one page, even for a user over pipe-user-pages-soft) cannot
   * block in its first write: one fcntl a read saved. Larger content, or the rest after bytes already in the pipe,
   * is never written blocking: a reader that does not read would hold this thread. F_SETFL ignores the access
   * mode; the fd has no other status flags. */
  int r = (len <= 4096 && already == 0) || already == len || fcntl(pipe->fd, F_SETFL, O_NONBLOCK) == 0 ? 0 : -errno;
  if (r == 0 && len > already) {
    ssize_t n = write(pipe->fd, buf + already, len - already);
    if (n < 0 && errno != EAGAIN) r = -errno;
    *written = already + (n > 0 ? (size_t)n : 0);
  }
  if (r == 0 && *written < len) {
    r = hand_over(pipe, buf + *written, len - *written, *written, done_type);
    if (r == 0) return 1;
  }
  close(pipe->fd);
  return r;
}
