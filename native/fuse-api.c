/*
 * The FUSE backend's N-API surface: fuseMount, fuseSetContent, fuseSetDecide, fuseFinishOpen, fuseUnmount, and the
 * events a session thread sends to JS. The host side (support, detach, mountinfo) is fuse-host.c.
 */
#define _GNU_SOURCE
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "fuse-host.h"
#include "fuse-mount.h"
#include "fuse-session.h"
#include "fuse-ticket.h"

/* Marks a FUSE mount's handle: any other external passed as one is refused, not read as a FUSE mount. */
static const napi_type_tag FUSE_TAG = {.lower = 0x656e766d6f756e74ULL, .upper = 0x2d667573652d3031ULL};

static fuse_mount_t *fuse_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                               const char *usage) {
  size_t argc = want;
  void *data = NULL;
  bool tagged = false;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < want) return throw_arg(env, usage), NULL;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, argv[0], &FUSE_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL)
    return throw_arg(env, "handle must be a FUSE mount from fuseMount"), NULL;
  return data;
}

/* A Buffer argument, or NULL for null: 1 buffer, 0 null, -1 thrown. */
static int buffer_or_null(napi_env env, napi_value value, void **data, size_t *len) {
  napi_valuetype type;
  bool is_buffer = false;
  if (napi_typeof(env, value, &type) == napi_ok && type == napi_null) return 0;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return throw_arg(env, "content must be a Buffer or null"), -1;
  return napi_get_buffer_info(env, value, data, len) == napi_ok ? 1 : -1;
}

/* fuseMount(path, { decide }, onEvent): mounts on the regular file at `path` and starts its session thread. */
napi_value em_fuse_mount(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], name, handle, flag;
  napi_valuetype type;
  bool decide = false, background = false;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_arg(env, "fuseMount(path, options, onEvent) takes three arguments");
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_object ||
      napi_get_named_property(env, argv[1], "decide", &flag) != napi_ok ||
      napi_get_value_bool(env, flag, &decide) != napi_ok)
    return throw_arg(env, "options.decide must be a boolean");
  if (napi_get_named_property(env, argv[1], "background", &flag) != napi_ok ||
      (napi_typeof(env, flag, &type) == napi_ok && type != napi_undefined &&
       napi_get_value_bool(env, flag, &background) != napi_ok))
    return throw_arg(env, "options.background must be a boolean when given");
  if (napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function)
    return throw_arg(env, "onEvent must be a function");
  char *path = arg_string(env, argv[0], "path"), *abs = NULL;
  if (path == NULL) return NULL;
  struct stat st;
  int r = fuse_host_resolve(path, &abs);
  if (r == 0 && lstat(abs, &st) != 0) r = -errno;
  if (r == 0 && !S_ISREG(st.st_mode)) r = -EINVAL;
  /* Something mounted on the file already (ours, live): it is on another device than its directory. One stat, not a
   * read of mountinfo, which grows with every mount. */
  struct stat dir;
  char *slash = r == 0 ? strrchr(abs, '/') : NULL;
  if (slash != NULL) {
    *slash = '\0';
    if (stat(slash == abs ? "/" : abs, &dir) == 0 && dir.st_dev != st.st_dev) r = -EBUSY;
    *slash = '/';
  }
  int err = 0;
  const char *syscall = "lstat";
  if (r == 0 && fuse_host_missing(&err, &syscall) != NULL) r = -err;
  if (r < 0) {
    free(abs);
    throw_errno(env, -r, r == -EBUSY ? "mount" : syscall, path);
    free(path);
    return NULL;
  }
  free(path);
  fuse_mount_t *m = calloc(1, sizeof *m);
  if (m == NULL) return free(abs), throw_errno(env, ENOMEM, "calloc", NULL);
  *m = (fuse_mount_t){.path = abs, .uid = geteuid(), .gid = getegid(), .decide = decide, .background = background,
                      .cancel_fd = -1, .refs = 1};
  m->handles.next = m->handles.prev = &m->handles;
  pthread_mutex_init(&m->lock, NULL);
  m->life = life_get(env);
  if (m->life) life_add_fuse(m->life, &m->node);
  if ((m->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
    r = errno;
    fuse_release_ref(m);
    return throw_errno(env, r, "eventfd", NULL);
  }
  napi_create_string_utf8(env, "envmount-fuse", NAPI_AUTO_LENGTH, &name);
  if (napi_create_external(env, m, fuse_handle_finalize, NULL, &handle) != napi_ok) {
    fuse_release_ref(m);
    return NULL;
  }
  if (napi_type_tag_object(env, handle, &FUSE_TAG) != napi_ok) return NULL; /* the external's finalizer frees m */
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, m, fuse_tsfn_finalize, m, fuse_call_js,
                                      &m->tsfn) != napi_ok)
    return NULL;
  m->refs = 2;
  /* Idle mounts do not keep the process alive; a background mount does until it is `mounted` (fuse_call_js). */
  if (!background) napi_unref_threadsafe_function(env, m->tsfn);
  r = fuse_session_begin(m);
  if (r < 0) {
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    return throw_errno(env, -r, r == -EIO ? "mount" : "fuse_session_new", m->path);
  }
  return handle;
}

