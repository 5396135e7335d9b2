/* Served FIFOs kept for reuse (reuse.c): the inode a read swapped out rests at its rotation name and becomes a
 * later read's spare once nobody holds it, so that a read allocates no inode. */
#ifndef ENVMOUNT_REUSE_H
#define ENVMOUNT_REUSE_H
#include <fcntl.h>
#include <sys/stat.h>

#include "mount.h"

/* Whether FIFOs are kept at all: the check that nobody holds one opens it through its O_PATH handle (Linux). */
#ifdef O_PATH
#define REUSE_AVAILABLE 1
#else
#define REUSE_AVAILABLE 0
#endif

/* Keeps the FIFO just served (left at temp_now by rotation_check(); `handle` on it, taken over) to rest; the oldest
 * resting one goes if the ring is full. */
void reuse_keep(mount_t *m, int handle, const struct stat *served);
/* Makes the oldest resting FIFO the spare (m->spare, spare_st, temp_now) if nobody holds it: 1, else 0. */
int reuse_take(mount_t *m);
/* Whether a resting FIFO's late readers were not let go yet. */
int reuse_pending(const mount_t *m);
/* Releases late readers of the resting FIFOs not released yet (each once: see release_late_readers). */
void reuse_release(mount_t *m);
/* Lets go of every resting FIFO: released, its name removed while it holds that inode. Idempotent. */
void reuse_discard(mount_t *m);
#endif
