/* Tickets (ticket.c): a reader's open write end handed to JS for a decision. */
#ifndef ENVMOUNT_TICKET_H
#define ENVMOUNT_TICKET_H
#include <node_api.h>

#include "lifetime.h"
#include "serve.h"

typedef struct ticket ticket_t;

/* A ticket owning the pipe's write end and probe (and a reference on its thread-safe function), or NULL (ENOMEM)
 * with both still the caller's. */
ticket_t *ticket_new(const reader_pipe_t *pipe, life_t *life);
/* Settles and frees a ticket whose event never reached JS; `release`: let go of its thread-safe function (not while
 * that is being destroyed). */
void ticket_discard(ticket_t *ticket, int release);
/* The ticket as a tagged JS external (event.c puts it in a reader event). */
napi_value ticket_external(napi_env env, ticket_t *ticket);
#endif
