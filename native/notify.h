/* sd_notify(3) without libsystemd: one datagram to the service manager's notification socket. */
#ifndef ENVMOUNT_NOTIFY_H
#define ENVMOUNT_NOTIFY_H
#include <node_api.h>

/* notify(socket: string, message: string): void. */
napi_value em_notify(napi_env env, napi_callback_info info);
#endif
