/* Naming a FUSE request's caller from /proc (fuse-proc.c): the request carries a thread id, the policy wants the
 * process (thread group) and its ancestry. No scan of other processes: one small read per process asked about. */
#ifndef ENVMOUNT_FUSE_PROC_H
#define ENVMOUNT_FUSE_PROC_H

/* The thread group id of thread `tid` (>0), or -errno (-ESRCH: gone). *ppid gets its parent's pid when not NULL. */
int proc_tgid(int tid, int *ppid);
/* 1 when process `pid` descends from `ancestor` (its parent chain reaches it, at most 64 steps), else 0. */
int proc_descends(int pid, int ancestor);
#endif
