/* A few threads that mount for FUSE session threads (fuse-mounter.c). */
#ifndef ENVMOUNT_FUSE_MOUNTER_H
#define ENVMOUNT_FUSE_MOUNTER_H

/* Runs fn(arg) on one of at most FUSE_MOUNTERS mounter threads and returns its result; the caller (a session
 * thread) waits. Runs it on the caller when no mounter thread can be started. */
int fuse_mounter_run(int (*fn)(void *), void *arg);
#endif
