/*  writeset.c - see writeset.h
*/
#include "store/writeset.h"
#include "store/copyrow.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/clock.h"

#include <stdlib.h>
#include <string.h>

#define GROW(array, count, alloc) do { \
    if ((count) == (alloc)) { \
        (alloc) = (alloc)? 2 * (alloc): 64; \
        (array) = realloc ((array), (alloc) * sizeof *(array)); \
        assert (array); \
    } \
} while (0)

dt_writeset_t *
dt_writeset_new (void)
{
    dt_writeset_t *self = calloc (1, sizeof (dt_writeset_t));
    self->strings = zlistx_new ();
    zlistx_set_destructor (self->strings, (zlistx_destructor_fn *) zstr_free);
    return self;
}

static dt_str_t
s_keep_string (dt_writeset_t *self, const char *text)
{
    char *copy = strdup (text);
    zlistx_add_end (self->strings, copy);
    return dt_str_c (copy);
}

void
dt_writeset_destroy (dt_writeset_t **self_p)
{
    if (*self_p) {
        dt_writeset_t *self = *self_p;
        for (uint32_t i = 0; i < self->frame_count; i++) {
            msgpack_unpacked_destroy (&self->unpacked [i]);
            zframe_destroy (&self->frames [i]);
        }
        free (self->unpacked);
        for (uint32_t i = 0; i < self->ack_count; i++)
            zframe_destroy (&self->acks [i].peer);
        free (self->frames);
        free (self->events);
        free (self->rejects);
        free (self->acks);
        free (self->judgements);
        free (self->findings);
        dt_buf_free (&self->touchpoint_rows);
        dt_buf_free (&self->finding_rows);
        dt_buf_free (&self->scratch);
        dt_buf_free (&self->keys);
        free (self->id_slots);
        free (self->seq_at);
        zlistx_destroy (&self->strings);
        free (self);
        *self_p = NULL;
    }
}

void
dt_writeset_reset (dt_writeset_t *self)
{
    for (uint32_t i = 0; i < self->frame_count; i++) {
        msgpack_unpacked_destroy (&self->unpacked [i]);
        zframe_destroy (&self->frames [i]);
    }
    for (uint32_t i = 0; i < self->ack_count; i++)
        zframe_destroy (&self->acks [i].peer);
    zlistx_purge (self->strings);
    self->frame_count = self->event_count = self->reject_count = self->ack_count = 0;
    self->judged = self->finding_count = self->distinct = 0;
    self->stored = self->duplicates = 0;
    self->seq_first = self->seq_granted = self->seq_count = 0;
    self->seq_used = 0;
    self->seq_asked = self->seq_settled = self->seq_told = self->seq_guess = false;
    self->seq_exact = self->seq_counted = false;
    dt_buf_reset (&self->touchpoint_rows);
    dt_buf_reset (&self->finding_rows);
    dt_buf_reset (&self->keys);
    if (self->id_slots)
        memset (self->id_slots, 0, self->id_slot_count * sizeof *self->id_slots);
}

void
dt_writeset_put_seq (char *row, uint64_t seq)
{
    for (int i = DT_SEQ_DIGITS - 1; i >= 0; i--, seq /= 10)
        row [i] = (char) ('0' + seq % 10);
}

