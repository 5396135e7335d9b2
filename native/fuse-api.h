/* The FUSE backend's N-API surface (fuse-api.c): mount, content, mode, held opens, unmount. */
#ifndef ENVMOUNT_FUSE_API_H
#define ENVMOUNT_FUSE_API_H
#include <node_api.h>

napi_value em_fuse_mount(napi_env env, napi_callback_info info);
napi_value em_fuse_set_content(napi_env env, napi_callback_info info);
napi_value em_fuse_set_decide(napi_env env, napi_callback_info info);
napi_value em_fuse_finish_open(napi_env env, napi_callback_info info);
napi_value em_fuse_unmount(napi_env env, napi_callback_info info);
#endif
