/*
 * The FIFO mount engine: one small native thread per mount.
 *
 * The thread blocks in open(O_WRONLY) on the FIFO until a reader arrives (no libuv pool thread, no CPU while idle),
 * swaps a fresh FIFO in at the path (so every later reader gets its own pipe), writes the rendered content handed
 * down from JS in one non-blocking write, closes, releases anyone who reached the old inode in the swap window, and
 * reports the serve to JS through a thread-safe function. Content that does not fit the pipe buffer at once is
 * handed to a short-lived writer thread with a deadline, so a reader that never reads stalls nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"

#define THREAD_STACK (64 * 1024)

enum { EV_SERVED, EV_CLOSED_EARLY, EV_TIMEOUT, EV_ERROR, EV_DISPLACED, EV_STOPPED };
static const char *EV_NAMES[] = {"served", "closed-early", "timeout", "error", "displaced", "stopped"};

typedef struct {
  int type;
  int err;
  const char *syscall;
  uint64_t bytes;
  uint64_t inode;
  double micros;
} event_t;

typedef struct mount {
  char *path;
  char *temp; /* the rotation name beside the path; used by this mount's thread alone */
  int write_timeout_ms;
  /* `lock` guards the fields below: the JS thread replaces content and cancels, the mount thread reads them. */
  pthread_mutex_t lock;
  unsigned char *content;
  size_t content_len;
  int content_locked;
  int cancelled;
  int wait_fd;   /* O_PATH handle of the inode the thread waits on, -1 while not waiting */
  int cancel_fd; /* read end opened by stop() to complete a pending open(); closed by the thread */
  uint64_t inode;
  napi_threadsafe_function tsfn;
  int refs; /* main thread only: the JS handle and the thread-safe function each hold one */
} mount_t;

typedef struct {
  napi_threadsafe_function tsfn;
  int fd, probe_fd, timeout_ms;
  unsigned char *buf;
  size_t len, already;
  int locked;
  uint64_t inode;
  struct timespec start;
} slow_t;

static void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

static void free_secret(unsigned char *buf, size_t len, int locked) {
  if (buf == NULL) return;
  wipe(buf, len);
  if (locked) munlock(buf, len);
  free(buf);
}

/* Copies bytes into fresh memory, locked in RAM when RLIMIT_MEMLOCK allows. */
static unsigned char *copy_secret(const void *src, size_t len, int *locked) {
  *locked = 0;
  if (len == 0) return NULL;
  unsigned char *buf = malloc(len);
  if (buf == NULL) return NULL;
  memcpy(buf, src, len);
  *locked = mlock(buf, len) == 0;
  return buf;
}

static double micros_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e6 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e3;
}

static void emit(napi_threadsafe_function tsfn, int type, int err, const char *syscall, uint64_t bytes,
                 uint64_t inode, double micros) {
  event_t *ev = malloc(sizeof *ev);
  if (ev == NULL) return;
  *ev = (event_t){type, err, syscall, bytes, inode, micros};
  if (napi_call_threadsafe_function(tsfn, ev, napi_tsfn_nonblocking) != napi_ok) free(ev);
}

static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  event_t *ev = data;
  if (env != NULL && callback != NULL) {
    napi_value obj, v, undef;
    if (napi_create_object(env, &obj) == napi_ok) {
      napi_create_string_utf8(env, EV_NAMES[ev->type], NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, obj, "type", v);
      napi_create_double(env, (double)ev->bytes, &v);
      napi_set_named_property(env, obj, "bytes", v);
      napi_create_double(env, (double)ev->inode, &v);
      napi_set_named_property(env, obj, "inode", v);
      napi_create_double(env, ev->micros, &v);
      napi_set_named_property(env, obj, "micros", v);
      if (ev->err != 0) {
        napi_create_string_utf8(env, errno_name(ev->err), NAPI_AUTO_LENGTH, &v);
        napi_set_named_property(env, obj, "code", v);
        napi_create_string_utf8(env, ev->syscall, NAPI_AUTO_LENGTH, &v);
        napi_set_named_property(env, obj, "syscall", v);
      }
      napi_get_undefined(env, &undef);
      napi_call_function(env, undef, callback, 1, &obj, NULL);
    }
  }
  free(ev);
}

static void free_mount(mount_t *m) {
  free_secret(m->content, m->content_len, m->content_locked);
  pthread_mutex_destroy(&m->lock);
  free(m->path);
  free(m->temp);
  free(m);
}

static void release_ref(mount_t *m) {
  if (--m->refs == 0) free_mount(m);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release_ref(data);
}

static void handle_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release_ref(data);
}

