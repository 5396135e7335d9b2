/* fusermount3 run through a runner (fuse-runner.c): how a daemon under no_new_privs mounts and unmounts. */
#ifndef ENVMOUNT_FUSE_RUNNER_H
#define ENVMOUNT_FUSE_RUNNER_H
#include <node_api.h>

/* The runner's argv for a mount (`for_mount`: its prefix gives fusermount3 _FUSE_COMMFD=0, the descriptor comes
 * back over standard input) or an unmount, followed by `tail`: malloc'd (fuse_runner_free), or NULL when no runner
 * is set (or on ENOMEM: errno says which; 0 for no runner). */
char **fuse_runner_argv(int for_mount, char *const *tail);
void fuse_runner_free(char **argv);
#endif
