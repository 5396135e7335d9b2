/* Error helpers shared by the addon's files: every failure reaches JS as a real Error with a string `code`. */
#ifndef ENVMOUNT_ERRORS_H
#define ENVMOUNT_ERRORS_H
#include <node_api.h>

/* Name of an errno value ("ENOENT"), or "EUNKNOWN". */
const char *errno_name(int err);

/* Throws Error("<CODE>: <strerror>, <syscall> '<path>'") with code, errno, syscall and path set. Returns NULL. */
napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path);

/* Throws TypeError with code ERR_INVALID_ARG_TYPE. Returns NULL. */
napi_value throw_arg(napi_env env, const char *message);

/* Reads a JS string argument into a malloc'd C string; throws and returns NULL on a non-string or an embedded NUL. */
char *arg_string(napi_env env, napi_value value, const char *what);

#define NAPI_OK(call)                                                                                                  \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)
#endif
