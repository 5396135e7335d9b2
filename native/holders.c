/*
 * Reader identification. Linux: walk /proc/PID/fd of the processes this user can see, stat() each link (which
 * follows it to the inode) and compare (st_dev, st_ino) with the FIFO served, never its path; the access mode comes
 * from /proc/PID/fdinfo. macOS: the same through libproc (compiled there only; not run in this project's CI).
 */
#define _GNU_SOURCE
#include "holders.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __APPLE__
#include <libproc.h>
#include <sys/proc_info.h>
#endif

#ifdef __linux__
#include <sys/syscall.h>
#ifdef SYS_open
#define SYS_open_nr SYS_open
#else
#define SYS_open_nr (-1)
#endif

#define KCMP_FILES_TYPE 2 /* linux/kcmp.h's KCMP_FILES */

struct linux_dirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int access_mode(int pid, long tid, const char *fd) {
  char path[320], buf[256];
  if (tid > 0)
    snprintf(path, sizeof path, "/proc/%d/task/%ld/fdinfo/%s", pid, tid, fd);
  else
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%s", pid, fd);
  int f = open(path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return HOLD_READ_WRITE; /* unknown: count it as a possible reader */
  ssize_t n = read(f, buf, sizeof buf - 1);
  close(f);
  if (n <= 0) return HOLD_READ_WRITE;
  buf[n] = 0;
  char *flags = strstr(buf, "flags:");
  if (flags == NULL) return HOLD_READ_WRITE;
  long value = strtol(flags + 6, NULL, 8);
  int acc = (int)(value & O_ACCMODE);
  return acc == O_RDONLY ? HOLD_READ : acc == O_WRONLY ? HOLD_WRITE : HOLD_READ_WRITE;
}

/* Calls fn for each entry name of the /proc directory open at fd (raw getdents64: no stdio, no fcntl). procfs fills
 * the buffer with as many entries as fit, so a call that left room for a longest entry (a name of at most 255
 * bytes) returned the last of them: the call that would return 0 is saved, one per process scanned. */
static void each_entry(int fd, void (*fn)(const char *name, void *ctx), void *ctx) {
  char buf[8192] __attribute__((aligned(8)));
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) return;
    for (long at = 0; at < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + at);
      if (d->d_name[0] != '.') fn(d->d_name, ctx);
      at += d->d_reclen;
    }
    if (n < (long)sizeof buf - 512) return;
  }
}

typedef struct {
  dev_t dev;
  ino_t ino;
  pid_t self;
  holder_t *out;
  int max, count, pid, fds;
  int denied;     /* this process's links are closed to us (a non-dumpable process): its other fds are skipped */
  int proc;       /* /proc */
  int tasks;      /* /proc/PID/task of the process being scanned */
  int unreadable; /* processes of this user whose fd table we could not read (non-dumpable): unknown */
  long tid;        /* the thread whose own fd table is being scanned, 0 for the leader's */
  off_t leader_fds; /* the leader's count of open fds (the size procfs gives its fd directory); -1 unknown, -2 not yet */
  uid_t euid;
} scan_t;

static void check_fd(const char *name, void *ctx) {
  scan_t *s = ctx;
  if (s->count >= s->max || s->denied) return;
  /* A named FIFO's link is its path; sockets, anonymous pipes, anon inodes and devices are skipped without the
   * costlier stat, which resolves the link's target. */
  char target[16];
  ssize_t n = readlinkat(s->fds, name, target, sizeof target);
  if (n < 0 && errno == EACCES) s->denied = 1;
  if (n <= 0 || target[0] != '/' || (n >= 5 && memcmp(target, "/dev/", 5) == 0)) return;
  struct stat st;
  if (fstatat(s->fds, name, &st, 0) != 0 || st.st_ino != s->ino || st.st_dev != s->dev) return;
  s->out[s->count++] = (holder_t){.pid = s->pid, .fd = atoi(name), .mode = access_mode(s->pid, s->tid, name)};
}

/* Scans one fd directory (relative to `at`) of the process being scanned; 0, or -errno. */
static int scan_fds(scan_t *s, int at, const char *path) {
  int fds = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fds < 0) return -errno;
  s->fds = fds;
  s->denied = 0;
  each_entry(fds, check_fd, s);
  close(fds);
  return 0;
}

