/*  reservation.c - reservations of the contact budget (rules/reservation.h):
    the engine's table of them, found by token and by account for counting
    (resv_*), and the engine's calls that hold, use, take and restore them
    (dt_engine_reserve and friends, rules/engine.h). Records stay after they
    end (used, taken, expired) for RESV_KEEP_MS past their expiry, so that a
    late event carrying the token is told what happened to it rather than
    "unknown".

    Two chained hash indexes over one array of records (a free list reuses
    the holes): reservations are few next to touchpoints (each one a check
    request with `reserve`), and judging asks for an account's only while
    any are held (resv_held), so the table costs the hot path one test.
*/
#include "rules/internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#define BUCKETS_MIN     256

struct _resv_table_t {
    resv_t *items;
    uint32_t alloc;             //  records in items
    uint32_t live;              //  records in use
    uint32_t held;              //  of them, held
    int32_t free_head;          //  chain of free records (next_token)
    int32_t *by_token, *by_account;
    uint32_t buckets;           //  a power of two
};

const char *
dt_reservation_state_name (dt_reservation_state_t state)
{
    return state == DT_RESERVATION_USED? "used":
           state == DT_RESERVATION_PREEMPTED? "preempted": "held";
}

resv_table_t *
resv_new (void)
{
    resv_table_t *self = (resv_table_t *) calloc (1, sizeof (resv_table_t));
    if (!self)
        return NULL;
    self->free_head = -1;
    return self;
}

void
resv_destroy (resv_table_t **self_p)
{
    resv_table_t *self = *self_p;
    if (!self)
        return;
    free (self->items);
    free (self->by_token);
    free (self->by_account);
    free (self);
    *self_p = NULL;
}

static inline uint32_t
s_token_bucket (const resv_table_t *self, const char *ptr, size_t len)
{
    return (uint32_t) dt_hash (ptr, len, SEED_ID) & (self->buckets - 1);
}

static inline uint32_t
s_account_bucket (const resv_table_t *self, uint64_t account)
{
    return (uint32_t) (account >> 32) & (self->buckets - 1);
}

//  Index every record in use again, in buckets buckets
static int
s_rehash (resv_table_t *self, uint32_t buckets)
{
    int32_t *by_token = (int32_t *) malloc (buckets * sizeof (int32_t));
    int32_t *by_account = (int32_t *) malloc (buckets * sizeof (int32_t));
    if (!by_token || !by_account) {
        free (by_token);
        free (by_account);
        return -1;
    }
    free (self->by_token);
    free (self->by_account);
    self->by_token = by_token;
    self->by_account = by_account;
    self->buckets = buckets;
    for (uint32_t b = 0; b < buckets; b++)
        by_token [b] = by_account [b] = -1;
    for (uint32_t i = 0; i < self->alloc; i++) {
        resv_t *resv = &self->items [i];
        if (!resv->in_use)
            continue;
        uint32_t t = s_token_bucket (self, resv->rec.token, strlen (resv->rec.token));
        uint32_t a = s_account_bucket (self, resv->account);
        resv->next_token = by_token [t];
        by_token [t] = (int32_t) i;
        resv->next_account = by_account [a];
        by_account [a] = (int32_t) i;
    }
    return 0;
}

resv_t *
resv_find (const resv_table_t *self, dt_str_t token)
{
    if (!self || !self->live || !token.len)
        return NULL;
    for (int32_t i = self->by_token [s_token_bucket (self, token.ptr, token.len)]; i >= 0;
         i = self->items [i].next_token) {
        resv_t *resv = &self->items [i];
        if (strlen (resv->rec.token) == token.len
        &&  memcmp (resv->rec.token, token.ptr, token.len) == 0)
            return resv;
    }
    return NULL;
}

