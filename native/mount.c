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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content-pipe.h"
#include "event.h"
#include "flush.h"
#include "holders.h"
#include "mount.h"
#include "reuse.h"
#include "rotate.h"
#include "serve.h"
#include "share.h"
#include "ticket.h"
#include "watch.h"

/* How long to wait for readers woken together from a queue to finish their open(). */
#define SETTLE_DEADLINE_US 50000

/* At most this many served events, or this old, wait for the thread's next idle moment (see mount_t.batch). */
#define MOUNT_BATCH (int)(sizeof ((mount_t *)0)->batch / sizeof(void *))
#define MOUNT_BATCH_MS 20
/* A run of this many reads merged into one served event is handed over at once: JS audits a run in one go, and a
 * longer one would hold its thread (and, on one core, the reader) for longer. */
#define MOUNT_RUN 128

/* Whether a served event can be merged into the one held before it: both one reader served the same content whole. */
static int alike(const event_t *a, const event_t *b) {
  return a->type == EV_SERVED && b->type == EV_SERVED && a->err == 0 && b->err == 0 && a->readers == 0 &&
         b->readers == 0 && a->copies == 0 && b->copies == 0 && a->bytes == b->bytes && a->count < MOUNT_RUN;
}

/* Hands the held served events to JS, in order, with one wake-up of its thread, and releases the late readers of
 * the inodes served meanwhile. */
void mount_flush(mount_t *m) {
  for (int i = 0; i < m->batched; i++) emit_event(m->tsfn, m->batch[i]);
  m->batched = 0;
  for (int i = 0; i < m->nlate; i++) {
    release_late_readers(m->late[i], NULL);
    close(m->late[i]);
  }
  m->nlate = 0;
  reuse_release(m);
}

/* A served inode's handle, released at the next flush: a reader that resolved the path to it just before the swap
 * and reached open() after the write waits for that (at most MOUNT_BATCH_MS in a burst of reads, otherwise
 * FLUSH_IDLE_MS after the thread next waits). Without O_PATH the release goes by path, so it happens now. */
static void hold_late(mount_t *m, int handle) {
#ifdef O_PATH
  if (m->nlate == MOUNT_BATCH) mount_flush(m);
  m->late[m->nlate++] = handle;
#else
  release_late_readers(handle, m->path);
  close(handle);
#endif
}

/* A served event (write_event(): NULL is dropped), held for the next flush. Reads alike in a row become one event
 * with their count (JS still audits each read): a burst costs JS one call per run, not one per read. */
static void hold(mount_t *m, event_t *ev) {
  if (ev == NULL) return;
  event_t *last = m->batched > 0 ? m->batch[m->batched - 1] : NULL;
  if (last != NULL && alike(last, ev)) {
    last->count = (last->count > 0 ? last->count : 1) + 1;
    last->inode = ev->inode; /* the latest: the FIFO at the path now */
    if (ev->micros > last->micros) last->micros = ev->micros;
    free(ev);
  } else {
    if (m->batched == 0) clock_gettime(CLOCK_MONOTONIC, &m->batch_since);
    m->batch[m->batched++] = ev;
  }
  if (m->batched == MOUNT_BATCH || ((event_t *)m->batch[m->batched - 1])->count >= MOUNT_RUN ||
      micros_since(&m->batch_since) >= MOUNT_BATCH_MS * 1000.0)
    mount_flush(m);
}

/* Writes the content once (policy "any": no decision needed). Readers that queued on the FIFO before this thread
 * first opened it (a pipe left by a daemon that died) share the pipe, and a thread gives each its own copy
 * (share.c); later, a reader already waiting when the thread comes back to open() is simply the next reader.
 * 1 when the write end is closed here (the FIFO may be kept for reuse: reuse.c), 0 when a thread holds it. */
