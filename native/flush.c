/*
 * Deferred flushes. A mount's thread holds its served events and late readers (mount.c: flush_batch) and used to
 * hand them over whenever it went back to wait with no reader there: after every read of a reader reading one
 * read at a time, waking the JS thread (the events, the audit entry and its write on a pool thread) while the
 * reader's next read needs the CPU. Now the thread leaves them here when it goes to wait, and this thread hands
 * them over FLUSH_IDLE_MS later unless the mount's thread woke first and took them back (it then flushes by the
 * batch rules). One thread for every mount, idle (in a condition wait) while nothing is due.
 *
 * The list of due mounts is owned by this file and guarded by `lock`; a listed mount's batch is the flusher's until
 * its thread calls flush_cancel(), which returns only when the flusher is not flushing it.
 */
#define _GNU_SOURCE
#include "flush.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "lifetime.h"

/* The clock of the condition wait's deadlines (macOS has no pthread_condattr_setclock). */
#ifdef __APPLE__
#define FLUSH_CLOCK CLOCK_REALTIME
#else
#define FLUSH_CLOCK CLOCK_MONOTONIC
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static mount_t **due;
static int count, capacity, started;
/* What the flusher waits for: 0 running, 1 a new due mount, 2 `until` (a listing due later wakes nothing). */
static int waiting;
static struct timespec until;

static int before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* FLUSH_IDLE_MS from now on the flusher's clock. */
static void idle_deadline(struct timespec *at) {
  clock_gettime(FLUSH_CLOCK, at);
  at->tv_nsec += FLUSH_IDLE_MS * 1000000L;
  if (at->tv_nsec >= 1000000000L) at->tv_sec++, at->tv_nsec -= 1000000000L;
}

static void *flush_main(void *arg) {
  (void)arg;
  int lingered = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    if (count == 0 && !lingered) {
      /* Nothing due, perhaps only because the mount that woke us took its events back (a reader came): linger one
       * period in a timed wait before waiting for a signal. In a burst of reads every read lists and unlists its
       * mount; a flusher back in an untimed wait at once was signalled, and woke, at nearly every read (on one
       * core a context switch on the reader's clock each time). A listing due after `until` signals nothing. */
      idle_deadline(&until);
      waiting = 2;
      pthread_cond_timedwait(&wake, &lock, &until);
      waiting = 0;
      lingered = 1;
      continue;
    }
    if (count == 0) {
      waiting = 1;
      pthread_cond_wait(&wake, &lock);
      waiting = 0;
      lingered = 0;
      continue;
    }
    lingered = 0;
    int first = 0;
    for (int i = 1; i < count; i++)
      if (before(&due[i]->flush_at, &due[first]->flush_at)) first = i;
    struct timespec now;
    clock_gettime(FLUSH_CLOCK, &now);
    if (before(&now, &due[first]->flush_at)) {
      until = due[first]->flush_at;
      waiting = 2;
      pthread_cond_timedwait(&wake, &lock, &until);
      waiting = 0;
      continue;
    }
    mount_t *m = due[first];
    due[first] = due[--count];
    m->flush_listed = 0;
    mount_flush(m); /* under the lock: its thread's flush_cancel waits for this */
  }
  return NULL;
}

int flush_later(mount_t *m) {
  pthread_mutex_lock(&lock);
  int err = 0;
  if (!started) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
#ifndef __APPLE__
    pthread_condattr_setclock(&attr, FLUSH_CLOCK);
#endif
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    err = spawn_service(flush_main, NULL, NULL);
    started = err == 0;
  }
  if (err == 0 && count == capacity) {
    int grown = capacity ? capacity * 2 : 64;
    mount_t **bigger = realloc(due, sizeof *due * (size_t)grown);
    if (bigger == NULL) err = -ENOMEM;
    else due = bigger, capacity = grown;
  }
  if (err == 0) {
    idle_deadline(&m->flush_at);
    due[count++] = m;
    m->flush_listed = 1;
    if (waiting == 1 || (waiting == 2 && before(&m->flush_at, &until))) pthread_cond_signal(&wake);
  }
  pthread_mutex_unlock(&lock);
  return err;
}

void flush_cancel(mount_t *m) {
  pthread_mutex_lock(&lock);
  if (m->flush_listed) {
    for (int i = 0; i < count; i++)
      if (due[i] == m) {
        due[i] = due[--count];
        break;
      }
    m->flush_listed = 0;
  }
  pthread_mutex_unlock(&lock);
}
