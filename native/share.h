/* Several readers on one pipe, each given a copy of its own (share.c). */
#ifndef ENVMOUNT_SHARE_H
#define ENVMOUNT_SHARE_H
#include <stddef.h>

#include "serve.h"

/* Several readers share the pipe: a thread hands each its own copy of the bytes, at most `max_copies` (0: no cap),
 * closes the write end and a duplicate of the probe, and reports `done_type` with `copies` (writer_done). 0: the
 * thread took the write end over (and a reference on the thread-safe function); -errno: nothing taken over. */
int share_spawn(const reader_pipe_t *pipe, const unsigned char *buf, size_t len, int max_copies, int done_type);
#endif