/* fuseSetContent(handle, content | null, mtimeMs): { locked }. Copies the bytes (the caller zeroes its buffer)
 * into locked memory; the previous copy is wiped once no handle serves it. */
napi_value em_fuse_set_content(napi_env env, napi_callback_info info) {
  napi_value argv[3], result, flag;
  void *data = NULL;
  size_t len = 0;
  double mtime_ms = 0;
  fuse_mount_t *m = fuse_call(env, info, 3, argv, "fuseSetContent(handle, content, mtimeMs) takes three arguments");
  if (m == NULL) return NULL;
  int has = buffer_or_null(env, argv[1], &data, &len);
  if (has < 0) return NULL;
  if (napi_get_value_double(env, argv[2], &mtime_ms) != napi_ok || !(mtime_ms >= 0))
    return throw_arg(env, "mtimeMs must be a number of milliseconds since the epoch");
  blob_t *blob = has ? blob_new(data, len) : NULL;
  if (has && blob == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  struct timespec mtime = {.tv_sec = (time_t)(mtime_ms / 1000),
                           .tv_nsec = (long)((mtime_ms - (double)(time_t)(mtime_ms / 1000) * 1000) * 1e6)};
  pthread_mutex_lock(&m->lock);
  blob_t *old = m->content;
  m->content = blob;
  m->has_content = has;
  m->mtime = mtime;
  pthread_mutex_unlock(&m->lock);
  blob_unref(old);
  NAPI_OK(napi_create_object(env, &result));
  napi_get_boolean(env, blob == NULL || blob->len == 0 || blob->locked, &flag);
  napi_set_named_property(env, result, "locked", flag);
  return result;
}

/* fuseSetDecide(handle, decide): whether opens are held for JS (open events) or served the content at once. */
napi_value em_fuse_set_decide(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool decide = false;
  fuse_mount_t *m = fuse_call(env, info, 2, argv, "fuseSetDecide(handle, decide) takes two arguments");
  if (m == NULL) return NULL;
  if (napi_get_value_bool(env, argv[1], &decide) != napi_ok) return throw_arg(env, "decide must be a boolean");
  pthread_mutex_lock(&m->lock);
  m->decide = decide;
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

/* fuseFinishOpen(ticket, content | null): answers a held open once: its handle's whole content, or EACCES. */
napi_value em_fuse_finish_open(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2];
  uint32_t ticket = 0;
  void *data = NULL;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_arg(env, "fuseFinishOpen(ticket, content) takes two arguments");
  if (napi_get_value_uint32(env, argv[0], &ticket) != napi_ok || ticket == 0)
    return throw_arg(env, "ticket must be a ticket number from an open event");
  int has = buffer_or_null(env, argv[1], &data, &len);
  if (has < 0) return NULL;
  blob_t *blob = has ? blob_new(data, len) : NULL;
  if (has && blob == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  int r = fuse_ticket_answer(ticket, blob);
  blob_unref(blob);
  if (r < 0) return throw_errno(env, -r, "fuseFinishOpen", NULL);
  return NULL;
}

/* fuseUnmount(handle): ends the session; its thread unmounts and a `stopped` event follows. Idempotent. */
napi_value em_fuse_unmount(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fuse_mount_t *m = fuse_call(env, info, 1, argv, "fuseUnmount(handle) takes one argument");
  if (m == NULL) return NULL;
  pthread_mutex_lock(&m->lock);
  int first = !m->cancelled;
  pthread_mutex_unlock(&m->lock);
  /* The process stays up until `stopped` is delivered: a caller awaits it to remove the placeholder. */
  if (first && m->thread_live) napi_ref_threadsafe_function(env, m->tsfn);
  fuse_cancel_node(&m->node);
  return NULL;
}

static void set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) == napi_ok) napi_set_named_property(env, obj, name, v);
}

