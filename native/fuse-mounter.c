/*
 * Mounting for FUSE session threads, on a few threads of its own. A mount is milliseconds of waiting on the kernel
 * or on fusermount3, and its code path dirties stack pages that, done on each session thread, would stay resident
 * with each of a thousand idle threads (about 9 KiB each, measured). Mounts queued at once (a daemon restoring its
 * mounts) run FUSE_MOUNTERS at a time: fusermount3 is CPU-bound, so more in parallel only adds contention.
 *
 * The queue and the count of mounter threads are this file's, under `lock`. A mounter exits when the queue is
 * empty; the next job starts one again. Mounter threads are counted (spawn_thread): an ending environment waits
 * for them, and a job never calls into JS.
 */
#define _GNU_SOURCE
#include "fuse-mounter.h"

#include <pthread.h>
#include <stddef.h>

#include "lifetime.h"

#define FUSE_MOUNTERS 4

typedef struct job {
  struct job *next;
  int (*fn)(void *);
  void *arg;
  int result;
  int done;
  pthread_cond_t finished; /* its waiter's alone: a broadcast to all would wake a thousand waiting threads */
} job_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static job_t *head, *tail;
static int running;

static void *mounter_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  while (head != NULL) {
    job_t *job = head;
    head = job->next;
    if (head == NULL) tail = NULL;
    pthread_mutex_unlock(&lock);
    int result = job->fn(job->arg);
    pthread_mutex_lock(&lock);
    job->result = result;
    job->done = 1;
    pthread_cond_signal(&job->finished);
  }
  running--;
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* Takes `job` out of the queue if it is still there: 1 when it was. Under `lock`. */
static int unqueue(job_t *job) {
  for (job_t **at = &head, *prev = NULL; *at != NULL; prev = *at, at = &(*at)->next) {
    if (*at != job) continue;
    *at = job->next;
    if (tail == job) tail = prev;
    return 1;
  }
  return 0;
}

int fuse_mounter_run(int (*fn)(void *), void *arg) {
  job_t job = {.fn = fn, .arg = arg};
  pthread_cond_init(&job.finished, NULL);
  pthread_mutex_lock(&lock);
  if (tail != NULL) tail->next = &job;
  else head = &job;
  tail = &job;
  int start = running < FUSE_MOUNTERS;
  if (start) running++;
  pthread_mutex_unlock(&lock);
  if (start && spawn_thread(mounter_main, NULL) != 0) {
    pthread_mutex_lock(&lock);
    running--;
    /* No mounter at all to take it: run it here. */
    int mine = running == 0 && unqueue(&job);
    pthread_mutex_unlock(&lock);
    if (mine) job.result = fn(arg), job.done = 1;
  }
  pthread_mutex_lock(&lock);
  while (!job.done) pthread_cond_wait(&job.finished, &lock);
  pthread_mutex_unlock(&lock);
  pthread_cond_destroy(&job.finished);
  return job.result;
}
