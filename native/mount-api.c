/*
 * The mount engine's N-API surface: start, content, stop, decide mode, and the looks the healer takes. A mount's
 * lifetime is in mount-life.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "content-pipe.h"
#include "errors.h"
#include "lifetime.h"
#include "mount-life.h"
#include "mount.h"
#include "rotate.h"
#include "serve.h"
#include "watch.h"

/* Marks a mount's handle: any other external (a ticket) passed as a handle is refused, not read as a mount. */
static const napi_type_tag MOUNT_TAG = {.lower = 0x656e766d6f756e74ULL, .upper = 0x2d6d6f756e742d31ULL};

static mount_t *get_mount(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  bool tagged = false;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, &MOUNT_TAG, &tagged) != napi_ok || !tagged ||
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

/* mountStart(path, tempPath, writeTimeoutMs, onEvent, content, decide, strictDir): handle. The path must already
 * hold a FIFO of this user. tempPath is the prefix of the rotation names (a random suffix is added to each).
 * strictDir: look() reports the directory when other users can write it. The first content and mode are given here so that a reader already waiting on a reclaimed FIFO is
 * handled as the policy says from the first byte. */
napi_value em_mount_start(napi_env env, napi_callback_info info) {
  size_t argc = 7, len = 0;
  bool decide = false, strict_dir = true;
  napi_value argv[7], name, handle;
  void *data = NULL;
  bool is_buffer = false;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype cb_type;
  int32_t timeout;
  if (argc < 7)
    return throw_arg(env, "mountStart(path, tempPath, writeTimeoutMs, onEvent, content, decide, strictDir) takes seven arguments");
  if (napi_get_value_bool(env, argv[5], &decide) != napi_ok) return throw_arg(env, "decide must be a boolean");
  if (napi_get_value_bool(env, argv[6], &strict_dir) != napi_ok) return throw_arg(env, "strictDir must be a boolean");
  if (napi_is_buffer(env, argv[4], &is_buffer) != napi_ok || !is_buffer) return throw_arg(env, "content must be a Buffer");
  NAPI_OK(napi_get_buffer_info(env, argv[4], &data, &len));
  if (napi_get_value_int32(env, argv[2], &timeout) != napi_ok || timeout < 1)
    return throw_arg(env, "writeTimeoutMs must be a positive integer");
  if (napi_typeof(env, argv[3], &cb_type) != napi_ok || cb_type != napi_function)
    return throw_arg(env, "onEvent must be a function");
  mount_t *m = calloc(1, sizeof *m);
  if (m == NULL) return throw_errno(env, ENOMEM, "calloc", NULL);
  m->wait_fd = m->cancel_fd = m->dir_fd = m->spare = m->cpipe[0] = m->cpipe[1] = -1;
  m->content_gen = 1;
  m->write_timeout_ms = timeout;
  m->decide = decide;
  m->strict_dir = strict_dir;
  pthread_mutex_init(&m->lock, NULL);
  m->path = arg_string(env, argv[0], "path");
  m->temp = m->path ? arg_string(env, argv[1], "tempPath") : NULL;
  m->temp_size = m->temp ? strlen(m->temp) + 18 : 0;
  m->temp_now = m->temp ? calloc(1, m->temp_size) : NULL;
  if (m->temp_now == NULL) {
    if (m->temp != NULL) throw_errno(env, ENOMEM, "calloc", NULL);
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
  if (napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, m, tsfn_finalize, m, mount_call_js,
                                      &m->tsfn) != napi_ok) {
    free_mount(m);
    return NULL;
  }
  m->refs = 2;
  m->life = life_get(env);
  if (m->life) life_add_mount(m->life, &m->node);
  napi_unref_threadsafe_function(env, m->tsfn); /* idle mounts do not keep the process alive */
  if (napi_create_external(env, m, handle_finalize, NULL, &handle) != napi_ok ||
      napi_type_tag_object(env, handle, &MOUNT_TAG) != napi_ok) {
    m->refs = 1;
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    return NULL;
  }
  /* Watched before the thread starts: the thread's exit unwatches, and must find it there. Without a watch (no
   * inotify, no directory handle, too many watches) the healer's timer still looks at the mount. */
  if (m->dir_fd >= 0) watch_add(m->dir_fd, m->base, m);
  int r = spawn_service(mount_main, m, &m->thread);
  m->thread_live = r == 0;
  if (r < 0) {
    watch_remove(m);
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    return throw_errno(env, -r, "pthread_create", m->path);
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
  m->content_gen++;
  content_pipe_close(m); /* the pipe lets go of the previous values now (a reader not done keeps its own link) */
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
  mount_cancel(m);
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
    codes[i] = look_strict(m);
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


/* mountsSetPrivateGroup(gid): the group whose write bit on a mount directory is no other user's (-1: none). */
napi_value em_mounts_set_private_group(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t gid;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int64(env, argv[0], &gid) != napi_ok || gid < -1 || gid > 0xFFFFFFFELL)
    return throw_arg(env, "mountsSetPrivateGroup(gid) takes a group id or -1");
  private_gid = (long)gid;
  return NULL;
}

/* pathHasAcl(path): whether the directory at `path` has an extended POSIX access ACL (StrictModes, shared-dir.ts). */
napi_value em_path_has_acl(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "pathHasAcl(path) takes a path");
  char *path = arg_string(env, argv[0], "path");
  if (path == NULL) return NULL;
  int has = dir_has_acl(path);
  free(path);
  NAPI_OK(napi_get_boolean(env, has != 0, &result));
  return result;
}
