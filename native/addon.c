/* Module entry: the functions src/native/index.ts types and loads. */
#include "errors.h"
#ifdef HAVE_FUSE
#include "fuse-api.h"
#include "fuse-host.h"
#endif
#include "lifetime.h"
#include "notify.h"

napi_value em_mkfifo(napi_env env, napi_callback_info info);
napi_value em_peer_credentials(napi_env env, napi_callback_info info);
napi_value em_harden(napi_env env, napi_callback_info info);
napi_value em_scrub_environment(napi_env env, napi_callback_info info);
napi_value em_mount_start(napi_env env, napi_callback_info info);
napi_value em_mount_set_content(napi_env env, napi_callback_info info);
napi_value em_mount_stop(napi_env env, napi_callback_info info);
napi_value em_mount_set_decide(napi_env env, napi_callback_info info);
napi_value em_mounts_look(napi_env env, napi_callback_info info);
napi_value em_mount_inode(napi_env env, napi_callback_info info);
napi_value em_mount_locked(napi_env env, napi_callback_info info);
napi_value em_watch_available(napi_env env, napi_callback_info info);
napi_value em_ticket_finish(napi_env env, napi_callback_info info);
napi_value em_fifo_holders(napi_env env, napi_callback_info info);
napi_value em_ticket_holders(napi_env env, napi_callback_info info);
napi_value em_mounts_set_private_group(napi_env env, napi_callback_info info);
napi_value em_path_has_acl(napi_env env, napi_callback_info info);

#ifndef HAVE_FUSE
/* Built without libfuse 3's headers: FIFO mounts only, and fuseSupport() says what FUSE needs. */
static napi_value em_fuse_support(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, flag, text;
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_get_boolean(env, false, &flag));
  NAPI_OK(napi_set_named_property(env, result, "available", flag));
  NAPI_OK(napi_create_string_utf8(env,
                                  "envmount was built without FUSE: install fuse3 and libfuse3-dev (`apt-get install "
                                  "fuse3 libfuse3-dev`), then reinstall envmount (`npm rebuild envmount`)",
                                  NAPI_AUTO_LENGTH, &text));
  NAPI_OK(napi_set_named_property(env, result, "reason", text));
  return result;
}
#endif

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mkfifo", NULL, em_mkfifo, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peerCredentials", NULL, em_peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL},
      {"harden", NULL, em_harden, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scrubEnvironment", NULL, em_scrub_environment, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountStart", NULL, em_mount_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountSetContent", NULL, em_mount_set_content, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountStop", NULL, em_mount_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountSetDecide", NULL, em_mount_set_decide, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountsLook", NULL, em_mounts_look, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountInode", NULL, em_mount_inode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountLocked", NULL, em_mount_locked, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchAvailable", NULL, em_watch_available, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ticketFinish", NULL, em_ticket_finish, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fifoHolders", NULL, em_fifo_holders, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ticketHolders", NULL, em_ticket_holders, NULL, NULL, NULL, napi_enumerable, NULL},
      {"notify", NULL, em_notify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountsSetPrivateGroup", NULL, em_mounts_set_private_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pathHasAcl", NULL, em_path_has_acl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fuseSupport", NULL, em_fuse_support, NULL, NULL, NULL, napi_enumerable, NULL},
#ifdef HAVE_FUSE
      {"fuseMount", NULL, em_fuse_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fuseSetContent", NULL, em_fuse_set_content, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fuseSetDecide", NULL, em_fuse_set_decide, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fuseFinishOpen", NULL, em_fuse_finish_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fuseUnmount", NULL, em_fuse_unmount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fuseDetach", NULL, em_fuse_detach, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fuseMounted", NULL, em_fuse_mounted, NULL, NULL, NULL, napi_enumerable, NULL},
#endif
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  /* The owner of every native lifetime when this environment ends (lifetime.c). */
  NAPI_OK(life_init(env));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
