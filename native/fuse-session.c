/*
 * A FUSE mount's session thread: the filesystem's root is one regular file, `.env`.
 *
 * Every open gets a handle with its own content: the mount's current blob (decide false: policy `any`), or what JS
 * answers for its ticket (decide true, or an opener fuse-handup.c hands up; the request is held and the loop serves
 * others meanwhile). Every open is direct_io: each
 * read reaches this thread (so it is checked against the opener) and no page cache is shared between handles
 * whose content differs. The kernel caches no attribute (timeout 0): size and mtime are asked at every stat.
 *
 * The loop is ours rather than fuse_session_loop(): it polls the device and a cancel eventfd, so a stop ends it at
 * once without an unmount from another thread racing a read on the device.
 */
#define _GNU_SOURCE
#include "fuse-session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fuse-handup.h"
#include "fuse-host.h"
#include "fuse-mounter.h"
#include "fuse-proc.h"
#include "fuse-ticket.h"

#define OPTIONS "ro,nosuid,nodev,noexec,noatime,default_permissions,fsname=envmount,subtype=envmount"
#define MOUNT_OPTIONS "-o" OPTIONS

static fuse_mount_t *mount_of(fuse_req_t req) {
  return fuse_req_userdata(req);
}

static int caller_tgid(int pid) {
  int tgid = proc_tgid(pid, NULL);
  return tgid > 0 ? tgid : pid;
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  fuse_mount_t *m = mount_of(req);
  if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOENT);
  struct stat st = {.st_ino = FUSE_ROOT_ID, .st_mode = S_IFREG | 0600, .st_nlink = 1, .st_uid = m->uid,
                    .st_gid = m->gid, .st_blksize = 4096};
  pthread_mutex_lock(&m->lock);
  handle_t *latest = m->handles.next != &m->handles ? m->handles.next : NULL;
  int pid = (int)fuse_req_ctx(req)->pid, latest_pid = latest ? latest->opener_pid : 0;
  pthread_mutex_unlock(&m->lock);
  /* fstat() does not say which handle it is about: a process with a handle open sees its latest handle's size. The
   * caller's thread group is looked up only when the newest handle is not its own thread's (fstat after open). */
  int tgid = latest && latest_pid != pid ? caller_tgid(pid) : 0;
  pthread_mutex_lock(&m->lock);
  st.st_size = (off_t)blob_len(m->content);
  for (handle_t *h = m->handles.next; h != &m->handles; h = h->next) {
    if (h->opener_pid == pid || (tgid > 0 && h->opener_tgid == tgid)) {
      st.st_size = (off_t)blob_len(h->blob);
      break;
    }
  }
  st.st_mtim = st.st_ctim = st.st_atim = m->mtime;
  pthread_mutex_unlock(&m->lock);
  st.st_blocks = (st.st_size + 511) / 512;
  fuse_reply_attr(req, &st, 0.0);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  fuse_mount_t *m = mount_of(req);
  const struct fuse_ctx *ctx = fuse_req_ctx(req);
  int pid = (int)ctx->pid, tgid = caller_tgid(pid);
  fuse_event_t ev = {.pid = pid, .tgid = tgid, .uid = (int)ctx->uid, .gid = (int)ctx->gid, .flags = fi->flags};
  if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOENT);
  pthread_mutex_lock(&m->lock);
  int decide = m->decide, has = m->has_content;
  pthread_mutex_unlock(&m->lock);
  /* Under decide false, an opener JS may refuse under every policy (a bulk reader) still waits for JS. */
  if (!decide && has && (fi->flags & O_ACCMODE) == O_RDONLY && !(fi->flags & O_TRUNC) && fuse_hand_up(tgid))
    decide = 1;
  pthread_mutex_lock(&m->lock);
  decide |= m->decide; /* a policy that needs decisions since: this open waits for one too */
  has = m->has_content;
  blob_t *blob = has && !decide ? blob_ref(m->content) : NULL;
  pthread_mutex_unlock(&m->lock);
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) || (!decide && !has)) {
    fuse_reply_err(req, EACCES);
    ev.type = FEV_REFUSED;
    ev.err = EACCES;
    fuse_emit(m, &ev);
    return;
  }
  if (decide) {
    ev.type = FEV_OPEN;
    ev.ticket = fuse_ticket_hold(m, req, fi, pid, tgid);
    if (ev.ticket == 0) return (void)fuse_reply_err(req, EIO);
    fuse_emit(m, &ev);
    return;
  }
  handle_t *h = handle_new(m, blob, pid, tgid);
  ev.bytes = (double)blob_len(blob);
  blob_unref(blob);
  if (h == NULL) return (void)fuse_reply_err(req, ENOMEM);
  fi->fh = (uintptr_t)h;
  fi->direct_io = 1;
  fi->keep_cache = 0;
  fi->noflush = 1; /* close(2) sends no FLUSH: nothing to flush on a read-only handle */
  if (fuse_reply_open(req, fi) != 0) return handle_free(m, h); /* the opener was interrupted: no release comes */
  ev.type = FEV_SERVED;
  fuse_emit(m, &ev);
}

