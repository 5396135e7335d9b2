/*
 * The FIFO rotation behind "every reader gets its own pipe": a fresh FIFO beside the path, given the mount's pinned
 * mtime, swapped in with one atomic exchange, and afterwards the check that what came out was the pipe just served.
 */
#define _GNU_SOURCE
#include "rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/xattr.h>
#endif
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/random.h>
#endif

#include "event.h"
#include "mount.h"
#include "reuse.h"
#include "serve.h"

/* Rotation names tried before a rotation gives up (each found taken or exchanged by someone else). */
#define ROTATE_ATTEMPTS 4

/* A handle on the inode at a path that neither reads nor writes it. Without O_PATH (macOS) the handle is a
 * placeholder and the path is used instead; handle_stat() tells what it refers to either way. */
int open_handle(const char *path) {
#ifdef O_PATH
  int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
#else
  struct stat st;
  if (lstat(path, &st) != 0) return -errno;
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
#endif
  return fd >= 0 ? fd : -errno;
}

int handle_stat(int handle, const char *path, struct stat *st) {
#ifdef O_PATH
  (void)path;
  int r = fstat(handle, st);
#else
  (void)handle;
  int r = lstat(path, st);
#endif
  return r == 0 ? 0 : -errno;
}

/* Gives the FIFO the mount's pinned mtime and atime now (best effort: a watcher may see a change): through its
 * O_PATH handle where the kernel takes one (Linux 5.8 and later: the inode itself, one lookup less), else at
 * `path` (-1 for `handle`: by path). */
void pin_times(const mount_t *m, int handle, const char *path) {
  struct timespec times[2] = {{.tv_nsec = UTIME_NOW}, m->mtime};
#if defined(O_PATH) && defined(AT_EMPTY_PATH)
  if (handle >= 0 && (utimensat(handle, "", times, AT_EMPTY_PATH) == 0 || errno != EINVAL)) return;
#else
  (void)handle;
#endif
  utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
}

/* The daemon's euid, asked once (it never changes): is_own_fifo() runs three times a read. */
static uid_t own_euid(void) {
  static _Atomic long cached = -1;
  long id = cached;
  if (id < 0) cached = id = (long)geteuid();
  return (uid_t)id;
}

/* Whether what a handle or an opened fd refers to is a FIFO this daemon made and nobody else can reach by another
 * name: a FIFO, owned by our euid (another user cannot make one), one link (no hard link planted elsewhere). */
int is_own_fifo(const struct stat *st) {
  return S_ISFIFO(st->st_mode) && st->st_uid == own_euid() && st->st_nlink == 1;
}

/* Whether the directory at `path` has an extended POSIX access ACL (named users or groups: its group bits are then
 * the ACL's mask, not one group's rights). Linux keeps the xattr only for ACLs beyond the mode bits. */
int dir_has_acl(const char *path) {
#ifdef __linux__
  return getxattr(path, "system.posix_acl_access", NULL, 0) > 0;
#else
  (void)path;
  return 0;
#endif
}

/* The user's private group (a group of this user alone: Debian's, Ubuntu's and Fedora's user private groups, where
 * umask 002 makes every project directory group-writable), or -1. Set once by JS at daemon start
 * (src/core/shared-directory.ts decides it), read by every mount thread afterwards. */
long private_gid = -1;

/* Whether a mount directory can be written by another user: owned by someone other than us or root, or writable by
 * others, or by a group other than the user's private group, without the sticky bit (with it, nobody but us can
 * rename or remove our entries). Such a user could exchange the pipe under a rotation. */
int dir_is_shared(const struct stat *st) {
  if (st->st_uid != geteuid() && st->st_uid != 0) return 1;
  if ((st->st_mode & S_ISVTX) != 0) return 0;
  if ((st->st_mode & S_IWOTH) != 0) return 1;
  return (st->st_mode & S_IWGRP) != 0 && (private_gid < 0 || st->st_gid != (gid_t)private_gid);
}


/* A fresh rotation name: the mount's prefix and 16 random hex digits (getrandom), so that nobody can put a file of
 * their own at it before mkfifo, nor exchange it without first listing the directory. */
static void next_temp(mount_t *m) {
  uint64_t r = 0;
#ifdef __linux__
  /* Eight names' worth per getrandom call; this mount's thread alone. */
  if (m->random_left == 0 && getrandom(m->random, sizeof m->random, GRND_NONBLOCK) == (ssize_t)sizeof m->random)
    m->random_left = (int)(sizeof m->random / sizeof m->random[0]);
  if (m->random_left > 0) {
    r = m->random[--m->random_left];
    m->random[m->random_left] = 0;
  } else
#endif
  {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    r ^= ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)m;
  }
  temp_name(m, r);
}

