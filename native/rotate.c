/*
 * The FIFO rotation behind "every reader gets its own pipe": a fresh FIFO beside the path, given the mount's pinned
 * mtime, swapped in with one atomic exchange, and afterwards the check that what came out was the pipe just served.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mount.h"
#include "serve.h"

/* A handle on the inode at a path that neither reads nor writes it. Without O_PATH (macOS) the handle is a
 * placeholder and the path is used instead; handle_stat() tells what it refers to either way. */
int open_handle(const char *path) {
#ifdef O_PATH
  return open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
#else
  struct stat st;
  if (lstat(path, &st) != 0) return -1;
  return open("/dev/null", O_RDONLY | O_CLOEXEC);
#endif
}

int handle_stat(int handle, const char *path, struct stat *st) {
#ifdef O_PATH
  (void)path;
  return fstat(handle, st);
#else
  (void)handle;
  return lstat(path, st);
#endif
}

/* Gives the FIFO at `path` the mount's pinned mtime and atime now (best effort: a watcher may see a change). */
void pin_times(const mount_t *m, const char *path) {
  struct timespec times[2] = {{0, UTIME_NOW}, m->mtime};
  utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
}

static void restore_inode(mount_t *m, uint64_t inode) {
  pthread_mutex_lock(&m->lock);
  m->inode = inode;
  pthread_mutex_unlock(&m->lock);
}

/* Puts a fresh FIFO at the path in one atomic exchange and returns an O_PATH handle on the new inode, or -1 with
 * errno (EEXIST: the path holds something that is not ours). What came out of the exchange is left at the rotation
 * name for rotation_check(), after the write: the reader waiting for its bytes does not wait for that check.
 * Sets *exchanged when a check is due. */
int rotate(mount_t *m, const struct stat *served, int *exchanged) {
  *exchanged = 0;
  struct stat st;
  if (mkfifo(m->temp, 0600) != 0) {
    /* Taken: a leftover FIFO of a killed daemon is removed; anything else is not ours to touch. */
    if (errno != EEXIST || lstat(m->temp, &st) != 0) return -1;
    if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) return errno = EEXIST, -1;
    unlink(m->temp);
    if (mkfifo(m->temp, 0600) != 0) return -1;
  }
  pin_times(m, m->temp);
  int fd = open_handle(m->temp);
  if (fd < 0 || handle_stat(fd, m->temp, &st) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(m->temp);
    return errno = e, -1;
  }
  /* The new inode is recorded before it reaches the path: the watcher's look at the rename then finds what it
   * expects, and a read wakes nothing in JS. Put back if the exchange fails. */
  pthread_mutex_lock(&m->lock);
  uint64_t before = m->inode;
  m->inode = (uint64_t)st.st_ino;
  pthread_mutex_unlock(&m->lock);
#ifdef RENAME_EXCHANGE
  if (renameat2(AT_FDCWD, m->temp, AT_FDCWD, m->path, RENAME_EXCHANGE) == 0) {
    *exchanged = 1;
  } else if (errno == ENOENT || errno == EINVAL || errno == ENOSYS) {
#endif
    struct stat cur;
    int e = lstat(m->path, &cur) != 0                                        ? errno
            : (cur.st_dev != served->st_dev || cur.st_ino != served->st_ino) ? EEXIST
            : rename(m->temp, m->path) != 0                                  ? errno
                                                                             : 0;
    if (e != 0) {
      restore_inode(m, before);
      unlink(m->temp);
      close(fd);
      return errno = e, -1;
    }
#ifdef RENAME_EXCHANGE
  } else {
    int e = errno;
    restore_inode(m, before);
    unlink(m->temp);
    close(fd);
    return errno = e, -1;
  }
#endif
  return fd;
}

/* After an exchange: what came out must be the inode just served (then it goes), never a file the user put there
 * in the meantime: that is swapped straight back, untouched, and readers who reached the new FIFO in that moment
 * are let go with EOF. 0, or EEXIST with `next` closed. */
int rotation_check(mount_t *m, const struct stat *served, int next) {
  struct stat out;
  if (lstat(m->temp, &out) == 0 && out.st_dev == served->st_dev && out.st_ino == served->st_ino) {
    unlink(m->temp);
    return 0;
  }
#ifdef RENAME_EXCHANGE
  renameat2(AT_FDCWD, m->temp, AT_FDCWD, m->path, RENAME_EXCHANGE);
#endif
  release_late_readers(next, m->temp);
  unlink(m->temp);
  close(next);
  return EEXIST;
}

