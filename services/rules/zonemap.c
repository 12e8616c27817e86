/*  zonemap.c - the buyers' own time zones (see zonemap.h).

    Rows sit in an array in the order added, their strings copied; the index
    is open addressing over dt_hash of the canonical id, one slot per buyer,
    rebuilt by every dt_zonemap_resolve. A map holds as many rows as there
    are buyers with a zone of their own (thousands, perhaps a million):
    rebuilding it on a change of the alias map is one pass.

    A lookup runs on every touch the contact budget judges, so a slot holds
    all it answers: the key's 64-bit hash and the zone. One cache line per
    lookup, found or not, and no string compared: the rule engine tells
    accounts apart by the same 64 bits (internal.h, s_account_hash). The
    rows are read only when the index is built, which compares the ids
    themselves.
*/
#include "rules/zonemap.h"
#include "base/hash.h"
#include "base/sorted.h"
#include "base/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_ZONE       0x7a

typedef struct {
    dt_id_kind_t kind;
    char *id;                   //  as the row names the buyer
    const dt_zone_t *zone;
    char *key;                  //  the canonical id it is filed under
    uint32_t key_len;
    uint64_t hash;
} s_row_t;

typedef struct {
    uint64_t hash;              //  of the canonical id, never 0; 0 = empty
    const dt_zone_t *zone;
} slot_t;

struct _dt_zonemap_t {
    const dt_tzdb_t *zones;
    s_row_t *rows;
    size_t count, alloc;
    slot_t *slots;
    size_t slot_count;
    size_t conflicts;
    bool refused;               //  a row was refused: never resolves
    bool resolved;
    char refusal [256];
};

dt_zonemap_t *
dt_zonemap_new (const dt_tzdb_t *zones)
{
    dt_zonemap_t *self = (dt_zonemap_t *) calloc (1, sizeof (dt_zonemap_t));
    if (self)
        self->zones = zones;
    return self;
}

void
dt_zonemap_destroy (dt_zonemap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dt_zonemap_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->rows [i].id);
        free (self->rows [i].key);
    }
    free (self->rows);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static int
s_refuse (dt_zonemap_t *self, char *err, size_t errlen, const char *sentence)
{
    self->refused = true;
    self->resolved = false;
    snprintf (self->refusal, sizeof self->refusal, "%s", sentence);
    snprintf (err, errlen, "%s", sentence);
    return -1;
}

int
dt_zonemap_add (dt_zonemap_t *self, const char *kind, const char *id, const char *zone,
                char *err, size_t errlen)
{
    char sentence [256];
    size_t n = self->count + 1;
    size_t id_len = id? strlen (id): 0;
    bool id_ok = id_len && id_len <= DT_IDENTITY_ID_MAX && dt_utf8_valid (id, id_len);
    dt_id_kind_t id_kind = DT_ID_KINDS;
    dt_identity_kind_parse (kind, &id_kind);
    //  Name the row by its kind and id when they are sound
    char who [96];
    if (id_ok)
        snprintf (who, sizeof who, "contact setting %zu (%s%.60s%s)", n,
                  id_kind == DT_ID_KINDS? "": id_kind == DT_ID_CONTACT? "contact ": "account ",
                  id, id_len > 60? "...": "");
    else
        snprintf (who, sizeof who, "contact setting %zu", n);
    if (id_kind == DT_ID_KINDS) {
        snprintf (sentence, sizeof sentence, "%s: kind must be contact or account, not '%.40s'",
                  who, kind? kind: "");
        return s_refuse (self, err, errlen, sentence);
    }
    if (!id_ok) {
        snprintf (sentence, sizeof sentence, "%s: id must be 1 to %d bytes of valid UTF-8",
                  who, DT_IDENTITY_ID_MAX);
        return s_refuse (self, err, errlen, sentence);
    }
    size_t zone_len = zone? strlen (zone): 0;
    const dt_zone_t *found = dt_tzdb_find (self->zones, zone? zone: "", zone_len);
    if (!found) {
        bool printable = zone_len <= DT_ZONE_NAME_MAX && dt_utf8_valid (zone? zone: "", zone_len);
        snprintf (sentence, sizeof sentence, "%s: tz '%.63s' is not a time zone of the tz "
                  "database (an IANA name such as Europe/Berlin)", who,
                  printable? zone: "(not a name)");
        return s_refuse (self, err, errlen, sentence);
    }
    if (self->count == self->alloc) {
        size_t alloc = self->alloc? self->alloc * 2: 16;
        s_row_t *rows = (s_row_t *) realloc (self->rows, alloc * sizeof *rows);
        if (!rows)
            return s_refuse (self, err, errlen, "out of memory");
        self->rows = rows;
        self->alloc = alloc;
    }
    s_row_t *row = &self->rows [self->count];
    memset (row, 0, sizeof *row);
    row->kind = id_kind;
    row->zone = found;
    row->id = strdup (id);
    if (!row->id)
        return s_refuse (self, err, errlen, "out of memory");
    self->count++;
    self->resolved = false;
    return 0;
}

