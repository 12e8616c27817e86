/*  suppression.c - the set of suppressed buyers (see suppression.h).

    Rows sit in an array in the order added, their strings copied; the index
    is open addressing over dt_hash of the canonical id, one slot per row
    (rows of one buyer sit in one probe cluster), rebuilt by every
    dt_suppression_resolve. A set holds thousands of rows, not millions:
    rebuilding it on each change of the alias map costs microseconds.
*/
#include "rules/suppression.h"
#include "base/hash.h"
#include "base/sorted.h"
#include "base/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_SUPPRESSED     0x5c
#define REASON_MAX          1000

typedef struct {
    dt_suppression_row_t row;
    char *key;                  //  the canonical id it is filed under
    uint32_t key_len;
    uint64_t hash;
} s_row_t;

struct _dt_suppression_t {
    s_row_t *rows;
    size_t count, alloc;
    uint32_t *slots;            //  row index + 1; 0 = empty
    size_t slot_count;
    bool refused;               //  a row was refused: never resolves
    bool resolved;
    char refusal [256];
};

dt_suppression_t *
dt_suppression_new (void)
{
    return calloc (1, sizeof (dt_suppression_t));
}

void
dt_suppression_destroy (dt_suppression_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dt_suppression_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free ((char *) self->rows [i].row.id);
        free ((char *) self->rows [i].row.reason);
        free (self->rows [i].key);
    }
    free (self->rows);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

const char *
dt_suppress_scope_name (dt_suppress_scope_t scope)
{
    return scope == DT_SUPPRESS_ALL? "all": "promotional";
}

int
dt_suppress_scope_parse (const char *name, dt_suppress_scope_t *scope)
{
    if (name && strcmp (name, "promotional") == 0)
        *scope = DT_SUPPRESS_PROMOTIONAL;
    else
    if (name && strcmp (name, "all") == 0)
        *scope = DT_SUPPRESS_ALL;
    else
        return -1;
    return 0;
}

//  Refuse row number n: the sentence goes to err and stays with the set
static int
s_refuse (dt_suppression_t *self, char *err, size_t errlen, const char *sentence)
{
    self->refused = true;
    self->resolved = false;
    snprintf (self->refusal, sizeof self->refusal, "%s", sentence);
    snprintf (err, errlen, "%s", sentence);
    return -1;
}

int
dt_suppression_add (dt_suppression_t *self, const char *kind, const char *id,
                    const char *scope, int64_t since, int64_t until,
                    const char *reason, char *err, size_t errlen)
{
    char sentence [256];
    size_t n = self->count + 1;
    size_t id_len = id? strlen (id): 0;
    //  Name the row by its id when the id itself is sound
    char who [96];
    if (id_len && id_len <= DT_IDENTITY_ID_MAX && dt_utf8_valid (id, id_len))
        snprintf (who, sizeof who, "suppression %zu (%.60s%s)", n, id, id_len > 60? "...": "");
    else
        snprintf (who, sizeof who, "suppression %zu", n);
    dt_id_kind_t id_kind;
    dt_suppress_scope_t id_scope;
    if (dt_identity_kind_parse (kind, &id_kind)) {
        snprintf (sentence, sizeof sentence, "%s: kind must be contact or account, not '%.40s'",
                  who, kind? kind: "");
        return s_refuse (self, err, errlen, sentence);
    }
    if (id_len == 0 || id_len > DT_IDENTITY_ID_MAX || !dt_utf8_valid (id, id_len)) {
        snprintf (sentence, sizeof sentence, "%s: id must be 1 to %d bytes of valid UTF-8",
                  who, DT_IDENTITY_ID_MAX);
        return s_refuse (self, err, errlen, sentence);
    }
    if (dt_suppress_scope_parse (scope, &id_scope)) {
        snprintf (sentence, sizeof sentence, "%s: scope must be promotional or all, not '%.40s'",
                  who, scope? scope: "");
        return s_refuse (self, err, errlen, sentence);
    }
    if (until <= since) {
        snprintf (sentence, sizeof sentence, "%s: until must be after since (or open)", who);
        return s_refuse (self, err, errlen, sentence);
    }
    size_t reason_len = reason? strlen (reason): 0;
    if (reason_len == 0 || reason_len > REASON_MAX || !dt_utf8_valid (reason, reason_len)) {
        snprintf (sentence, sizeof sentence, "%s: reason must be 1 to %d bytes of valid UTF-8 "
                  "(why the buyer must not be touched)", who, REASON_MAX);
        return s_refuse (self, err, errlen, sentence);
    }
    if (self->count == self->alloc) {
        size_t alloc = self->alloc? self->alloc * 2: 16;
        s_row_t *rows = realloc (self->rows, alloc * sizeof *rows);
        if (!rows)
            return s_refuse (self, err, errlen, "out of memory");
        self->rows = rows;
        self->alloc = alloc;
    }
    s_row_t *row = &self->rows [self->count];
    memset (row, 0, sizeof *row);
    row->row.kind = id_kind;
    row->row.scope = id_scope;
    row->row.since = since;
    row->row.until = until;
    row->row.id = strdup (id);
    row->row.reason = strdup (reason);
    if (!row->row.id || !row->row.reason) {
        free ((char *) row->row.id);
        free ((char *) row->row.reason);
        return s_refuse (self, err, errlen, "out of memory");
    }
    self->count++;
    self->resolved = false;
    return 0;
}

