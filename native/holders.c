/*
 * Reader identification. Linux: walk /proc/PID/fd of the processes this user can see, stat() each link (which
 * follows it to the inode) and compare (st_dev, st_ino) with the FIFO served, never its path; the access mode comes
 * from /proc/PID/fdinfo. macOS: the same through libproc (compiled there only; not run in this project's CI).
 */
#define _GNU_SOURCE
#include "holders.h"

#include <dirent.h>
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
static int access_mode(int pid, const char *fd) {
  char path[320], buf[256];
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

int fifo_holders(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) return -1;
  uid_t me = geteuid();
  int count = 0;
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL && count < max) {
    char *end;
    long pid = strtol(entry->d_name, &end, 10);
    if (*end != 0 || pid <= 0 || pid == self) continue;
    struct stat pst;
    /* Another user's process cannot open this user's 0600 FIFO (root aside, whose fds we may read anyway). */
    if (fstatat(dirfd(proc), entry->d_name, &pst, 0) != 0 || (me != 0 && pst.st_uid != me)) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) continue;
    DIR *fds = fdopendir(dfd);
    if (fds == NULL) {
      close(dfd);
      continue;
    }
    struct dirent *fe;
    while ((fe = readdir(fds)) != NULL && count < max) {
      if (fe->d_name[0] == '.') continue;
      struct stat st;
      if (fstatat(dfd, fe->d_name, &st, 0) != 0 || st.st_ino != ino || st.st_dev != dev) continue;
      out[count++] = (holder_t){(int)pid, atoi(fe->d_name), access_mode((int)pid, fe->d_name)};
    }
    closedir(fds);
  }
  closedir(proc);
  return count;
}
#elif defined(__APPLE__)
int fifo_holders(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max) {
  int bytes = proc_listpids(PROC_ALL_PIDS, 0, NULL, 0);
  if (bytes <= 0) return -1;
  pid_t *pids = malloc((size_t)bytes * 2);
  if (pids == NULL) return -1;
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
      out[count++] = (holder_t){pids[i], fds[j].proc_fd, mode};
    }
    free(fds);
  }
  free(pids);
  return count;
}
#else
int fifo_holders(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max) {
  (void)dev, (void)ino, (void)self, (void)out, (void)max;
  errno = ENOSYS;
  return -1;
}
#endif

int fifo_holders_wait(dev_t dev, ino_t ino, pid_t self, holder_t *out, int max, int deadline_us) {
  struct timespec t0, now, pause = {0, 200 * 1000};
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
