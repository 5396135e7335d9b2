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

#include "errors.h"

static const char *EV_NAMES[] = {"served",    "closed-early", "timeout", "error",
                                 "displaced", "stopped",      "reader",  "drained", "look", "foreign"};
static const char *MODE_NAMES[] = {"r", "w", "rw"};

napi_value ticket_external(napi_env env, ticket_t *ticket);

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

void emit_event(napi_threadsafe_function tsfn, event_t *ev) {
  if (napi_call_threadsafe_function(tsfn, ev, napi_tsfn_nonblocking) != napi_ok) {
    if (ev->ticket) ticket_discard(ev->ticket, 1);
    free(ev->holders);
    free(ev);
  }
}

void emit(napi_threadsafe_function tsfn, int type, int err, const char *syscall, uint64_t bytes, uint64_t inode,
          double micros) {
  event_t *ev = calloc(1, sizeof *ev);
  if (ev == NULL) return;
  *ev = (event_t){type, err, syscall, bytes, inode, micros, NULL, 0, NULL, 0, 0};
  emit_event(tsfn, ev);
}

static void set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

static void set_string(napi_env env, napi_value obj, const char *name, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, name, v);
}

void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  event_t *ev = data;
  napi_value obj, undef, list;
  if (env != NULL && callback != NULL && napi_create_object(env, &obj) == napi_ok) {
    set_string(env, obj, "type", EV_NAMES[ev->type]);
    set_number(env, obj, "bytes", (double)ev->bytes);
    set_number(env, obj, "inode", (double)ev->inode);
    set_number(env, obj, "micros", ev->micros);
    if (ev->readers > 0) {
      set_number(env, obj, "copies", ev->copies);
      set_number(env, obj, "readers", ev->readers);
    } else if (ev->copies > 0) {
      set_number(env, obj, "copies", ev->copies);
    }
    if (ev->err != 0) {
      set_string(env, obj, "code", errno_name(ev->err));
      set_string(env, obj, "syscall", ev->syscall);
    }
    if (ev->type == EV_READER) {
      napi_create_array_with_length(env, (size_t)ev->nholders, &list);
      for (int i = 0; i < ev->nholders; i++) {
        napi_value h;
        napi_create_object(env, &h);
        set_number(env, h, "pid", ev->holders[i].pid);
        set_number(env, h, "fd", ev->holders[i].fd);
        set_string(env, h, "mode", MODE_NAMES[ev->holders[i].mode]);
        napi_set_element(env, list, (uint32_t)i, h);
      }
      napi_set_named_property(env, obj, "holders", list);
      napi_set_named_property(env, obj, "ticket", ticket_external(env, ev->ticket));
    }
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, callback, 1, &obj, NULL);
  } else if (ev->ticket) {
    /* Dropped: the thread-safe function is being destroyed (env NULL), the reader must not wait for it. */
    ticket_discard(ev->ticket, 0);
  }
  free(ev->holders);
  free(ev);
}

int open_inode(int handle, const char *path, int flags) {
#ifdef O_PATH
  char proc[48];
  (void)path;
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", handle);
  return open(proc, flags | O_CLOEXEC);
#else
  (void)handle;
  return open(path, flags | O_CLOEXEC | O_NOFOLLOW);
#endif
}

/* A reader that resolved the path to the old inode just before the swap, and reached open() after we closed, would
 * wait forever for a writer. Opening and closing a writer on the old inode releases it with EOF (never a second
 * copy: nothing is written), and is harmless to the reader that was served. */
void release_late_readers(int old_handle, const char *path) {
  int fd = open_inode(old_handle, path, O_WRONLY | O_NONBLOCK);
  if (fd >= 0) close(fd);
}

typedef struct {
  napi_threadsafe_function tsfn;
  int fd, probe_fd, timeout_ms, locked, done_type;
  unsigned char *buf;
  size_t len, already;
  uint64_t inode;
  struct timespec start;
} slow_t;

