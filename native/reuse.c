/*
 * Served FIFOs kept for reuse. Every read swaps a spare FIFO in at the path, so that each reader gets its own pipe.
 * Making that spare with mkfifo allocates an inode per read, and on ext4 without a journal each allocation first
 * skips every inode of the group deleted in the last minutes (recently_deleted(), reading each one's inode table
 * entry): a make-exchange-unlink loop took 26 us a turn at first, 72 us after 300 000 turns in a minute, 380 us
 * where more had been deleted, growing with the reads before it. So the inode a read swapped out is not unlinked: it rests at its rotation name and, two
 * reads later, becomes the spare again, once nobody holds it.
 *
 * Nobody holds it: our write end is closed (only FIFOs whose whole content went out at once, in serve(), are kept;
 * never a ticket's or a writer thread's, which may still hold a write end), and a non-blocking open for writing
 * finds no reader (ENXIO). The kernel frees a FIFO's pipe when its last opener closes, so the next reader of a
 * reused inode gets a new, empty pipe of its own, as with a fresh inode. A reader that is still there (the last
 * one reading, or a late reader that resolved the path before the swap) is let go with EOF by that open's close,
 * and the inode is discarded instead. Owned by the mount's thread alone.
 */
#define _GNU_SOURCE
#include "reuse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "rotate.h"
#include "serve.h"

#define REST_MAX (int)(sizeof ((mount_t *)0)->rest / sizeof((mount_t *)0)->rest[0])

/* Removes a resting FIFO: its name goes only while it still holds that inode; then its readers are let go, even if
 * released before: a process may have opened it by its rotation name since, and nothing would wake it later. */
static void drop(mount_t *m, const rest_t *r) {
  struct stat at;
  temp_name(m, r->suffix);
  if (name_stat(m, m->temp_now, &at) == 0 && at.st_ino == r->st.st_ino && at.st_dev == r->st.st_dev) unlink(m->temp_now);
  release_late_readers(r->handle, NULL);
  close(r->handle);
}

static rest_t shift(mount_t *m) {
  rest_t first = m->rest[0];
  memmove(&m->rest[0], &m->rest[1], sizeof m->rest[0] * (size_t)(m->nrest - 1));
  m->nrest--;
  return first;
}

void reuse_keep(mount_t *m, int handle, const struct stat *served) {
  uint64_t suffix = m->temp_suffix; /* where it rests: drop() below names another */
  if (m->nrest == REST_MAX) {
    rest_t old = shift(m);
    drop(m, &old);
  }
  m->rest[m->nrest++] = (rest_t){.handle = handle, .suffix = suffix, .st = *served};
}

/* Whether anyone holds a resting FIFO: a non-blocking open for writing finds a reader (an fd, closed by the caller
 * to let them go with EOF) or none (-ENXIO). Through the handle's /proc link, the inode itself; in a strict
 * mount's directory, which only we can write (rotate.c), by its name there, one lookup instead of four (the name
 * is checked to hold that inode right after). */
static int probe(const mount_t *m, const rest_t *r) {
  int flags = O_WRONLY | O_NONBLOCK | O_NOCTTY;
  return m->strict_dir ? name_open(m, m->temp_now, flags) : open_inode(r->handle, m->temp_now, flags);
}

int reuse_take(mount_t *m) {
  /* The newest resting FIFO's reader is most likely still reading: the older one is taken. */
  if (m->nrest < REST_MAX) return 0;
  rest_t r = shift(m);
  temp_name(m, r.suffix);
  struct stat at;
  int fd = probe(m, &r);
  if (fd >= 0) close(fd); /* someone holds it: let go with EOF, and not reused */
  /* Still at its name, and what the name holds now (the inode the handle refers to: the same stat) for the check
   * right before the exchange (spare_intact), ctime included, as for a FIFO just made; with the pinned mtime given
   * again first if a write moved it (content linked from the content pipe moves nothing: content-pipe.c). Mode 0600
   * too: a FIFO the user opened to others (chmod -R, setfacl) while it was at the path or resting must not come
   * back to the path read after read, where a fresh one would be 0600 again. */
  int ok = fd == -ENXIO && name_stat(m, m->temp_now, &at) == 0 && at.st_ino == r.st.st_ino && at.st_dev == r.st.st_dev;
  if (ok && (ST_MTIM(at).tv_sec != m->mtime.tv_sec || ST_MTIM(at).tv_nsec != m->mtime.tv_nsec)) {
    pin_times(m, r.handle, m->temp_now);
    ok = handle_stat(r.handle, m->temp_now, &at) == 0 && at.st_ino == r.st.st_ino && at.st_dev == r.st.st_dev;
  }
  ok = ok && is_own_fifo(&at) && (at.st_mode & 0777) == (S_IRUSR | S_IWUSR);
  if (!ok) {
    drop(m, &r);
    return 0;
  }
  m->spare = r.handle;
  m->spare_st = at;
  return 1;
}

int reuse_pending(const mount_t *m) {
  for (int i = 0; i < m->nrest; i++)
    if (!m->rest[i].released) return 1;
  return 0;
}

void reuse_release(mount_t *m) {
  for (int i = 0; i < m->nrest; i++) {
    if (m->rest[i].released) continue;
    release_late_readers(m->rest[i].handle, NULL);
    m->rest[i].released = 1;
  }
}

void reuse_discard(mount_t *m) {
  while (m->nrest > 0) {
    rest_t r = shift(m);
    drop(m, &r);
  }
}
