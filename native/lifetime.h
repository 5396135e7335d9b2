/* Who ends what when the JS environment ends (lifetime.c): the registry of one environment's live mounts and
 * tickets, the count of writer and share threads, and the environment cleanup hook that settles them all before
 * Node runs any finalizer or destroys any thread-safe function. */
#ifndef ENVMOUNT_LIFETIME_H
#define ENVMOUNT_LIFETIME_H
#include <node_api.h>
#include <pthread.h>

typedef struct life life_t;

/* An entry of a registry list (embedded in a mount or a ticket). */
typedef struct life_node {
  struct life_node *prev, *next;
} life_node_t;

/* Module init (addon.c): the environment's registry, kept as its instance data, and its cleanup hook. */
napi_status life_init(napi_env env);
/* The registry of the environment a call comes from (JS thread). */
life_t *life_get(napi_env env);

/* Mounts: added by mountStart, removed by free_mount; JS thread only. */
void life_add_mount(life_t *l, life_node_t *node);
void life_remove_mount(life_t *l, life_node_t *node);
/* FUSE mounts (fuse-api.c, fuse-mount.c): the same, in a list of their own. */
void life_add_fuse(life_t *l, life_node_t *node);
void life_remove_fuse(life_t *l, life_node_t *node);
/* Tickets: added on the mount thread, removed where the ticket is freed; any thread. */
void life_add_ticket(life_t *l, life_node_t *node);
void life_remove_ticket(life_t *l, life_node_t *node);

/* A detached writer or share thread, counted: the cleanup hook waits for every one to return (they cut their
 * deadline short when life_cancel_fd() becomes readable). 0 or an errno. */
int spawn_thread(void *(*fn)(void *), void *arg);
/* A thread the count does not wait for: joinable into *thread when given (mount threads, joined by their owner),
 * detached otherwise (the watcher, which holds nothing of an environment once no mount is watched). */
int spawn_service(void *(*fn)(void *), void *arg, pthread_t *thread);
/* Readable while an environment is ending: writer and share threads poll it beside their pipe and give up. -1 if
 * unavailable (poll ignores it). */
int life_cancel_fd(void);

/* Implemented by the owners (mount-api.c, ticket.c), called by the cleanup hook on the JS thread. */
void mount_cancel_node(life_node_t *node); /* ask the thread to end (mountStop) */
void mount_join_node(life_node_t *node);   /* join it, unwatch, close the mount's descriptors */
void ticket_settle_node(life_node_t *node); /* close the write end (the reader gets EOF); no call into JS */
#ifdef HAVE_FUSE
void fuse_cancel_node(life_node_t *node); /* end the session loop (fuseUnmount) */
void fuse_join_node(life_node_t *node);   /* join the session thread: it has answered held opens and unmounted */
#endif
#endif
