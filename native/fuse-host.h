/* What the host offers the FUSE backend (fuse-host.c): whether it can mount, which mounts are ours, and detaching
 * a stale one. */
#ifndef ENVMOUNT_FUSE_HOST_H
#define ENVMOUNT_FUSE_HOST_H
#include <node_api.h>

/* The absolute path of `path` with its directory resolved (never its last component: a stale mount there fails
 * every stat with ENOTCONN), malloc'd into *out: 0 or -errno. */
int fuse_host_resolve(const char *path, char **out);
/* 1 when a FUSE mount of envmount (fstype fuse.envmount) is at the absolute path `abs` (/proc/self/mountinfo), 0 when
 * not, -errno when mountinfo cannot be read. */
int fuse_host_mounted(const char *abs);
/* What mounting needs and lacks here, or NULL when nothing is missing; *err and *syscall then say how it fails
 * (EACCES "open" for /dev/fuse, ENOENT "fusermount3", ...). */
const char *fuse_host_missing(int *err, const char **syscall);
/* Mounts at `abs` through fusermount3 (an unprivileged user) with mount `options`: the /dev/fuse descriptor, or
 * -errno (-EIO: fusermount3 refused, its reason on stderr). */
int fuse_host_fusermount(const char *abs, const char *options);
/* fusermount3 -u -z -- abs: 0, or -EPERM (its reason on stderr). */
int fuse_host_fusermount_unmount(const char *abs);
#endif
