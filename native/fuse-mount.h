/* A FUSE mount's state (fuse-mount.c: its content, handles, events and lifetime), shared by its session thread
 * (fuse-session.c), its N-API surface (fuse-api.c) and its held opens (fuse-ticket.c). Only compiled when libfuse 3
 * is found at configure time (binding.gyp: HAVE_FUSE). */
#ifndef ENVMOUNT_FUSE_MOUNT_H
#define ENVMOUNT_FUSE_MOUNT_H
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "lifetime.h"

/* Bytes served to readers: immutable once made, shared by the mount and every handle that took it (refs, atomic);
 * wiped and freed by whoever lets go last. mlocked where RLIMIT_MEMLOCK allows. */
typedef struct blob {
  int refs;
  int locked;
  size_t len;
  unsigned char bytes[];
} blob_t;

/* One open(2): its own content, fixed for its life, and who opened it. Created by the session thread (decide:
 * false) or by JS finishing a ticket; read and freed by the session thread only after the kernel has its reply. */
typedef struct handle {
  struct handle *prev, *next; /* in the mount's list, under fuse_mount_t.lock */
  blob_t *blob;               /* NULL: empty */
  int opener_pid, opener_tgid;
  int ok_tgid;                /* the last other process whose reads were allowed (a descendant): checked once */
  int foreign_tgid;           /* the last process refused, reported once */
  int reads;                  /* read requests answered */
  uint64_t bytes, end;        /* bytes served; the furthest offset reached */
} handle_t;

typedef struct fuse_mount {
  life_node_t node; /* first: in the environment's list of FUSE mounts (lifetime.c), JS thread only */
  life_t *life;
  struct fuse_session *se;
  char *path;
  pthread_t thread;
  int thread_live;
  int spawned;    /* 1: mounted through fusermount3 spawned by fuse_host_fusermount, which also unmounts it */
  int background; /* 1: the session thread mounts (a `mounted` or a failed `stopped` event says how it went) */
  int cancel_fd; /* an eventfd: the JS thread signals it to end the session loop (one descriptor per mount) */
  uid_t uid;
  gid_t gid;
  /* `lock` guards the fields below: JS replaces content, mode and answers tickets; the session thread reads. */
  pthread_mutex_t lock;
  blob_t *content;
  int has_content; /* 0: fuseSetContent(null) or never set: opens refused under decide false */
  struct timespec mtime;
  int decide;
  int cancelled;
  int closed; /* under fuse-ticket.c's lock, not this one: the session is ending, no ticket is taken or answered */
  handle_t handles; /* list head of open handles */
  napi_threadsafe_function tsfn;
  int refs; /* JS thread only: the JS handle and the thread-safe function each hold one */
} fuse_mount_t;

enum { FEV_OPEN, FEV_SERVED, FEV_REFUSED, FEV_FOREIGN_READ, FEV_RELEASED, FEV_STOPPED, FEV_MOUNTED };

typedef struct fuse_event {
  int type;
  uint32_t ticket;
  int pid, tgid, uid, gid, flags, opener;
  int err;
  int whole, external;
  double bytes;
  double dev, ino; /* FEV_MOUNTED: the mounted file's st_dev (as makedev) and st_ino; 0 when unknown */
} fuse_event_t;

/* Queues an event for JS without waiting (copied); a dropped open event's ticket is answered EACCES. */
void fuse_emit(fuse_mount_t *m, const fuse_event_t *ev);
/* The thread-safe function's call_js: the event as a JS object; at `stopped`, joins the session thread first. */
void fuse_call_js(napi_env env, napi_value callback, void *context, void *data);

/* Content blobs. blob_new: a copy of `len` bytes (refs 1), NULL on ENOMEM. */
blob_t *blob_new(const void *bytes, size_t len);
blob_t *blob_ref(blob_t *b);
void blob_unref(blob_t *b);
size_t blob_len(const blob_t *b);

/* A handle on `blob` (a reference taken, NULL: empty) for the opener, listed in the mount; NULL on ENOMEM. */
handle_t *handle_new(fuse_mount_t *m, blob_t *blob, int pid, int tgid);
/* Unlists and frees a handle (its blob reference let go). */
void handle_free(fuse_mount_t *m, handle_t *h);

/* Lifetime: freed when both the JS handle and the thread-safe function let go (refs). fuse_stopped joins the
 * session thread and closes the cancel eventfd: JS thread, idempotent. */
void fuse_stopped(fuse_mount_t *m);
void fuse_release_ref(fuse_mount_t *m);
void fuse_tsfn_finalize(napi_env env, void *data, void *hint);
void fuse_handle_finalize(napi_env env, void *data, void *hint);
#endif
