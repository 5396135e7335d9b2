/* Module entry: the functions src/native/index.ts types and loads. */
#include "api.h"
#include "errors.h"
#include "lifetime.h"

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
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  /* The owner of every native lifetime when this environment ends (lifetime.c). */
  NAPI_OK(life_init(env));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