/* Opens the inode behind an O_PATH handle (Linux) or, elsewhere, the path itself. */
static int open_inode(int handle, const char *path, int flags) {
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

/* A handle on the inode at a path that neither reads nor writes it. Without O_PATH (macOS) the handle is a
 * placeholder and the path is used instead; handle_stat() tells what it refers to either way. */
static int open_handle(const char *path) {
#ifdef O_PATH
  return open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
#else
  struct stat st;
  if (lstat(path, &st) != 0) return -1;
  return open("/dev/null", O_RDONLY | O_CLOEXEC);
#endif
}

static int handle_stat(int handle, const char *path, struct stat *st) {
#ifdef O_PATH
  (void)path;
  return fstat(handle, st);
#else
  (void)handle;
  return lstat(path, st);
#endif
}

/* A reader that resolved the path to the old inode just before the swap, and reached open() after we closed, would
 * wait forever for a writer. Opening and closing a writer on the old inode releases it with EOF (never a second
 * copy: nothing is written), and is harmless to the reader that was served. */
static void release_late_readers(int old_handle, const char *path) {
  int fd = open_inode(old_handle, path, O_WRONLY | O_NONBLOCK);
  if (fd >= 0) close(fd);
}

/* Puts a fresh FIFO at the path in one atomic exchange, verifies that what came out is the inode just served
 * (never a file the user put there meanwhile: that is swapped straight back), and returns an O_PATH handle on the
 * new inode, or -1 with errno (EEXIST: the path holds something that is not ours). */
static int rotate(mount_t *m, const struct stat *served) {
  struct stat st;
  if (mkfifo(m->temp, 0600) != 0) {
    /* Taken: a leftover FIFO of a killed daemon is removed; anything else is not ours to touch. */
    if (errno != EEXIST || lstat(m->temp, &st) != 0) return -1;
    if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) return errno = EEXIST, -1;
    unlink(m->temp);
    if (mkfifo(m->temp, 0600) != 0) return -1;
  }
  int fd = open_handle(m->temp);
  if (fd < 0 || handle_stat(fd, m->temp, &st) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(m->temp);
    return errno = e, -1;
  }
#ifdef RENAME_EXCHANGE
  if (renameat2(AT_FDCWD, m->temp, AT_FDCWD, m->path, RENAME_EXCHANGE) == 0) {
    struct stat out;
    if (lstat(m->temp, &out) == 0 && out.st_dev == served->st_dev && out.st_ino == served->st_ino) {
      unlink(m->temp);
    } else {
      renameat2(AT_FDCWD, m->temp, AT_FDCWD, m->path, RENAME_EXCHANGE); /* not ours: put it back untouched */
      unlink(m->temp);
      close(fd);
      return errno = EEXIST, -1;
    }
  } else if (errno == ENOENT || errno == EINVAL || errno == ENOSYS) {
#endif
    struct stat cur;
    int e = lstat(m->path, &cur) != 0                                        ? errno
            : (cur.st_dev != served->st_dev || cur.st_ino != served->st_ino) ? EEXIST
            : rename(m->temp, m->path) != 0                                  ? errno
                                                                             : 0;
    if (e != 0) {
      unlink(m->temp);
      close(fd);
      return errno = e, -1;
    }
#ifdef RENAME_EXCHANGE
  } else {
    int e = errno;
    unlink(m->temp);
    close(fd);
    return errno = e, -1;
  }
#endif
  pthread_mutex_lock(&m->lock);
  m->inode = (uint64_t)st.st_ino;
  pthread_mutex_unlock(&m->lock);
  return fd;
}

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
    struct pollfd p = {s->fd, POLLOUT, 0};
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      err = r == 0 ? ETIMEDOUT : errno;
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
  close(s->fd);
  if (s->probe_fd >= 0) {
    release_late_readers(s->probe_fd, NULL);
    close(s->probe_fd);
  }
  free_secret(s->buf, s->len, s->locked);
  int type = err == 0 ? EV_SERVED : err == EPIPE ? EV_CLOSED_EARLY : err == ETIMEDOUT ? EV_TIMEOUT : EV_ERROR;
  emit(s->tsfn, type, err == EPIPE ? 0 : err, "write", s->already + off, s->inode, micros_since(&s->start));
  napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
  free(s);
  return NULL;
}

static int spawn(void *(*fn)(void *), void *arg, int detached) {
  pthread_attr_t attr;
  pthread_t thread;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, THREAD_STACK);
  if (detached) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int r = pthread_create(&thread, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return r;
}

