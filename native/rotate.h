/* The FIFO rotation (rotate.c): handles on a FIFO, the atomic swap, and the checks of what is ours. */
#ifndef ENVMOUNT_ROTATE_H
#define ENVMOUNT_ROTATE_H
#include <sys/stat.h>

#include "mount.h"

int open_handle(const char *path);
int handle_stat(int handle, const char *path, struct stat *st);
void pin_times(const mount_t *m, const char *path);
int rotate(mount_t *m, const struct stat *served, int *exchanged);
int rotation_check(mount_t *m, const struct stat *served, int next);
int is_own_fifo(const struct stat *st);
int dir_is_shared(const struct stat *st);
/* An extended POSIX ACL on the directory at `path` (rotate.c): treated as shared, whatever its mode says. */
int dir_has_acl(const char *path);
/* The user's private group, or -1 (rotate.c); set by mountsSetPrivateGroup. */
extern long private_gid;

#endif
