/* A mount: its state, shared by the mount thread (mount.c), the FIFO rotation (rotate.c), its lifetime
 * (mount-life.c) and its N-API surface (mount-api.c); and the thread itself (mount.c). */
#ifndef ENVMOUNT_MOUNT_H
#define ENVMOUNT_MOUNT_H
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "lifetime.h"

#ifdef __APPLE__
#define ST_MTIM(st) ((st).st_mtimespec)
#define ST_CTIM(st) ((st).st_ctimespec)
#else
#define ST_MTIM(st) ((st).st_mtim)
#define ST_CTIM(st) ((st).st_ctim)
#endif

/* A served FIFO resting at its rotation name until reused (reuse.c): an O_PATH handle on it, its name's suffix, what
 * it was when served, and whether its late readers were let go yet. */
typedef struct {
  int handle, released;
  uint64_t suffix;
  struct stat st;
} rest_t;

typedef struct mount {
  life_node_t node; /* first: in the environment's list of mounts (lifetime.c), JS thread only */
  life_t *life;
  pthread_t thread; /* joinable; joined on the JS thread once it stopped (thread_live 0 after) */
  int thread_live;
  char *path;
  char *temp;      /* the prefix of the rotation names beside the path */
  char *temp_now;  /* this rotation's name: the prefix and a random suffix; this mount's thread alone */
  size_t temp_size;
  uint64_t temp_suffix; /* temp_now's suffix */
  rest_t rest[2];       /* served FIFOs resting for reuse, oldest first (reuse.c); thread alone */
  int nrest;
  /* The next rotation's FIFO, made at temp_now in advance while no reader waits (rotate_prepare): an O_PATH handle
   * (-1: none) and what it was once made and checked, compared again right before the exchange; after rotate(),
   * spare_st still describes the FIFO it put at the path. Thread alone. */
  int spare;
  struct stat spare_st;
  uint64_t random[8]; /* rotation names' random suffixes not used yet (random_left of them); thread alone */
  int random_left;
  /* Served events not yet handed to JS (thread alone, or the flusher's while the thread waits: flush.c): sent
   * together FLUSH_IDLE_MS after the thread next waits with no reader there (unless a reader comes first), or
   * when MOUNT_BATCH are held or the oldest is MOUNT_BATCH_MS old, so a burst of reads, even one read at a time,
   * wakes the JS thread (and its audit write) a few times rather than once per read, while the reader's CPU is
   * needed. */
  void *batch[32];
  int batched;
  struct timespec batch_since;
  /* While the thread waits with events held: when the flusher hands them over (flush.c, under its lock). */
  struct timespec flush_at;
  int flush_listed;
  /* O_PATH handles of inodes served (swapped out, unlinked) whose late readers are released at the same flush. */
  int late[32];
  int nlate;
  int strict_dir;  /* 1: look() reports a directory other users can write (LOOK_SHARED_DIR) */
  /* An O_PATH handle on the directory and the file's name in it: the healer's look resolves one name, not the whole
   * path (several times cheaper on overlay filesystems). Used by the JS thread and the watcher (until the mount
   * thread unwatches); closed on the JS thread as soon as the thread has stopped (mount_stopped). -1 where
   * unavailable or closed: look() then uses the path. */
  int dir_fd;
  const char *base;
  int write_timeout_ms;
  /* `lock` guards the fields below: the JS thread replaces content and cancels, the mount thread reads them. */
  pthread_mutex_t lock;
  unsigned char *content;
  size_t content_len;
  int content_locked;
  unsigned content_gen; /* bumped at every new content: the content pipe is made again (content-pipe.c) */
  /* The content in a pipe of its own (content-pipe.c), as of content `cpipe_gen`; -1 when none or it could not be
   * made for that content. Under `lock`: made by the mount thread, closed by it or by a new content. */
  int cpipe[2];
  unsigned cpipe_gen;
  int cancelled;
  int decide;    /* 1: every reader goes to JS for a policy decision (a ticket); 0: serve `content` at once */
  int wait_fd;   /* O_PATH handle of the inode the thread waits on, -1 while not waiting */
  int cancel_fd; /* read end opened by stop() to complete a pending open(); closed by the thread */
  uint64_t inode;
  /* The mtime every FIFO at the path carries (the first one's): set on each new FIFO before it is swapped in, with
   * atime "now", so that watchers comparing mtime (chokidar, watchpack) see no change when a read rotates the inode. */
  struct timespec mtime;
  napi_threadsafe_function tsfn;
  int refs; /* main thread only: the JS handle and the thread-safe function each hold one */
} mount_t;

/* The thread's body (mount.c). */
void *mount_main(void *arg);
/* Hands the held events to JS and lets the late readers go (mount.c): the mount's thread, or the flusher while the
 * thread waits (flush.c). */
void mount_flush(mount_t *m);
/* What is at the path against the inode the thread waits on (mount.c): see mountsLook. */
int look(mount_t *m);
/* look() plus the StrictModes check of the directory (mount.c): the healer's looks. */
int look_strict(mount_t *m);

/* look()'s codes; see mountsLook. */
enum { LOOK_SAME, LOOK_ABSENT, LOOK_OTHER_FIFO, LOOK_FOREIGN_FIFO, LOOK_REGULAR, LOOK_SYMLINK, LOOK_DIRECTORY, LOOK_OTHER,
       LOOK_SHARED_DIR };
#endif
