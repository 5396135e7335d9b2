/* Tickets (ticket.c): a reader's open write end handed to JS for a decision. */
#ifndef ENVMOUNT_TICKET_H
#define ENVMOUNT_TICKET_H
#include <node_api.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lifetime.h"

typedef struct ticket ticket_t;

/* A ticket owning `wfd` and `probe_fd`, or NULL (ENOMEM) with both still the caller's. */
ticket_t *ticket_new(int wfd, int probe_fd, int timeout_ms, uint64_t inode, dev_t dev, const struct timespec *start,
                     napi_threadsafe_function tsfn, life_t *life);
/* Settles and frees a ticket whose event never reached JS; `release`: let go of its thread-safe function (not while
 * that is being destroyed). */
void ticket_discard(ticket_t *ticket, int release);
/* The ticket as a tagged JS external (event.c puts it in a reader event). */
napi_value ticket_external(napi_env env, ticket_t *ticket);
#endif
