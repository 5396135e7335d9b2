/*
 * The FIFO mount engine: one small native thread per mount.
 *
 * The thread blocks in open(O_WRONLY) on the FIFO until a reader arrives (no libuv pool thread, no CPU while idle),
 * swaps a fresh FIFO in at the path (so every later reader gets its own pipe), writes the rendered content handed
 * down from JS in one non-blocking write, closes, releases anyone who reached the old inode in the swap window, and
 * reports the serve to JS through a thread-safe function. Content that does not fit the pipe buffer at once is
 * handed to a short-lived writer thread with a deadline, so a reader that never reads stalls nothing. When the
 * mount's policy needs a decision, the reader is identified and handed to JS as a ticket instead (ticket.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include "holders.h"
#include "serve.h"
#include "watch.h"

/* How long to wait for readers woken together from a queue to finish their open(). */
#define SETTLE_DEADLINE_US 50000

ticket_t *ticket_new(int wfd, int probe_fd, int timeout_ms, uint64_t inode, dev_t dev, const struct timespec *start,
                     napi_threadsafe_function tsfn);

typedef struct mount {
  char *path;
  char *temp; /* the rotation name beside the path; used by this mount's thread alone */
  /* An O_PATH handle on the directory and the file's name in it: the healer's look resolves one name, not the whole
   * path (several times cheaper on overlay filesystems). Main thread only; -1 where unavailable. */
  int dir_fd;
  const char *base;
  int write_timeout_ms;
  /* `lock` guards the fields below: the JS thread replaces content and cancels, the mount thread reads them. */
  pthread_mutex_t lock;
  unsigned char *content;
  size_t content_len;
  int content_locked;
  int cancelled;
  int decide;    /* 1: every reader goes to JS for a policy decision (a ticket); 0: serve `content` at once */
  int wait_fd;   /* O_PATH handle of the inode the thread waits on, -1 while not waiting */
  int cancel_fd; /* read end opened by stop() to complete a pending open(); closed by the thread */
  uint64_t inode;
  /* The mtime every FIFO at the path carries (the first one's): set on each new FIFO before it is swapped in, with
   * atime "now", so that watchers comparing mtime (chokidar, watchpack) see no change when a read rotates the inode. */
  struct timespec mtime;
  napi_threadsafe_function tsfn;
  int refs; /* main thread only: the JS handle and the thread-safe function each hold one */
} mount_t;


