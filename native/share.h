/* Several readers on one pipe, each given a copy of its own (share.c). */
#ifndef ENVMOUNT_SHARE_H
#define ENVMOUNT_SHARE_H
#include <node_api.h>
#include <sys/types.h>
#include <time.h>

/* Several readers share the pipe `wfd` (inode dev/ino): a thread hands each its own copy of the bytes (share.c), at
 * most `max_copies` (0: no cap), closes wfd and probe_fd, and reports `done_type` with `copies`. Returns 0, or an
 * errno with nothing taken over. */
int share_spawn(int wfd, dev_t dev, ino_t ino, const unsigned char *buf, size_t len, int max_copies, int probe_fd,
                napi_threadsafe_function tsfn, int timeout_ms, int done_type, const struct timespec *start);
#endif
