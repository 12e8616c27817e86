/*  reservation.c - the engine's table of reservations (rules/reservation.h):
    found by token, and by account for counting. Records stay after they
    end (used, taken, expired) for RESV_KEEP_MS past their expiry, so that a
    late event carrying the token is told what happened to it rather than
    "unknown".

    Two chained hash indexes over one array of records (a free list reuses
    the holes): reservations are few next to touchpoints (each one a check
    request with `reserve`), and judging asks for an account's only while
    any are held (resv_held), so the table costs the hot path one test.
*/
#include "rules/internal.h"

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