static inline bool
s_same_id (dt_str_t a, dt_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

//  Has an earlier event of the writeset this event's id? If not, remember it.
static bool
s_id_seen_before (dt_writeset_t *self, uint32_t index)
{
    if (2 * (self->distinct + 1) > self->id_slot_count) {
        //  Grow and put back the distinct ids seen so far
        uint32_t count = self->id_slot_count? 2 * self->id_slot_count: 1024;
        __typeof__ (self->id_slots) old = self->id_slots;
        uint32_t old_count = self->id_slot_count;
        self->id_slots = calloc (count, sizeof *self->id_slots);
        assert (self->id_slots);
        self->id_slot_count = count;
        for (uint32_t k = 0; k < old_count; k++)
            if (old [k].event) {
                uint32_t slot = old [k].hash & (count - 1);
                while (self->id_slots [slot].event)
                    slot = (slot + 1) & (count - 1);
                self->id_slots [slot] = old [k];
            }
        free (old);
    }
    const dt_event_t *ev = &self->events [index];
    uint32_t mask = self->id_slot_count - 1;
    uint32_t hash = (uint32_t) dt_hash (ev->id.ptr, ev->id.len, 0);
    uint32_t slot = hash & mask;
    for (; self->id_slots [slot].event; slot = (slot + 1) & mask)
        if (self->id_slots [slot].hash == hash
        &&  s_same_id (self->events [self->id_slots [slot].event - 1].id, ev->id))
            return true;
    self->id_slots [slot].event = index + 1;
    self->id_slots [slot].hash = hash;
    return false;
}

bool
dt_writeset_shares_id (const dt_writeset_t *self, const dt_writeset_t *other)
{
    //  Walk the smaller one's table, probing the other's with the hashes
    //  both kept
    if (self->distinct > other->distinct) {
        const dt_writeset_t *swap = self;
        self = other;
        other = swap;
    }
    if (!self->distinct || !other->distinct)
        return false;
    uint32_t mask = other->id_slot_count - 1;
    for (uint32_t k = 0; k < self->id_slot_count; k++) {
        if (!self->id_slots [k].event)
            continue;
        uint32_t hash = self->id_slots [k].hash;
        dt_str_t id = self->events [self->id_slots [k].event - 1].id;
        for (uint32_t slot = hash & mask; other->id_slots [slot].event; slot = (slot + 1) & mask)
            if (other->id_slots [slot].hash == hash
            &&  s_same_id (other->events [other->id_slots [slot].event - 1].id, id))
                return true;
    }
    return false;
}

int
dt_writeset_add_batch (dt_writeset_t *self, zframe_t **frame_p, msgpack_unpacked *taken,
                       zframe_t *peer, const dt_stageset_t *stages)
{
    if (self->frame_count == self->frame_alloc) {
        self->frame_alloc = self->frame_alloc? 2 * self->frame_alloc: 16;
        self->frames = realloc (self->frames, self->frame_alloc * sizeof *self->frames);
        self->unpacked = realloc (self->unpacked, self->frame_alloc * sizeof *self->unpacked);
        assert (self->frames && self->unpacked);
    }
    zframe_t *frame = *frame_p;
    *frame_p = NULL;
    msgpack_unpacked *unpacked = &self->unpacked [self->frame_count];
    *unpacked = *taken;
    msgpack_unpacked_init (taken);
    const msgpack_object *items;
    dt_track_t track;
    uint64_t first;
    if (dt_link_batch_open (&unpacked->data, &items, &track, &first)) {
        msgpack_unpacked_destroy (unpacked);
        zframe_destroy (&frame);
        return -1;
    }
    self->frames [self->frame_count++] = frame;

    for (uint32_t i = 0; i < items->via.array.size; i++) {
        GROW (self->events, self->event_count, self->event_alloc);
        GROW (self->rejects, self->reject_count, self->reject_alloc);
        dt_event_t *event = &self->events [self->event_count];
        dt_reject_t *reject = &self->rejects [self->reject_count];
        dt_error_t err;
        int kind = dt_item_decode (&items->via.array.ptr [i], stages, event, reject, &err);
        if (kind == DT_ITEM_EVENT)
            self->event_count++;
        else
        if (kind == DT_ITEM_REJECT)
            self->reject_count++;
        else {
            //  A track and a coordinator configured with different stages
            //  land here: keep the item as a reject rather than lose it
            memset (reject, 0, sizeof *reject);
            reject->received_at = dt_now_us ();
            reject->track = track;
            reject->code = dt_str_c ("bad_link_item");
            reject->field = s_keep_string (self, err.field);
            reject->message = s_keep_string (self, err.message);
            reject->index = -2 - (int32_t) i;     //  never a request index
            reject->raw = "";
            self->reject_count++;
        }
    }
    GROW (self->acks, self->ack_count, self->ack_alloc);
    self->acks [self->ack_count].peer = zframe_dup (peer);
    self->acks [self->ack_count].first = first;
    self->acks [self->ack_count].upto = first + items->via.array.size - 1;
    self->ack_count++;
    return 0;
}

//  Keep the canonical ids the engine judged the event by (copied: the
//  next judgement overwrites them)
static void
s_keep_keys (dt_writeset_t *self, dt_engine_t *engine, const dt_event_t *ev, dt_judgement_t *j)
{
    j->key_at = (uint32_t) self->keys.size;
    dt_str_t account = dt_engine_judged_id (engine, DT_ID_ACCOUNT);
    dt_buf_append (&self->keys, account.ptr, account.len);
    j->account_key_len = (uint16_t) account.len;
    j->contact_key_len = 0;
    if (ev->present & DT_HAS_CONTACT) {
        dt_str_t contact = dt_engine_judged_id (engine, DT_ID_CONTACT);
        dt_buf_append (&self->keys, contact.ptr, contact.len);
        j->contact_key_len = (uint16_t) contact.len;
    }
}

void
dt_writeset_judge (dt_writeset_t *self, dt_engine_t *engine)
{
    if (self->judgement_alloc < self->event_count) {
        self->judgement_alloc = self->event_alloc;
        self->judgements = realloc (self->judgements,
                                    self->judgement_alloc * sizeof (dt_judgement_t));
        assert (self->judgements);
    }
    for (; self->judged < self->event_count; self->judged++) {
        if (self->finding_count + DT_FINDINGS_PER_EVENT > self->finding_alloc) {
            self->finding_alloc = self->finding_alloc? 2 * self->finding_alloc: 256;
            self->findings = realloc (self->findings, self->finding_alloc * sizeof (dt_finding_t));
            assert (self->findings);
        }
        //  A hint two events ahead: the account's memory is in cache in time
        if (self->judged + 2 < self->event_count)
            dt_engine_prefetch (engine, &self->events [self->judged + 2]);
        dt_judgement_t *j = &self->judgements [self->judged];
        j->first_finding = self->finding_count;
        j->is_new = false;
        j->seq = 0;
        j->policy_version = self->policy_version;
        int count = dt_engine_judge (engine, &self->events [self->judged], true,
                                     self->findings + self->finding_count,
                                     DT_FINDINGS_PER_EVENT, &j->verdict);
        j->finding_count = count > 0? (uint32_t) count: 0;
        j->reservation_used = count >= 0 && dt_engine_judged_reservation (engine);
        if (count < 0)
            j->verdict = DT_VERDICT_OK;
        self->finding_count += j->finding_count;

        const dt_event_t *ev = &self->events [self->judged];
        s_keep_keys (self, engine, ev, j);
        j->repeat = s_id_seen_before (self, self->judged);
        if (j->repeat)
            continue;
        if (self->distinct == self->seq_at_alloc) {
            self->seq_at_alloc = self->seq_at_alloc? 2 * self->seq_at_alloc: 1024;
            self->seq_at = realloc (self->seq_at, self->seq_at_alloc * sizeof *self->seq_at);
            assert (self->seq_at);
        }
        self->seq_at [self->distinct] = (uint32_t) self->touchpoint_rows.size;
        dt_buf_puts (&self->touchpoint_rows, DT_SEQ_PLACEHOLDER);
        self->distinct++;
        dt_str_t account_key = dt_writeset_account_key (self, self->judged);
        dt_copy_judged_touchpoint (&self->touchpoint_rows, &self->scratch, ev,
                                   dt_verdict_name (j->verdict), account_key,
                                   dt_writeset_contact_key (self, self->judged),
                                   j->policy_version, DT_JUDGED_RESERVATION (j, ev));
        for (uint32_t k = 0; k < j->finding_count; k++) {
            const dt_finding_t *f = &self->findings [j->first_finding + k];
            dt_copy_finding (&self->finding_rows, ev, (int) k, dt_rule_id (f->rule),
                             dt_severity_name (f->severity), f->message,
                             (const char (*) [DT_ID_MAX + 1]) f->related, f->related_count,
                             account_key, j->policy_version);
        }
    }
}