/* A read by someone other than the opener's thread group: allowed for its descendants (a handle inherited across
 * fork), refused and reported (once per handle and process) for anyone else (a descriptor passed over a socket, or
 * the opener gone and its children orphaned). */
static int read_allowed(fuse_mount_t *m, handle_t *h, int pid) {
  if (pid == h->opener_pid) return 1;
  int tgid = pid > 0 ? caller_tgid(pid) : 0;
  if (tgid > 0 && (tgid == h->opener_tgid || tgid == h->ok_tgid)) return 1;
  if (tgid > 0 && proc_descends(tgid, h->opener_tgid)) {
    h->ok_tgid = tgid;
    return 1;
  }
  if (tgid != h->foreign_tgid) {
    h->foreign_tgid = tgid;
    fuse_emit(m, &(fuse_event_t){.type = FEV_FOREIGN_READ, .pid = pid, .tgid = tgid, .opener = h->opener_tgid});
  }
  return 0;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)ino;
  handle_t *h = (handle_t *)(uintptr_t)fi->fh;
  if (!read_allowed(mount_of(req), h, (int)fuse_req_ctx(req)->pid)) return (void)fuse_reply_err(req, EACCES);
  size_t len = blob_len(h->blob), n = 0;
  if (off >= 0 && (size_t)off < len) n = len - (size_t)off < size ? len - (size_t)off : size;
  h->reads++;
  h->bytes += n;
  if (n > 0 && (uint64_t)off + n > h->end) h->end = (uint64_t)off + n;
  fuse_reply_buf(req, n > 0 ? (const char *)h->blob->bytes + off : NULL, n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino, (void)fi;
  fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  fuse_mount_t *m = mount_of(req);
  handle_t *h = (handle_t *)(uintptr_t)fi->fh;
  size_t len = blob_len(h->blob);
  fuse_emit(m, &(fuse_event_t){.type = FEV_RELEASED, .tgid = h->opener_tgid, .bytes = (double)h->bytes,
                               .whole = len > 0 ? h->end >= len : h->reads > 0});
  handle_free(m, h);
  fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops OPS = {
    .getattr = op_getattr,
    .open = op_open,
    .read = op_read,
    .flush = op_flush,
    .release = op_release,
};

/* Unmounts the session's mount (lazily for fusermount3's: nothing waits on the filesystem, whose descriptor
 * fuse_session_destroy closes after). */
static void session_unmount(fuse_mount_t *m) {
  if (!m->spawned) return fuse_session_unmount(m->se);
  /* POLLERR: the connection is gone (unmounted from outside, or aborted): nothing of ours is at the path. */
  struct pollfd pfd = {.fd = fuse_session_fd(m->se), .events = 0};
  if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)) return;
  fuse_host_fusermount_unmount(m->path);
}

