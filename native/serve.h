/* Serving one reader (serve.c): secret buffers, the write with a deadline, releasing late readers. */
#ifndef ENVMOUNT_SERVE_H
#define ENVMOUNT_SERVE_H
#include <node_api.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lifetime.h" /* spawn_thread, life_cancel_fd */

/* One reader's pipe while its bytes are owed: what a ticket (ticket.c), a writer thread (serve.c) and a share thread
 * (share.c) each hold. Whoever holds it owns the write end and holds one reference on the thread-safe function. */
typedef struct {
  int fd;                        /* the write end */
  int probe_fd;                  /* O_PATH handle on the served inode, to release late readers at the end; or -1 */
  int timeout_ms;                /* the write's deadline, counted from `start` */
  dev_t dev;                     /* the served FIFO: what share.c and ticketHolders look for */
  uint64_t inode;                /* the served FIFO's inode; reported in the write's events */
  struct timespec start;         /* the reader's arrival */
  napi_threadsafe_function tsfn; /* the mount's: its events go there */
} reader_pipe_t;

void wipe(void *p, size_t n);
void free_secret(unsigned char *buf, size_t len, int locked);
/* Copies bytes into fresh memory, mlocked when RLIMIT_MEMLOCK allows (*locked says). NULL for len 0. */
unsigned char *copy_secret(const void *src, size_t len, int *locked);
double micros_since(const struct timespec *t0);

/* Opens the inode behind an O_PATH handle (Linux) or, elsewhere, the path itself: an fd, or -errno. */
int open_inode(int handle, const char *path, int flags);
/* "/proc/self/fd/N" into `out` without printf (twice a read: snprintf cost about 0.3 us each). */
void proc_fd_path(char out[32], int fd);
/* Releases anyone blocked in open() on an old inode, with EOF (nothing is written). */
void release_late_readers(int old_handle, const char *path);

/* Writes the `len` bytes of `buf` after the first `already` (in the reader's pipe by other means) to the reader's
 * pipe without blocking. 0: all went out, the write end is closed. 1: the pipe buffer took part of it and a writer
 * thread with the deadline took over the write end and the rest (it holds a reference on the thread-safe function
 * and a duplicate of the probe, and reports `done_type` or EV_TIMEOUT). -errno: the write end is closed (EPIPE:
 * the reader closed early). *written has what is in the pipe so far, `already` included. The probe stays the
 * caller's. */
int write_or_hand_over(const reader_pipe_t *pipe, const unsigned char *buf, size_t len, size_t already,
                       int done_type, size_t *written);

/* Starts a writer or share thread `fn(arg)` that takes over `from`'s pipe as `own` (already a copy of `from`, whose
 * probe it duplicates): it holds its own reference on the thread-safe function and its own probe from then on.
 * 0, or -errno with nothing held (own->probe_fd is -1 or a duplicate the caller closes). */
int pipe_thread_start(reader_pipe_t *own, const reader_pipe_t *from, void *(*fn)(void *), void *arg);

/* The end of a writer or share thread: closes the write end and the probe (releasing late readers), reports how
 * the write ended (`r`: 0 or -errno, see emit_write) and releases the thread's hold on the thread-safe function. */
void writer_done(const reader_pipe_t *pipe, int r, int done_type, uint64_t bytes, int copies, int readers);
#endif
