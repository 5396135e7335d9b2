/*
 * A mount's lifetime, shared by its JS handle and its thread: freed when both have let go (refs), but its thread
 * joined and its descriptors closed as soon as the thread has stopped; cancelled and joined by the environment's
 * end (lifetime.c) when that comes first.
 */
#define _GNU_SOURCE
#include "mount-life.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "event.h"
#include "lifetime.h"
#include "serve.h"
#include "watch.h"

/* The thread has returned, or is about to (it reported "stopped", or its thread-safe function let go): join it,
 * make sure the watcher holds nothing of the mount, and close its descriptors now rather than when V8 collects the
 * handle. JS thread; idempotent. */
void mount_stopped(mount_t *m) {
  if (m->thread_live) {
    pthread_join(m->thread, NULL);
    m->thread_live = 0;
  }
  watch_remove(m);
  if (m->dir_fd >= 0) close(m->dir_fd);
  m->dir_fd = -1;
}

void free_mount(mount_t *m) {
  mount_stopped(m);
  if (m->life) life_remove_mount(m->life, &m->node);
  free_secret(m->content, m->content_len, m->content_locked);
  pthread_mutex_destroy(&m->lock);
  free(m->path);
  free(m->temp);
  free(m->temp_now);
  free(m);
}

/* Asks the thread to end (mountStop, and the environment's end): it becomes the reader itself so that a pending
 * open() returns. */
void mount_cancel(mount_t *m) {
  pthread_mutex_lock(&m->lock);
  if (!m->cancelled) {
    m->cancelled = 1;
    /* The thread closes this fd as it exits. */
    int fd = m->wait_fd >= 0 ? open_inode(m->wait_fd, m->path, O_RDONLY | O_NONBLOCK) : -1;
    m->cancel_fd = fd >= 0 ? fd : -1;
  }
  pthread_mutex_unlock(&m->lock);
}

void mount_cancel_node(life_node_t *node) {
  mount_cancel((mount_t *)node);
}

void mount_join_node(life_node_t *node) {
  mount_stopped((mount_t *)node);
}

/* The thread-safe function's call_js: "stopped" is the thread's last event, so the mount lets go of its thread and
 * descriptors before JS hears it (also when the event is dropped at the environment's end: env NULL). */
void mount_call_js(napi_env env, napi_value callback, void *context, void *data) {
  if (((event_t *)data)->type == EV_STOPPED) mount_stopped(context);
  call_js(env, callback, context, data);
}

void release_ref(mount_t *m) {
  if (--m->refs == 0) free_mount(m);
}

void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release_ref(data);
}

void handle_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release_ref(data);
}
