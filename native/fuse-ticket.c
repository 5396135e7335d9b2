/*
 * Held opens (decide mode). The session thread keeps the open request, lists it here under a number, and goes back
 * to serving: a reader waiting for a decision (even for minutes, while the user is asked) holds up nobody. JS
 * answers it once (fuseFinishOpen); the session's end answers the rest EIO.
 *
 * Who owns what: every held request is in one process-wide list under `lock`; whoever unlists it answers it. The
 * session is alive while a mount's `closed` is 0, and `closed` is set under this same lock before the session is
 * destroyed, so an answer given under the lock never writes to a destroyed session.
 */
#define _GNU_SOURCE
#include "fuse-ticket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

typedef struct held {
  struct held *next;
  uint32_t id;
  fuse_mount_t *mount;
  fuse_req_t req;
  struct fuse_file_info fi;
  int pid, tgid;
} held_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static held_t *list;
static uint32_t last_id;

uint32_t fuse_ticket_hold(fuse_mount_t *m, fuse_req_t req, const struct fuse_file_info *fi, int pid, int tgid) {
  held_t *h = malloc(sizeof *h);
  if (h == NULL) return 0;
  *h = (held_t){.mount = m, .req = req, .fi = *fi, .pid = pid, .tgid = tgid};
  pthread_mutex_lock(&lock);
  if (m->closed) {
    pthread_mutex_unlock(&lock);
    free(h);
    return 0;
  }
  if (++last_id == 0) last_id = 1;
  h->id = last_id;
  h->next = list;
  list = h;
  pthread_mutex_unlock(&lock);
  return h->id;
}

/* Unlists the ticket `id` (lock held). */
static held_t *take(uint32_t id) {
  for (held_t **at = &list; *at != NULL; at = &(*at)->next) {
    if ((*at)->id == id) {
      held_t *h = *at;
      *at = h->next;
      return h;
    }
  }
  return NULL;
}

/* Replies to the kernel; a handle the kernel never took (the opener was interrupted: -ENOENT) is freed. */
static int reply_open(held_t *held, blob_t *blob) {
  if (blob == NULL) return fuse_reply_err(held->req, EACCES), 0;
  handle_t *h = handle_new(held->mount, blob, held->pid, held->tgid);
  if (h == NULL) return fuse_reply_err(held->req, EIO), -ENOMEM;
  struct fuse_file_info fi = held->fi;
  fi.fh = (uintptr_t)h;
  fi.direct_io = 1;
  fi.keep_cache = 0;
  fi.noflush = 1;
  if (fuse_reply_open(held->req, &fi) != 0) handle_free(held->mount, h);
  return 0;
}

int fuse_ticket_answer(uint32_t id, blob_t *blob) {
  pthread_mutex_lock(&lock);
  held_t *h = take(id);
  int r = h != NULL ? reply_open(h, blob) : -EINVAL;
  pthread_mutex_unlock(&lock);
  free(h);
  return r;
}

void fuse_tickets_close(fuse_mount_t *m) {
  pthread_mutex_lock(&lock);
  m->closed = 1;
  for (held_t **at = &list; *at != NULL;) {
    held_t *h = *at;
    if (h->mount != m) {
      at = &h->next;
      continue;
    }
    *at = h->next;
    fuse_reply_err(h->req, EIO);
    free(h);
  }
  pthread_mutex_unlock(&lock);
}
