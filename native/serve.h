/* Serving one reader (serve.c): secret buffers, the write with a deadline, releasing late readers. */
#ifndef ENVMOUNT_SERVE_H
#define ENVMOUNT_SERVE_H
#include <node_api.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lifetime.h" /* spawn_thread, life_cancel_fd */

void wipe(void *p, size_t n);
void free_secret(unsigned char *buf, size_t len, int locked);
/* Copies bytes into fresh memory, mlocked when RLIMIT_MEMLOCK allows (*locked says). NULL for len 0. */
unsigned char *copy_secret(const void *src, size_t len, int *locked);
double micros_since(const struct timespec *t0);

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

#endif
