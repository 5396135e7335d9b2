/* The N-API entry points: what addon.c registers and src/native/index.ts types, grouped by the file that defines
 * them. Each takes (env, info), validates its arguments and throws an Error with an errno `code` on failure. */
#ifndef ENVMOUNT_API_H
#define ENVMOUNT_API_H
#include <node_api.h>

/* process.c */
napi_value em_mkfifo(napi_env env, napi_callback_info info);
napi_value em_peer_credentials(napi_env env, napi_callback_info info);
napi_value em_harden(napi_env env, napi_callback_info info);
napi_value em_scrub_environment(napi_env env, napi_callback_info info);

/* mount-api.c */
napi_value em_mount_start(napi_env env, napi_callback_info info);
napi_value em_mount_set_content(napi_env env, napi_callback_info info);
napi_value em_mount_stop(napi_env env, napi_callback_info info);
napi_value em_mount_set_decide(napi_env env, napi_callback_info info);
napi_value em_mounts_look(napi_env env, napi_callback_info info);
napi_value em_mount_inode(napi_env env, napi_callback_info info);
napi_value em_mount_locked(napi_env env, napi_callback_info info);
napi_value em_watch_available(napi_env env, napi_callback_info info);
napi_value em_mounts_set_private_group(napi_env env, napi_callback_info info);
napi_value em_path_has_acl(napi_env env, napi_callback_info info);

/* ticket.c */
napi_value em_ticket_finish(napi_env env, napi_callback_info info);
napi_value em_fifo_holders(napi_env env, napi_callback_info info);
napi_value em_ticket_holders(napi_env env, napi_callback_info info);

/* notify.c: notify(socket: string, message: string): void. */
napi_value em_notify(napi_env env, napi_callback_info info);

/* fuse-host.c; built without libfuse 3 (no HAVE_FUSE), addon.c's em_fuse_support says what is missing and the rest
 * are absent. */
napi_value em_fuse_support(napi_env env, napi_callback_info info);
#ifdef HAVE_FUSE
napi_value em_fuse_detach(napi_env env, napi_callback_info info);
napi_value em_fuse_mounted(napi_env env, napi_callback_info info);
napi_value em_fuse_identity(napi_env env, napi_callback_info info);

/* fuse-api.c: mount, content, mode, held opens, unmount. */
napi_value em_fuse_mount(napi_env env, napi_callback_info info);
napi_value em_fuse_set_content(napi_env env, napi_callback_info info);
napi_value em_fuse_set_decide(napi_env env, napi_callback_info info);
napi_value em_fuse_finish_open(napi_env env, napi_callback_info info);
napi_value em_fuse_unmount(napi_env env, napi_callback_info info);

/* fuse-handup.c: fuseSetHandUp(patterns | null). */
napi_value em_fuse_set_hand_up(napi_env env, napi_callback_info info);

/* fuse-runner.c: fuseUseRunner(runner | null). */
napi_value em_fuse_use_runner(napi_env env, napi_callback_info info);
#endif
#endif