/* A thread whose fd table is not the leader's (it called unshare(CLONE_FILES), or clone without CLONE_FILES) holds
 * descriptors that only /proc/PID/task/TID/fd shows. kcmp(KCMP_FILES) tells a shared table in one call; where it
 * cannot (no kcmp, EPERM), the thread's table is scanned as well. */
static void check_task(const char *name, void *ctx) {
  scan_t *s = ctx;
  char *end;
  long tid = strtol(name, &end, 10);
  if (*end != 0 || tid <= 0 || tid == s->pid || s->count >= s->max) return;
  char path[48];
  snprintf(path, sizeof path, "%ld/fd", tid);
#ifdef SYS_kcmp
  long same = syscall(SYS_kcmp, (pid_t)s->pid, (pid_t)tid, KCMP_FILES_TYPE, 0, 0);
#else
  long same = -1;
#endif
  if (same == 0) return;
  /* kcmp refused (EPERM: a process we may not compare; ENOSYS): the table's size (the count of open fds, which
   * procfs gives as the directory's size) against the leader's tells most tables apart without reading them. */
  struct stat fds;
  if (same < 0 && s->leader_fds == -2) {
    char leader[48];
    snprintf(leader, sizeof leader, "%d/fd", s->pid);
    s->leader_fds = fstatat(s->proc, leader, &fds, 0) == 0 ? fds.st_size : -1;
  }
  if (same < 0 && s->leader_fds >= 0 && fstatat(s->tasks, path, &fds, 0) == 0 && fds.st_size == s->leader_fds) return;
  s->tid = tid;
  if (scan_fds(s, s->tasks, path) == -EACCES) s->unreadable++;
  s->tid = 0;
}

static void check_process(const char *name, void *ctx) {
  scan_t *s = ctx;
  char *end;
  long pid = strtol(name, &end, 10);
  if (*end != 0 || pid <= 0 || pid == s->self || s->count >= s->max) return;
  char path[48];
  /* /proc/PID/task shows the process's euid whether or not it is dumpable (procfs's rule for world-readable
   * directories) and, as its link count, 2 + its threads: one fstatat tells whose it is and whether it has threads
   * whose fd table may differ. Another user's process is not ours to read (and cannot open this user's 0600 FIFO);
   * root checks them all. */
  struct stat task;
  snprintf(path, sizeof path, "%ld/task", pid);
  if (fstatat(s->proc, path, &task, 0) != 0) return;
  if (s->euid != 0 && task.st_uid != s->euid) return;
  s->pid = (int)pid;
  /* Opened relative to /proc: no walk from the root. EACCES: a non-dumpable process of this user, which may hold
   * the pipe; counted as unknown (THREAT-MODEL.md). */
  snprintf(path, sizeof path, "%ld/fd", pid);
  int r = scan_fds(s, s->proc, path);
  if (r < 0) {
    if (r == -EACCES) s->unreadable++;
    return;
  }
  if (task.st_nlink <= 3) return; /* one thread: its table is the leader's */
  s->leader_fds = -2; /* looked up if kcmp is refused */
  snprintf(path, sizeof path, "%ld/task", pid);
  s->tasks = openat(s->proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->tasks < 0) return;
  each_entry(s->tasks, check_task, s);
  close(s->tasks);
  s->tasks = -1;
}

int fifo_holders_ex(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int *unreadable) {
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return -errno;
  scan_t scan = {.dev = dev, .ino = ino, .self = self, .out = out, .max = max, .fds = -1, .proc = proc, .tasks = -1,
                 .leader_fds = -1, .euid = geteuid()};
  each_entry(proc, check_process, &scan);
  close(proc);
  if (unreadable != NULL) *unreadable = scan.unreadable;
  return scan.count;
}

