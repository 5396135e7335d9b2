/*
 * The native half of policy `any` on a FUSE mount. Under decide false an open is served at once on the session
 * thread, without a round trip to JS, unless the opener may be one JS refuses under every policy: a bulk reader
 * (core/bulk-readers.ts: git, tar, cp, grep -r, node running npm...). JS hands down the names it judges by as
 * fnmatch(3) patterns (fuseSetHandUp); an opener is handed up when its executable's basename, or the last path
 * component of any of its arguments (argv[0] and the first word of argv[0], which a process title replaces, too),
 * matches one. That is a superset of what bulkReaderName() looks at (the executable, argv[0], and an interpreter's
 * script, whose basename is its argument's last component): whoever JS could refuse is handed up, and JS decides
 * as before. An executable or command line that cannot be read, an argument whose last component is empty, `.`
 * or `..`, or a command line over 256 KiB hands up too. No patterns set: nothing is handed up (the native tests'
 * decide false).
 *
 * Who owns what: the pattern list is process-wide, replaced by the JS thread under `lock` (a write lock), read by
 * session threads under a read lock for the length of one check.
 */
#define _GNU_SOURCE
#include "fuse-handup.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <node_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "errors.h"

#define MAX_CMDLINE (256 * 1024)
#define CMDLINE_STACK 4096

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
/* The patterns: plain names first, sorted (found by bsearch), then those with glob characters (fnmatch each). */
static char **patterns;
static uint32_t count, plain;

static int compare(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_glob(const char *pattern) {
  return strpbrk(pattern, "*?[\\") != NULL;
}

/* Whether `name` (not NUL-terminated: `len` bytes) matches a pattern (read lock held). */
static int matches(const char *name, size_t len) {
  char stack[NAME_MAX + 1];
  /* Longer than a file name: no plain name is it, but a glob may match it (JS tests its regexes on argv[0] and the
   * script argument at any length: a process title `yarn-<300 letters>.js`), so the globs see it whole. */
  if (len > NAME_MAX && count == plain) return 0;
  char *copy = len > NAME_MAX ? malloc(len + 1) : stack;
  if (copy == NULL) return 1; /* cannot tell: hand up */
  memcpy(copy, name, len);
  copy[len] = '\0';
  const char *key = copy;
  int found = len <= NAME_MAX && plain > 0 && bsearch(&key, patterns, plain, sizeof *patterns, compare) != NULL;
  for (uint32_t i = plain; !found && i < count; i++) found = fnmatch(patterns[i], copy, 0) == 0;
  if (copy != stack) free(copy);
  return found;
}

/* 1 when the argument `arg` (`len` bytes) must hand up: its last path component, trailing slashes dropped, matches
 * a pattern, or is empty, `.` or `..` (its name is the directory's, which a resolved path would show). */
static int arg_hands_up(const char *arg, size_t len) {
  while (len > 0 && arg[len - 1] == '/') len--;
  size_t start = len;
  while (start > 0 && arg[start - 1] != '/') start--;
  const char *name = arg + start;
  size_t n = len - start;
  if (n == 0 || (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.')) return 1;
  return matches(name, n);
}

/* The process's command line, read to its end: in `stack` (CMDLINE_STACK bytes) or, when longer, in a malloc'd
 * buffer (*len bytes); NULL: unreadable, empty or over MAX_CMDLINE. */
static char *read_cmdline(int tgid, char *stack, size_t *len) {
  char path[40];
  snprintf(path, sizeof path, "/proc/%d/cmdline", tgid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char *buf = stack;
  size_t size = CMDLINE_STACK, used = 0;
  ssize_t n = 0;
  for (;;) {
    if (used == size) {
      char *bigger = size < MAX_CMDLINE ? malloc(size * 2) : NULL;
      if (bigger == NULL) {
        n = -1;
        break;
      }
      memcpy(bigger, buf, used);
      if (buf != stack) free(buf);
      buf = bigger;
      size *= 2;
    }
    while ((n = read(fd, buf + used, size - used)) < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
  }
  close(fd);
  *len = used;
  if (n == 0 && used > 0) return buf;
  if (buf != stack) free(buf);
  return NULL;
}

static int check(int tgid) {
  char path[40], exe[PATH_MAX];
  snprintf(path, sizeof path, "/proc/%d/exe", tgid);
  ssize_t n = readlink(path, exe, sizeof exe - 1);
  if (n <= 0 || (size_t)n >= sizeof exe - 1) return 1;
  static const char deleted[] = " (deleted)";
  size_t elen = (size_t)n;
  if (elen > sizeof deleted - 1 && memcmp(exe + elen - (sizeof deleted - 1), deleted, sizeof deleted - 1) == 0)
    elen -= sizeof deleted - 1;
  if (arg_hands_up(exe, elen)) return 1;
  size_t len = 0;
  char stack[CMDLINE_STACK];
  char *cmd = read_cmdline(tgid, stack, &len);
  if (cmd == NULL) return 1;
  int up = 0;
  /* Arguments end with NUL; a process that rewrote its title may leave the last one unterminated. */
  for (size_t at = 0; !up && at < len;) {
    const char *end = memchr(cmd + at, '\0', len - at);
    size_t alen = end != NULL ? (size_t)(end - (cmd + at)) : len - at;
    if (at == 0) {
      const char *space = memchr(cmd, ' ', alen);
      if (space != NULL && space > cmd) up = arg_hands_up(cmd, (size_t)(space - cmd));
    }
    if (!up) up = arg_hands_up(cmd + at, alen);
    at += alen + 1;
  }
  if (cmd != stack) free(cmd);
  return up;
}

int fuse_hand_up(int tgid) {
  if (tgid <= 0) return 1;
  pthread_rwlock_rdlock(&lock);
  int up = count > 0 ? check(tgid) : 0;
  pthread_rwlock_unlock(&lock);
  return up;
}

static void free_list(char **list, uint32_t n) {
  for (uint32_t i = 0; list != NULL && i < n; i++) free(list[i]);
  free(list);
}

/* fuseSetHandUp(patterns | null): the fnmatch patterns of openers handed up under decide false (process-wide). */
napi_value em_fuse_set_hand_up(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  bool is_array = false;
  uint32_t n = 0;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "fuseSetHandUp(patterns) takes an array of strings or null");
  NAPI_OK(napi_typeof(env, argv[0], &type));
  if (type != napi_null) {
    if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
      return throw_arg(env, "patterns must be an array of strings or null");
    NAPI_OK(napi_get_array_length(env, argv[0], &n));
  }
  char **list = n > 0 ? calloc(n, sizeof *list) : NULL;
  if (n > 0 && list == NULL) return throw_errno(env, ENOMEM, "calloc", NULL);
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok || (list[i] = arg_string(env, item, "pattern")) == NULL ||
        list[i][0] == '\0') {
      free_list(list, n);
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      return pending ? NULL : throw_arg(env, "a pattern must be a non-empty string");
    }
  }
  /* Plain names to the front, sorted; globs after them in their order. */
  uint32_t names = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (is_glob(list[i])) continue;
    char *name = list[i];
    memmove(list + names + 1, list + names, (i - names) * sizeof *list);
    list[names++] = name;
  }
  if (names > 0) qsort(list, names, sizeof *list, compare);
  pthread_rwlock_wrlock(&lock);
  char **old = patterns;
  uint32_t old_count = count;
  patterns = list;
  count = n;
  plain = names;
  pthread_rwlock_unlock(&lock);
  free_list(old, old_count);
  return NULL;
}
