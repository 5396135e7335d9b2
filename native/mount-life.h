/* A mount's lifetime (mount-life.c). */
#ifndef ENVMOUNT_MOUNT_LIFE_H
#define ENVMOUNT_MOUNT_LIFE_H
#include <node_api.h>

#include "mount.h"

/* Freed when both the JS handle and the thread-safe function let go; its thread joined
 * and its descriptors closed as soon as the thread has stopped, on the JS thread (mount_stopped). */
void free_mount(mount_t *m);
void mount_stopped(mount_t *m);
/* Asks the thread to end (mountStop, the environment's end). Idempotent. */
void mount_cancel(mount_t *m);
/* The thread-safe function's call_js: lets go of the thread and descriptors at "stopped". */
void mount_call_js(napi_env env, napi_value callback, void *context, void *data);
void release_ref(mount_t *m);
void tsfn_finalize(napi_env env, void *data, void *hint);
void handle_finalize(napi_env env, void *data, void *hint);

#endif