static const char *const NAMES[] = {"open", "served", "refused", "foreign-read", "released", "stopped", "mounted"};

void fuse_call_js(napi_env env, napi_value callback, void *context, void *data) {
  fuse_event_t *ev = data;
  napi_value obj, value, undef;
  /* `stopped` is the thread's last event: join it before JS hears (also when dropped at the environment's end). */
  if (ev->type == FEV_STOPPED) fuse_stopped(context);
  fuse_mount_t *m = context;
  if (ev->type == FEV_MOUNTED && env != NULL) {
    pthread_mutex_lock(&m->lock);
    int cancelled = m->cancelled; /* fuseUnmount asked for the process to wait for `stopped` */
    pthread_mutex_unlock(&m->lock);
    if (!cancelled) napi_unref_threadsafe_function(env, m->tsfn);
  }
  if (env == NULL || callback == NULL || napi_create_object(env, &obj) != napi_ok) {
    if (ev->type == FEV_OPEN) fuse_ticket_answer(ev->ticket, NULL);
    free(ev);
    return;
  }
  napi_create_string_utf8(env, NAMES[ev->type], NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, obj, "type", value);
  if (ev->type == FEV_OPEN) set_number(env, obj, "ticket", ev->ticket);
  if (ev->type == FEV_OPEN || ev->type == FEV_SERVED || ev->type == FEV_REFUSED || ev->type == FEV_FOREIGN_READ)
    set_number(env, obj, "pid", ev->pid);
  if (ev->type != FEV_STOPPED && ev->type != FEV_MOUNTED) set_number(env, obj, "tgid", ev->tgid);
  if (ev->type == FEV_OPEN || ev->type == FEV_SERVED || ev->type == FEV_REFUSED) {
    set_number(env, obj, "uid", ev->uid);
    set_number(env, obj, "gid", ev->gid);
    set_number(env, obj, "flags", ev->flags);
  }
  if (ev->type == FEV_SERVED || ev->type == FEV_RELEASED) set_number(env, obj, "bytes", ev->bytes);
  if (ev->type == FEV_FOREIGN_READ) set_number(env, obj, "openerPid", ev->opener);
  if (ev->type == FEV_MOUNTED && ev->dev != 0) {
    set_number(env, obj, "dev", ev->dev);
    set_number(env, obj, "ino", ev->ino);
  }
  if (ev->type == FEV_RELEASED || (ev->type == FEV_STOPPED && ev->external)) {
    napi_get_boolean(env, ev->type == FEV_RELEASED ? ev->whole : true, &value);
    napi_set_named_property(env, obj, ev->type == FEV_RELEASED ? "whole" : "external", value);
  }
  if (ev->err != 0) {
    napi_create_string_utf8(env, errno_name(ev->err), NAPI_AUTO_LENGTH, &value);
    napi_set_named_property(env, obj, "code", value);
  }
  if (ev->type == FEV_STOPPED && ev->err != 0) {
    napi_create_string_utf8(env, "mount", NAPI_AUTO_LENGTH, &value);
    napi_set_named_property(env, obj, "syscall", value);
  }
  free(ev);
  napi_get_undefined(env, &undef);
  napi_call_function(env, undef, callback, 1, &obj, NULL);
}
