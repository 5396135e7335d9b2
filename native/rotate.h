/* The FIFO rotation (rotate.c): handles on a FIFO, the atomic swap, and the checks of what is ours. */
#ifndef ENVMOUNT_ROTATE_H
#define ENVMOUNT_ROTATE_H
#include <stdint.h>
#include <sys/stat.h>

#include "mount.h"

/* A handle on the inode at a path that neither reads nor writes it (O_PATH): an fd, or -errno. */
int open_handle(const char *path);
/* What a handle refers to: 0, or -errno. */
int handle_stat(int handle, const char *path, struct stat *st);
void pin_times(const mount_t *m, int handle, const char *path);
/* The next rotation's FIFO, made in advance while no reader waits (mount_t.spare): 0, or -errno. */
int rotate_prepare(mount_t *m);
/* Lets go of the FIFO made in advance. Idempotent. */
void rotate_discard(mount_t *m);
/* A fresh FIFO swapped in at the path: a handle on it, or -errno (EEXIST: the path holds something not ours). */
int rotate(mount_t *m, const struct stat *served, int *exchanged);
/* After an exchange, that what came out is the inode served: 0, 1 (left at its name: `keep`), or -EEXIST with
 * `next` closed. */
int rotation_check(mount_t *m, const struct stat *served, int next, int keep);
/* lstat of one of the mount's names (its path, a rotation name) through the directory handle where the name is in
 * that directory: one component resolved, not the whole path (three times a read). 0, or -1 with errno. */
int name_stat(const mount_t *m, const char *name, struct stat *st);
/* open() of one of the mount's names the same way (never following a symlink): an fd, or -errno. */
int name_open(const mount_t *m, const char *name, int flags);
/* Sets temp_now to the rotation name with this suffix. */
void temp_name(mount_t *m, uint64_t suffix);
int is_own_fifo(const struct stat *st);
int dir_is_shared(const struct stat *st);
/* An extended POSIX ACL on the directory at `path` (rotate.c): treated as shared, whatever its mode says. */
int dir_has_acl(const char *path);
/* The user's private group, or -1 (rotate.c); set by mountsSetPrivateGroup. */
extern long private_gid;

#endif
