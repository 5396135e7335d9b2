/*
 * The host side of the FUSE backend: whether this process can mount (the device, and fusermount3 for a user who
 * is not root), which FUSE mounts at a path are envmount's (/proc/self/mountinfo), and detaching a stale one left
 * by a daemon that died (its connection is gone: every access gets ENOTCONN until it is detached).
 */
#define _GNU_SOURCE
#include "fuse-host.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "errors.h"
#include "fuse-runner.h"

extern char **environ;

int fuse_host_resolve(const char *path, char **out) {
  char *copy_dir = strdup(path), *copy_base = strdup(path), dir[PATH_MAX];
  int r = copy_dir && copy_base ? 0 : -ENOMEM;
  if (r == 0 && realpath(dirname(copy_dir), dir) == NULL) r = -errno;
  const char *base = r == 0 ? basename(copy_base) : NULL;
  if (r == 0 && (strcmp(base, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)) r = -EINVAL;
  if (r == 0 && asprintf(out, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, base) < 0) r = -ENOMEM;
  free(copy_dir);
  free(copy_base);
  return r;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo: undone in place. */
static void unescape(char *s) {
  char *out = s;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      *out++ = *s;
    }
  }
  *out = '\0';
}

int fuse_host_mounted(const char *abs) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL) return -errno;
  char *line = NULL;
  size_t size = 0;
  int found = 0;
  while (!found && getline(&line, &size, f) > 0) {
    /* id parent major:minor root MOUNT_POINT options [optional fields] - FSTYPE source super-options */
    char *save = NULL, *field = strtok_r(line, " ", &save);
    for (int i = 0; field != NULL && i < 4; i++) field = strtok_r(NULL, " ", &save);
    char *sep = field ? strstr(field + strlen(field) + 1, " - ") : NULL;
    if (field == NULL || sep == NULL) continue;
    unescape(field);
    found = strcmp(field, abs) == 0 && strncmp(sep + 3, "fuse.envmount ", 14) == 0;
  }
  free(line);
  fclose(f);
  return found;
}

/* The first executable `name` on PATH into `out`, or 0. */
static int find_on_path(const char *name, char *out, size_t size) {
  const char *path = getenv("PATH");
  char *dirs = strdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;
  int found = 0;
  for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !found; d = strtok_r(NULL, ":", &save)) {
    snprintf(out, size, "%s/%s", d, name);
    found = access(out, X_OK) == 0;
  }
  free(dirs);
  return found;
}

const char *fuse_host_missing(int *err, const char **syscall) {
  static char reason[PATH_MAX + 200];
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  *err = errno;
  *syscall = "open";
  if (fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))
    return "/dev/fuse is missing: load the fuse kernel module (`modprobe fuse`), or give the container /dev/fuse";
  if (fd < 0) {
    snprintf(reason, sizeof reason,
             "/dev/fuse cannot be opened by this user (%s): it must be readable and writable by all (mode 0666)",
             errno_name(errno));
    return reason;
  }
  close(fd);
  if (geteuid() == 0) return NULL;
  char found[PATH_MAX];
  struct stat st;
  *syscall = "fusermount3";
  *err = ENOENT;
  if (!find_on_path("fusermount3", found, sizeof found))
    return "fusermount3 is not on PATH: install fuse3 (`apt-get install fuse3`)";
  if (stat(found, &st) != 0 || st.st_uid != 0 || !(st.st_mode & S_ISUID)) {
    *err = EPERM;
    snprintf(reason, sizeof reason, "%s is not setuid root: reinstall fuse3", found);
    return reason;
  }
  return NULL;
}

/* fuseSupport(): { available: true } or { available: false, reason }. */
napi_value em_fuse_support(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, flag, text;
  int err = 0;
  const char *syscall = NULL;
  const char *missing = fuse_host_missing(&err, &syscall);
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_get_boolean(env, missing == NULL, &flag));
  NAPI_OK(napi_set_named_property(env, result, "available", flag));
  if (missing != NULL) {
    NAPI_OK(napi_create_string_utf8(env, missing, NAPI_AUTO_LENGTH, &text));
    NAPI_OK(napi_set_named_property(env, result, "reason", text));
  }
  return result;
}

/* A runner's standard streams: `in` (or /dev/null) as input, output to /dev/null, and this process's standard error
 * kept (Node marks it close-on-exec; dup2 onto itself clears that in the child; systemd-run --pipe passes all three
 * on and fails without one). 0 or an errno. */
static int runner_stdio(posix_spawn_file_actions_t *actions, int in) {
  int r = in >= 0 ? posix_spawn_file_actions_adddup2(actions, in, 0)
                  : posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0);
  if (r == 0) r = posix_spawn_file_actions_addopen(actions, 1, "/dev/null", O_WRONLY, 0);
  if (r == 0)
    r = fcntl(2, F_GETFD) >= 0 ? posix_spawn_file_actions_adddup2(actions, 2, 2)
                               : posix_spawn_file_actions_addopen(actions, 2, "/dev/null", O_WRONLY, 0);
  return r;
}

/* fusermount3 -o OPTIONS -- abs, started with posix_spawn (no copy of this process's page tables: libfuse forks,
 * which in a daemon of 100 MiB costs more than fusermount3 itself), handing the /dev/fuse descriptor back over a
 * socketpair (_FUSE_COMMFD): the descriptor (close-on-exec), or -errno (-EIO: refused, its reason on stderr).
 * With a runner (fuse-runner.c: under no_new_privs), the runner's argv runs it, with the socket as standard input. */