static int serve(mount_t *m, int wfd, int old_handle, const struct stat *served, const struct timespec *t0,
                  int queued) {
  reader_pipe_t pipe = {.fd = wfd, .probe_fd = old_handle, .timeout_ms = m->write_timeout_ms, .dev = served->st_dev,
                        .inode = (uint64_t)served->st_ino, .start = *t0, .tsfn = m->tsfn};
  pthread_mutex_lock(&m->lock);
  if (queued && share_spawn(&pipe, m->content, m->content_len, 0, EV_SERVED) == 0) {
    pthread_mutex_unlock(&m->lock);
    return 0;
  }
  /* A single reader's serve reports the FIFO now at the path (the rotation recorded it), as the healer expects. */
  pipe.inode = m->inode;
  size_t written = 0;
  /* Linked from the content pipe (the FIFO's mtime does not move), the rest, if any, written. */
  size_t linked = content_pipe_link(m, wfd);
  int r = write_or_hand_over(&pipe, m->content, m->content_len, linked, EV_SERVED, &written);
  pthread_mutex_unlock(&m->lock);
  if (r != 1) hold(m, write_event(r, EV_SERVED, written, pipe.inode, micros_since(t0), 0, 0));
  return r != 1;
}

/* Policy needs a decision: identify who holds the served pipe, hand the open write end to JS as a ticket. */
static void hand_off(mount_t *m, int wfd, int old_handle, const struct stat *served, const struct timespec *t0,
                     int queued) {
  mount_flush(m); /* served reads before a policy change come first */
  event_t *ev = calloc(1, sizeof *ev);
  holder_t *holders = malloc(sizeof(holder_t) * HOLDERS_MAX);
  reader_pipe_t pipe = {.fd = wfd, .probe_fd = -1, .timeout_ms = m->write_timeout_ms, .dev = served->st_dev,
                        .inode = (uint64_t)served->st_ino, .start = *t0, .tsfn = m->tsfn};
  int r = ev != NULL && holders != NULL ? 0 : -ENOMEM;
  /* The ticket's own handle on the old inode: it releases the late readers there when it is finished. */
  if (r == 0 && old_handle >= 0) {
    pipe.probe_fd = fcntl(old_handle, F_DUPFD_CLOEXEC, 0);
    if (pipe.probe_fd < 0) r = -errno;
  }
  ticket_t *ticket = r == 0 ? ticket_new(&pipe, m->life) : NULL;
  if (r == 0 && ticket == NULL) r = -ENOMEM;
  if (r < 0) {
    /* The reader is let go (EOF); no ticket will probe the old inode, so its late readers are let go here. */
    if (pipe.probe_fd >= 0) close(pipe.probe_fd);
    free(ev);
    free(holders);
    close(wfd);
    if (old_handle >= 0) release_late_readers(old_handle, NULL);
    emit(m->tsfn, EV_ERROR, -r, r == -ENOMEM ? "malloc" : "fcntl", 0, (uint64_t)served->st_ino, micros_since(t0));
    return;
  }
  /* One reader at a fresh FIFO: no scan here. JS scans once when it takes the ticket (ticketHolders), later than
   * any scan here could, so it also sees a second reader released on the same pipe; a /proc scan is the costliest
   * part of a decided read (about 0.8 ms with 70 processes). Readers that queued on a reclaimed FIFO were woken
   * together: they are waited for and listed here. */
  int n = queued ? fifo_holders_settle(served->st_dev, served->st_ino, getpid(), holders, HOLDERS_MAX, SETTLE_DEADLINE_US)
                 : 0;
  *ev = (event_t){.type = EV_READER, .err = n < 0 ? -n : 0, .syscall = "fifo_holders",
                  .inode = (uint64_t)served->st_ino, .micros = micros_since(t0), .holders = holders,
                  .nholders = n < 0 ? 0 : n, .ticket = ticket};
  emit_event(m->tsfn, ev);
}

