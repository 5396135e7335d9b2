/* A mount's content held in a pipe of its own, linked into each reader's pipe with tee(2) (content-pipe.c). */
#ifndef ENVMOUNT_CONTENT_PIPE_H
#define ENVMOUNT_CONTENT_PIPE_H
#include <stddef.h>

#include "mount.h"

/* Links the mount's content into the reader's pipe `wfd` (the mount's lock held): how many bytes are in it now,
 * 0 when nothing was linked (no content pipe here: the caller writes it all). */
size_t content_pipe_link(mount_t *m, int wfd);
/* Closes the content pipe (the mount's thread, at its end). Idempotent. */
void content_pipe_close(mount_t *m);
#endif