//  The kind goes into the seed: an account and a contact may share an id.
//  Never 0, which marks an empty slot.
static inline uint64_t
s_hash (dt_id_kind_t kind, const char *ptr, size_t len)
{
    return dt_hash (ptr, len, SEED_ZONE + kind) | 1;
}

//  While the index is built: the slot of the buyer (kind, key) with that
//  hash in owners (row index + 1; 0 = empty), or of the empty slot where
//  it would go
static size_t
s_slot (const dt_zonemap_t *self, const uint32_t *slots, size_t slot_count,
        dt_id_kind_t kind, dt_str_t key, uint64_t hash)
{
    size_t mask = slot_count - 1;
    size_t slot = hash & mask;
    for (; slots [slot]; slot = (slot + 1) & mask) {
        const s_row_t *row = &self->rows [slots [slot] - 1];
        if (row->hash == hash && row->kind == kind && row->key_len == key.len
        &&  memcmp (row->key, key.ptr, key.len) == 0)
            break;
    }
    return slot;
}

int
dt_zonemap_resolve (dt_zonemap_t *self, dt_identity_t *identity, char *err, size_t errlen)
{
    if (self->refused) {
        snprintf (err, errlen, "%s", self->refusal);
        return -1;
    }
    self->resolved = false;
    size_t slot_count = dt_hash_slots (self->count);
    uint32_t *slots = (uint32_t *) calloc (slot_count, sizeof *slots);
    if (!slots) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    size_t conflicts = 0;
    for (size_t i = 0; i < self->count; i++) {
        s_row_t *row = &self->rows [i];
        dt_str_t id = { row->id, (uint32_t) strlen (row->id) };
        free (row->key);
        row->key = dt_identity_key (identity, row->kind, id, &row->key_len);
        if (!row->key) {
            free (slots);
            snprintf (err, errlen, "out of memory");
            return -1;
        }
        row->hash = s_hash (row->kind, row->key, row->key_len);
        dt_str_t key = { row->key, row->key_len };
        size_t slot = s_slot (self, slots, slot_count, row->kind, key, row->hash);
        if (slots [slot]) {
            //  A second row for one buyer: the one naming the canonical id wins
            const s_row_t *held = &self->rows [slots [slot] - 1];
            bool names_key = strcmp (row->id, row->key) == 0;
            bool held_names_key = strcmp (held->id, held->key) == 0;
            if (held->zone != row->zone)
                conflicts++;
            if (names_key && !held_names_key)
                slots [slot] = (uint32_t) i + 1;
        }
        else
            slots [slot] = (uint32_t) i + 1;
    }
    //  The index proper: the same slots, with what a lookup needs
    slot_t *index = (slot_t *) calloc (slot_count, sizeof *index);
    for (size_t slot = 0; index && slot < slot_count; slot++)
        if (slots [slot]) {
            index [slot].hash = self->rows [slots [slot] - 1].hash;
            index [slot].zone = self->rows [slots [slot] - 1].zone;
        }
    free (slots);
    if (!index) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    free (self->slots);
    self->slots = index;
    self->slot_count = slot_count;
    self->conflicts = conflicts;
    self->resolved = true;
    return 0;
}

const dt_zone_t *
dt_zonemap_find (const dt_zonemap_t *self, dt_id_kind_t kind, dt_str_t id)
{
    if (!self || !self->resolved || !self->count || !id.len)
        return NULL;
    uint64_t hash = s_hash (kind, id.ptr, id.len);
    size_t mask = self->slot_count - 1;
    for (size_t slot = hash & mask; self->slots [slot].hash; slot = (slot + 1) & mask)
        if (self->slots [slot].hash == hash)
            return self->slots [slot].zone;
    return NULL;
}

