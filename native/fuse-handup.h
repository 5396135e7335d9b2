/* Which openers of a FUSE mount under decide false are still handed up to JS (fuse-handup.c): those whose
 * executable or command line names a program JS may refuse under every policy (core/bulk-readers.ts). */
#ifndef ENVMOUNT_FUSE_HANDUP_H
#define ENVMOUNT_FUSE_HANDUP_H

/* 1 when the open by process `tgid` must be handed up for a decision, 0 when it may be served at once: no pattern
 * set, or its executable and every argument read, none matching. Anything unreadable hands up. */
int fuse_hand_up(int tgid);
#endif
