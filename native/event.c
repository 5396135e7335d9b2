/* The events a mount reports to JS: queued from any native thread through the mount's thread-safe function, and
 * turned into JS objects on the JS thread (call_js). Every N-API marshalling of an event or a holder list is here. */
#include "event.h"

#include <errno.h>
#include <stdlib.h>

#include "errors.h"
#include "ticket.h"

static const char *EV_NAMES[] = {"served",    "closed-early", "timeout", "error",
                                 "displaced", "stopped",      "reader",  "drained", "look", "foreign"};
/* Indexed by holder_t.mode (HOLD_*). */
static const char *MODE_NAMES[] = {"r", "w", "rw"};

void emit_event(napi_threadsafe_function tsfn, event_t *ev) {
  if (napi_call_threadsafe_function(tsfn, ev, napi_tsfn_nonblocking) != napi_ok) {
    if (ev->ticket) ticket_discard(ev->ticket, 1);
    free(ev->holders);
    free(ev);
  }
}

void emit(napi_threadsafe_function tsfn, int type, int err, const char *syscall, uint64_t bytes, uint64_t inode,
          double micros) {
  event_t *ev = calloc(1, sizeof *ev);
  if (ev == NULL) return;
  *ev = (event_t){.type = type, .err = err, .syscall = syscall, .bytes = bytes, .inode = inode, .micros = micros};
  emit_event(tsfn, ev);
}

event_t *write_event(int r, int done_type, uint64_t bytes, uint64_t inode, double micros, int copies, int readers) {
  int type = r == 0 || r == -EMSGSIZE ? done_type
             : r == -EPIPE            ? EV_CLOSED_EARLY
             : r == -ETIMEDOUT        ? EV_TIMEOUT
                                      : EV_ERROR;
  event_t *ev = calloc(1, sizeof *ev);
  if (ev == NULL) return NULL;
  *ev = (event_t){.type = type, .err = r == -EPIPE ? 0 : -r, .syscall = "write", .bytes = bytes, .inode = inode,
                  .micros = micros, .copies = copies, .readers = readers};
  return ev;
}

void emit_write(napi_threadsafe_function tsfn, int r, int done_type, uint64_t bytes, uint64_t inode, double micros,
                int copies, int readers) {
  event_t *ev = write_event(r, done_type, bytes, inode, micros, copies, readers);
  if (ev != NULL) emit_event(tsfn, ev);
}

static void set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

static void set_string(napi_env env, napi_value obj, const char *name, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, name, v);
}

void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  event_t *ev = data;
  napi_value obj, undef, list;
  if (env != NULL && callback != NULL && napi_create_object(env, &obj) == napi_ok) {
    set_string(env, obj, "type", EV_NAMES[ev->type]);
    set_number(env, obj, "bytes", (double)ev->bytes);
    set_number(env, obj, "inode", (double)ev->inode);
    set_number(env, obj, "micros", ev->micros);
    if (ev->readers > 0) {
      set_number(env, obj, "copies", ev->copies);
      set_number(env, obj, "readers", ev->readers);
    } else if (ev->copies > 0) {
      set_number(env, obj, "copies", ev->copies);
    }
    if (ev->count > 1) set_number(env, obj, "count", ev->count);
    if (ev->err != 0) {
      set_string(env, obj, "code", errno_name(ev->err));
      set_string(env, obj, "syscall", ev->syscall);
    }
    if (ev->type == EV_READER) {
      list = holders_array(env, ev->holders, ev->nholders);
      if (list != NULL) napi_set_named_property(env, obj, "holders", list);
      napi_set_named_property(env, obj, "ticket", ticket_external(env, ev->ticket));
    }
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, callback, 1, &obj, NULL);
  } else if (ev->ticket) {
    /* Dropped: the thread-safe function is being destroyed (env NULL), the reader must not wait for it. */
    ticket_discard(ev->ticket, 0);
  }
  free(ev->holders);
  free(ev);
}

napi_value holders_array(napi_env env, const holder_t *holders, int n) {
  napi_value list;
  if (napi_create_array_with_length(env, (size_t)n, &list) != napi_ok) return NULL;
  for (int i = 0; i < n; i++) {
    napi_value h, v;
    napi_create_object(env, &h);
    napi_create_int32(env, holders[i].pid, &v);
    napi_set_named_property(env, h, "pid", v);
    napi_create_int32(env, holders[i].fd, &v);
    napi_set_named_property(env, h, "fd", v);
    napi_create_string_utf8(env, MODE_NAMES[holders[i].mode], NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, h, "mode", v);
    napi_set_element(env, list, (uint32_t)i, h);
  }
  return list;
}