int
dt_suppression_resolve (dt_suppression_t *self, dt_identity_t *identity,
                        char *err, size_t errlen)
{
    if (self->refused) {
        snprintf (err, errlen, "%s", self->refusal);
        return -1;
    }
    self->resolved = false;
    size_t slot_count = dt_hash_slots (self->count);
    uint32_t *slots = calloc (slot_count, sizeof *slots);
    if (!slots) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < self->count; i++) {
        s_row_t *row = &self->rows [i];
        dt_str_t id = { row->row.id, (uint32_t) strlen (row->row.id) };
        free (row->key);
        row->key = dt_identity_key (identity, row->row.kind, id, &row->key_len);
        if (!row->key) {
            free (slots);
            snprintf (err, errlen, "out of memory");
            return -1;
        }
        //  The kind goes into the seed: an account and a contact may share an id
        row->hash = dt_hash (row->key, row->key_len, SEED_SUPPRESSED + row->row.kind);
        size_t slot = row->hash & (slot_count - 1);
        while (slots [slot])
            slot = (slot + 1) & (slot_count - 1);
        slots [slot] = (uint32_t) i + 1;
    }
    free (self->slots);
    self->slots = slots;
    self->slot_count = slot_count;
    self->resolved = true;
    return 0;
}

const dt_suppression_row_t *
dt_suppression_find (const dt_suppression_t *self, dt_id_kind_t kind, dt_str_t id,
                     int64_t at, bool transactional)
{
    if (!self || !self->resolved || !self->count || !id.len)
        return NULL;
    uint64_t hash = dt_hash (id.ptr, id.len, SEED_SUPPRESSED + kind);
    const dt_suppression_row_t *found = NULL;
    size_t mask = self->slot_count - 1;
    for (size_t slot = hash & mask; self->slots [slot]; slot = (slot + 1) & mask) {
        const s_row_t *row = &self->rows [self->slots [slot] - 1];
        if (row->hash != hash || row->row.kind != kind || row->key_len != id.len
        ||  memcmp (row->key, id.ptr, id.len) != 0
        ||  at < row->row.since || at >= row->row.until
        ||  (transactional && row->row.scope == DT_SUPPRESS_PROMOTIONAL))
            continue;
        if (!found || row->row.since < found->since)
            found = &row->row;
    }
    return found;
}

size_t
dt_suppression_rows (const dt_suppression_t *self)
{
    return self? self->count: 0;
}

size_t
dt_suppression_in_force (const dt_suppression_t *self, int64_t at)
{
    size_t count = 0;
    for (size_t i = 0; self && i < self->count; i++)
        count += self->rows [i].row.since <= at && at < self->rows [i].row.until;
    return count;
}

static int
s_row_compare (const void *a_p, const void *b_p)
{
    const dt_suppression_row_t *a = *(const dt_suppression_row_t *const *) a_p;
    const dt_suppression_row_t *b = *(const dt_suppression_row_t *const *) b_p;
    if (a->kind != b->kind)
        return a->kind < b->kind? -1: 1;
    int rc = strcmp (a->id, b->id);
    if (rc)
        return rc;
    if (a->scope != b->scope)
        return a->scope < b->scope? -1: 1;
    if (a->since != b->since)
        return a->since < b->since? -1: 1;
    if (a->until != b->until)
        return a->until < b->until? -1: 1;
    return strcmp (a->reason, b->reason);
}

//  The rows of a set, sorted (NULL for none, or out of memory: *failed).
//  A row is the first member of its s_row_t: a pointer to one is a
//  pointer to the other.
static const dt_suppression_row_t **
s_sorted (const dt_suppression_t *self, size_t *count, bool *failed)
{
    *count = self? self->count: 0;
    return (const dt_suppression_row_t **) dt_sorted (self? self->rows: NULL, *count,
                                                      sizeof (s_row_t), s_row_compare, failed);
}

int
dt_suppression_diff (const dt_suppression_t *old, const dt_suppression_t *new_set,
                     size_t *added, size_t *removed)
{
    size_t old_count, new_count;
    bool failed = false;
    const dt_suppression_row_t **a = s_sorted (old, &old_count, &failed);
    const dt_suppression_row_t **b = s_sorted (new_set, &new_count, &failed);
    *added = *removed = 0;
    //  A merge of the two sorted lists: equal rows pair off
    size_t i = 0, j = 0;
    while (!failed && (i < old_count || j < new_count)) {
        int rc = i == old_count? 1: j == new_count? -1: s_row_compare (&a [i], &b [j]);
        if (rc < 0)
            (*removed)++, i++;
        else
        if (rc > 0)
            (*added)++, j++;
        else
            i++, j++;
    }
    free (a);
    free (b);
    return failed? -1: 0;
}
