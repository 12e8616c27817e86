/*  writeset.h - one unit of work for the store: the events and rejects of
    one or more link batches, committed in one PostgreSQL transaction, and
    the acknowledgements owed to the tracks once it is committed.

    The writeset owns the unpacked link frames its events point into, so it
    can be handed whole from the link thread to the store thread.
*/
#ifndef DT_WRITESET_H
#define DT_WRITESET_H

#include "base/buf.h"
#include "rules/engine.h"
#include "proto/link.h"

#include <czmq.h>

//  One link batch to acknowledge. Per batch, not cumulative: after a
//  coordinator restart a track may have batches lost with the old process
//  and newer ones committed by the new one, so "all up to N" would lie.
typedef struct {
    zframe_t *peer;             //  routing id of the track's link socket
    uint64_t first;             //  the batch's first item seq
    uint64_t upto;              //  and its last
} dt_ack_t;

//  The engine's judgement of one event of the writeset
typedef struct {
    dt_verdict_t verdict;
    uint32_t first_finding;     //  into dt_writeset_t.findings
    uint32_t finding_count;
    bool is_new;                //  set by the store: not a resend of a stored id
    bool repeat;                //  its id came earlier in this writeset: no row
    int policy_version;         //  the policy judged under (0: none yet)
} dt_judgement_t;

#define DT_FINDINGS_PER_EVENT 16

typedef struct {
    //  Owned: events and rejects point into the unpacked objects, and their
    //  strings point into the frame bytes themselves
    zframe_t **frames;
    msgpack_unpacked *unpacked;
    uint32_t frame_count, frame_alloc;
    dt_event_t *events;
    uint32_t event_count, event_alloc;
    dt_reject_t *rejects;
    uint32_t reject_count, reject_alloc;
    dt_ack_t *acks;
    uint32_t ack_count, ack_alloc;
    zlistx_t *strings;          //  owned texts of rejects made here
    dt_judgement_t *judgements; //  one per event, once judged
    uint32_t judged, judgement_alloc;
    dt_finding_t *findings;
    uint32_t finding_count, finding_alloc;
    //  COPY rows of the judged events, made in the link thread so the store
    //  thread only talks to PostgreSQL (columns: copyrow.h)
    dt_buf_t touchpoint_rows;
    dt_buf_t finding_rows;
    dt_buf_t scratch;
    int policy_version;         //  set by the caller: the policy the engine has now
    uint32_t distinct;          //  events with rows (an id twice: first copy)
    uint32_t *id_slots;         //  ids seen: open addressing, event index + 1
    uint32_t id_slot_count;     //  a power of two, at least twice distinct
    //  Filled by the store
    uint32_t stored;            //  events new to the store
    uint32_t duplicates;        //  events it already had
    bool committed;             //  back from the store (link thread only)
} dt_writeset_t;

dt_writeset_t *dt_writeset_new (void);
void dt_writeset_destroy (dt_writeset_t **self_p);

//  Empty it for reuse, keeping its arrays and buffers: a fresh writeset
//  per commit would fault in its memory page by page every time
void dt_writeset_reset (dt_writeset_t *self);

//  Add one link batch {"t":"batch","track","first","items"}: the frame and
//  its unpacked value, both taken (their memory is what the events point
//  into). Items that fail validation become rejects (bad_link_item).
//  Returns 0, or -1 if it is not a batch (both are destroyed then).
int dt_writeset_add_batch (dt_writeset_t *self, zframe_t **frame_p, msgpack_unpacked *unpacked,
                           zframe_t *peer, const dt_stageset_t *stages);

//  Judge the events added since the last call, in arrival order, and keep
//  the findings, each with self->policy_version. Judged once: a retried
//  commit stores the same judgement.
void dt_writeset_judge (dt_writeset_t *self, dt_engine_t *engine);

//  Items (events + rejects) in the writeset
static inline uint32_t
dt_writeset_size (const dt_writeset_t *self)
{
    return self->event_count + self->reject_count;
}

#endif
