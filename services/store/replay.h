/*  replay.h - the stored touchpoints of a time range, streamed in the order
    they occurred and handed over one at a time as events for the rule
    engine (store/tprow.h decodes them, with the body for the banned-phrase
    rule), each with what the coordinator recorded beside it: the policy
    version it was judged under and its verdict. The what-if
    (`dualtrack whatif`, docs/policy.md) judges them again.

    One statement, COPY (SELECT ...) TO STDOUT in text form: rows arrive
    as they are read, none is held in memory after its turn, and the text
    form costs less to take apart than a result per row. Read-only: the
    analyst role may run it.

    Order: occurred_at, then the feed's seq (the order the coordinator
    judged them in), then the id, so equal times replay as they were
    judged.
*/
#ifndef DT_REPLAY_H
#define DT_REPLAY_H

#include "proto/event.h"
#include "rules/settings.h"

#include <libpq-fe.h>
#include <stdint.h>

//  What the store says about a touchpoint beside the event
typedef struct {
    int policy_version;         //  the version it was judged under (0: none)
    dt_verdict_t verdict;       //  the verdict it got
} dt_replay_row_t;

//  Called for every touchpoint; the event and row are valid during the
//  call only
typedef void (dt_replay_fn) (void *ctx, const dt_event_t *event, const dt_replay_row_t *row);

//  Stream the touchpoints with from_ms <= occurred_at < to_ms to fn,
//  decoded for stages (both tracks: the rules judge one track's touches
//  against the other's). Rows the stages cannot place are skipped. Returns the number handed to fn,
//  or -1 with the reason in err.
int64_t dt_replay_range (PGconn *conn, const dt_stageset_t *stages, int64_t from_ms,
                         int64_t to_ms, dt_replay_fn *fn, void *ctx,
                         char *err, size_t errlen);

#endif