void
dt_zonemap_prefetch (const dt_zonemap_t *self, dt_id_kind_t kind, dt_str_t id)
{
    if (self && self->resolved && self->count && id.len)
        __builtin_prefetch (&self->slots [s_hash (kind, id.ptr, id.len) & (self->slot_count - 1)]);
}

const dt_zone_t *
dt_zonemap_buyer (const dt_zonemap_t *self, dt_identity_t *identity, dt_str_t contact,
                  dt_str_t account)
{
    //  Each lookup before the next resolution: a resolved id may live in a
    //  buffer of the map that the next one overwrites
    const dt_zone_t *zone = NULL;
    if (contact.len)
        zone = dt_zonemap_find (self, DT_ID_CONTACT,
                                identity? dt_identity_resolve (identity, DT_ID_CONTACT, contact):
                                          contact);
    if (!zone)
        zone = dt_zonemap_find (self, DT_ID_ACCOUNT,
                                identity? dt_identity_resolve (identity, DT_ID_ACCOUNT, account):
                                          account);
    return zone;
}

size_t
dt_zonemap_rows (const dt_zonemap_t *self)
{
    return self? self->count: 0;
}

size_t
dt_zonemap_bytes (const dt_zonemap_t *self)
{
    if (!self)
        return 0;
    size_t bytes = sizeof *self + self->alloc * sizeof (s_row_t)
                 + self->slot_count * sizeof (slot_t);
    for (size_t i = 0; i < self->count; i++)
        bytes += strlen (self->rows [i].id) + 1 + (self->rows [i].key? self->rows [i].key_len + 1: 0);
    return bytes;
}

const dt_tzdb_t *
dt_zonemap_zones (const dt_zonemap_t *self)
{
    return self? self->zones: NULL;
}

size_t
dt_zonemap_conflicts (const dt_zonemap_t *self)
{
    return self? self->conflicts: 0;
}

static int
s_row_compare (const void *a_p, const void *b_p)
{
    const s_row_t *a = *(const s_row_t *const *) a_p;
    const s_row_t *b = *(const s_row_t *const *) b_p;
    if (a->kind != b->kind)
        return a->kind < b->kind? -1: 1;
    return strcmp (a->id, b->id);
}

//  Tell fn of a row's buyer
static void
s_changed (const s_row_t *row, dt_zonemap_change_fn *fn, void *ctx)
{
    if (!fn)
        return;
    dt_str_t canonical = row->key? (dt_str_t) { row->key, row->key_len }:
                                   (dt_str_t) { row->id, (uint32_t) strlen (row->id) };
    fn (ctx, row->kind, canonical);
}

int
dt_zonemap_diff (const dt_zonemap_t *old, const dt_zonemap_t *new_map,
                 size_t *added, size_t *removed, size_t *changed,
                 dt_zonemap_change_fn *fn, void *ctx)
{
    size_t old_count, new_count;
    bool failed = false;
    old_count = old? old->count: 0;
    new_count = new_map? new_map->count: 0;
    const s_row_t **a = (const s_row_t **) dt_sorted (old? old->rows: NULL, old_count,
                                                      sizeof (s_row_t), s_row_compare, &failed);
    const s_row_t **b = (const s_row_t **) dt_sorted (new_map? new_map->rows: NULL, new_count,
                                                      sizeof (s_row_t), s_row_compare, &failed);
    *added = *removed = *changed = 0;
    //  A merge of the two sorted lists: rows of one buyer pair off; zones
    //  compare by name (the maps may come from two loads of the database)
    size_t i = 0, j = 0;
    while (!failed && (i < old_count || j < new_count)) {
        int rc = i == old_count? 1: j == new_count? -1: s_row_compare (&a [i], &b [j]);
        if (rc < 0) {
            (*removed)++;
            s_changed (a [i++], fn, ctx);
        }
        else
        if (rc > 0) {
            (*added)++;
            s_changed (b [j++], fn, ctx);
        }
        else {
            if (strcmp (dt_zone_name (a [i]->zone), dt_zone_name (b [j]->zone))) {
                (*changed)++;
                s_changed (b [j], fn, ctx);
            }
            i++, j++;
        }
    }
    free (a);
    free (b);
    return failed? -1: 0;
}
