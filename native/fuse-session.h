/* A FUSE mount's session (fuse-session.c): mounted by the JS thread, served by one thread of its own. */
#ifndef ENVMOUNT_FUSE_SESSION_H
#define ENVMOUNT_FUSE_SESSION_H
#include "fuse-mount.h"

/* Mounts a session at m->path and starts its thread: 0, or -errno with nothing mounted (-EIO: libfuse refused,
 * its reason on stderr). With m->background the thread mounts, and reports `mounted` or `stopped` with the error
 * (fusermount3 takes milliseconds per mount: the JS thread does not wait for it). The thread serves until fuse_cancel_node() or an external unmount; on its way out it
 * answers held opens EIO, unmounts, frees the handles, emits `stopped` and lets go of the thread-safe function. */
int fuse_session_begin(fuse_mount_t *m);
#endif