int fifo_holders(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max) {
  return fifo_holders_ex(dev, ino, self, out, max, NULL);
}
static void note_mid_open(const char *name, void *ctx) {
  int *found = ctx;
  char *end;
  long pid = strtol(name, &end, 10);
  if (*found || *end != 0 || pid <= 0 || pid == getpid()) return;
  char path[48], buf[32];
  snprintf(path, sizeof path, "/proc/%ld/syscall", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  long nr = strtol(buf, NULL, 10);
  /* "running": on a CPU right now, may be finishing an open; otherwise the syscall it sleeps or is preempted in. */
  if (strncmp(buf, "running", 7) == 0 || nr == SYS_openat || (SYS_open_nr >= 0 && nr == SYS_open_nr)) *found = 1;
}

/* Whether another process of this user may be inside open() right now. */
static int someone_mid_open(void) {
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return 0;
  int found = 0;
  each_entry(proc, note_mid_open, &found);
  close(proc);
  return found;
}
#elif defined(__APPLE__)
int fifo_holders_ex(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int *unreadable) {
  if (unreadable != NULL) *unreadable = 0;
  return fifo_holders(dev, ino, self, out, max);
}

int fifo_holders(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max) {
  int bytes = proc_listpids(PROC_ALL_PIDS, 0, NULL, 0);
  if (bytes <= 0) return errno > 0 ? -errno : -EIO;
  pid_t *pids = malloc((size_t)bytes * 2);
  if (pids == NULL) return -ENOMEM;
  int npids = proc_listpids(PROC_ALL_PIDS, 0, pids, bytes * 2) / (int)sizeof(pid_t);
  int count = 0;
  for (int i = 0; i < npids && count < max; i++) {
    if (pids[i] <= 0 || pids[i] == self) continue;
    int size = proc_pidinfo(pids[i], PROC_PIDLISTFDS, 0, NULL, 0);
    if (size <= 0) continue;
    struct proc_fdinfo *fds = malloc((size_t)size);
    if (fds == NULL) continue;
    size = proc_pidinfo(pids[i], PROC_PIDLISTFDS, 0, fds, size);
    for (int j = 0; j < size / (int)sizeof *fds && count < max; j++) {
      if (fds[j].proc_fdtype != PROX_FDTYPE_VNODE) continue;
      struct vnode_fdinfowithpath info;
      if (proc_pidfdinfo(pids[i], fds[j].proc_fd, PROC_PIDFDVNODEPATHINFO, &info, sizeof info) != sizeof info) continue;
      if ((dev_t)info.pvip.vip_vi.vi_stat.vst_dev != dev || (ino_t)info.pvip.vip_vi.vi_stat.vst_ino != ino) continue;
      int flags = info.pfi.fi_openflags;
      int mode = (flags & FREAD) && (flags & FWRITE) ? HOLD_READ_WRITE : (flags & FWRITE) ? HOLD_WRITE : HOLD_READ;
      out[count++] = (holder_t){.pid = pids[i], .fd = fds[j].proc_fd, .mode = mode};
    }
    free(fds);
  }
  free(pids);
  return count;
}
#else
int fifo_holders(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max) {
  (void)dev, (void)ino, (void)self, (void)out, (void)max;
  return -ENOSYS;
}

int fifo_holders_ex(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int *unreadable) {
  (void)unreadable;
  return fifo_holders(dev, ino, self, out, max);
}
#endif

int fifo_holders_wait(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int deadline_us) {
  struct timespec t0, now, pause = {.tv_nsec = 200 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    int n = fifo_holders(dev, ino, self, out, max);
    if (n < 0) return n;
    for (int i = 0; i < n; i++)
      if (out[i].mode != HOLD_WRITE) return n;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - t0.tv_sec) * 1000000L + (now.tv_nsec - t0.tv_nsec) / 1000;
    if (elapsed >= deadline_us) return n;
    nanosleep(&pause, NULL);
  }
}

int fifo_holders_settle(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int deadline_us) {
  struct timespec t0, now, pause = {.tv_nsec = 500 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int n = fifo_holders_wait(dev, ino, self, out, max, deadline_us);
#ifdef __linux__
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - t0.tv_sec) * 1000000L + (now.tv_nsec - t0.tv_nsec) / 1000;
    if (n < 0 || elapsed >= deadline_us || !someone_mid_open()) break;
    nanosleep(&pause, NULL);
  }
  if (n >= 0) n = fifo_holders(dev, ino, self, out, max);
#endif
  return n;
}