resv_t *
resv_add (resv_table_t *self, const dt_reservation_t *rec, uint64_t account, uint32_t contact)
{
    if (self->free_head < 0) {
        uint32_t alloc = self->alloc? 2 * self->alloc: 64;
        resv_t *items = (resv_t *) realloc (self->items, alloc * sizeof (resv_t));
        if (!items)
            return NULL;
        memset (items + self->alloc, 0, (alloc - self->alloc) * sizeof (resv_t));
        for (uint32_t i = alloc; i-- > self->alloc; ) {
            items [i].next_token = self->free_head;
            self->free_head = (int32_t) i;
        }
        self->items = items;
        self->alloc = alloc;
    }
    if (self->live + 1 > 2 * self->buckets || !self->buckets) {
        uint32_t buckets = self->buckets? 2 * self->buckets: BUCKETS_MIN;
        if (s_rehash (self, buckets))
            return NULL;
    }
    int32_t index = self->free_head;
    resv_t *resv = &self->items [index];
    self->free_head = resv->next_token;
    memset (resv, 0, sizeof *resv);
    resv->rec = *rec;
    resv->account = account;
    resv->contact = contact;
    resv->in_use = true;
    uint32_t t = s_token_bucket (self, rec->token, strlen (rec->token));
    uint32_t a = s_account_bucket (self, account);
    resv->next_token = self->by_token [t];
    self->by_token [t] = index;
    resv->next_account = self->by_account [a];
    self->by_account [a] = index;
    self->live++;
    if (rec->state == DT_RESERVATION_HELD)
        self->held++;
    return resv;
}

//  Unlink index from the chain starting at *head through the field at offset
static void
s_unlink (resv_table_t *self, int32_t *head, int32_t index, bool by_token)
{
    for (int32_t *link = head; *link >= 0; ) {
        resv_t *at = &self->items [*link];
        if (*link == index) {
            *link = by_token? at->next_token: at->next_account;
            return;
        }
        link = by_token? &at->next_token: &at->next_account;
    }
}

void
resv_remove (resv_table_t *self, resv_t *resv)
{
    int32_t index = (int32_t) (resv - self->items);
    s_unlink (self, &self->by_token [s_token_bucket (self, resv->rec.token,
                                                     strlen (resv->rec.token))], index, true);
    s_unlink (self, &self->by_account [s_account_bucket (self, resv->account)], index, false);
    if (resv->rec.state == DT_RESERVATION_HELD)
        self->held--;
    resv->in_use = false;
    resv->next_token = self->free_head;
    self->free_head = index;
    self->live--;
}

void
resv_end (resv_table_t *self, resv_t *resv, dt_reservation_state_t state, int64_t at)
{
    if (resv->rec.state == DT_RESERVATION_HELD && state != DT_RESERVATION_HELD)
        self->held--;
    resv->rec.state = state;
    resv->rec.ended_at = at;
}

uint32_t
resv_held (const resv_table_t *self)
{
    return self? self->held: 0;
}

uint32_t
resv_live (const resv_table_t *self)
{
    return self? self->live: 0;
}

resv_t *
resv_first (const resv_table_t *self, uint64_t account)
{
    if (!self || !self->live)
        return NULL;
    for (int32_t i = self->by_account [s_account_bucket (self, account)]; i >= 0;
         i = self->items [i].next_account)
        if (self->items [i].account == account)
            return &self->items [i];
    return NULL;
}

resv_t *
resv_next (const resv_table_t *self, const resv_t *resv)
{
    for (int32_t i = resv->next_account; i >= 0; i = self->items [i].next_account)
        if (self->items [i].account == resv->account)
            return &self->items [i];
    return NULL;
}

resv_t *
resv_at (const resv_table_t *self, uint32_t index)
{
    return self && index < self->alloc && self->items [index].in_use? &self->items [index]: NULL;
}

uint32_t
resv_slots (const resv_table_t *self)
{
    return self? self->alloc: 0;
}

size_t
resv_sweep (resv_table_t *self, int64_t now_ms)
{
    size_t dropped = 0;
    for (uint32_t i = 0; self && i < self->alloc; i++) {
        resv_t *resv = &self->items [i];
        if (resv->in_use && resv->rec.expires_at + RESV_KEEP_MS < now_ms) {
            resv_remove (self, resv);
            dropped++;
        }
    }
    return dropped;
}

size_t
resv_bytes (const resv_table_t *self)
{
    return self? sizeof *self + self->alloc * sizeof (resv_t)
                              + 2 * self->buckets * sizeof (int32_t): 0;
}

//  --------------------------------------------------------------------------
//  The engine's reservations (rules/engine.h): held, used, taken, restored

