/*  store_actor.c - see store_actor.h
*/
#include "coordinator/store_actor.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/signals.h"
#include "store/store.h"

//  One actor's side of the feed's numbering: its pipe, and whether $TERM
//  came while it waited for its turn
typedef struct {
    zsock_t *pipe;
    bool terminated;
} s_seq_ctx_t;

//  Wait for the link thread's word on ws: one of two commands, whose value
//  is returned in *value. False if $TERM came first.
static bool
s_seq_wait (s_seq_ctx_t *self, dt_writeset_t *ws, const char *yes, const char *no,
            bool *said_yes, uint64_t *value)
{
    while (!self->terminated) {
        char *command = NULL;
        void *ptr = NULL;
        if (zsock_recv (self->pipe, "sp8", &command, &ptr, value) < 0) {
            self->terminated = true;
            break;
        }
        bool answer = (streq (command, yes) || streq (command, no)) && ptr == ws;
        *said_yes = streq (command, yes);
        self->terminated = streq (command, "$TERM");
        free (command);
        if (answer)
            return true;
    }
    return false;
}

//  Ask the link thread for the writeset's first seq, exact ("BASE") or a
//  guess ("GUESS")
static uint64_t
s_seq_first (void *ctx, dt_writeset_t *ws, bool *guess)
{
    s_seq_ctx_t *self = (s_seq_ctx_t *) ctx;
    zsock_send (self->pipe, "sp8", "SEQ", ws, (uint64_t) 0);
    bool exact = false;
    uint64_t first = 0;
    if (!s_seq_wait (self, ws, "BASE", "GUESS", &exact, &first))
        return 0;
    *guess = !exact;
    return first;
}

//  Did the guess hold? ("GO", or "MISS": write again)
static bool
s_seq_confirm (void *ctx, dt_writeset_t *ws)
{
    s_seq_ctx_t *self = (s_seq_ctx_t *) ctx;
    bool kept = false;
    uint64_t unused;
    return s_seq_wait (self, ws, "GO", "MISS", &kept, &unused) && kept;
}

static void
s_seq_used (void *ctx, dt_writeset_t *ws, uint64_t count)
{
    s_seq_ctx_t *self = (s_seq_ctx_t *) ctx;
    zsock_send (self->pipe, "sp8", "USED", ws, count);
}

void
dt_store_actor (zsock_t *pipe, void *args)
{
    const dt_store_actor_args_t *shared = (const dt_store_actor_args_t *) args;
    dt_store_t *store = dt_store_new (shared->pg_uri, shared->pg_password);
    s_seq_ctx_t seq_ctx = { pipe, false };
    dt_store_set_sequencer (store, &(dt_store_sequencer_t) {
        s_seq_first, s_seq_used, s_seq_confirm, &seq_ctx });
    dt_signals_block_thread ();
    zsock_signal (pipe, 0);
    char err [512];
    int backoff = 100;
    bool terminated = false;
    //  Connect early, so readiness and migrations do not wait for traffic
    if (dt_store_connect (store, err, sizeof err))
        dt_warn ("PostgreSQL not reachable yet", "error=\"%s\"", err);
    else {
        dt_info ("connected to PostgreSQL", NULL);
        zsock_send (pipe, "sp8", "CONNECTED", NULL, (uint64_t) 0);
    }

    while (!terminated && !seq_ctx.terminated) {
        char *command = NULL;
        void *ptr = NULL;
        //  Until the first connection, try again every second
        if (!dt_store_connected (store) && !(zsock_events (pipe) & ZMQ_POLLIN)) {
            zmq_pollitem_t item = { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
            if (zmq_poll (&item, 1, 1000) == 0) {
                if (dt_store_connect (store, err, sizeof err) == 0) {
                    dt_info ("connected to PostgreSQL", NULL);
                    zsock_send (pipe, "sp8", "CONNECTED", NULL, (uint64_t) 0);
                }
                continue;
            }
        }
        uint64_t unused = 0;
        if (zsock_recv (pipe, "sp8", &command, &ptr, &unused) < 0)
            break;
        if (streq (command, "$TERM"))
            terminated = true;
        else
        if (streq (command, "WRITE")) {
            dt_writeset_t *ws = (dt_writeset_t *) ptr;
            //  Retry until committed: the tracks hold these events and wait
            //  for the acknowledgement, so giving up would only delay them
            while (true) {
                int64_t started = dt_mono_us ();
                if (dt_store_connected (store) && dt_store_write (store, ws, err, sizeof err) == 0) {
                    int64_t now = dt_mono_us ();
                    dt_histogram_observe (shared->commit_seconds, (double) (now - started) / 1e6);
                    //  received_at is the track's wall clock, in µs
                    int64_t wall = dt_now_us ();
                    dt_histogram_observe (shared->writeset_items, dt_writeset_size (ws));
                    for (uint32_t i = 0; i < ws->event_count; i++)
                        dt_histogram_observe (shared->ingress_to_commit,
                                              (double) (wall - ws->events [i].received_at) / 1e6);
                    atomic_store (shared->ready, true);
                    break;
                }
                atomic_store (shared->ready, dt_store_connected (store));
                if (dt_store_connected (store))
                    dt_warn ("commit failed, retrying", "error=\"%s\"", err);
                if (seq_ctx.terminated || (zsock_events (pipe) & ZMQ_POLLIN)) {
                    //  $TERM while PostgreSQL is away: the tracks resend
                    dt_error ("stopping with a writeset uncommitted; the tracks will resend it",
                              "events=%u", ws->event_count);
                    ws = NULL;
                    terminated = true;
                    break;
                }
                zclock_sleep (backoff);
                backoff = backoff < 5000? backoff * 2: 5000;
                if (dt_store_connect (store, err, sizeof err) == 0) {
                    dt_info ("reconnected to PostgreSQL", NULL);
                    zsock_send (pipe, "sp8", "CONNECTED", NULL, (uint64_t) 0);
                    backoff = 100;
                }
                else
                    dt_warn ("PostgreSQL unreachable", "error=\"%s\" retry_ms=%d", err, backoff);
            }
            zsock_send (pipe, "sp8", "DONE", ws, (uint64_t) 0);
        }
        free (command);
    }
    dt_store_destroy (&store);
}
