/*  tprow.h - one stored touchpoint row made into an event for the rule
    engine: the columns DT_TPROW_COLUMNS selects, as text, decoded into a
    dt_event_t. Shared by every reader that feeds stored touchpoints to an
    engine: the history (rule memory at start, evicted accounts) and the
    replay (the what-if, store/replay.h).

    The event's strings point into the columns passed in (each must end in
    a NUL); its claims and attrs live in the decoder until the next row.
    The body and attrs are not among the columns, but for attrs.tz (the
    contact budget's local time): remembering a touch needs neither (the
    replay adds the body, which the banned-phrase rule scans).
*/
#ifndef DT_TPROW_H
#define DT_TPROW_H

#include "proto/event.h"

#include <stdbool.h>
#include <stdint.h>

//  The columns, in the order dt_tprow_decode reads them. occurred_at in ms
//  through date_part (float8; the cast to bigint rounds, exact for the ms
//  the store holds): extract () computes in numeric, which made it the
//  dearest column of a large read.
#define DT_TPROW_COLUMNS \
    "id, track, account, contact, stage, lead, advisors::text, project, theme," \
    " claims::text, (date_part ('epoch', occurred_at) * 1000)::bigint, category," \
    " source, channel, kind, attrs ->> 'tz'"
#define DT_TPROW_COUNT 16

//  One column's text (NUL-terminated at ptr [len]), or null
typedef struct {
    const char *ptr;
    uint32_t len;
    bool null;
} dt_tpcol_t;

typedef struct _dt_tprow_t dt_tprow_t;

//  A decoder for the stages a coordinator judges with (copied)
dt_tprow_t *dt_tprow_new (const dt_stageset_t *stages);
void dt_tprow_destroy (dt_tprow_t **self_p);

//  Decode the DT_TPROW_COUNT columns of one row into *ev. Returns 0, or -1
//  for a row the engine cannot use (a track or stage of another stage
//  configuration: nothing to learn from it). Claims that are not a JSON
//  object of strings are left out.
int dt_tprow_decode (dt_tprow_t *self, const dt_tpcol_t *cols, dt_event_t *ev);

#endif
