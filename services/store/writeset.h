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
    //  The canonical ids it was judged by, in dt_writeset_t.keys: the
    //  account's, then the contact's (none if the event has no contact)
    uint32_t key_at;
    uint16_t account_key_len, contact_key_len;
    uint64_t seq;               //  set by the store: its feed seq, 0 none (not new)
    int policy_version;         //  the policy judged under (0: none yet)
    bool reservation_used;      //  the event used the reservation it carries
} dt_judgement_t;

//  The reservation token a judged event used (len 0 none): its row's
//  touchpoints.reservation
#define DT_JUDGED_RESERVATION(j, ev) \
    ((j)->reservation_used? (ev)->reservation: (dt_str_t) { "", 0 })

#define DT_FINDINGS_PER_EVENT 16

//  A seq in a COPY row: 20 digits (leading zeros are fine for bigint) and
//  the tab before the next column, overwritten in place
#define DT_SEQ_PLACEHOLDER "00000000000000000000\t"
#define DT_SEQ_DIGITS 20

//  The columns of touchpoint_rows (copyrow.h's, the placeholder first)
#define DT_WRITESET_ROW_COLUMNS "seq, " DT_JUDGED_TOUCHPOINT_COLUMNS

//  Write seq over the placeholder at row (DT_SEQ_DIGITS bytes)
void dt_writeset_put_seq (char *row, uint64_t seq);

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
    dt_buf_t keys;              //  the judgements' canonical ids (copied: a
                                //  reload of the alias maps may come first)
    int policy_version;         //  set by the caller: the policy the engine has now
    uint32_t distinct;          //  events with rows (an id twice: first copy)
    struct {                    //  ids seen: open addressing
        uint32_t event;         //  its event's index + 1; 0: free
        uint32_t hash;          //  its id's
    } *id_slots;
    uint32_t id_slot_count;     //  a power of two, at least twice distinct
    //  Feed sequence numbers (seq, proto/PROTOCOL.md) of the new events.
    //  Each touchpoint row starts with a placeholder the store fills in
    //  once it knows the numbers (DT_SEQ_PLACEHOLDER, at seq_at [row]).
    uint32_t *seq_at;           //  offset of each row's placeholder
    uint32_t seq_at_alloc;
    uint64_t seq_first;         //  store thread: the first granted, 0 none yet
    uint32_t seq_used;          //  store thread: used by committed transactions
    bool seq_told;              //  store thread: it said how many it used
    bool seq_guess;             //  store thread: seq_first may be wrong, so
                                //  nothing commits before the link thread
                                //  confirms it (store.h, the sequencer)
    bool seq_asked;             //  link thread: the store asked for a first seq
    bool seq_settled;           //  link thread: the store said how many it used
    bool seq_exact;             //  link thread: seq_granted is certain
    bool seq_counted;           //  link thread: its seqs are behind seq_next
    uint64_t seq_granted;       //  link thread: the first it was given, 0 none
    uint64_t seq_count;         //  link thread: how many it used
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

//  Do the two writesets hold an event with the same id? (A batch resent
//  while its first copy is still being written.) Reads both id tables.
bool dt_writeset_shares_id (const dt_writeset_t *self, const dt_writeset_t *other);

//  The canonical account and contact event i was judged by
static inline dt_str_t
dt_writeset_account_key (const dt_writeset_t *self, uint32_t i)
{
    const dt_judgement_t *j = &self->judgements [i];
    dt_str_t key = { self->keys.data + j->key_at, j->account_key_len };
    return key;
}

static inline dt_str_t
dt_writeset_contact_key (const dt_writeset_t *self, uint32_t i)
{
    const dt_judgement_t *j = &self->judgements [i];
    dt_str_t key = { self->keys.data + j->key_at + j->account_key_len, j->contact_key_len };
    return key;
}

//  Items (events + rejects) in the writeset
static inline uint32_t
dt_writeset_size (const dt_writeset_t *self)
{
    return self->event_count + self->reject_count;
}

#endif
