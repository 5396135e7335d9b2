/* What is at a mount's path now, in the healer's and the watcher's terms: look() and look_strict() (the healer's
 * looks, mountsLook), and the watcher's callbacks (watch.h). Called on the JS thread and the watcher thread; reads
 * the mount's inode under its lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "mount.h"
#include "rotate.h"
#include "serve.h"
#include "watch.h"

/* What is at the mount's path now, against the inode the thread waits on: 0 that FIFO, 1 nothing, 2 another FIFO
 * of ours (a rotation in flight, or someone's), 3 a FIFO of another user, 4 a regular file, 5 a symlink,
 * 6 a directory, 7 anything else (8, that FIFO in a directory other users can write: look_strict() only),
 * -errno when lstat fails otherwise. */
int look(mount_t *m) {
  struct stat st;
  /* Through the directory handle; if that directory was removed (or replaced) the name is gone from it: ENOENT, and
   * the caller looks at the paths themselves. */
  int r = m->dir_fd >= 0 ? fstatat(m->dir_fd, m->base, &st, AT_SYMLINK_NOFOLLOW) : lstat(m->path, &st);
  if (r != 0) return errno == ENOENT || errno == ENOTDIR ? LOOK_ABSENT : -errno;
  if (!S_ISFIFO(st.st_mode))
    return S_ISREG(st.st_mode) ? LOOK_REGULAR : S_ISLNK(st.st_mode) ? LOOK_SYMLINK : S_ISDIR(st.st_mode) ? LOOK_DIRECTORY : LOOK_OTHER;
  pthread_mutex_lock(&m->lock);
  uint64_t inode = m->inode;
  pthread_mutex_unlock(&m->lock);
  if (st.st_uid != geteuid()) return LOOK_FOREIGN_FIFO;
  if ((uint64_t)st.st_ino != inode) return LOOK_OTHER_FIFO;
  return LOOK_SAME;
}

/* look(), and for strict mounts whether the directory became writable by another user (StrictModes): an fstat of
 * the handle and a getxattr. Only the healer's looks (mountsLook) ask this, never the watcher's, which wakes at
 * every read's own renames: a chmod is seen at the healer's next look. */
int look_strict(mount_t *m) {
  int code = look(m);
  struct stat dir;
  if (code == LOOK_SAME && m->strict_dir && m->dir_fd >= 0 && fstat(m->dir_fd, &dir) == 0) {
    char self[32];
    proc_fd_path(self, m->dir_fd);
    if (dir_is_shared(&dir) || dir_has_acl(self)) return LOOK_SHARED_DIR;
  }
  return code;
}

/* Worth telling JS: the path holds anything but the mount's FIFO, except another FIFO of ours (2), which is what
 * a rotation in flight looks like (the healer's timer still looks at that case, twice, before acting). */
int watch_look(void *mount) {
  int code = look(mount);
  return code != LOOK_SAME && code != LOOK_OTHER_FIFO;
}

void watch_notify(void *mount) {
  mount_t *m = mount;
  emit(m->tsfn, EV_LOOK, 0, NULL, 0, 0, 0);
}

