/*  sequencer.c - see sequencer.h
*/
#include "coordinator/sequencer.h"

void
dt_sequencer_turn (dt_sequencer_t *self)
{
    if (!self->next)
        return;
    dt_writeset_t *open = NULL;     //  exact, still writing its rows
    for (dt_writeset_t *ws = (dt_writeset_t *) zlistx_first (self->writesets); ws;
         ws = (dt_writeset_t *) zlistx_next (self->writesets)) {
        if (ws->seq_counted || (ws->seq_settled && !ws->seq_granted))
            continue;               //  behind next, or took no seq
        if (open) {
            if (!ws->seq_granted && ws->seq_asked && !dt_writeset_shares_id (open, ws)) {
                ws->seq_granted = open->seq_granted + open->distinct;
                ws->seq_exact = false;
                self->tell (self->ctx, ws, "GUESS", ws->seq_granted);
            }
            return;
        }
        //  Every writeset before this one is counted: its first is next
        if (ws->seq_granted && !ws->seq_exact) {
            bool kept = ws->seq_granted == self->next;
            self->tell (self->ctx, ws, kept? "GO": "MISS", 0);
            if (kept)
                ws->seq_exact = true;
            else {
                ws->seq_granted = ws->seq_count = 0;
                ws->seq_asked = ws->seq_settled = false;
            }
        }
        if (!ws->seq_granted) {
            if (!ws->seq_asked)
                return;
            ws->seq_granted = self->next;
            ws->seq_exact = true;
            self->tell (self->ctx, ws, "BASE", ws->seq_granted);
        }
        if (!ws->seq_settled) {
            open = ws;
            continue;
        }
        self->next = ws->seq_granted + ws->seq_count;
        ws->seq_counted = true;
    }
}

void
dt_sequencer_sent (dt_sequencer_t *self, dt_writeset_t *ws)
{
    (void) self;
    ws->seq_settled = ws->event_count == 0;
}

void
dt_sequencer_asked (dt_sequencer_t *self, dt_writeset_t *ws)
{
    ws->seq_asked = true;
    dt_sequencer_turn (self);
}

void
dt_sequencer_used (dt_sequencer_t *self, dt_writeset_t *ws, uint64_t count)
{
    if (!ws->seq_granted)
        return;
    ws->seq_count = count;
    ws->seq_settled = true;
    dt_sequencer_turn (self);
}

bool
dt_sequencer_stopped (dt_sequencer_t *self, dt_writeset_t *ws)
{
    if (ws->seq_settled)
        return true;
    bool none = !ws->seq_granted;
    ws->seq_granted = 0;
    ws->seq_settled = true;
    dt_sequencer_turn (self);
    return none;
}