void temp_name(mount_t *m, uint64_t suffix) {
  static const char hex[] = "0123456789abcdef";
  size_t prefix = m->temp_size - 18; /* the prefix, '-', 16 digits and NUL: only the digits change (no printf) */
  if (m->temp_now[prefix] != '-') {
    memcpy(m->temp_now, m->temp, prefix);
    m->temp_now[prefix] = '-';
    m->temp_now[prefix + 17] = '\0';
  }
  m->temp_suffix = suffix;
  for (int i = 16; i >= 1; i--, suffix >>= 4) m->temp_now[prefix + (size_t)i] = hex[suffix & 15];
}

/* `name` relative to the directory handle when it is a name in that directory, else NULL. */
static const char *in_dir(const mount_t *m, const char *name) {
  size_t dir = m->base != NULL ? (size_t)(m->base - m->path) : 0;
  if (m->dir_fd < 0 || dir == 0 || strncmp(name, m->path, dir) != 0 || strchr(name + dir, '/') != NULL) return NULL;
  return name + dir;
}

int name_stat(const mount_t *m, const char *name, struct stat *st) {
  const char *rel = in_dir(m, name);
  if (rel != NULL) return fstatat(m->dir_fd, rel, st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -1;
  return lstat(name, st);
}

int name_open(const mount_t *m, const char *name, int flags) {
  const char *rel = in_dir(m, name);
  int fd = rel != NULL ? openat(m->dir_fd, rel, flags | O_NOFOLLOW | O_CLOEXEC) : open(name, flags | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

static void restore_inode(mount_t *m, uint64_t inode) {
  pthread_mutex_lock(&m->lock);
  m->inode = inode;
  pthread_mutex_unlock(&m->lock);
}

/* Makes the next rotation's FIFO in advance, while no reader waits, so that a read costs only the exchange: a fresh
 * name each time, and what the O_PATH handle reached must be the FIFO just made (ours, one link). Anything else
 * (another user exchanged a FIFO of theirs in under the name) is never opened for writing: that name is left to
 * its owner, reported, and another name tried. The mount's pinned mtime is given through the handle (by name on
 * kernels before 5.8: if the name was exchanged meanwhile that touches someone else's pipe's times at most, never
 * content), and what the handle refers to is recorded after it, ctime included, for the check right before use.
 * 0, or -errno. */
int rotate_prepare(mount_t *m) {
  struct stat st;
  int fd = -1;
  rotate_discard(m);
  if (reuse_take(m)) return 0; /* a served FIFO nobody holds any more: no inode allocated (reuse.c) */
  for (int attempt = 0; fd < 0; attempt++) {
    if (attempt == ROTATE_ATTEMPTS) return -EEXIST;
    next_temp(m);
    if (mkfifo(m->temp_now, 0600) != 0) {
      if (errno == EEXIST) continue;
      return -errno;
    }
    fd = open_handle(m->temp_now);
    if (fd < 0 && fd != -ENOENT) {
      unlink(m->temp_now);
      return fd;
    }
    if (fd >= 0) pin_times(m, fd, m->temp_now);
    if (fd >= 0 && handle_stat(fd, m->temp_now, &st) == 0 && is_own_fifo(&st)) break;
    if (fd >= 0) close(fd);
    /* Gone before its handle was taken (the user's tidying removed it): made again, nothing foreign. */
    if (fd != -ENOENT) emit(m->tsfn, EV_FOREIGN, EEXIST, "rotate", 0, 0, 0);
    fd = -1;
  }
  m->spare = fd;
  m->spare_st = st;
  return 0;
}

static int same_time(struct timespec a, struct timespec b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Right before use, one fstat of the handle: still a FIFO of ours with one link, and its ctime unchanged (a rename,
 * an exchange, a link or a chmod of it since it was made moves the ctime: the name may hold another pipe now). */
static int spare_intact(const mount_t *m) {
  struct stat now;
  return m->spare >= 0 && handle_stat(m->spare, m->temp_now, &now) == 0 && is_own_fifo(&now) &&
         now.st_ino == m->spare_st.st_ino && now.st_dev == m->spare_st.st_dev &&
         same_time(ST_CTIM(now), ST_CTIM(m->spare_st));
}

/* Lets go of the FIFO made in advance: its name is removed only while it still holds that inode, then anyone who
 * opened it by that name is let go with EOF (nothing else would wake them). Idempotent. */
void rotate_discard(mount_t *m) {
  if (m->spare < 0) return;
  struct stat at;
  if (name_stat(m, m->temp_now, &at) == 0 && at.st_ino == m->spare_st.st_ino && at.st_dev == m->spare_st.st_dev)
    unlink(m->temp_now);
  release_late_readers(m->spare, NULL);
  close(m->spare);
  m->spare = -1;
}

/* The spare at the rotation name swapped in at the path: one atomic exchange, or where the kernel or filesystem has
 * none, a rename over the served inode while it is still at the path. 0 (*exchanged set for an exchange), or
 * -errno (EEXIST: the path holds something that is not ours). */
static int swap_in(mount_t *m, const struct stat *served, int *exchanged) {
#ifdef RENAME_EXCHANGE
  if (renameat2(AT_FDCWD, m->temp_now, AT_FDCWD, m->path, RENAME_EXCHANGE) == 0) {
    *exchanged = 1;
    return 0;
  }
  if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) return -errno;
#endif
  struct stat cur;
  if (lstat(m->path, &cur) != 0) return -errno;
  if (cur.st_dev != served->st_dev || cur.st_ino != served->st_ino) return -EEXIST;
  return rename(m->temp_now, m->path) == 0 ? 0 : -errno;
}

/* One attempt of rotate(). */
static int rotate_once(mount_t *m, const struct stat *served, int *exchanged) {
  *exchanged = 0;
  if (!spare_intact(m)) {
    /* Another inode at its name now: someone exchanged theirs in (reported, never written to). Gone (removed by a
     * `git clean`, say): simply made again. */
    struct stat at;
    if (m->spare >= 0 && name_stat(m, m->temp_now, &at) == 0 &&
        (at.st_ino != m->spare_st.st_ino || at.st_dev != m->spare_st.st_dev))
      emit(m->tsfn, EV_FOREIGN, EEXIST, "rotate", 0, 0, 0);
    int r = rotate_prepare(m);
    if (r < 0) return r;
  }
  int fd = m->spare;
  struct stat st = m->spare_st;
  m->spare = -1;
  /* The new inode is recorded before it reaches the path: the watcher's look at the rename then finds what it
   * expects, and a read wakes nothing in JS. Put back if the exchange fails. */
  pthread_mutex_lock(&m->lock);
  uint64_t before = m->inode;
  m->inode = (uint64_t)st.st_ino;
  pthread_mutex_unlock(&m->lock);
  int e = swap_in(m, served, exchanged);
  if (e == 0) return fd;
  restore_inode(m, before);
  unlink(m->temp_now);
  close(fd);
  return e;
}

/* Puts the FIFO made in advance (checked again now; made afresh if anything changed) at the path in one atomic
 * exchange and returns its O_PATH handle, or -errno (EEXIST: the path holds something that is not ours).
 * What came out of the exchange is left at the rotation name for rotation_check(), after the write: the reader
 * waiting for its bytes does not wait for that check. Sets *exchanged when a check is due. */
int rotate(mount_t *m, const struct stat *served, int *exchanged) {
  for (int attempt = 1;; attempt++) {
    int fd = rotate_once(m, served, exchanged);
    /* The spare's name removed between its check and the exchange (a `git clean -x`, an `rm .~*` of the user's)
     * while the path still holds the inode just served: nothing foreign, a new spare is made (the path holds
     * ours, untouched). */
    struct stat at;
    if (fd != -ENOENT || attempt == ROTATE_ATTEMPTS || name_stat(m, m->path, &at) != 0 ||
        at.st_ino != served->st_ino || at.st_dev != served->st_dev)
      return fd;
  }
}

/* After an exchange: what came out must be the inode just served (then it goes, or with `keep` stays at the
 * rotation name for reuse_keep()), never a file the user put there in the meantime: that is swapped straight back,
 * untouched, and readers who reached the new FIFO in that moment are let go with EOF. 0, 1 (kept), or -EEXIST with
 * `next` closed. */
int rotation_check(mount_t *m, const struct stat *served, int next, int keep) {
  struct stat out, at;
  const struct stat *made = &m->spare_st; /* what rotate() put at the path: `next` */
  int found = name_stat(m, m->temp_now, &out) == 0;
  int gone = !found && errno == ENOENT;
  if (found && out.st_dev == served->st_dev && out.st_ino == served->st_ino) {
    if (!keep) unlink(m->temp_now);
    /* Someone may have exchanged a pipe of theirs in under the rotation name between our check of it and the
     * exchange: the path then holds theirs (readers meet their pipe; ours, which they cannot open, is elsewhere).
     * Reported; the healer finds a foreign pipe at the path and steps aside. Nothing of ours is written to it.
     * Only another user would, so a strict mount, whose directory only we can write (it pauses when that changes:
     * look.c), does not look: one fstatat a read saved. */
    if (!m->strict_dir && name_stat(m, m->path, &at) == 0 && (at.st_ino != made->st_ino || at.st_dev != made->st_dev))
      emit(m->tsfn, EV_FOREIGN, EEXIST, "rename", 0, 0, 0);
    return keep ? 1 : 0;
  }
  /* Nothing at the rotation name, and the path holds the FIFO just made: the user removed what came out of the
   * exchange since (a `git clean -x` racing the read). Nothing foreign and nothing to swap back: serving goes on. */
  if (gone && name_stat(m, m->path, &at) == 0 && at.st_ino == made->st_ino && at.st_dev == made->st_dev) return 0;
  emit(m->tsfn, EV_FOREIGN, EEXIST, "rename", 0, 0, 0);
#ifdef RENAME_EXCHANGE
  renameat2(AT_FDCWD, m->temp_now, AT_FDCWD, m->path, RENAME_EXCHANGE);
#endif
  release_late_readers(next, m->temp_now);
  unlink(m->temp_now);
  close(next);
  return -EEXIST;
}

