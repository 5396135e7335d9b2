/*
 * One inotify thread for every mount (Linux): when an entry of a mount's directory changes under the mount's name,
 * or the directory itself goes, the mount is looked at here (one fstatat) and JS is told only when the path no
 * longer holds the FIFO the mount waits on. A read's own rotation changes the entry too, but the mount thread
 * records the new inode before the exchange, so the look finds it and nothing wakes JS: an idle daemon does no work
 * at all, however many mounts it has. After each batch the watcher rests, and the directories that changed are
 * muted meanwhile (only their own removal or move is reported): in a burst of reads every rename would otherwise
 * make the kernel allocate and queue events on the reader's clock (about 1.6 us a read). Once the rest is over they
 * are heard again and every mount there is looked at, so what changed while muted is seen as it is then, as a
 * queued event would have been. Elsewhere (macOS) this is absent and the healer keeps looking on a timer.
 *
 * The list of watched mounts is owned by the watcher and guarded by `lock`; watch_remove() returns only when the
 * watcher is not using the mount, so the mount may be freed after it.
 */
#define _GNU_SOURCE
#include "watch.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/inotify.h>

#include "lifetime.h"
#include "serve.h"

#define EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)
/* After each batch of events the watcher rests this long, so that a burst of reads (each renames the entry)
 * costs it a few wake-ups a second rather than one per read; what happened meanwhile waits in the kernel's queue. */
#define REST_NS (50 * 1000 * 1000)

typedef struct {
  int wd;
  int dir_fd;       /* the directory's O_PATH handle, owned by the mount */
  const char *base; /* owned by the mount */
  void *mount;
} watched_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static watched_t *list;
static int count, capacity;
static int ifd = -1;

/* Every mount under `wd` whose name is `name` (NULL: all of them) is looked at; `gone`: told without a look. */
static void dispatch(int wd, const char *name, int gone) {
  for (int i = 0; i < count; i++) {
    watched_t *w = &list[i];
    if (w->wd != wd && wd != -1) continue;
    if (name != NULL && strcmp(name, w->base) != 0) continue;
    if (gone || watch_look(w->mount)) watch_notify(w->mount);
  }
}

/* The rotation names (the mount's name, this mark and 16 random hex digits: src/daemon/placement.ts) are a new name
 * at every read and never a mount's: their events are left out, so that a burst of reads does not overflow a batch
 * into a look at every mount. */
#define ROTATION_MARK ".envmount-swap-"

static int rotation_name(const char *name) {
  const char *mark = strstr(name, ROTATION_MARK);
  return mark != NULL && strlen(mark) == sizeof ROTATION_MARK - 1 + 16;
}

/* A batch of events reduced to what to look at: reads rename the same names over and over, so a batch of
 * hundreds of events names a few (directory, name) pairs, each looked at once. */
#define DISTINCT_MAX 64

typedef struct {
  int wd, gone;
  const char *name; /* in the read buffer; NULL with `gone` */
} seen_t;

/* Adds an event's (wd, name) unless the batch has it; 0 when the batch holds too many to keep apart. */
static int note(seen_t *seen, int *n, int wd, const char *name, int gone) {
  for (int i = 0; i < *n; i++)
    if (seen[i].wd == wd && seen[i].gone == gone && (gone || strcmp(seen[i].name, name) == 0)) return 1;
  if (*n == DISTINCT_MAX) return 0;
  seen[(*n)++] = (seen_t){.wd = wd, .gone = gone, .name = name};
  return 1;
}

/* What a muted directory still reports: only its own removal or move. */
#define MUTED (IN_DELETE_SELF | IN_MOVE_SELF)

/* Sets the watch mask of the directory watched as `wd` (through a mount's directory handle, never by path: the
 * directory may have been renamed), 0 or -1 when no mount there has a handle or inotify refuses. */
static int set_mask(int wd, uint32_t mask) {
  for (int i = 0; i < count; i++) {
    if (list[i].wd != wd || list[i].dir_fd < 0) continue;
    char dir[32];
    proc_fd_path(dir, list[i].dir_fd);
    return inotify_add_watch(ifd, dir, mask | IN_ONLYDIR) == wd ? 0 : -1;
  }
  return -1;
}