/* Writes the content once. Returns 1 when a slow writer took over the fd (it closes it and reports), else 0. */
static int serve(mount_t *m, int wfd, int old_handle, const struct timespec *t0) {
  fcntl(wfd, F_SETFL, O_NONBLOCK); /* F_SETFL ignores the access mode; the fd has no other status flags */
  pthread_mutex_lock(&m->lock);
  uint64_t inode = m->inode;
  size_t len = m->content_len;
  ssize_t n = len > 0 ? write(wfd, m->content, len) : 0;
  int err = n < 0 ? errno : 0;
  if (n < 0 && err == EAGAIN) n = 0, err = 0;
  if (err == 0 && (size_t)n < len) {
    slow_t *s = calloc(1, sizeof *s);
    if (s != NULL) {
      *s = (slow_t){m->tsfn, wfd, -1, m->write_timeout_ms, NULL, len - (size_t)n, (size_t)n, 0, inode, *t0};
      s->buf = copy_secret(m->content + n, s->len, &s->locked);
    }
    pthread_mutex_unlock(&m->lock);
    if (s != NULL && s->buf != NULL) {
      s->probe_fd = old_handle >= 0 ? dup(old_handle) : -1;
      napi_acquire_threadsafe_function(m->tsfn);
      if (spawn(slow_main, s, 1) == 0) return 1;
      napi_release_threadsafe_function(m->tsfn, napi_tsfn_release);
      if (s->probe_fd >= 0) close(s->probe_fd);
    }
    if (s != NULL) free_secret(s->buf, s->len, s->locked);
    free(s);
    close(wfd);
    emit(m->tsfn, EV_ERROR, ENOMEM, "pthread_create", (uint64_t)n, inode, micros_since(t0));
    return 0;
  }
  pthread_mutex_unlock(&m->lock);
  close(wfd);
  int type = err == 0 ? EV_SERVED : err == EPIPE ? EV_CLOSED_EARLY : EV_ERROR;
  emit(m->tsfn, type, err == EPIPE ? 0 : err, "write", n > 0 ? (uint64_t)n : 0, inode, micros_since(t0));
  return 0;
}

static void *mount_main(void *arg) {
  mount_t *m = arg;
  struct stat st;
  int handle = open_handle(m->path);
  if (handle < 0 || handle_stat(handle, m->path, &st) != 0 || !S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) {
    int e = handle < 0 ? errno : EEXIST;
    emit(m->tsfn, handle < 0 ? EV_ERROR : EV_DISPLACED, e, "open", 0, 0, 0);
    if (handle >= 0) close(handle);
    handle = -1;
  } else {
    pthread_mutex_lock(&m->lock);
    m->inode = (uint64_t)st.st_ino;
    pthread_mutex_unlock(&m->lock);
  }
  while (handle >= 0) {
    pthread_mutex_lock(&m->lock);
    int cancelled = m->cancelled;
    if (!cancelled) m->wait_fd = handle;
    pthread_mutex_unlock(&m->lock);
    if (cancelled) break;

    int wfd = open_inode(handle, m->path, O_WRONLY); /* blocks until a reader opens the FIFO */
    int open_err = errno;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&m->lock);
    m->wait_fd = -1;
    cancelled = m->cancelled;
    pthread_mutex_unlock(&m->lock);
    if (wfd < 0) {
      if (open_err == EINTR && !cancelled) continue;
      if (!cancelled) emit(m->tsfn, EV_ERROR, open_err, "open", 0, 0, 0);
      break;
    }
    if (cancelled) {
      close(wfd);
      break;
    }
    if (fstat(wfd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
      close(wfd);
      emit(m->tsfn, EV_DISPLACED, EEXIST, "fstat", 0, 0, 0);
      break;
    }
    int next = rotate(m, &st);
    int rotate_err = errno;
    serve(m, wfd, next >= 0 ? handle : -1, &t0);
    if (next < 0) {
      /* The served inode stays at the path (or the path is gone): stop rather than serve one pipe twice. */
      emit(m->tsfn, rotate_err == EEXIST ? EV_DISPLACED : EV_ERROR, rotate_err, "rename", 0, 0, 0);
      break;
    }
    release_late_readers(handle, m->path);
    close(handle);
    handle = next;
  }
  pthread_mutex_lock(&m->lock);
  if (m->cancel_fd >= 0) close(m->cancel_fd);
  m->cancel_fd = -1;
  uint64_t inode = m->inode;
  pthread_mutex_unlock(&m->lock);
  if (handle >= 0) close(handle);
  emit(m->tsfn, EV_STOPPED, 0, NULL, 0, inode, 0);
  napi_release_threadsafe_function(m->tsfn, napi_tsfn_release);
  return NULL;
}