/* A session mounted at m->path: 0, or -errno with nothing mounted (-EIO: libfuse refused, its reason on stderr). */
static int session_mount(fuse_mount_t *m) {
  char *argv[] = {"envmount", MOUNT_OPTIONS, NULL};
  struct fuse_args args = FUSE_ARGS_INIT(2, argv);
  m->se = fuse_session_new(&args, &OPS, sizeof OPS, m);
  fuse_opt_free_args(&args);
  if (m->se == NULL) return -EINVAL;
  /* A user mounts through fusermount3, spawned here (libfuse would fork this process) and handed to libfuse as
   * /dev/fd/N; then libfuse does not know the path, and session_unmount() unmounts it. Root mounts directly. */
  char dev[32] = "";
  if (geteuid() != 0) {
    int fd = fuse_host_fusermount(m->path, OPTIONS);
    if (fd < 0) {
      fuse_session_destroy(m->se);
      m->se = NULL;
      return fd;
    }
    snprintf(dev, sizeof dev, "/dev/fd/%d", fd);
    m->spawned = 1;
  }
  if (fuse_session_mount(m->se, m->spawned ? dev : m->path) != 0) {
    if (m->spawned) { /* libfuse did not take the descriptor */
      close(atoi(dev + 8));
      fuse_host_fusermount_unmount(m->path);
    }
    fuse_session_destroy(m->se);
    m->se = NULL;
    return -EIO;
  }
  /* Non-blocking: poll said readable, yet an interrupted request may be gone. */
  int fd = fuse_session_fd(m->se);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    int r = -errno;
    session_unmount(m);
    fuse_session_destroy(m->se);
    m->se = NULL;
    return r;
  }
  return 0;
}

typedef struct {
  fuse_mount_t *m;
  double dev, ino;
} mount_job_t;

/* On a mounter thread (fuse-mounter.c): mounts, and takes what the path shows through the mount (the healer
 * compares it) from the kernel's cached inode: statx with AT_STATX_DONT_SYNC sends no request, which the session
 * thread, not serving yet, could not answer. */
static int mount_job(void *arg) {
  mount_job_t *job = arg;
  int r = session_mount(job->m);
  struct statx stx;
  if (r == 0 && statx(AT_FDCWD, job->m->path, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_INO, &stx) == 0) {
    job->dev = (double)makedev(stx.stx_dev_major, stx.stx_dev_minor);
    job->ino = (double)stx.stx_ino;
  }
  return r;
}

static void *session_main(void *arg) {
  fuse_mount_t *m = arg;
  struct fuse_buf buf = {.mem = NULL};
  if (m->background) {
    mount_job_t job = {.m = m};
    int r = fuse_mounter_run(mount_job, &job);
    if (r < 0) {
      fuse_tickets_close(m);
      fuse_emit(m, &(fuse_event_t){.type = FEV_STOPPED, .err = -r});
      napi_release_threadsafe_function(m->tsfn, napi_tsfn_release);
      return NULL;
    }
    fuse_emit(m, &(fuse_event_t){.type = FEV_MOUNTED, .dev = job.dev, .ino = job.ino});
  }
  struct pollfd fds[2] = {{.fd = fuse_session_fd(m->se), .events = POLLIN},
                          {.fd = m->cancel_fd, .events = POLLIN}};
  int external = 0;
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    int r = fuse_session_receive_buf(m->se, &buf);
    if (r == -EINTR || r == -EAGAIN) continue;
    if (r <= 0 || fuse_session_exited(m->se)) {
      external = r == 0 || fuse_session_exited(m->se); /* ENODEV: unmounted by someone else */
      break;
    }
    fuse_session_process_buf(m->se, &buf);
  }
  free(buf.mem);
  fuse_tickets_close(m);
  session_unmount(m);
  fuse_session_destroy(m->se);
  m->se = NULL;
  /* The connection is gone: no release will come for the handles still open. */
  while (m->handles.next != &m->handles) handle_free(m, m->handles.next);
  fuse_emit(m, &(fuse_event_t){.type = FEV_STOPPED, .external = external});
  napi_release_threadsafe_function(m->tsfn, napi_tsfn_release);
  return NULL;
}

int fuse_session_begin(fuse_mount_t *m) {
  int r = m->background ? 0 : session_mount(m);
  if (r < 0) return r;
  r = spawn_service(session_main, m, &m->thread); /* 0, or -errno */
  if (r < 0 && m->se != NULL) {
    session_unmount(m);
    fuse_session_destroy(m->se);
    m->se = NULL;
  }
  if (r < 0) return r;
  m->thread_live = 1;
  return 0;
}
