/*
 * The FUSE floor for `npm run bench`: the least a FUSE server can do to serve one file's content, in C with nothing
 * else in the process. libfuse 3's low-level API, one thread, fuse_session_loop(): each request is read from
 * /dev/fuse and answered on that thread. The filesystem's root is the file itself, mounted directly on a regular
 * file (as root: mount(2), no fusermount3), so an open reaches the server without a lookup.
 *
 * It keeps the semantics of envmount's FUSE mounts (native/fuse-session.c) that decide what a read costs and what
 * a reader sees, so the comparison is like for like: the same mount options (ro, nosuid, nodev, noexec, noatime,
 * default_permissions), every open direct_io with keep_cache 0 (each read reaches the server and no page cache
 * survives between opens: every open sees the current content, never a cached copy), noflush (close sends no
 * FLUSH), and attributes cached for 0 s (each stat asks: the size is the current content's). Opens for writing or
 * with O_TRUNC are refused. What it leaves out is everything envmount adds per open: no identification of the
 * opener, no policy, no handle of its own content, no check of who reads through a handle, no events, no audit.
 *
 * Usage: fuse-floor PATH CONTENT_FILE   (PATH a regular file; prints `ready` once mounted; on SIGTERM unmounts and
 * exits)
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char content[1 << 20];
static size_t len;
static struct timespec mtime;
static uid_t uid;
static gid_t gid;

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOENT);
  struct stat st = {.st_ino = FUSE_ROOT_ID, .st_mode = S_IFREG | 0600, .st_nlink = 1, .st_uid = uid,
                    .st_gid = gid, .st_blksize = 4096, .st_size = (off_t)len};
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_mtim = st.st_ctim = st.st_atim = mtime;
  fuse_reply_attr(req, &st, 0.0);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOENT);
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) return (void)fuse_reply_err(req, EACCES);
  fi->direct_io = 1;
  fi->keep_cache = 0;
  fi->noflush = 1;
  fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)ino, (void)fi;
  size_t n = 0;
  if (off >= 0 && (size_t)off < len) n = len - (size_t)off < size ? len - (size_t)off : size;
  fuse_reply_buf(req, n > 0 ? content + off : NULL, n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino, (void)fi;
  fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino, (void)fi;
  fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops OPS = {
    .getattr = op_getattr, .open = op_open, .read = op_read, .flush = op_flush, .release = op_release};

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fuse-floor PATH CONTENT_FILE\n");
    return 2;
  }
  int cf = open(argv[2], O_RDONLY);
  ssize_t got = cf >= 0 ? read(cf, content, sizeof content) : -1;
  if (got < 0) {
    perror("content");
    return 1;
  }
  close(cf);
  len = (size_t)got;
  clock_gettime(CLOCK_REALTIME, &mtime);
  uid = geteuid();
  gid = getegid();
  char *args_v[] = {argv[0], "-oro,nosuid,nodev,noexec,noatime,default_permissions,fsname=fuse-floor,subtype=floor",
                    NULL};
  struct fuse_args args = FUSE_ARGS_INIT(2, args_v);
  struct fuse_session *se = fuse_session_new(&args, &OPS, sizeof OPS, NULL);
  fuse_opt_free_args(&args);
  if (se == NULL) return 1;
  /* SIGTERM, SIGINT, SIGHUP end the loop (the blocked read returns EINTR); SIGPIPE is ignored. */
  if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, argv[1]) != 0) {
    fuse_session_destroy(se);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  int r = fuse_session_loop(se);
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  return r < 0 ? 1 : 0;
}