void *mount_main(void *arg) {
  mount_t *m = arg;
  struct stat st;
  int handle = open_handle(m->path);
  if (handle < 0 || handle_stat(handle, m->path, &st) < 0 || !is_own_fifo(&st)) {
    int e = handle < 0 ? -handle : EEXIST;
    emit(m->tsfn, handle < 0 ? EV_ERROR : EV_DISPLACED, e, "open", 0, 0, 0);
    if (handle >= 0) close(handle);
    handle = -1;
  } else {
    pthread_mutex_lock(&m->lock);
    m->inode = (uint64_t)st.st_ino;
    pthread_mutex_unlock(&m->lock);
    m->mtime = ST_MTIM(st);
    pin_times(m, handle, m->path);
    /* No FIFO is made in advance for the first read: a mount never read (most of a thousand) keeps none beside it
     * and starts as fast as before; the first read makes its own, as every read did. */
  }
  struct stat waited = st; /* what `handle` refers to: checked to be ours when the handle was made */
  /* Only the first open can find readers that waited for a daemon to come back (a reclaimed FIFO). */
  int first = 1;
  while (handle >= 0) {
    pthread_mutex_lock(&m->lock);
    int cancelled = m->cancelled;
    if (!cancelled) m->wait_fd = handle;
    pthread_mutex_unlock(&m->lock);
    if (cancelled) break;

    /* Readers already waiting (queued while no writer was there: a reclaimed FIFO) make a non-blocking open
     * succeed at once; they are woken together and need a more careful identification. Only the first open can
     * find them: later, a reader already waiting is simply the next reader, and the blocking open returns at once
     * (one open through /proc a read saved). Otherwise block until one comes. */
    int wfd = first ? open_inode(handle, m->path, O_WRONLY | O_NONBLOCK) : -ENXIO;
    int queued = wfd >= 0;
    if (wfd == -ENXIO) {
      /* No reader waits: what is held goes to JS a little later (flush.c), unless a reader comes first. */
      if (m->batched > 0 || m->nlate > 0 || reuse_pending(m)) {
        if (flush_later(m) != 0) mount_flush(m);
      }
      wfd = open_inode(handle, m->path, O_WRONLY);
      flush_cancel(m);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&m->lock);
    m->wait_fd = -1;
    cancelled = m->cancelled;
    pthread_mutex_unlock(&m->lock);
    if (wfd < 0) {
      if (wfd == -EINTR && !cancelled) continue;
      mount_flush(m); /* the reads before this first */
      if (!cancelled) emit(m->tsfn, EV_ERROR, -wfd, "open", 0, 0, 0);
      break;
    }
    if (cancelled) {
      close(wfd);
      break;
    }
    /* The pipe opened must be the inode the handle was made on, still ours. Opened through the O_PATH handle's
     * /proc link it is that inode by construction, checked to be ours when the handle was made (one fstat a read
     * saved); opened by path (macOS), the descriptor tells. */
#ifdef O_PATH
    st = waited;
#else
    if (fstat(wfd, &st) != 0 || !is_own_fifo(&st) || st.st_ino != waited.st_ino || st.st_dev != waited.st_dev) {
      close(wfd);
      mount_flush(m); /* the reads before this first */
      emit(m->tsfn, EV_DISPLACED, EEXIST, "fstat", 0, 0, 0);
      break;
    }
#endif
    int exchanged = 0;
    int next = rotate(m, &st, &exchanged);
    pthread_mutex_lock(&m->lock);
    int decide = m->decide;
    pthread_mutex_unlock(&m->lock);
    int closed = 0; /* our write end is closed: the served FIFO may rest for reuse (reuse.c) */
    if (decide)
      hand_off(m, wfd, next >= 0 ? handle : -1, &st, &t0, queued && first);
    else
      closed = serve(m, wfd, next >= 0 ? handle : -1, &st, &t0, queued && first);
    first = 0;
    int kept = 0;
    if (exchanged) {
      int checked = rotation_check(m, &st, next, closed && REUSE_AVAILABLE);
      if (checked < 0) next = checked;
      kept = checked == 1;
    }
    if (next < 0) {
      /* The served inode stays at the path (or the path is gone): stop rather than serve one pipe twice. */
      mount_flush(m); /* the reads before this first */
      emit(m->tsfn, next == -EEXIST ? EV_DISPLACED : EV_ERROR, -next, "rename", 0, 0, 0);
      break;
    }
    /* A ticket still holds the write end: it probes the old inode itself when it is finished. A kept FIFO's late
     * readers are let go with the others, at the next flush (reuse_release). */
    if (kept)
      reuse_keep(m, handle, &st);
    else if (!decide)
      hold_late(m, handle);
    else
      close(handle);
    handle = next;
    waited = m->spare_st; /* what rotate() put at the path, checked then */
    /* The next rotation's FIFO, made after this read's write and checks: off the reader's clock. */
    rotate_prepare(m);
  }
  rotate_discard(m);
  mount_flush(m);
  reuse_discard(m);
  pthread_mutex_lock(&m->lock);
  content_pipe_close(m);
  pthread_mutex_unlock(&m->lock);
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
