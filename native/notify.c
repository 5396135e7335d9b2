/* notify(socket, message): tells systemd "READY=1" (Type=notify) or "STOPPING=1" the way sd_notify(3) does, as
 * one datagram on the unix socket named by $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace). Node has
 * no unix datagram sockets, and the message must come from the main process itself (NotifyAccess=main): a helper
 * process such as systemd-notify may be gone before systemd reads whose it was. Never blocks (MSG_DONTWAIT). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "errors.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

napi_value em_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result = NULL;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_arg(env, "notify(socket, message) takes two arguments");
  char *path = arg_string(env, argv[0], "socket");
  if (path == NULL) return NULL;
  char *message = arg_string(env, argv[1], "message");
  if (message == NULL) {
    free(path);
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) {
    throw_arg(env, "socket must be an absolute path or an @abstract name that fits a unix socket address");
    goto done;
  }
  memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = 0;
  /* An abstract name's length is its exact length; a path's includes its terminating NUL. */
  socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1));
#ifdef SOCK_CLOEXEC
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
#endif
  if (fd < 0) {
    throw_errno(env, errno, "socket", NULL);
    goto done;
  }
  ssize_t sent = sendto(fd, message, strlen(message), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr, addr_len);
  int err = errno;
  close(fd);
  if (sent < 0)
    throw_errno(env, err, "sendto", path);
  else
    napi_get_undefined(env, &result);
done:
  free(path);
  free(message);
  return result;
}
