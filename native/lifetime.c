/*
 * One owner for every native lifetime when the JS environment ends.
 *
 * When a process that loaded the addon ends without process.exit() (a test, a script, an embedding, a worker),
 * Node first runs the environment's cleanup hooks, most recent first: each thread-safe function's hook marks it
 * closing; then this file's hook (added at module init, so after theirs and before the hook that finalizes the
 * addon's handles) runs; then the closed thread-safe functions are destroyed and every external's finalizer runs.
 * So this hook is the last moment a native thread may still touch a thread-safe function (closing: calls fail, no
 * crash), and it makes sure none will afterwards:
 *
 *   1. every mount of the environment is cancelled (as mountStop does) and its thread joined; the thread removes
 *      its mount from the watcher before it returns, so the watcher holds nothing of this environment;
 *   2. every writer and share thread is told to give up (life_cancel_fd) and waited for;
 *   3. every ticket still open is settled: its write end closed, so its reader gets EOF, not a hang;
 *   4. every mount's descriptors are closed;
 *   5. every FUSE session (fuse-*.c) is ended and its thread joined: it answered its held opens EIO and unmounted.
 *
 * The finalizers that run next only free memory. Mounts are listed on the JS thread alone; tickets are listed by
 * the mount thread and unlisted wherever they are freed, under `lock`. Each environment (the main thread, a
 * worker) has its registry; the count of writer threads and the cancel pipe are the process's, so an environment's
 * end also waits for, and cuts short, the writers other environments run at that moment (they report a timeout).
 */
#define _GNU_SOURCE
#include "lifetime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define THREAD_STACK (64 * 1024)

struct life {
  life_node_t mounts;  /* JS thread only */
  life_node_t fuse;    /* JS thread only: FUSE mounts */
  life_node_t tickets; /* under lock */
  pthread_mutex_t lock;
};

/* Writer and share threads of every environment: how many run, and the pipe that asks them to give up. */
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t threads_done = PTHREAD_COND_INITIALIZER;
static int threads_running;
static int cancel_pipe[2] = {-1, -1};
static pthread_once_t cancel_once = PTHREAD_ONCE_INIT;

static void cancel_pipe_init(void) {
  if (pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0) cancel_pipe[0] = cancel_pipe[1] = -1;
}

int life_cancel_fd(void) {
  pthread_once(&cancel_once, cancel_pipe_init);
  return cancel_pipe[0];
}

static void list_init(life_node_t *head) {
  head->prev = head->next = head;
}

static void list_add(life_node_t *head, life_node_t *node) {
  node->next = head->next;
  node->prev = head;
  head->next->prev = node;
  head->next = node;
}

static void list_remove(life_node_t *node) {
  if (node->next == NULL) return; /* never listed, or already removed */
  node->prev->next = node->next;
  node->next->prev = node->prev;
  node->next = node->prev = NULL;
}

static void cleanup(void *arg) {
  life_t *l = arg;
  for (life_node_t *n = l->mounts.next; n != &l->mounts; n = n->next) mount_cancel_node(n);
#ifdef HAVE_FUSE
  /* FUSE sessions end together (each thread unmounts on its way out), then each is joined. */
  for (life_node_t *n = l->fuse.next; n != &l->fuse; n = n->next) fuse_cancel_node(n);
  for (life_node_t *n = l->fuse.next; n != &l->fuse; n = n->next) fuse_join_node(n);
#endif
  /* Writers give up at once; the byte stays in the pipe (level-triggered) until every one has returned. */
  int fd = life_cancel_fd();
  if (fd >= 0) (void)!write(cancel_pipe[1], "x", 1);
  for (life_node_t *n = l->mounts.next; n != &l->mounts; n = n->next) mount_join_node(n);
  pthread_mutex_lock(&threads_lock);
  while (threads_running > 0) pthread_cond_wait(&threads_done, &threads_lock);
  pthread_mutex_unlock(&threads_lock);
  char byte;
  if (fd >= 0) (void)!read(fd, &byte, 1);
  /* No thread of this environment runs now: the tickets are ours alone. */
  pthread_mutex_lock(&l->lock);
  for (life_node_t *n = l->tickets.next; n != &l->tickets; n = n->next) ticket_settle_node(n);
  pthread_mutex_unlock(&l->lock);
}

/* Instance data's finalizer: after every external's. The registry goes when nothing is listed in it. */
static void life_free(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  life_t *l = data;
  if (l->mounts.next != &l->mounts || l->tickets.next != &l->tickets || l->fuse.next != &l->fuse) return;
  pthread_mutex_destroy(&l->lock);
  free(l);
}

napi_status life_init(napi_env env) {
  life_t *l = calloc(1, sizeof *l);
  if (l == NULL) return napi_generic_failure;
  list_init(&l->mounts);
  list_init(&l->tickets);
  list_init(&l->fuse);
  pthread_mutex_init(&l->lock, NULL);
  napi_status s = napi_set_instance_data(env, l, life_free, NULL);
  if (s == napi_ok) s = napi_add_env_cleanup_hook(env, cleanup, l);
  return s;
}

life_t *life_get(napi_env env) {
  void *data = NULL;
  return napi_get_instance_data(env, &data) == napi_ok ? data : NULL;
}

void life_add_mount(life_t *l, life_node_t *node) {
  list_add(&l->mounts, node);
}

void life_remove_mount(life_t *l, life_node_t *node) {
  (void)l;
  list_remove(node);
}

void life_add_fuse(life_t *l, life_node_t *node) {
  list_add(&l->fuse, node);
}

void life_remove_fuse(life_t *l, life_node_t *node) {
  (void)l;
  list_remove(node);
}

void life_add_ticket(life_t *l, life_node_t *node) {
  pthread_mutex_lock(&l->lock);
  list_add(&l->tickets, node);
  pthread_mutex_unlock(&l->lock);
}

void life_remove_ticket(life_t *l, life_node_t *node) {
  pthread_mutex_lock(&l->lock);
  list_remove(node);
  pthread_mutex_unlock(&l->lock);
}

typedef struct {
  void *(*fn)(void *);
  void *arg;
} start_t;

static void *counted_main(void *arg) {
  start_t start = *(start_t *)arg;
  free(arg);
  start.fn(start.arg);
  pthread_mutex_lock(&threads_lock);
  if (--threads_running == 0) pthread_cond_broadcast(&threads_done);
  pthread_mutex_unlock(&threads_lock);
  return NULL;
}

static int spawn(void *(*fn)(void *), void *arg, pthread_t *thread) {
  pthread_attr_t attr;
  pthread_t detached;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, THREAD_STACK);
  pthread_attr_setdetachstate(&attr, thread ? PTHREAD_CREATE_JOINABLE : PTHREAD_CREATE_DETACHED);
  int r = pthread_create(thread ? thread : &detached, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return r;
}

int spawn_thread(void *(*fn)(void *), void *arg) {
  start_t *start = malloc(sizeof *start);
  if (start == NULL) return ENOMEM;
  *start = (start_t){fn, arg};
  pthread_mutex_lock(&threads_lock);
  threads_running++;
  pthread_mutex_unlock(&threads_lock);
  int r = spawn(counted_main, start, NULL);
  if (r != 0) {
    free(start);
    pthread_mutex_lock(&threads_lock);
    if (--threads_running == 0) pthread_cond_broadcast(&threads_done);
    pthread_mutex_unlock(&threads_lock);
  }
  return r;
}

int spawn_service(void *(*fn)(void *), void *arg, pthread_t *thread) {
  return spawn(fn, arg, thread);
}