static void free_mount(mount_t *m) {
  free_secret(m->content, m->content_len, m->content_locked);
  pthread_mutex_destroy(&m->lock);
  free(m->path);
  free(m->temp);
  if (m->dir_fd >= 0) close(m->dir_fd);
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

#ifdef __APPLE__
#define ST_MTIM(st) ((st).st_mtimespec)
#else
#define ST_MTIM(st) ((st).st_mtim)
#endif

/* Gives the FIFO at `path` the mount's pinned mtime and atime now (best effort: a watcher may see a change). */
static void pin_times(const mount_t *m, const char *path) {
  struct timespec times[2] = {{0, UTIME_NOW}, m->mtime};
  utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
}

static void restore_inode(mount_t *m, uint64_t inode) {
  pthread_mutex_lock(&m->lock);
  m->inode = inode;
  pthread_mutex_unlock(&m->lock);
}

/* Puts a fresh FIFO at the path in one atomic exchange and returns an O_PATH handle on the new inode, or -1 with
 * errno (EEXIST: the path holds something that is not ours). What came out of the exchange is left at the rotation
 * name for rotation_check(), after the write: the reader waiting for its bytes does not wait for that check.
 * Sets *exchanged when a check is due. */
static int rotate(mount_t *m, const struct stat *served, int *exchanged) {
  *exchanged = 0;
  struct stat st;
  if (mkfifo(m->temp, 0600) != 0) {
    /* Taken: a leftover FIFO of a killed daemon is removed; anything else is not ours to touch. */
    if (errno != EEXIST || lstat(m->temp, &st) != 0) return -1;
    if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) return errno = EEXIST, -1;
    unlink(m->temp);
    if (mkfifo(m->temp, 0600) != 0) return -1;
  }
  pin_times(m, m->temp);
  int fd = open_handle(m->temp);
  if (fd < 0 || handle_stat(fd, m->temp, &st) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(m->temp);
    return errno = e, -1;
  }
  /* The new inode is recorded before it reaches the path: the watcher's look at the rename then finds what it
   * expects, and a read wakes nothing in JS. Put back if the exchange fails. */
  pthread_mutex_lock(&m->lock);
  uint64_t before = m->inode;
  m->inode = (uint64_t)st.st_ino;
  pthread_mutex_unlock(&m->lock);
#ifdef RENAME_EXCHANGE
  if (renameat2(AT_FDCWD, m->temp, AT_FDCWD, m->path, RENAME_EXCHANGE) == 0) {
    *exchanged = 1;
  } else if (errno == ENOENT || errno == EINVAL || errno == ENOSYS) {
#endif
    struct stat cur;
    int e = lstat(m->path, &cur) != 0                                        ? errno
            : (cur.st_dev != served->st_dev || cur.st_ino != served->st_ino) ? EEXIST
            : rename(m->temp, m->path) != 0                                  ? errno
                                                                             : 0;
    if (e != 0) {
      restore_inode(m, before);
      unlink(m->temp);
      close(fd);
      return errno = e, -1;
    }
#ifdef RENAME_EXCHANGE
  } else {
    int e = errno;
    restore_inode(m, before);
    unlink(m->temp);
    close(fd);
    return errno = e, -1;
  }
#endif
  return fd;
}

/* After an exchange: what came out must be the inode just served (then it goes), never a file the user put there
 * in the meantime: that is swapped straight back, untouched, and readers who reached the new FIFO in that moment
 * are let go with EOF. 0, or EEXIST with `next` closed. */
static int rotation_check(mount_t *m, const struct stat *served, int next) {
  struct stat out;
  if (lstat(m->temp, &out) == 0 && out.st_dev == served->st_dev && out.st_ino == served->st_ino) {
    unlink(m->temp);
    return 0;
  }
#ifdef RENAME_EXCHANGE
  renameat2(AT_FDCWD, m->temp, AT_FDCWD, m->path, RENAME_EXCHANGE);
#endif
  release_late_readers(next, m->temp);
  unlink(m->temp);
  close(next);
  return EEXIST;
}

/* Writes the content once (policy "any": no decision needed). Readers that queued on the FIFO before this thread
 * first opened it (a pipe left by a daemon that died) share the pipe, and a thread gives each its own copy
 * (share.c); later, a reader already waiting when the thread comes back to open() is simply the next reader. */
static void serve(mount_t *m, int wfd, int old_handle, const struct stat *served, const struct timespec *t0,
                  int queued) {
  pthread_mutex_lock(&m->lock);
  uint64_t inode = m->inode;
  size_t written = 0;
  int err = 0;
  if (queued && share_spawn(wfd, served->st_dev, served->st_ino, m->content, m->content_len, old_handle, m->tsfn,
                            m->write_timeout_ms, EV_SERVED, t0) == 0) {
    pthread_mutex_unlock(&m->lock);
    return;
  }
  int type = write_or_hand_over(wfd, m->content, m->content_len, old_handle, m->tsfn, m->write_timeout_ms, EV_SERVED,
                                inode, t0, &written, &err);
  pthread_mutex_unlock(&m->lock);
  if (type != -1) emit(m->tsfn, type, err == EPIPE ? 0 : err, "write", written, inode, micros_since(t0));
}

