#define _GNU_SOURCE
/* Process-level helpers: mkfifo, peer credentials of a unix socket, and hardening of the daemon process. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#ifdef __APPLE__
#include <sys/ucred.h>
#include <sys/un.h>
#endif

#include "api.h"
#include "errors.h"

/* mkfifo(path: string, mode: number): void. Never replaces anything: EEXIST when the path is taken. */
napi_value em_mkfifo(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_arg(env, "mkfifo(path, mode) takes two arguments");
  uint32_t mode;
  if (napi_get_value_uint32(env, argv[1], &mode) != napi_ok || mode > 0777)
    return throw_arg(env, "mode must be a permission number from 0 to 0o777");
  char *path = arg_string(env, argv[0], "path");
  if (path == NULL) return NULL;
  napi_value result = NULL;
  if (mkfifo(path, (mode_t)mode) != 0)
    throw_errno(env, errno, "mkfifo", path);
  else
    napi_get_undefined(env, &result);
  free(path);
  return result;
}

static napi_value set_int(napi_env env, napi_value obj, const char *name, int64_t value) {
  napi_value v;
  if (napi_create_int64(env, value, &v) != napi_ok) return NULL;
  napi_set_named_property(env, obj, name, v);
  return obj;
}

/* peerCredentials(fd: number): { pid, uid, gid } of the process at the other end of a connected unix socket. */
napi_value em_peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
    return throw_arg(env, "fd must be a non-negative integer");
  int64_t pid = -1, uid, gid;
#ifdef __linux__
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, errno, "getsockopt", NULL);
  pid = cred.pid;
  uid = cred.uid;
  gid = cred.gid;
#else
  uid_t u;
  gid_t g;
  if (getpeereid(fd, &u, &g) != 0) return throw_errno(env, errno, "getpeereid", NULL);
  uid = u;
  gid = g;
#ifdef LOCAL_PEERPID
  pid_t p;
  socklen_t len = sizeof p;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &p, &len) == 0) pid = p;
#endif
#endif
  napi_value obj;
  NAPI_OK(napi_create_object(env, &obj));
  if (!set_int(env, obj, "pid", pid) || !set_int(env, obj, "uid", uid) || !set_int(env, obj, "gid", gid)) return NULL;
  return obj;
}

/* harden(): turns off core dumps and (Linux) makes the process non-dumpable, so processes of the same user cannot
 * ptrace it or read /proc/PID/mem. Returns { dumpable, coreLimit } as they are afterwards. */
napi_value em_harden(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit none = {.rlim_cur = 0, .rlim_max = 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) return throw_errno(env, errno, "setrlimit", NULL);
  int dumpable = 0;
#ifdef __linux__
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl", NULL);
  dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
#endif
  struct rlimit now;
  getrlimit(RLIMIT_CORE, &now);
  napi_value obj, flag;
  NAPI_OK(napi_create_object(env, &obj));
  NAPI_OK(napi_get_boolean(env, dumpable != 0, &flag));
  napi_set_named_property(env, obj, "dumpable", flag);
  if (!set_int(env, obj, "coreLimit", (int64_t)now.rlim_cur)) return NULL;
  return obj;
}

/* scrubEnvironment(name): number. Removing a variable from process.env does not touch the original environment
 * block, which /proc/PID/environ shows. This overwrites the value of NAME= there with NUL bytes (the block is this
 * process's own stack memory, located by env_start/env_end in /proc/self/stat). Returns how many were scrubbed. */
napi_value em_scrub_environment(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "scrubEnvironment(name) takes one argument");
  char *name = arg_string(env, argv[0], "name");
  if (name == NULL) return NULL;
  int count = 0;
#ifdef __linux__
  char buf[4096];
  FILE *f = fopen("/proc/self/stat", "re");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = 0;
  char *field = strrchr(buf, ')');
  unsigned long long env_start = 0, env_end = 0;
  /* After "(comm) " the first field is number 3 (state); env_start and env_end are fields 50 and 51. */
  for (int i = 3; field != NULL && i <= 51; i++) {
    field = strchr(field + 1, ' ');
    if (field == NULL) break;
    if (i == 50) env_start = strtoull(field + 1, NULL, 10);
    if (i == 51) env_end = strtoull(field + 1, NULL, 10);
  }
  size_t name_len = strlen(name);
  if (env_start != 0 && env_end > env_start) {
    char *p = (char *)(uintptr_t)env_start, *end = (char *)(uintptr_t)env_end;
    while (p < end) {
      size_t len = strnlen(p, (size_t)(end - p));
      if (len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
        memset(p + name_len + 1, 0, len - name_len - 1);
        count++;
      }
      p += len + 1;
    }
  }
#endif
  free(name);
  NAPI_OK(napi_create_int32(env, count, &result));
  return result;
}