//  Where a reservation's planned touch falls: the caps it counts against,
//  its local day and hour, under the configuration in force
void
reservation_place (dt_engine_t *self, resv_t *resv)
{
    resv->caps_match = 0;
    resv->day = resv->hour = 0;
    if (!self->budget)
        return;
    const dt_reservation_t *rec = &resv->rec;
    dt_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.channel = s_cstr (rec->channel);
    ev.kind = s_cstr (rec->kind);
    ev.category = rec->category;
    ev.occurred_at = rec->planned_at;
    info_t info;
    memset (&info, 0, sizeof info);
    info.ev = &ev;
    info.track = rec->track;
    info.transactional = rec->category == DT_CATEGORY_TRANSACTIONAL;
    const dt_zone_t *zone = rec->zone [0]? budget_zone (self->budget, rec->zone,
                                                         strlen (rec->zone)): NULL;
    budget_place (self->budget, &info, zone);
    resv->caps_match = info.caps_match;
    resv->day = info.day;
    resv->hour = info.hour;
}

static int
s_resv_ready (dt_engine_t *self)
{
    if (!self->reservations)
        self->reservations = resv_new ();
    if (!self->taken)
        self->taken = (dt_reservation_t *) calloc (DT_TAKEN_MAX, sizeof (dt_reservation_t));
    return self->reservations && self->taken? 0: -1;
}

static void
s_copy_str (char *to, size_t size, dt_str_t str)
{
    size_t len = str.len < size - 1? str.len: size - 1;
    memcpy (to, str.ptr, len);
    to [len] = 0;
}

//  Why an event's reservation could not be used
typedef enum {
    OWN_UNKNOWN, OWN_USED, OWN_TAKEN, OWN_EXPIRED, OWN_OTHER_CONTACT
} own_why_t;

//  A note that leaves the verdict as it is: the event's reservation could
//  not be used, and it was judged as a touch without one
static void
s_own_note (dt_engine_t *self, sink_t *sink, const info_t *info, const resv_t *resv,
            own_why_t why)
{
    if (self->cfg.severity [DT_RULE_CONTACT_PRESSURE] == DT_SEV_OFF)
        return;
    dt_verdict_t verdict = sink->verdict;
    text_t text;
    dt_finding_t *finding = sink_emit (self, sink, DT_RULE_CONTACT_PRESSURE, &text);
    sink->verdict = verdict;
    if (!finding)
        return;
    finding->severity = DT_SEV_INFO;
    text_puts (&text, "reservation ");
    text_str (&text, info->ev->reservation);
    if (resv) {
        text_puts (&text, " of ");
        text_puts (&text, resv->rec.owner);
    }
    switch (why) {
        case OWN_UNKNOWN:
            text_puts (&text, " is unknown (never handed out, or ended over an hour ago)");
            break;
        case OWN_USED:
            text_puts (&text, " was already used by touchpoint ");
            text_puts (&text, resv->rec.used_by);
            finding_related (finding, resv->rec.used_by, strlen (resv->rec.used_by));
            break;
        case OWN_TAKEN:
            text_printf (&text, " was taken by reservation %s of %s, of a higher priority "
                         "than its %d, on ", resv->rec.taken_by, resv->rec.taken_by_owner,
                         resv->rec.priority);
            text_date (&text, resv->rec.ended_at);
            break;
        case OWN_EXPIRED:
            text_puts (&text, " expired on ");
            text_date (&text, resv->rec.expires_at);
            break;
        case OWN_OTHER_CONTACT:
            text_puts (&text, " is for contact ");
            text_puts (&text, resv->rec.contact_key);
            break;
    }
    text_puts (&text, "; ");
    text_who (&text, info->ev);
    text_puts (&text, " was judged as a touch without a reservation.");
}