static void *slow_main(void *arg) {
  slow_t *s = arg;
  size_t off = 0;
  int err = 0;
  while (off < s->len) {
    int left = s->timeout_ms - (int)(micros_since(&s->start) / 1000);
    if (left <= 0) {
      err = ETIMEDOUT;
      break;
    }
    /* The environment's end (lifetime.c) cuts the deadline short. */
    struct pollfd p[2] = {{s->fd, POLLOUT, 0}, {life_cancel_fd(), POLLIN, 0}};
    int r = poll(p, 2, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || p[1].revents) {
      err = r == 0 || p[1].revents ? ETIMEDOUT : errno;
      break;
    }
    ssize_t n = write(s->fd, s->buf + off, s->len - off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      err = errno;
      break;
    }
    off += (size_t)n;
  }
  free_secret(s->buf, s->len, s->locked);
  writer_done(s->tsfn, s->fd, s->probe_fd, err, s->done_type, s->already + off, s->inode, &s->start, 0, 0);
  free(s);
  return NULL;
}

void writer_done(napi_threadsafe_function tsfn, int fd, int probe_fd, int err, int done_type, uint64_t bytes,
                 uint64_t inode, const struct timespec *start, int copies, int readers) {
  close(fd);
  if (probe_fd >= 0) {
    release_late_readers(probe_fd, NULL);
    close(probe_fd);
  }
  /* EMSGSIZE: copies withheld from a shared pipe (share.c); reported as done, with the code. */
  int type = err == 0 || err == EMSGSIZE ? done_type
             : err == EPIPE             ? EV_CLOSED_EARLY
             : err == ETIMEDOUT         ? EV_TIMEOUT
                                        : EV_ERROR;
  event_t *ev = calloc(1, sizeof *ev);
  if (ev != NULL) {
    *ev = (event_t){type, err == EPIPE ? 0 : err, "write", bytes, inode, micros_since(start), NULL, 0, NULL, copies,
                    readers};
    emit_event(tsfn, ev);
  }
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
}

int write_or_hand_over(int fd, const unsigned char *buf, size_t len, int probe_fd, napi_threadsafe_function tsfn,
                       int timeout_ms, int done_type, uint64_t inode, const struct timespec *start, size_t *written,
                       int *err) {
  /* Content that fits a fresh pipe's smallest buffer (one page, even for a user over pipe-user-pages-soft) cannot
   * block in its first write: one fcntl a read saved. F_SETFL ignores the access mode; the fd has no other flags. */
  if (len > 4096) fcntl(fd, F_SETFL, O_NONBLOCK);
  ssize_t n = len > 0 ? write(fd, buf, len) : 0;
  *err = n < 0 ? errno : 0;
  if (n < 0 && *err == EAGAIN) n = 0, *err = 0;
  *written = n > 0 ? (size_t)n : 0;
  if (*err == 0 && (size_t)n < len) {
    slow_t *s = calloc(1, sizeof *s);
    if (s != NULL) {
      *s = (slow_t){tsfn, fd, -1, timeout_ms, 0, done_type, NULL, len - (size_t)n, (size_t)n, inode, *start};
      s->buf = copy_secret(buf + n, s->len, &s->locked);
      if (s->buf != NULL) {
        s->probe_fd = probe_fd >= 0 ? fcntl(probe_fd, F_DUPFD_CLOEXEC, 0) : -1;
        napi_acquire_threadsafe_function(tsfn);
        if (spawn_thread(slow_main, s) == 0) return -1;
        napi_release_threadsafe_function(tsfn, napi_tsfn_release);
        if (s->probe_fd >= 0) close(s->probe_fd);
      }
      free_secret(s->buf, s->len, s->locked);
      free(s);
    }
    *err = ENOMEM;
  }
  close(fd);
  return *err == 0 ? EV_SERVED : *err == EPIPE ? EV_CLOSED_EARLY : EV_ERROR;
}
