/*  sequencer.h - the feed's numbering (seq, proto/PROTOCOL.md): which
    first seq each writeset the store actors write gets, and when. The
    link thread owns it and the writesets' link-thread seq fields
    (store/writeset.h); the actors ask and answer over their pipes
    (store_actor.h), and the sequencer says what to tell them.

    Writesets take their seqs in the order they were sent. The oldest one
    not yet counted gets `next` once it asks: exact ("BASE"). While it
    writes its rows, the one after it may start on a guess ("GUESS"): the
    seq after the first's if every event of the first is new (they are,
    but for resends), provided the two share no id; otherwise each could
    wait for the other, one in PostgreSQL for the other's rows and the
    other here for its word. Once the first says how many seqs it used,
    the guess is kept ("GO") or the second rolls back and asks again
    ("MISS"). Nothing commits on an open guess, so the seqs stay 1, 2,
    3... without a gap or a repeat, in the order the feed publishes them.
*/
#ifndef DT_SEQUENCER_H
#define DT_SEQUENCER_H

#include "store/writeset.h"

#include <czmq.h>

//  Tells the actor writing ws: "BASE" or "GUESS" with a first seq, "GO" or
//  "MISS"
typedef void (dt_sequencer_tell_fn) (void *ctx, dt_writeset_t *ws, const char *command,
                                     uint64_t value);

typedef struct {
    uint64_t next;              //  the first after every writeset counted; 0 until known
    dt_sequencer_tell_fn *tell;
    void *ctx;
    zlistx_t *writesets;        //  not owned: those sent, in order, until committed
} dt_sequencer_t;

//  Hand out, confirm or refuse what can be now (also once next is known)
void dt_sequencer_turn (dt_sequencer_t *self);

//  ws goes to a store actor (and to the end of the list): without events
//  it takes no seq
void dt_sequencer_sent (dt_sequencer_t *self, dt_writeset_t *ws);

//  ws asks for its first seq
void dt_sequencer_asked (dt_sequencer_t *self, dt_writeset_t *ws);

//  ws says how many seqs its new events took (ignored when it said so
//  before it heard "MISS": it asks again)
void dt_sequencer_used (dt_sequencer_t *self, dt_writeset_t *ws, uint64_t count);

//  ws came back without saying how many it used (its actor stopped): it
//  took none. False if it had been given a first seq (an error to log).
bool dt_sequencer_stopped (dt_sequencer_t *self, dt_writeset_t *ws);

#endif