static void *watch_main(void *arg) {
  (void)arg;
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  seen_t seen[DISTINCT_MAX];
  int muted[DISTINCT_MAX], nmuted = 0;
  for (;;) {
    ssize_t n = read(ifd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return NULL;
    int distinct = 0, everything = 0;
    for (char *p = buf; p < buf + n && !everything; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
      struct inotify_event *ev = (struct inotify_event *)p;
      if (ev->mask & IN_Q_OVERFLOW) everything = 1; /* events were lost */
      else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) everything = !note(seen, &distinct, ev->wd, NULL, 1);
      else if (ev->len > 0 && !rotation_name(ev->name))
        everything = !note(seen, &distinct, ev->wd, ev->name, 0);
      if (!everything && ev->len > 0 && nmuted < DISTINCT_MAX) {
        int known = 0;
        for (int i = 0; i < nmuted && !known; i++) known = muted[i] == ev->wd;
        if (!known) muted[nmuted++] = ev->wd;
      }
    }
    pthread_mutex_lock(&lock);
    if (everything)
      dispatch(-1, NULL, 0);
    else
      for (int i = 0; i < distinct; i++) dispatch(seen[i].wd, seen[i].name, seen[i].gone);
    /* Directories that changed are muted while the watcher rests: a burst of reads renames entries there at every
     * read, and each rename's events cost the reader (the kernel allocates and queues them). */
    int kept = 0;
    for (int i = 0; i < nmuted; i++)
      if (set_mask(muted[i], MUTED) == 0) muted[kept++] = muted[i];
    nmuted = kept;
    pthread_mutex_unlock(&lock);
    struct timespec rest = {.tv_nsec = REST_NS};
    nanosleep(&rest, NULL);
    /* Heard again, then looked at: whatever changed while muted is seen as it is now (as a queued event would have
     * been: the look is of the present state either way). */
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nmuted; i++) {
      set_mask(muted[i], EVENTS);
      dispatch(muted[i], NULL, 0);
    }
    nmuted = 0;
    pthread_mutex_unlock(&lock);
  }
}

int watch_add(int dir_fd, const char *base, void *mount) {
  char dir[32];
  proc_fd_path(dir, dir_fd);
  pthread_mutex_lock(&lock);
  int err = 0;
  if (ifd < 0) {
    ifd = inotify_init1(IN_CLOEXEC);
    err = ifd < 0 ? -errno : spawn_service(watch_main, NULL, NULL);
    if (err != 0 && ifd >= 0) close(ifd), ifd = -1;
  }
  int wd = err == 0 ? inotify_add_watch(ifd, dir, EVENTS | IN_ONLYDIR) : -1;
  if (err == 0 && wd < 0) err = -errno;
  if (err == 0 && count == capacity) {
    int grown = capacity ? capacity * 2 : 64;
    watched_t *bigger = realloc(list, sizeof *list * (size_t)grown);
    if (bigger == NULL) err = -ENOMEM;
    else list = bigger, capacity = grown;
  }
  if (err == 0) list[count++] = (watched_t){.wd = wd, .dir_fd = dir_fd, .base = base, .mount = mount};
  pthread_mutex_unlock(&lock);
  return err;
}

void watch_remove(void *mount) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < count; i++) {
    if (list[i].mount != mount) continue;
    int wd = list[i].wd, shared = 0;
    list[i] = list[--count];
    for (int j = 0; j < count; j++) shared |= list[j].wd == wd;
    /* The directory's watch is kept while another mount there uses it (inotify gives one wd per directory). */
    if (!shared) inotify_rm_watch(ifd, wd);
    break;
  }
  pthread_mutex_unlock(&lock);
}

int watch_available(void) {
  return 1;
}
#else
int watch_add(int dir_fd, const char *base, void *mount) {
  (void)dir_fd, (void)base, (void)mount;
  return -ENOSYS;
}

void watch_remove(void *mount) {
  (void)mount;
}

int watch_available(void) {
  return 0;
}
#endif
