/* Which processes hold a FIFO open: the reader identification behind per-process policy. */
#ifndef ENVMOUNT_HOLDERS_H
#define ENVMOUNT_HOLDERS_H
#include <sys/types.h>

#define HOLDERS_MAX 64

enum { HOLD_READ = 0, HOLD_WRITE = 1, HOLD_READ_WRITE = 2 };

typedef struct {
  int pid;
  int fd;
  int mode; /* HOLD_* access mode of that fd */
} holder_t;

/* Every fd of every process (but `self`) open on the FIFO (dev, ino). Returns the count (at most `max`), or -errno
 * (ENOSYS: the platform cannot tell). */
int fifo_holders(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max);

/* fifo_holders, also scanning the fd tables of threads whose table is not their leader's, and counting in
 * *unreadable (may be NULL) the processes of this user whose fd table could not be read (non-dumpable ones): they
 * may hold the pipe unseen. */
int fifo_holders_ex(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int *unreadable);

/* fifo_holders, repeated for up to `deadline_us` until at least one reading holder shows up: a writer's open() can
 * return before the reader's open() has installed its fd. */
int fifo_holders_wait(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int deadline_us);

/* For readers that were queued on the FIFO before the daemon opened it (woken together): also waits, up to
 * `deadline_us`, until no other process of this user is still inside an open() (one that may be a reader about to
 * install its fd), then scans once more. */
int fifo_holders_settle(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int deadline_us);
#endif
