#include "errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *errno_name(int err) {
  switch (err) {
#define E(x)                                                                                                           \
  case x:                                                                                                              \
    return #x;
    E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(ENXIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EBUSY) E(EEXIST) E(EXDEV)
    E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOSPC) E(ESPIPE) E(EROFS) E(EPIPE) E(ENAMETOOLONG)
    E(ELOOP) E(ENOTSOCK) E(ENOTCONN) E(ETIMEDOUT) E(ENOSYS) E(EOPNOTSUPP)
    E(EMSGSIZE)
#undef E
    default:
      return "EUNKNOWN";
  }
}

napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char message[1200];
  if (path != NULL)
    snprintf(message, sizeof message, "%s: %s, %s '%s'", errno_name(err), strerror(err), syscall, path);
  else
    snprintf(message, sizeof message, "%s: %s, %s", errno_name(err), strerror(err), syscall);
  napi_value msg, code, error, num, sc, p;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
  if (napi_create_error(env, code, msg, &error) != napi_ok) return NULL;
  napi_set_named_property(env, error, "code", code);
  if (napi_create_int32(env, -err, &num) == napi_ok) napi_set_named_property(env, error, "errno", num);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc) == napi_ok)
    napi_set_named_property(env, error, "syscall", sc);
  if (path != NULL && napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &p) == napi_ok)
    napi_set_named_property(env, error, "path", p);
  napi_throw(env, error);
  return NULL;
}

napi_value throw_arg(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

char *arg_string(napi_env env, napi_value value, const char *what) {
  napi_valuetype type;
  size_t len = 0;
  char message[200];
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    snprintf(message, sizeof message, "%s must be a string", what);
    throw_arg(env, message);
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *out = malloc(len + 1);
  if (out == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    return NULL;
  }
  napi_get_value_string_utf8(env, value, out, len + 1, &len);
  if (strlen(out) != len || len == 0) {
    free(out);
    snprintf(message, sizeof message, "%s must be a non-empty string without NUL bytes", what);
    throw_arg(env, message);
    return NULL;
  }
  return out;
}