int fuse_host_fusermount(const char *abs, const char *options) {
  char *args[] = {"fusermount3", "-o", (char *)options, "--", (char *)abs, NULL};
  char **run = fuse_runner_argv(1, args);
  if (run == NULL && errno != 0) return -errno;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    int e = errno;
    fuse_runner_free(run);
    return -e;
  }
  size_t count = 0;
  while (environ[count] != NULL) count++;
  char **env = calloc(count + 2, sizeof *env), commfd[32];
  snprintf(commfd, sizeof commfd, "_FUSE_COMMFD=%d", sv[1]);
  int r = env ? 0 : ENOMEM, n = 0;
  for (size_t i = 0; env && i < count; i++)
    if (strncmp(environ[i], "_FUSE_COMMFD=", 13) != 0) env[n++] = environ[i];
  if (env && run == NULL) env[n] = commfd;
  char **argv = run != NULL ? run : args;
  posix_spawn_file_actions_t actions;
  pid_t pid = -1;
  if (r == 0 && (r = posix_spawn_file_actions_init(&actions)) == 0) {
    /* dup2 onto itself clears close-on-exec in the child only (glibc 2.29+): no other spawn inherits it. The runner
     * gets the socket as its standard input. */
    if (run == NULL) r = posix_spawn_file_actions_adddup2(&actions, sv[1], sv[1]);
    else r = runner_stdio(&actions, sv[1]);
    if (r == 0) r = posix_spawnp(&pid, argv[0], &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
  }
  free(env);
  fuse_runner_free(run);
  close(sv[1]);
  int fd = -1;
  if (r == 0) {
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t got;
    while ((got = recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) continue;
    struct cmsghdr *cmsg = got > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
      memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;
    r = fd >= 0 ? 0 : EIO;
  }
  close(sv[0]);
  return r == 0 ? fd : -r;
}

/* fusermount3 -u -z -- abs (under the runner when one is set): 0, or -EPERM when it failed (its reason on stderr).
 * Waits for it (a few ms; a runner's transient unit, a fraction of a second). */
int fuse_host_fusermount_unmount(const char *abs) {
  char *args[] = {"fusermount3", "-u", "-z", "--", (char *)abs, NULL};
  char **run = fuse_runner_argv(0, args);
  if (run == NULL && errno != 0) return -errno;
  char **argv = run != NULL ? run : args;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (run != NULL) runner_stdio(&actions, -1);
  else posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int r = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  fuse_runner_free(run);
  if (r != 0) return -r;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

/* fuseDetach(path): detaches envmount's FUSE mount at `path` (lazily: a stale one answers ENOTCONN). Not mounted,
 * or no such directory: nothing to do. */
napi_value em_fuse_detach(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char *abs = NULL;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "fuseDetach(path) takes a path");
  char *path = arg_string(env, argv[0], "path");
  if (path == NULL) return NULL;
  int r = fuse_host_resolve(path, &abs);
  if (r == -ENOENT || r == -ENOTDIR) r = 0;
  else if (r == 0 && (r = fuse_host_mounted(abs)) == 1) {
    if (geteuid() == 0) r = umount2(abs, MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT ? 0 : -errno;
    else r = fuse_host_fusermount_unmount(abs);
    if (r != 0 && fuse_host_mounted(abs) == 0) r = 0;
  }
  napi_value result = NULL;
  if (r < 0) throw_errno(env, -r, geteuid() == 0 ? "umount2" : "fusermount3", path);
  else napi_get_undefined(env, &result);
  free(abs);
  free(path);
  return result;
}

/* fuseMounted(path): whether envmount's FUSE mount is at `path`. */
napi_value em_fuse_mounted(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result = NULL;
  char *abs = NULL;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "fuseMounted(path) takes a path");
  char *path = arg_string(env, argv[0], "path");
  if (path == NULL) return NULL;
  int r = fuse_host_resolve(path, &abs);
  if (r == 0) r = fuse_host_mounted(abs);
  if (r == -ENOENT || r == -ENOTDIR) r = 0;
  if (r < 0) throw_errno(env, -r, "open", "/proc/self/mountinfo");
  else napi_get_boolean(env, r == 1, &result);
  free(abs);
  free(path);
  return result;
}

/* fuseIdentity(path): { dev, ino } of what lstat shows at `path`, from the kernel's cached inode (statx with
 * AT_STATX_DONT_SYNC): no request reaches a FUSE session, so a look at a thousand mounts wakes none of their
 * threads. Throws with the errno code (ENOENT, ENOTCONN for a stale mount...). */
napi_value em_fuse_identity(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, value;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "fuseIdentity(path) takes a path");
  char *path = arg_string(env, argv[0], "path");
  if (path == NULL) return NULL;
  struct statx stx;
  if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_INO, &stx) != 0) {
    int err = errno;
    throw_errno(env, err, "statx", path);
    free(path);
    return NULL;
  }
  free(path);
  NAPI_OK(napi_create_object(env, &result));
  NAPI_OK(napi_create_double(env, (double)makedev(stx.stx_dev_major, stx.stx_dev_minor), &value));
  NAPI_OK(napi_set_named_property(env, result, "dev", value));
  NAPI_OK(napi_create_double(env, (double)stx.stx_ino, &value));
  NAPI_OK(napi_set_named_property(env, result, "ino", value));
  return result;
}
