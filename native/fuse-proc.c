/*
 * /proc look-ups for the FUSE backend. A FUSE request carries the caller's thread id (the kernel's `pid` of the
 * calling task); the thread group and the parent come from /proc/TID/status, which exists for every thread id even
 * though /proc lists only thread group leaders. Called on a session thread, one read of at most 1 KiB each.
 */
#define _GNU_SOURCE
#include "fuse-proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The value of the status line `key` ("\nTgid:"), or -1. */
static int status_field(const char *text, const char *key) {
  const char *at = strstr(text, key);
  if (at == NULL) return -1;
  return (int)strtol(at + strlen(key), NULL, 10);
}

int proc_tgid(int tid, int *ppid) {
  if (tid <= 0) return -ESRCH;
  /* Most callers are a process's main thread: tgkill(tid, tid, 0) finds tid in the thread group tid (EPERM: found,
   * not ours to signal) in one system call, without reading /proc. */
  if (ppid == NULL && (syscall(SYS_tgkill, tid, tid, 0) == 0 || errno == EPERM)) return tid;
  char path[40], text[1024];
  snprintf(path, sizeof path, "/proc/%d/status", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? -ESRCH : -errno;
  ssize_t n = read(fd, text, sizeof text - 1);
  int err = errno;
  close(fd);
  if (n <= 0) return n == 0 ? -ESRCH : -err;
  text[n] = '\0';
  int tgid = status_field(text, "\nTgid:");
  if (ppid != NULL) *ppid = status_field(text, "\nPPid:");
  return tgid > 0 ? tgid : -ESRCH;
}

int proc_descends(int pid, int ancestor) {
  if (ancestor <= 1) return 0;
  for (int step = 0; step < 64 && pid > 1; step++) {
    int parent = -1;
    if (proc_tgid(pid, &parent) < 0 || parent <= 0) return 0;
    if (parent == ancestor) return 1;
    pid = parent;
  }
  return 0;
}