static mount_t *get_mount(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    throw_arg(env, "handle must be a mount handle from mountStart");
    return NULL;
  }
  return data;
}

/* mountStart(path, tempPath, writeTimeoutMs, onEvent, content): handle. The path must already hold a FIFO of this
 * user. The first content is given here so that a reader already waiting on a reclaimed FIFO never gets less. */
napi_value em_mount_start(napi_env env, napi_callback_info info) {
  size_t argc = 5, len = 0;
  napi_value argv[5], name, handle;
  void *data = NULL;
  bool is_buffer = false;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype cb_type;
  int32_t timeout;
  if (argc < 5) return throw_arg(env, "mountStart(path, tempPath, writeTimeoutMs, onEvent, content) takes five arguments");
  if (napi_is_buffer(env, argv[4], &is_buffer) != napi_ok || !is_buffer) return throw_arg(env, "content must be a Buffer");
  NAPI_OK(napi_get_buffer_info(env, argv[4], &data, &len));
  if (napi_get_value_int32(env, argv[2], &timeout) != napi_ok || timeout < 1)
    return throw_arg(env, "writeTimeoutMs must be a positive integer");
  if (napi_typeof(env, argv[3], &cb_type) != napi_ok || cb_type != napi_function)
    return throw_arg(env, "onEvent must be a function");
  mount_t *m = calloc(1, sizeof *m);
  if (m == NULL) return throw_errno(env, ENOMEM, "calloc", NULL);
  m->wait_fd = m->cancel_fd = -1;
  m->write_timeout_ms = timeout;
  pthread_mutex_init(&m->lock, NULL);
  m->path = arg_string(env, argv[0], "path");
  m->temp = m->path ? arg_string(env, argv[1], "tempPath") : NULL;
  if (m->temp == NULL) {
    free_mount(m);
    return NULL;
  }
  m->content = copy_secret(data, len, &m->content_locked);
  m->content_len = m->content ? len : 0;
  napi_create_string_utf8(env, "envmount-mount", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, m, tsfn_finalize, m, call_js, &m->tsfn) !=
      napi_ok) {
    free_mount(m);
    return NULL;
  }
  m->refs = 2;
  napi_unref_threadsafe_function(env, m->tsfn); /* idle mounts do not keep the process alive */
  if (napi_create_external(env, m, handle_finalize, NULL, &handle) != napi_ok) {
    m->refs = 1;
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    return NULL;
  }
  int r = spawn(mount_main, m, 1);
  if (r != 0) {
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    return throw_errno(env, r, "pthread_create", m->path);
  }
  return handle;
}

/* mountSetContent(handle, buffer): { locked } — copies the bytes (the caller zeroes its own buffer) and wipes the
 * previous content. */
napi_value em_mount_set_content(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2], result, flag;
  void *data = NULL;
  bool is_buffer = false;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_arg(env, "mountSetContent(handle, buffer) takes two arguments");
  mount_t *m = get_mount(env, argv[0]);
  if (m == NULL) return NULL;
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer) return throw_arg(env, "content must be a Buffer");
  NAPI_OK(napi_get_buffer_info(env, argv[1], &data, &len));
  int locked = 0;
  unsigned char *copy = copy_secret(data, len, &locked);
  if (len > 0 && copy == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  pthread_mutex_lock(&m->lock);
  unsigned char *old = m->content;
  size_t old_len = m->content_len;
  int old_locked = m->content_locked;
  m->content = copy;
  m->content_len = len;
  m->content_locked = locked;
  pthread_mutex_unlock(&m->lock);
  free_secret(old, old_len, old_locked);
  NAPI_OK(napi_create_object(env, &result));
  napi_get_boolean(env, len == 0 || locked, &flag);
  napi_set_named_property(env, result, "locked", flag);
  return result;
}

/* mountStop(handle): asks the thread to end; a "stopped" event follows. Idempotent. */
napi_value em_mount_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], undef;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "mountStop(handle) takes one argument");
  mount_t *m = get_mount(env, argv[0]);
  if (m == NULL) return NULL;
  pthread_mutex_lock(&m->lock);
  if (!m->cancelled) {
    m->cancelled = 1;
    /* Become the reader ourselves so the pending open() returns; the thread closes this fd as it exits. */
    if (m->wait_fd >= 0) m->cancel_fd = open_inode(m->wait_fd, m->path, O_RDONLY | O_NONBLOCK);
  }
  pthread_mutex_unlock(&m->lock);
  napi_get_undefined(env, &undef);
  return undef;
}
