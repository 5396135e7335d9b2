/* Module entry: the functions src/native/index.ts types and loads. */
#include "api.h"
#include "errors.h"
#include "lifetime.h"

#define METHOD(name, fn) {.utf8name = (name), .method = (fn), .attributes = napi_enumerable}

#ifndef HAVE_FUSE
/* Built without libfuse 3's headers: FIFO mounts only, and fuseSupport() says what FUSE needs. */
napi_value em_fuse_support(napi_env env, napi_callback_info info) {
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
      METHOD("mkfifo", em_mkfifo),
      METHOD("peerCredentials", em_peer_credentials),
      METHOD("harden", em_harden),
      METHOD("scrubEnvironment", em_scrub_environment),
      METHOD("mountStart", em_mount_start),
      METHOD("mountSetContent", em_mount_set_content),
      METHOD("mountStop", em_mount_stop),
      METHOD("mountSetDecide", em_mount_set_decide),
      METHOD("mountsLook", em_mounts_look),
      METHOD("mountInode", em_mount_inode),
      METHOD("mountLocked", em_mount_locked),
      METHOD("watchAvailable", em_watch_available),
      METHOD("ticketFinish", em_ticket_finish),
      METHOD("fifoHolders", em_fifo_holders),
      METHOD("ticketHolders", em_ticket_holders),
      METHOD("notify", em_notify),
      METHOD("mountsSetPrivateGroup", em_mounts_set_private_group),
      METHOD("pathHasAcl", em_path_has_acl),
      METHOD("fuseSupport", em_fuse_support),
#ifdef HAVE_FUSE
      METHOD("fuseMount", em_fuse_mount),
      METHOD("fuseSetContent", em_fuse_set_content),
      METHOD("fuseSetDecide", em_fuse_set_decide),
      METHOD("fuseSetHandUp", em_fuse_set_hand_up),
      METHOD("fuseFinishOpen", em_fuse_finish_open),
      METHOD("fuseUnmount", em_fuse_unmount),
      METHOD("fuseDetach", em_fuse_detach),
      METHOD("fuseMounted", em_fuse_mounted),
      METHOD("fuseUseRunner", em_fuse_use_runner),
      METHOD("fuseIdentity", em_fuse_identity),
#endif
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  /* The owner of every native lifetime when this environment ends (lifetime.c). */
  NAPI_OK(life_init(env));
  return exports;
}

/* NAPI_MODULE defines node_api_module_get_api_version_v1 without a prototype (Node's header): the one place the
 * warning is off. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
#pragma GCC diagnostic pop
