/*
 * Tickets: a reader handed to JS for a decision. In "decide" mode the mount thread rotates the FIFO, identifies who
 * holds the served pipe, and passes the open write end to JS as a ticket, then goes back to waiting: a reader
 * waiting for a decision (even for minutes, while the user is asked) holds up nobody. JS finishes the ticket once,
 * with the bytes to write (values, or comment lines for a refused reader); a ticket dropped unfinished is closed
 * (EOF) when it is collected, when its event cannot reach JS, or when the environment ends (lifetime.c), whichever
 * comes first. Every ticket is listed in its environment's registry from ticket_new until it is freed.
 */
#define _GNU_SOURCE
#include "ticket.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "errors.h"
#include "event.h"
#include "holders.h"
#include "lifetime.h"
#include "serve.h"
#include "share.h"

struct ticket {
  life_node_t node; /* first: in the environment's list of tickets */
  life_t *life;
  reader_pipe_t pipe; /* its thread-safe function reference held until the ticket is finished or dropped */
  int done;
};

ticket_t *ticket_new(const reader_pipe_t *pipe, life_t *life) {
  ticket_t *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  *t = (ticket_t){.life = life, .pipe = *pipe};
  napi_acquire_threadsafe_function(t->pipe.tsfn);
  if (life) life_add_ticket(life, &t->node);
  return t;
}

/* Closes an unfinished ticket: the reader gets EOF. `release`: let go of the thread-safe function too (not when it
 * is being destroyed). */
static void ticket_drop(ticket_t *t, int release) {
  if (t->done) return;
  t->done = 1;
  close(t->pipe.fd);
  if (t->pipe.probe_fd >= 0) {
    release_late_readers(t->pipe.probe_fd, NULL);
    close(t->pipe.probe_fd);
  }
  if (release) napi_release_threadsafe_function(t->pipe.tsfn, napi_tsfn_release);
}

static void ticket_free(ticket_t *t) {
  if (t->life) life_remove_ticket(t->life, &t->node);
  free(t);
}

/* The environment ends (lifetime.c, its lock held): its thread-safe functions are closing, no call into them. */
void ticket_settle_node(life_node_t *node) {
  ticket_drop((ticket_t *)node, 0);
}

/* A reader event that never reached JS (serve.c): settled and freed, on whichever thread dropped it. */
void ticket_discard(ticket_t *t, int release) {
  ticket_drop(t, release);
  ticket_free(t);
}

static void ticket_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  ticket_drop(data, 1);
  ticket_free(data);
}

/* Marks a ticket: any other external (a mount handle) passed as a ticket is refused, not read as one. */
static const napi_type_tag TICKET_TAG = {.lower = 0x656e766d6f756e74ULL, .upper = 0x2d7469636b65742dULL};

static bool is_ticket(napi_env env, napi_value value) {
  bool tagged = false;
  return napi_check_object_type_tag(env, value, &TICKET_TAG, &tagged) == napi_ok && tagged;
}

napi_value ticket_external(napi_env env, ticket_t *ticket) {
  napi_value value;
  if (napi_create_external(env, ticket, ticket_finalize, NULL, &value) != napi_ok) {
    ticket_discard(ticket, 1);
    napi_get_undefined(env, &value);
  } else {
    napi_type_tag_object(env, value, &TICKET_TAG); /* on failure the ticket is refused by every call: EOF at GC */
  }
  return value;
}

/* ticketFinish(ticket, buffer, readers): { bytes, pending, code? }. Writes the bytes (an empty buffer writes
 * nothing) and closes; content larger than the pipe buffer is finished by a writer thread that reports a "drained"
 * event. When `readers` (the processes JS saw on the pipe) is above one, a thread gives each a copy (share.c). */
napi_value em_ticket_finish(napi_env env, napi_callback_info info) {
  size_t argc = 3, len = 0;
  int32_t readers = 1;
  napi_value argv[3], result, flag;
  void *data = NULL, *buf = NULL;
  bool is_buffer = false;
  napi_valuetype type;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external || !is_ticket(env, argv[0]) ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL)
    return throw_arg(env, "ticketFinish(ticket, buffer, readers) takes a ticket from a reader event");
  if (napi_get_value_int32(env, argv[2], &readers) != napi_ok || readers < 0)
    return throw_arg(env, "readers must be a non-negative integer");
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer) return throw_arg(env, "content must be a Buffer");
  NAPI_OK(napi_get_buffer_info(env, argv[1], &buf, &len));
  ticket_t *t = data;
  if (t->done) return throw_errno(env, EINVAL, "ticketFinish", NULL);
  t->done = 1;
  size_t written = 0;
  /* 1: a share or writer thread finishes it (and releases the late readers through its own probe). */
  int r = readers > 1 && share_spawn(&t->pipe, buf, len, readers, EV_DRAINED) == 0
              ? 1
              : write_or_hand_over(&t->pipe, buf, len, 0, EV_DRAINED, &written);
  if (t->pipe.probe_fd >= 0) {
    if (r != 1) release_late_readers(t->pipe.probe_fd, NULL);
    close(t->pipe.probe_fd);
  }
  napi_release_threadsafe_function(t->pipe.tsfn, napi_tsfn_release);
  NAPI_OK(napi_create_object(env, &result));
  napi_value v;
  napi_create_double(env, (double)written, &v);
  napi_set_named_property(env, result, "bytes", v);
  napi_get_boolean(env, r == 1, &flag);
  napi_set_named_property(env, result, "pending", flag);
  if (r < 0 && r != -EPIPE) {
    napi_create_string_utf8(env, errno_name(-r), NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, result, "code", v);
  }
  napi_get_boolean(env, r == -EPIPE, &flag);
  napi_set_named_property(env, result, "closedEarly", flag);
  return result;
}

/* ticketHolders(ticket): { holders, unreadable }: who holds the ticket's pipe now (a confirming scan before the
 * decision is acted on: a second reader released on the same pipe may install its fd after the first scan), and
 * how many processes of this user could not be scanned. */
napi_value em_ticket_holders(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_valuetype type;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external || !is_ticket(env, argv[0]) ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL)
    return throw_arg(env, "ticketHolders(ticket) takes a ticket from a reader event");
  ticket_t *t = data;
  if (t->done) return throw_errno(env, EINVAL, "ticketHolders", NULL);
  holder_t holders[HOLDERS_MAX];
  int unreadable = 0;
  int n = fifo_holders_ex(t->pipe.dev, (ino_t)t->pipe.inode, getpid(), holders, HOLDERS_MAX, &unreadable);
  if (n < 0) return throw_errno(env, -n, "fifo_holders", NULL);
  napi_value result, list = holders_array(env, holders, n), count;
  if (list == NULL) return NULL;
  NAPI_OK(napi_create_object(env, &result));
  napi_set_named_property(env, result, "holders", list);
  napi_create_int32(env, unreadable, &count);
  napi_set_named_property(env, result, "unreadable", count);
  return result;
}

/* fifoHolders(path): [{ pid, fd, mode }] of every other process holding the FIFO at path open. */
napi_value em_fifo_holders(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_arg(env, "fifoHolders(path) takes one argument");
  char *path = arg_string(env, argv[0], "path");
  if (path == NULL) return NULL;
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    throw_errno(env, e, "stat", path);
    free(path);
    return NULL;
  }
  free(path);
  holder_t holders[HOLDERS_MAX];
  int n = fifo_holders(st.st_dev, st.st_ino, getpid(), holders, HOLDERS_MAX);
  if (n < 0) return throw_errno(env, -n, "fifo_holders", NULL);
  return holders_array(env, holders, n);
}
