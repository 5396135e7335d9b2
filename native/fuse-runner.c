/*
 * fusermount3 run by someone else: the FUSE backend under a systemd user unit's sandbox.
 *
 * An unprivileged daemon mounts through the setuid fusermount3, which cannot gain root under no_new_privs (every
 * seccomp setting of a user unit implies NoNewPrivileges=yes). With a runner set (fuseUseRunner, from the wiring:
 * `systemd-run --user --pipe --wait ...`), fusermount3 runs as a transient unit of the user's manager, outside the
 * sandbox, and sends the /dev/fuse descriptor back over a socket pair given as its standard input (fusermount3's
 * _FUSE_COMMFD protocol, which the runner's mount argv sets to 0); fuse-host.c spawns it and receives the
 * descriptor as it does for fusermount3 run directly. Unmounting and detaching go through the runner the same way.
 *
 * The runner's argv is set once by the JS thread before any mount (the daemon's start, `envmountd cleanup`) and
 * read by session threads afterwards; a mutex guards it all the same.
 */
#define _GNU_SOURCE
#include "fuse-runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "errors.h"

/* NULL-terminated argv prefixes, malloc'd; NULL: no runner (libfuse and fusermount3 are run directly). */
static char **mount_prefix, **unmount_prefix;
static pthread_mutex_t runner_lock = PTHREAD_MUTEX_INITIALIZER;

static void free_argv(char **argv) {
  for (char **p = argv; p != NULL && *p != NULL; p++) free(*p);
  free(argv);
}

/* Copies prefix + tail (both NULL-terminated) into one malloc'd argv, or NULL on ENOMEM. */
static char **join_argv(char *const *prefix, char *const *tail) {
  size_t n = 0, k = 0;
  while (prefix[n] != NULL) n++;
  while (tail[k] != NULL) k++;
  char **argv = calloc(n + k + 1, sizeof *argv);
  if (argv == NULL) return NULL;
  for (size_t i = 0; i < n + k; i++) {
    argv[i] = strdup(i < n ? prefix[i] : tail[i - n]);
    if (argv[i] == NULL) return free_argv(argv), NULL;
  }
  return argv;
}

char **fuse_runner_argv(int for_mount, char *const *tail) {
  pthread_mutex_lock(&runner_lock);
  char **prefix = for_mount ? mount_prefix : unmount_prefix;
  char **argv = prefix == NULL ? NULL : join_argv(prefix, tail);
  if (prefix == NULL) errno = 0;
  pthread_mutex_unlock(&runner_lock);
  return argv;
}

void fuse_runner_free(char **argv) {
  free_argv(argv);
}

/* One string array argument (every element a string), malloc'd and NULL-terminated; NULL when thrown. */
static char **argv_of(napi_env env, napi_value array, const char *what) {
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array || napi_get_array_length(env, array, &n) != napi_ok ||
      n == 0 || n > 64)
    return throw_arg(env, what), NULL;
  char **argv = calloc(n + 1, sizeof *argv);
  if (argv == NULL) return throw_errno(env, ENOMEM, "calloc", NULL), NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || (argv[i] = arg_string(env, item, what)) == NULL)
      return free_argv(argv), NULL;
  }
  return argv;
}

/* fuseUseRunner({ mount: string[], unmount: string[] } | null): fusermount3 runs under these argv prefixes from
 * now on (null: directly again). */
napi_value em_fuse_use_runner(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], field, result;
  napi_valuetype type;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || (type != napi_null && type != napi_object))
    return throw_arg(env, "fuseUseRunner(runner) takes { mount, unmount } or null");
  char **mount = NULL, **unmount = NULL;
  if (type == napi_object) {
    const char *usage = "runner.mount and runner.unmount must be arrays of 1 to 64 strings";
    if (napi_get_named_property(env, argv[0], "mount", &field) != napi_ok || (mount = argv_of(env, field, usage)) == NULL)
      return NULL;
    if (napi_get_named_property(env, argv[0], "unmount", &field) != napi_ok ||
        (unmount = argv_of(env, field, usage)) == NULL)
      return free_argv(mount), NULL;
  }
  pthread_mutex_lock(&runner_lock);
  char **old_mount = mount_prefix, **old_unmount = unmount_prefix;
  mount_prefix = mount;
  unmount_prefix = unmount;
  pthread_mutex_unlock(&runner_lock);
  free_argv(old_mount);
  free_argv(old_unmount);
  NAPI_OK(napi_get_undefined(env, &result));
  return result;
}
