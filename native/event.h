/* The events a mount reports to JS (event.c): their types, what one carries, and their marshalling into JS objects. */
#ifndef ENVMOUNT_EVENT_H
#define ENVMOUNT_EVENT_H
#include <node_api.h>
#include <stdint.h>

#include "holders.h"
#include "ticket.h"

enum { EV_SERVED, EV_CLOSED_EARLY, EV_TIMEOUT, EV_ERROR, EV_DISPLACED, EV_STOPPED, EV_READER, EV_DRAINED, EV_LOOK,
       /* a rotation name held something not ours after mkfifo: never opened for writing, another name tried */
       EV_FOREIGN };

typedef struct {
  int type;
  int err;
  const char *syscall;
  uint64_t bytes;
  uint64_t inode;
  double micros;
  holder_t *holders; /* EV_READER: owned by the event, freed after delivery */
  int nholders;
  ticket_t *ticket; /* EV_READER: handed to JS as an external */
  int copies;       /* served by share_spawn: how many readers got a copy of their own */
  int readers;      /* served by share_spawn: how many readers it saw on the pipe (the rest got nothing) */
  int count;        /* EV_SERVED: this many reads alike in a row, merged into one event (mount_flush); 0 is one */
} event_t;

/* Queues an event for JS (takes ownership of ev; a ticket in a dropped event is settled: its reader gets EOF). */
void emit_event(napi_threadsafe_function tsfn, event_t *ev);
void emit(napi_threadsafe_function tsfn, int type, int err, const char *syscall, uint64_t bytes, uint64_t inode,
          double micros);
/* The event of how a write ended, `r` 0 or -errno: `done_type` (EV_SERVED, EV_DRAINED) when all went out, and for
 * EMSGSIZE (copies withheld from a shared pipe: done, with the code); EV_CLOSED_EARLY for EPIPE (no code);
 * EV_TIMEOUT for ETIMEDOUT; EV_ERROR otherwise. NULL when out of memory. */
event_t *write_event(int r, int done_type, uint64_t bytes, uint64_t inode, double micros, int copies, int readers);
/* write_event(), queued for JS. */
void emit_write(napi_threadsafe_function tsfn, int r, int done_type, uint64_t bytes, uint64_t inode, double micros,
                int copies, int readers);
/* The thread-safe function's call_js: turns an event into a JS object. */
void call_js(napi_env env, napi_value callback, void *context, void *data);
/* [{ pid, fd, mode }] for JS, or NULL (an exception pending). */
napi_value holders_array(napi_env env, const holder_t *holders, int n);
#endif