//  The reservation the event carries: used by it (commit), or set aside for
//  the judgement of a check, so it does not count against itself; the one
//  set aside is returned. Any other case gets its note.
resv_t *
reservation_own (dt_engine_t *self, const info_t *info, bool commit, sink_t *sink)
{
    const dt_event_t *ev = info->ev;
    resv_t *resv = resv_find (self->reservations, ev->reservation);
    dt_str_t contact = self->judged [DT_ID_CONTACT];
    if (!resv)
        s_own_note (self, sink, info, NULL, OWN_UNKNOWN);
    else
    if (resv->rec.state == DT_RESERVATION_USED) {
        if (strlen (resv->rec.used_by) == ev->id.len
        &&  memcmp (resv->rec.used_by, ev->id.ptr, ev->id.len) == 0)
            self->judged_reservation = true;    //  this touchpoint again: a resend
        else
            s_own_note (self, sink, info, resv, OWN_USED);
    }
    else
    if (resv->rec.state == DT_RESERVATION_PREEMPTED)
        s_own_note (self, sink, info, resv, OWN_TAKEN);
    else
    if (resv->rec.expires_at <= s_now (info))
        s_own_note (self, sink, info, resv, OWN_EXPIRED);
    else
    if (resv->contact != info->contact || strlen (resv->rec.contact_key) != contact.len
    ||  memcmp (resv->rec.contact_key, contact.ptr, contact.len) != 0)
        s_own_note (self, sink, info, resv, OWN_OTHER_CONTACT);
    else
    if (commit) {
        resv_end (self->reservations, resv, DT_RESERVATION_USED, s_now (info));
        s_copy_str (resv->rec.used_by, sizeof resv->rec.used_by, ev->id);
        self->judged_reservation = true;
    }
    else {
        resv->ignored = true;
        return resv;
    }
    return NULL;
}

bool
dt_engine_judged_reservation (dt_engine_t *self)
{
    assert (self);
    return self->judged_reservation;
}

//  A finding that says the touch does not fit the budget
static bool
s_pressed (const dt_finding_t *findings, int count)
{
    for (int i = 0; i < count; i++)
        if (findings [i].rule == DT_RULE_CONTACT_PRESSURE && findings [i].severity != DT_SEV_INFO)
            return true;
    return false;
}

//  Candidates a request of higher priority may take: the account's held
//  reservations of lower priority, most valuable first (higher priority,
//  then older)
#define CANDIDATES_MAX 64
static int
s_candidates (dt_engine_t *self, uint64_t key, int priority, int64_t now, resv_t **out)
{
    int count = 0;
    for (resv_t *r = resv_first (self->reservations, key); r && count < CANDIDATES_MAX;
         r = resv_next (self->reservations, r))
        if (r->rec.state == DT_RESERVATION_HELD && r->rec.expires_at > now
        &&  r->rec.priority < priority)
            out [count++] = r;
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0; j--) {
            resv_t *a = out [j - 1], *b = out [j];
            if (b->rec.priority > a->rec.priority
            ||  (b->rec.priority == a->rec.priority && b->rec.created_at < a->rec.created_at)) {
                out [j - 1] = b;
                out [j] = a;
            }
        }
    return count;
}

int
dt_engine_reserve (dt_engine_t *self, const dt_event_t *ev, dt_reservation_t *want,
                   dt_finding_t *findings, int max, dt_verdict_t *verdict, bool *held)
{
    assert (self);
    assert (ev && want && findings && max > 0 && held);
    *held = false;
    if (s_resv_ready (self))
        return -1;
    self->taken_count = 0;
    //  Before judging: these lookups may reuse the alias map's buffer that
    //  the judged ids point into, copied below
    info_t info;
    if (check_info (self, ev, &info))
        return -1;
    info.key = s_account_key (self, ev->account);
    int64_t now = s_now (&info);
    int count = dt_engine_judge (self, ev, false, findings, max, verdict);
    if (count < 0)
        return count;
    if (s_pressed (findings, count)) {
        //  Set aside every reservation this one may take; if it fits then,
        //  give back the most valuable ones for as long as it still fits
        resv_t *candidates [CANDIDATES_MAX];
        int candidate_count = s_candidates (self, info.key, want->priority, now, candidates);
        for (int i = 0; i < candidate_count; i++)
            candidates [i]->ignored = true;
        int kept = candidate_count;
        if (candidate_count) {
            count = dt_engine_judge (self, ev, false, findings, max, verdict);
            if (s_pressed (findings, count))
                kept = 0;           //  it does not fit even so
            else
                for (int i = 0; i < candidate_count; i++) {
                    candidates [i]->ignored = false;
                    count = dt_engine_judge (self, ev, false, findings, max, verdict);
                    if (s_pressed (findings, count))
                        candidates [i]->ignored = true;
                }
        }
        int taking = 0;
        for (int i = 0; i < kept; i++)
            taking += candidates [i]->ignored;
        if (!kept || taking > DT_TAKEN_MAX) {
            for (int i = 0; i < candidate_count; i++)
                candidates [i]->ignored = false;
            return dt_engine_judge (self, ev, false, findings, max, verdict);
        }
        for (int i = 0; i < candidate_count; i++) {
            resv_t *r = candidates [i];
            if (!r->ignored)
                continue;
            r->ignored = false;
            resv_end (self->reservations, r, DT_RESERVATION_PREEMPTED, now);
            snprintf (r->rec.taken_by, sizeof r->rec.taken_by, "%s", want->token);
            snprintf (r->rec.taken_by_owner, sizeof r->rec.taken_by_owner, "%s", want->owner);
            self->taken [self->taken_count++] = r->rec;
        }
        count = dt_engine_judge (self, ev, false, findings, max, verdict);
    }
    //  Held: the buyer by canonical ids, and where the touch falls
    s_copy_str (want->account_key, sizeof want->account_key, self->judged [DT_ID_ACCOUNT]);
    s_copy_str (want->contact_key, sizeof want->contact_key, self->judged [DT_ID_CONTACT]);
    want->track = ev->track;
    s_copy_str (want->channel, sizeof want->channel, ev->channel);
    s_copy_str (want->kind, sizeof want->kind, ev->kind);
    want->category = ev->category;
    want->planned_at = ev->occurred_at;
    want->zone [0] = 0;
    if (self->budget) {
        budget_prepare (self->budget, &info);
        if (!info.zone_asked && info.zone && info.zone != budget_zone (self->budget,
                self->cfg.budget.zone, strlen (self->cfg.budget.zone)))
            snprintf (want->zone, sizeof want->zone, "%s", dt_zone_name (info.zone));
    }
    want->state = DT_RESERVATION_HELD;
    want->ended_at = 0;
    want->used_by [0] = want->taken_by [0] = want->taken_by_owner [0] = 0;
    if (dt_engine_restore_reservation (self, want))
        return -1;
    *held = true;
    return count;
}

