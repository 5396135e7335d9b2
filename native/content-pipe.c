/*
 * A mount's content held in a pipe of its own (Linux), so that a read links its pages into the reader's pipe with
 * tee(2) instead of copying them in with write(2). A write to the FIFO moves the FIFO's mtime: on the filesystem
 * that is an inode update at every read, and the mount's pinned mtime had to be given back before the FIFO could
 * be reused (an utimensat a read: reuse.c). A tee moves nothing, copies nothing, and the reader reads the same
 * bytes (pages in a pipe are never written again: this pipe is filled once and closed, never written to after).
 *
 * Used under the mount's lock: the mount's thread makes it and links from it; JS, replacing the content, closes it
 * and bumps content_gen under that lock (the previous values leave the kernel's pages at once), and the next read
 * makes it again. Content over CONTENT_PIPE_MAX, a user over pipe-user-pages-soft (a
 * pipe too small to hold it), or no tee(2) (macOS): no pipe, the content is written as before. The pipe holds the
 * values in kernel pages, as every reader's pipe does.
 */
#define _GNU_SOURCE
#include "content-pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* The default pipe capacity: a larger content pipe would count against the user's pipe pages. */
#define CONTENT_PIPE_MAX (64 * 1024)

void content_pipe_close(mount_t *m) {
  for (int i = 0; i < 2; i++) {
    if (m->cpipe[i] >= 0) close(m->cpipe[i]);
    m->cpipe[i] = -1;
  }
}

#if defined(__linux__) && defined(F_SETPIPE_SZ) && defined(SPLICE_F_NONBLOCK)
/* A pipe sized to the content (whole pages: what it counts against the user's pipe pages) holding it all. */
static int fill(mount_t *m) {
  if (pipe2(m->cpipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    m->cpipe[0] = m->cpipe[1] = -1;
    return -1;
  }
  long page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
  long size = ((long)m->content_len + page - 1) / page * page;
  int capacity = fcntl(m->cpipe[1], F_SETPIPE_SZ, (int)size);
  if (capacity < 0) capacity = fcntl(m->cpipe[1], F_GETPIPE_SZ);
  ssize_t n = capacity >= (long)m->content_len ? write(m->cpipe[1], m->content, m->content_len) : -1;
  /* The write end goes now: nothing is written to this pipe again (its pages are shared with readers' pipes). */
  close(m->cpipe[1]);
  m->cpipe[1] = -1;
  return n == (ssize_t)m->content_len ? 0 : -1;
}
#endif

size_t content_pipe_link(mount_t *m, int wfd) {
#if defined(__linux__) && defined(F_SETPIPE_SZ) && defined(SPLICE_F_NONBLOCK)
  if (m->content_len == 0 || m->content_len > CONTENT_PIPE_MAX) return 0;
  if (m->cpipe_gen != m->content_gen) {
    content_pipe_close(m);
    m->cpipe_gen = m->content_gen; /* tried once per content: a pipe that cannot be made is not tried at every read */
    if (fill(m) != 0) content_pipe_close(m);
  }
  if (m->cpipe[0] < 0) return 0;
  ssize_t n = tee(m->cpipe[0], wfd, m->content_len, SPLICE_F_NONBLOCK);
  return n > 0 ? (size_t)n : 0;
#else
  (void)m, (void)wfd;
  return 0;
#endif
}
