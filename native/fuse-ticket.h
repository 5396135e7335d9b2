/* Held opens of FUSE mounts under decide (fuse-ticket.c): a request kept until JS answers it, by ticket number. */
#ifndef ENVMOUNT_FUSE_TICKET_H
#define ENVMOUNT_FUSE_TICKET_H
#include <stdint.h>

#include "fuse-mount.h"

/* Keeps `req` (an open with `fi`) for JS: the ticket number (never 0), or 0 with nothing kept (ENOMEM, or the mount
 * is closing: the caller answers the request). Session thread. */
uint32_t fuse_ticket_hold(fuse_mount_t *m, fuse_req_t req, const struct fuse_file_info *fi, int pid, int tgid);
/* Answers a held open once: `blob` (a reference taken) becomes the handle's whole content, NULL refuses (EACCES).
 * 0, -EINVAL (no such ticket: finished, or its mount stopped), -ENOMEM (answered EIO). Any thread. */
int fuse_ticket_answer(uint32_t ticket, blob_t *blob);
/* The mount's session is ending: answers each of its held opens EIO and takes no more. Session thread. */
void fuse_tickets_close(fuse_mount_t *m);
#endif