int
dt_engine_reserve_taken (dt_engine_t *self, const dt_reservation_t **taken)
{
    assert (self);
    *taken = self->taken;
    return self->taken_count;
}

void
dt_engine_reserve_undo (dt_engine_t *self, const char *token)
{
    assert (self);
    resv_t *resv = resv_find (self->reservations, s_cstr (token));
    if (resv)
        resv_remove (self->reservations, resv);
    for (int i = 0; i < self->taken_count; i++) {
        resv_t *taken = resv_find (self->reservations, s_cstr (self->taken [i].token));
        if (taken && taken->rec.state == DT_RESERVATION_PREEMPTED) {
            resv_remove (self->reservations, taken);
            dt_reservation_t rec = self->taken [i];
            rec.state = DT_RESERVATION_HELD;
            rec.ended_at = 0;
            rec.taken_by [0] = rec.taken_by_owner [0] = 0;
            dt_engine_restore_reservation (self, &rec);
        }
    }
    self->taken_count = 0;
}

int
dt_engine_restore_reservation (dt_engine_t *self, const dt_reservation_t *rec)
{
    assert (self);
    if (s_resv_ready (self) || !rec->token [0])
        return -1;
    resv_t *old = resv_find (self->reservations, s_cstr (rec->token));
    if (old)
        resv_remove (self->reservations, old);
    uint64_t key = s_account_hash (dt_hash (rec->account_key, strlen (rec->account_key), 0));
    uint32_t contact = s_contact_key (s_cstr (rec->contact_key));
    resv_t *resv = resv_add (self->reservations, rec, key, contact);
    if (!resv)
        return -1;
    reservation_place (self, resv);
    return 0;
}

int
dt_engine_reservations_taken_from (dt_engine_t *self, const char *owner, dt_reservation_t *out,
                                   int max)
{
    assert (self);
    int count = 0;
    for (uint32_t i = 0; i < resv_slots (self->reservations) && count < max; i++) {
        resv_t *resv = resv_at (self->reservations, i);
        if (resv && resv->rec.state == DT_RESERVATION_PREEMPTED && !resv->told
        &&  strcmp (resv->rec.owner, owner) == 0) {
            resv->told = true;
            out [count++] = resv->rec;
        }
    }
    return count;
}

size_t
dt_engine_reservations_sweep (dt_engine_t *self, int64_t now_ms)
{
    assert (self);
    return resv_sweep (self->reservations, now_ms);
}

size_t
dt_engine_reservations_held (dt_engine_t *self)
{
    assert (self);
    return resv_held (self->reservations);
}
