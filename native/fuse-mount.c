/*
 * A FUSE mount's shared state: content blobs, open handles, events to JS, and the mount's lifetime.
 *
 * Who owns what: the mount's content blob is replaced by JS under `lock`; each handle takes a reference to the
 * blob it serves, so a handle's bytes stay fixed while JS changes the content. Handles are listed under `lock`
 * (created by the session thread, or by JS answering a ticket) and freed by the session thread (release, or its
 * exit). The mount is freed when both its JS handle and its thread-safe function let go (refs, JS thread).
 */
#define _GNU_SOURCE
#include "fuse-mount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuse-ticket.h"
#include "serve.h" /* wipe */

blob_t *blob_new(const void *bytes, size_t len) {
  blob_t *b = malloc(sizeof *b + len);
  if (b == NULL) return NULL;
  *b = (blob_t){.refs = 1, .len = len};
  if (len > 0) {
    memcpy(b->bytes, bytes, len);
    b->locked = mlock(b, sizeof *b + len) == 0;
  }
  return b;
}

blob_t *blob_ref(blob_t *b) {
  if (b != NULL) __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
  return b;
}

void blob_unref(blob_t *b) {
  if (b == NULL || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
  size_t size = sizeof *b + b->len;
  wipe(b->bytes, b->len);
  if (b->locked) munlock(b, size);
  free(b);
}

size_t blob_len(const blob_t *b) {
  return b != NULL ? b->len : 0;
}

handle_t *handle_new(fuse_mount_t *m, blob_t *blob, int pid, int tgid) {
  handle_t *h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  *h = (handle_t){.blob = blob_ref(blob), .opener_pid = pid, .opener_tgid = tgid};
  pthread_mutex_lock(&m->lock);
  h->next = m->handles.next;
  h->prev = &m->handles;
  m->handles.next->prev = h;
  m->handles.next = h;
  pthread_mutex_unlock(&m->lock);
  return h;
}

void handle_free(fuse_mount_t *m, handle_t *h) {
  pthread_mutex_lock(&m->lock);
  h->prev->next = h->next;
  h->next->prev = h->prev;
  pthread_mutex_unlock(&m->lock);
  blob_unref(h->blob);
  free(h);
}

void fuse_emit(fuse_mount_t *m, const fuse_event_t *ev) {
  fuse_event_t *copy = malloc(sizeof *copy);
  if (copy != NULL) {
    *copy = *ev;
    if (napi_call_threadsafe_function(m->tsfn, copy, napi_tsfn_nonblocking) == napi_ok) return;
    free(copy);
  }
  if (ev->type == FEV_OPEN) fuse_ticket_answer(ev->ticket, NULL);
}

void fuse_stopped(fuse_mount_t *m) {
  if (m->thread_live) {
    pthread_join(m->thread, NULL);
    m->thread_live = 0;
  }
  if (m->cancel_fd >= 0) close(m->cancel_fd);
  m->cancel_fd = -1;
}

static void fuse_free(fuse_mount_t *m) {
  fuse_stopped(m);
  if (m->life) life_remove_fuse(m->life, &m->node);
  /* No thread serves the mount now: its session is gone and every handle was freed on the way out. */
  blob_unref(m->content);
  pthread_mutex_destroy(&m->lock);
  free(m->path);
  free(m);
}

void fuse_release_ref(fuse_mount_t *m) {
  if (--m->refs == 0) fuse_free(m);
}

void fuse_tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  fuse_release_ref(data);
}

void fuse_handle_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  fuse_release_ref(data);
}

/* The environment ends (lifetime.c): end the session loop, then wait for the thread, which unmounts on its way. */
void fuse_cancel_node(life_node_t *node) {
  fuse_mount_t *m = (fuse_mount_t *)node;
  pthread_mutex_lock(&m->lock);
  int first = !m->cancelled;
  m->cancelled = 1;
  pthread_mutex_unlock(&m->lock);
  if (first && m->cancel_fd >= 0) (void)!eventfd_write(m->cancel_fd, 1);
}

void fuse_join_node(life_node_t *node) {
  fuse_stopped((fuse_mount_t *)node);
}
