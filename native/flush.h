/* Deferred flushes of mounts' held events (flush.c): one service thread hands a waiting mount's events to JS a few
 * milliseconds after it went idle, so that back-to-back reads wake the JS thread once per batch, not per read. */
#ifndef ENVMOUNT_FLUSH_H
#define ENVMOUNT_FLUSH_H
#include "mount.h"

/* How long held events wait once their mount's thread waits for the next reader. */
#define FLUSH_IDLE_MS 5

/* The mount's thread, about to wait in open() with events held: they go to JS by `m->flush_at` unless the thread
 * takes them back first (flush_cancel). 0, or -errno (then the caller flushes now). */
int flush_later(mount_t *m);
/* The mount's thread, awake again: its held events are its own again (flushed meanwhile or not). Returns only
 * when the flusher is not using the mount. */
void flush_cancel(mount_t *m);
#endif