/* Policy needs a decision: identify who holds the served pipe, hand the open write end to JS as a ticket. */
static void hand_off(mount_t *m, int wfd, int old_handle, const struct stat *served, const struct timespec *t0,
                     int queued) {
  event_t *ev = calloc(1, sizeof *ev);
  holder_t *holders = malloc(sizeof(holder_t) * HOLDERS_MAX);
  ticket_t *ticket = ev && holders ? ticket_new(wfd, old_handle >= 0 ? dup(old_handle) : -1, m->write_timeout_ms,
                                                (uint64_t)served->st_ino, served->st_dev, t0, m->tsfn)
                                   : NULL;
  if (ticket == NULL) {
    free(ev);
    free(holders);
    close(wfd);
    emit(m->tsfn, EV_ERROR, ENOMEM, "malloc", 0, (uint64_t)served->st_ino, micros_since(t0));
    return;
  }
  /* One reader at a fresh FIFO: no scan here. JS scans once when it takes the ticket (ticketHolders), later than
   * any scan here could, so it also sees a second reader released on the same pipe; a /proc scan is the costliest
   * part of a decided read (about 0.8 ms with 70 processes). Readers that queued on a reclaimed FIFO were woken
   * together: they are waited for and listed here. */
  int n = queued ? fifo_holders_settle(served->st_dev, served->st_ino, getpid(), holders, HOLDERS_MAX, SETTLE_DEADLINE_US)
                 : 0;
  *ev = (event_t){EV_READER, n < 0 ? errno : 0, "fifo_holders", 0, (uint64_t)served->st_ino, micros_since(t0),
                  holders, n < 0 ? 0 : n, ticket, 0};
  emit_event(m->tsfn, ev);
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
    m->mtime = ST_MTIM(st);
    pin_times(m, m->path);
  }
  /* Only the first open can find readers that waited for a daemon to come back (a reclaimed FIFO). */
  int first = 1;
  while (handle >= 0) {
    pthread_mutex_lock(&m->lock);
    int cancelled = m->cancelled;
    if (!cancelled) m->wait_fd = handle;
    pthread_mutex_unlock(&m->lock);
    if (cancelled) break;

    /* Readers already waiting (queued while no writer was there: a reclaimed FIFO) make a non-blocking open
     * succeed at once; they are woken together and need a more careful identification. Otherwise block until one
     * comes. */
    int wfd = open_inode(handle, m->path, O_WRONLY | O_NONBLOCK);
    int queued = wfd >= 0;
    if (wfd < 0 && errno == ENXIO) wfd = open_inode(handle, m->path, O_WRONLY);
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
    int exchanged = 0;
    int next = rotate(m, &st, &exchanged);
    int rotate_err = errno;
    pthread_mutex_lock(&m->lock);
    int decide = m->decide;
    pthread_mutex_unlock(&m->lock);
    if (decide)
      hand_off(m, wfd, next >= 0 ? handle : -1, &st, &t0, queued && first);
    else
      serve(m, wfd, next >= 0 ? handle : -1, &st, &t0, queued && first);
    first = 0;
    if (exchanged && rotation_check(m, &st, next) != 0) next = -1, rotate_err = EEXIST;
    if (next < 0) {
      /* The served inode stays at the path (or the path is gone): stop rather than serve one pipe twice. */
      emit(m->tsfn, rotate_err == EEXIST ? EV_DISPLACED : EV_ERROR, rotate_err, "rename", 0, 0, 0);
      break;
    }
    /* A ticket still holds the write end: it probes the old inode itself when it is finished. */
    if (!decide) release_late_readers(handle, m->path);
    close(handle);
    handle = next;
  }
  pthread_mutex_lock(&m->lock);
  if (m->cancel_fd >= 0) close(m->cancel_fd);
  m->cancel_fd = -1;
  uint64_t inode = m->inode;
  pthread_mutex_unlock(&m->lock);
  if (handle >= 0) close(handle);
  watch_remove(m); /* before the release below: the watcher calls this thread-safe function */
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

/* The arguments of a call whose first argument is a mount handle: fills argv[0..want), returns the mount, or NULL
 * with a TypeError naming `usage` (too few arguments, or not a handle). */
static mount_t *mount_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < want) {
    throw_arg(env, usage);
    return NULL;
  }
  return get_mount(env, argv[0]);
}

