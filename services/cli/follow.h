/*  follow.h - follow the decisions feed without loss (proto/PROTOCOL.md,
    "Resuming the feed"): the part `dualtrack watch` and `dualtrack relay`
    share. It subscribes first, asks the catch-up API for what came after
    the last seq handled, page by page, then reads the live feed, dropping
    what it already handled (by seq) and catching up again whenever a seq is
    missing; the cursor file keeps the last seq handled.

    Without resuming (no since, no cursor) it reads the live feed alone.
*/
#ifndef DT_CLI_FOLLOW_H
#define DT_CLI_FOLLOW_H

#include "proto/wire.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _dt_follow_t dt_follow_t;

//  What the handler did with a message
typedef enum {
    DT_FOLLOW_NEXT,         //  handled: go on
    DT_FOLLOW_DONE,         //  handled: stop after it
    DT_FOLLOW_STOP          //  not handled: stop before it (the cursor stays before it)
} dt_follow_act_t;

//  Handle one message (topic and map, as the feed carried it) that the
//  topic prefixes let through, in seq order
typedef dt_follow_act_t (dt_follow_fn) (void *ctx, dt_str_t topic, const msgpack_object *message);

typedef struct {
    const char *prog;           //  names the messages: "watch", "relay"
    bool logfmt;                //  problems as dt_log lines (daemons), else on stderr
    const char *endpoint;       //  the decisions feed; NULL: the catch-up API alone
    const char *catchup;        //  the catch-up API
    const char *cert;           //  CURVE client certificate and the server's, or both NULL
    const char *server_cert;
    zlist_t *topics;            //  topic prefixes (strings, borrowed); empty or NULL: every topic
    bool resume;                //  catch up and keep a seq (else the live feed alone)
    uint64_t since;             //  the last seq handled when there is no cursor file
    const char *cursor_path;    //  NULL: none
    uint32_t page_limit;        //  verdicts per catch-up page, 0: 1000
} dt_follow_opts_t;

//  Load the cursor, connect the sockets. NULL after saying why (a cursor
//  that is not a seq, a bad endpoint or certificate).
dt_follow_t *
    dt_follow_new (const dt_follow_opts_t *opts, dt_follow_fn *fn, void *ctx);

void
    dt_follow_destroy (dt_follow_t **self_p);

//  Catch up from the store after the last seq handled (nothing without
//  resuming). 0, or -1 after saying why (the API did not answer or refused).
int
    dt_follow_catch_up (dt_follow_t *self);

//  The same, at most pages pages at a time (a caller with other work to
//  do in between); *more_p (may be NULL) says whether the API has more
int
    dt_follow_catch_up_pages (dt_follow_t *self, int pages, bool *more_p);

//  Wait up to timeout_ms for a live message and take it, catching up
//  first when seqs are missing. 1: one taken (or dropped as a duplicate),
//  0: nothing came (or a signal), -1 a gap the catch-up API could not fill
//  (said why).
int
    dt_follow_poll (dt_follow_t *self, int timeout_ms);

//  The handler said DONE or STOP
bool
    dt_follow_done (dt_follow_t *self);

//  The last verdict seq handled
uint64_t
    dt_follow_last (dt_follow_t *self);

//  Write the cursor file if the last seq moved: at once, or (now false) at
//  most once a second. Replaced whole (temporary file, fsync, rename, the
//  directory fsynced), so a crash leaves the old or the new. 0, or -1 after
//  saying why.
int
    dt_follow_save (dt_follow_t *self, bool now);

#endif
