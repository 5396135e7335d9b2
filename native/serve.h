/* Serving one reader: the bytes, the write with a deadline, and the events reported to JS. */
#ifndef ENVMOUNT_SERVE_H
#define ENVMOUNT_SERVE_H
#include <node_api.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "holders.h"
#include "lifetime.h" /* spawn_thread, life_cancel_fd */

enum { EV_SERVED, EV_CLOSED_EARLY, EV_TIMEOUT, EV_ERROR, EV_DISPLACED, EV_STOPPED, EV_READER, EV_DRAINED, EV_LOOK,
       /* a rotation name held something not ours after mkfifo: never opened for writing, another name tried */
       EV_FOREIGN };

typedef struct ticket ticket_t;

typedef struct {
  int type;
  int err;
  const char *syscall;
  uint64_t bytes;
  uint64_t inode;
  double micros;
  holder_t *holders; /* EV_READER: owned by the event, freed after delivery */
  int nholders;
  ticket_t *ticket; /* EV_READER: handed to JS as an external */
  int copies;       /* served by share_spawn: how many readers got a copy of their own */
  int readers;      /* served by share_spawn: how many readers it saw on the pipe (the rest got nothing) */
} event_t;

void wipe(void *p, size_t n);
void free_secret(unsigned char *buf, size_t len, int locked);
/* Copies bytes into fresh memory, mlocked when RLIMIT_MEMLOCK allows (*locked says). NULL for len 0. */
unsigned char *copy_secret(const void *src, size_t len, int *locked);
double micros_since(const struct timespec *t0);

/* Settles and frees a ticket whose event never reached JS (ticket.c); `release`: let go of its thread-safe function
 * (not while that is being destroyed). */
void ticket_discard(ticket_t *ticket, int release);

/* Queues an event for JS (takes ownership of ev; a ticket in a dropped event is settled: its reader gets EOF). */
void emit_event(napi_threadsafe_function tsfn, event_t *ev);
void emit(napi_threadsafe_function tsfn, int type, int err, const char *syscall, uint64_t bytes, uint64_t inode,
          double micros);
/* The thread-safe function's call_js: turns an event into a JS object. */
void call_js(napi_env env, napi_value callback, void *context, void *data);

/* Opens the inode behind an O_PATH handle (Linux) or, elsewhere, the path itself. */
int open_inode(int handle, const char *path, int flags);
/* Releases anyone blocked in open() on an old inode, with EOF (nothing is written). */
void release_late_readers(int old_handle, const char *path);

/* Writes `len` bytes to the pipe `fd` without blocking. When all fit, closes fd and returns the event type
 * (EV_SERVED, EV_CLOSED_EARLY or EV_ERROR with *err). Otherwise a writer thread with a deadline takes over fd and
 * the rest (it acquires `tsfn`, closes fd and probe_fd, and reports `done_type` or EV_TIMEOUT), and -1 is
 * returned. *written has what went out at once. */
int write_or_hand_over(int fd, const unsigned char *buf, size_t len, int probe_fd, napi_threadsafe_function tsfn,
                       int timeout_ms, int done_type, uint64_t inode, const struct timespec *start, size_t *written,
                       int *err);

/* The end of a writer thread: closes the pipe and the probe (releasing late readers), reports the outcome
 * (`done_type`, or what `err` says) and releases the thread's hold on `tsfn`. */
void writer_done(napi_threadsafe_function tsfn, int fd, int probe_fd, int err, int done_type, uint64_t bytes,
                 uint64_t inode, const struct timespec *start, int copies, int readers);

/* Several readers share the pipe `wfd` (inode dev/ino): a thread hands each its own copy of the bytes (share.c), at
 * most `max_copies` (0: no cap), closes wfd and probe_fd, and reports `done_type` with `copies`. Returns 0, or an
 * errno with nothing taken over. */
int share_spawn(int wfd, dev_t dev, ino_t ino, const unsigned char *buf, size_t len, int max_copies, int probe_fd,
                napi_threadsafe_function tsfn, int timeout_ms, int done_type, const struct timespec *start);
#endif