/* mountStart(path, tempPath, writeTimeoutMs, onEvent, content, decide): handle. The path must already hold a FIFO
 * of this user. The first content and mode are given here so that a reader already waiting on a reclaimed FIFO is
 * handled as the policy says from the first byte. */
napi_value em_mount_start(napi_env env, napi_callback_info info) {
  size_t argc = 6, len = 0;
  bool decide = false;
  napi_value argv[6], name, handle;
  void *data = NULL;
  bool is_buffer = false;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype cb_type;
  int32_t timeout;
  if (argc < 6) return throw_arg(env, "mountStart(path, tempPath, writeTimeoutMs, onEvent, content, decide) takes six arguments");
  if (napi_get_value_bool(env, argv[5], &decide) != napi_ok) return throw_arg(env, "decide must be a boolean");
  if (napi_is_buffer(env, argv[4], &is_buffer) != napi_ok || !is_buffer) return throw_arg(env, "content must be a Buffer");
  NAPI_OK(napi_get_buffer_info(env, argv[4], &data, &len));
  if (napi_get_value_int32(env, argv[2], &timeout) != napi_ok || timeout < 1)
    return throw_arg(env, "writeTimeoutMs must be a positive integer");
  if (napi_typeof(env, argv[3], &cb_type) != napi_ok || cb_type != napi_function)
    return throw_arg(env, "onEvent must be a function");
  mount_t *m = calloc(1, sizeof *m);
  if (m == NULL) return throw_errno(env, ENOMEM, "calloc", NULL);
  m->wait_fd = m->cancel_fd = m->dir_fd = -1;
  m->write_timeout_ms = timeout;
  m->decide = decide;
  pthread_mutex_init(&m->lock, NULL);
  m->path = arg_string(env, argv[0], "path");
  m->temp = m->path ? arg_string(env, argv[1], "tempPath") : NULL;
  if (m->temp == NULL) {
    free_mount(m);
    return NULL;
  }
  char *slash = strrchr(m->path, '/');
  if (slash != NULL && slash != m->path) {
    *slash = '\0';
#ifdef O_PATH
    m->dir_fd = open(m->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
#endif
    *slash = '/';
    m->base = slash + 1;
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
  /* Watched before the thread starts: the thread's exit unwatches, and must find it there. Without a watch (no
   * inotify, no directory handle, too many watches) the healer's timer still looks at the mount. */
  if (m->dir_fd >= 0) {
    char dir[48];
    snprintf(dir, sizeof dir, "/proc/self/fd/%d", m->dir_fd);
    watch_add(dir, m->base, m);
  }
  int r = spawn_thread(mount_main, m);
  if (r != 0) {
    watch_remove(m);
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    return throw_errno(env, r, "pthread_create", m->path);
  }
  return handle;
}

/* mountSetContent(handle, buffer): { locked } — copies the bytes (the caller zeroes its own buffer) and wipes the
 * previous content. */
napi_value em_mount_set_content(napi_env env, napi_callback_info info) {
  size_t len = 0;
  napi_value argv[2], result, flag;
  void *data = NULL;
  bool is_buffer = false;
  mount_t *m = mount_call(env, info, 2, argv, "mountSetContent(handle, buffer) takes two arguments");
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
  napi_value argv[1], undef;
  mount_t *m = mount_call(env, info, 1, argv, "mountStop(handle) takes one argument");
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

/* mountSetDecide(handle, decide: boolean): whether readers go to JS for a decision (tickets) or are served at once. */
napi_value em_mount_set_decide(napi_env env, napi_callback_info info) {
  napi_value argv[2], undef;
  bool decide = false;
  mount_t *m = mount_call(env, info, 2, argv, "mountSetDecide(handle, decide) takes two arguments");
  if (m == NULL) return NULL;
  if (napi_get_value_bool(env, argv[1], &decide) != napi_ok) return throw_arg(env, "decide must be a boolean");
  pthread_mutex_lock(&m->lock);
  m->decide = decide;
  pthread_mutex_unlock(&m->lock);
  napi_get_undefined(env, &undef);
  return undef;
}

/* What is at the mount's path now, against the inode the thread waits on: 0 that FIFO, 1 nothing, 2 another FIFO
 * of ours (a rotation in flight, or someone's), 3 a FIFO of another user, 4 a regular file, 5 a symlink,
 * 6 a directory, 7 anything else, -errno when lstat fails otherwise. */
static int look(mount_t *m) {
  struct stat st;
  /* Through the directory handle; if that directory was removed (or replaced) the name is gone from it: ENOENT, and
   * the caller looks at the paths themselves. */
  int r = m->dir_fd >= 0 ? fstatat(m->dir_fd, m->base, &st, AT_SYMLINK_NOFOLLOW) : lstat(m->path, &st);
  if (r != 0) return errno == ENOENT || errno == ENOTDIR ? 1 : -errno;
  if (!S_ISFIFO(st.st_mode)) return S_ISREG(st.st_mode) ? 4 : S_ISLNK(st.st_mode) ? 5 : S_ISDIR(st.st_mode) ? 6 : 7;
  pthread_mutex_lock(&m->lock);
  uint64_t inode = m->inode;
  pthread_mutex_unlock(&m->lock);
  return st.st_uid != geteuid() ? 3 : (uint64_t)st.st_ino == inode ? 0 : 2;
}

/* Worth telling JS: the path holds anything but the mount's FIFO, except another FIFO of ours (2), which is what
 * a rotation in flight looks like (the healer's timer still looks at that case, twice, before acting). */
int watch_look(void *mount) {
  int code = look(mount);
  return code != 0 && code != 2;
}

void watch_notify(void *mount) {
  mount_t *m = mount;
  emit(m->tsfn, EV_LOOK, 0, NULL, 0, 0, 0);
}

/* watchAvailable(): whether mounts are watched (inotify) and the healer may look at them rarely. */
napi_value em_watch_available(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  NAPI_OK(napi_get_boolean(env, watch_available(), &result));
  return result;
}

/* mountsLook(handles: handle[]): Int32Array of look() codes, one per handle. One call for every mount: the healer
 * looks twice a second, and one lstat each in C is what that costs (no allocation per mount). */
napi_value em_mounts_look(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], buffer, result;
  bool is_array = false;
  uint32_t n = 0;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return throw_arg(env, "mountsLook(handles) takes an array of mount handles");
  NAPI_OK(napi_get_array_length(env, argv[0], &n));
  int32_t *codes = NULL;
  NAPI_OK(napi_create_arraybuffer(env, (size_t)n * sizeof(int32_t), (void **)&codes, &buffer));
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    NAPI_OK(napi_get_element(env, argv[0], i, &item));
    mount_t *m = get_mount(env, item);
    if (m == NULL) return NULL;
    codes[i] = look(m);
  }
  NAPI_OK(napi_create_typedarray(env, napi_int32_array, n, buffer, 0, &result));
  return result;
}

/* mountInode(handle): the inode of the FIFO the thread waits on (0 before it started). */
napi_value em_mount_inode(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  mount_t *m = mount_call(env, info, 1, argv, "mountInode(handle) takes one argument");
  if (m == NULL) return NULL;
  pthread_mutex_lock(&m->lock);
  double inode = (double)m->inode;
  pthread_mutex_unlock(&m->lock);
  NAPI_OK(napi_create_double(env, inode, &result));
  return result;
}

/* mountLocked(handle): whether the content now held is locked in RAM (mlock; RLIMIT_MEMLOCK may not allow it). */
napi_value em_mount_locked(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  mount_t *m = mount_call(env, info, 1, argv, "mountLocked(handle) takes one argument");
  if (m == NULL) return NULL;
  pthread_mutex_lock(&m->lock);
  bool locked = m->content_len == 0 || m->content_locked;
  pthread_mutex_unlock(&m->lock);
  NAPI_OK(napi_get_boolean(env, locked, &result));
  return result;
}
