/* The inotify watcher behind self-healing mounts (watch.c). */
#ifndef ENVMOUNT_WATCH_H
#define ENVMOUNT_WATCH_H

/* Watches the directory of the O_PATH handle `dir_fd` for changes of the entry `base` on behalf of `mount` (the
 * handle and the string are owned by the mount, alive until watch_remove). 0, or -errno (ENOSYS where there is no
 * inotify). */
int watch_add(int dir_fd, const char *base, void *mount);
/* Stops watching for `mount`; when it returns the watcher no longer uses it. Idempotent. */
void watch_remove(void *mount);
/* 1 where watch_add works (Linux). */
int watch_available(void);

/* Implemented by the mount (mount.c), called on the watcher thread with its lock held: whether the path no longer
 * holds the mount's FIFO, and telling JS so. */
int watch_look(void *mount);
void watch_notify(void *mount);
#endif
