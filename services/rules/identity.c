/*  identity.c - the alias maps (see identity.h).

    Layout, for about 100 bytes an alias or less: one arena holds each row
    (24 bytes of offsets and lengths) followed by its alias as added and
    its canonical id (shared with the row before when it is the same); an
    array gives each row's offset (4 bytes). The normalised forms that
    differ from what was added sit in a second arena that each
    dt_identity_validate rebuilds; sources are interned (a row holds a
    16-bit number). Each kind has an open-addressing index (the row's
    offset + 1, 32 bits of the key's dt_hash; accounts also keep the hash
    of the canonical id, 16 bytes a slot), at most half full, and a Bloom
    filter of its keys (base/bloom.h, 12 bits a key). A lookup reads the
    filter's word, and only if the key may be there the slot, then the row
    and its strings, which mostly share one or two cache lines: most ids
    looked up are no alias, and the filter (1.5 MB for a million aliases)
    is likelier in cache than the index (24 MB). After a successful
    validate the arrays are shrunk to their contents, the big ones on 2 MB
    pages.
*/
#include "rules/identity.h"
#include "base/bloom.h"
#include "base/hash.h"
#include "base/hugemem.h"
#include "base/utf8.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define SOURCES_MAX     65535       //  distinct sources in one map
#define FILTER_BITS     12          //  a key's share of its kind's filter

enum {
    ROW_KEY_NORM    = 1 << 0,       //  key is in the norm arena, not the arena
    ROW_TARGET_NORM = 1 << 1,       //  target likewise
    ROW_SELF        = 1 << 2,       //  key == target: the row changes nothing
    ROW_DUP         = 1 << 3,       //  an earlier row says the same
    ROW_TOLD        = 1 << 4        //  counted as a problem by validate
};

//  A row sits in the arena, its alias right after it (and its canonical
//  id after that, unless it shares the row before's): a lookup that finds
//  a slot reads the row and, most often, its key and canonical id in the
//  same one or two cache lines
typedef struct {
    uint32_t canonical;             //  arena offsets, as added
    uint32_t key, target;           //  normalised, set by validate
    uint16_t alias_len, canonical_len, key_len, target_len;
    uint16_t source;                //  sources [source - 1], 0 none
    uint8_t kind;
    uint8_t flags;
} row_t;

typedef struct {
    uint32_t row;                   //  the row's arena offset + 1, 0 for an empty slot
    uint32_t tag;                   //  high 32 bits of the key's hash
} slot_t;

typedef struct {
    char *data;
    size_t size, alloc;
} arena_t;

struct _dt_identity_t {
    uint32_t *row_at;               //  each row's arena offset
    size_t row_count, row_alloc;
    size_t kind_rows [DT_ID_KINDS];
    arena_t arena, norm;
    char **sources;
    size_t source_count, source_alloc;
    size_t last_source;             //  the source the last add named, + 1
    bool normalise [DT_ID_KINDS];
    slot_t *index [DT_ID_KINDS];
    size_t index_size [DT_ID_KINDS];    //  a power of two, or 0
    //  Slots are stride slot_t apart: 1, or for accounts 2, the second
    //  holding dt_hash (seed 0) of the row's canonical id. The rule engine
    //  keys an account's memory by it and asks for that memory as soon as
    //  the slot is read, before the row arrives (dt_identity_step), in the
    //  same cache line; contacts have time
    size_t stride [DT_ID_KINDS];
    //  A Bloom filter per kind of the keys in the index (FILTER_BITS a
    //  key): an id that is no alias (most) is told so by one word, without
    //  the index's slot (dt_identity_step)
    dt_bloom_t *filter [DT_ID_KINDS];
    //  The reverse index: a kind's row numbers ordered by the hash of their
    //  canonical id (4 bytes a row), for dt_identity_ids_of
    uint32_t *by_target [DT_ID_KINDS];
    bool valid;
    char add_error [256];           //  the first add that failed, if any
    char message [256];             //  the last add that failed
    char scratch [DT_IDENTITY_NORM_MAX];
};

//  Row number i, and the row a slot names
static inline row_t *
s_row (const dt_identity_t *self, size_t i)
{
    return (row_t *) (self->arena.data + self->row_at [i]);
}

static inline row_t *
s_slot_row (const dt_identity_t *self, const slot_t *slot)
{
    return (row_t *) (self->arena.data + slot->row - 1);
}

//  A row's number (the order of adding): rows are only ever appended, so
//  row_at rises; kept out of the row, which validation alone asks for
static size_t
s_row_number (const dt_identity_t *self, const row_t *row)
{
    uint32_t offset = (uint32_t) ((const char *) row - self->arena.data);
    size_t low = 0, high = self->row_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (self->row_at [mid] < offset)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

//  The alias as added: right after its row
static inline const char *
s_alias (const row_t *row)
{
    return (const char *) (row + 1);
}

//  --------------------------------------------------------------------------
//  Building

//  Append bytes to an arena; their offset, or -1 when it would pass 4 GB
static int64_t
s_arena_put (arena_t *arena, const char *data, size_t len)
{
    if (arena->size + len > UINT32_MAX)
        return -1;
    if (arena->size + len > arena->alloc) {
        size_t alloc = arena->alloc? arena->alloc: 4096;
        while (alloc < arena->size + len)
            alloc *= 2;
        char *grown = (char *) realloc (arena->data, alloc);
        if (!grown)
            return -1;
        arena->data = grown;
        arena->alloc = alloc;
    }
    if (len)
        memcpy (arena->data + arena->size, data, len);
    arena->size += len;
    return (int64_t) (arena->size - len);
}

//  Give back what an array of size bytes (alloc held) does not use, moving
//  a big one to 2 MB pages; returns where it is now (data when that fails:
//  the array stays as it was)
static void *
s_shrink (void *data, size_t size, size_t alloc)
{
    if (!data || size == 0 || (size == alloc && size < DT_HUGE_PAGE))
        return data;
    if (size < DT_HUGE_PAGE) {
        void *shrunk = realloc (data, size);
        return shrunk? shrunk: data;
    }
    void *moved = dt_huge_alloc (size, false);
    if (!moved)
        return data;
    memcpy (moved, data, size);
    free (data);
    return moved;
}

static void
s_arena_shrink (arena_t *arena)
{
    char *shrunk = (char *) s_shrink (arena->data, arena->size, arena->alloc);
    if (shrunk != arena->data || arena->size < DT_HUGE_PAGE) {
        arena->data = shrunk;
        if (arena->size)
            arena->alloc = arena->size;
    }
}

//  printf to out (NULL or size 0: nowhere); returns out
static const char *
s_say (char *out, size_t size, const char *format, ...) __attribute__ ((format (printf, 3, 4)));

static const char *
s_say (char *out, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    if (out && size)
        vsnprintf (out, size, format, args);
    va_end (args);
    return out;
}

//  Refuse an add: the message goes to err, and is kept for validate if it
//  is the first refusal
static int
s_refuse (dt_identity_t *self, const char *message, char *err, size_t errlen)
{
    if (!self->add_error [0])
        snprintf (self->add_error, sizeof self->add_error, "%s", message);
    s_say (err, errlen, "%s", message);
    return -1;
}

dt_identity_t *
dt_identity_new (void)
{
    dt_identity_t *self = (dt_identity_t *) calloc (1, sizeof (dt_identity_t));
    if (self)
        for (int kind = 0; kind < DT_ID_KINDS; kind++)
            self->normalise [kind] = true;
    return self;
}

void
dt_identity_destroy (dt_identity_t **self_p)
{
    assert (self_p);
    dt_identity_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->source_count; i++)
        free (self->sources [i]);
    free (self->sources);
    for (int kind = 0; kind < DT_ID_KINDS; kind++) {
        free (self->index [kind]);
        free (self->by_target [kind]);
        dt_bloom_destroy (&self->filter [kind]);
    }
    free (self->row_at);
    free (self->arena.data);
    free (self->norm.data);
    free (self);
    *self_p = NULL;
}

const char *
dt_identity_kind_name (dt_id_kind_t kind)
{
    return kind == DT_ID_ACCOUNT? "account": "contact";
}

int
dt_identity_kind_parse (const char *name, dt_id_kind_t *kind)
{
    for (int i = 0; name && i < DT_ID_KINDS; i++)
        if (strcmp (name, dt_identity_kind_name ((dt_id_kind_t) i)) == 0) {
            *kind = (dt_id_kind_t) i;
            return 0;
        }
    return -1;
}

char *
dt_identity_key (dt_identity_t *self, dt_id_kind_t kind, dt_str_t id, uint32_t *len)
{
    dt_str_t key = self? dt_identity_resolve (self, kind, id): id;
    char *copy = (char *) malloc (key.len + 1u);
    if (copy) {
        memcpy (copy, key.ptr, key.len);
        copy [key.len] = 0;
        *len = key.len;
    }
    return copy;
}

void
dt_identity_set_normalise (dt_identity_t *self, dt_id_kind_t kind, bool on)
{
    assert (self);
    assert ((unsigned) kind < DT_ID_KINDS);
    if (self->normalise [kind] != on)
        self->valid = false;
    self->normalise [kind] = on;
}

//  The number of source, interned; 0 for none, -1 out of room
static int
s_source (dt_identity_t *self, const char *source)
{
    if (!source || !*source)
        return 0;
    if (self->last_source && strcmp (self->sources [self->last_source - 1], source) == 0)
        return (int) self->last_source;
    for (size_t i = 0; i < self->source_count; i++)
        if (strcmp (self->sources [i], source) == 0) {
            self->last_source = i + 1;
            return (int) (i + 1);
        }
    if (self->source_count == SOURCES_MAX)
        return -1;
    if (self->source_count == self->source_alloc) {
        size_t alloc = self->source_alloc? self->source_alloc * 2: 8;
        char **grown = (char **) realloc (self->sources, alloc * sizeof (char *));
        if (!grown)
            return -1;
        self->sources = grown;
        self->source_alloc = alloc;
    }
    char *copy = strdup (source);
    if (!copy)
        return -1;
    self->sources [self->source_count++] = copy;
    self->last_source = self->source_count;
    return (int) self->source_count;
}

static bool
s_id_ok (const char *id, size_t len)
{
    return len > 0 && len <= DT_IDENTITY_ID_MAX && dt_utf8_valid (id, len);
}

int
dt_identity_add (dt_identity_t *self, dt_id_kind_t kind, const char *alias,
                 const char *canonical, const char *source, char *err, size_t errlen)
{
    assert (self);
    assert ((unsigned) kind < DT_ID_KINDS);
    self->valid = false;
    const char *name = dt_identity_kind_name (kind);
    if (!alias || !canonical)
        return s_refuse (self, s_say (self->message, sizeof self->message,
                         "a %s alias row has no alias or no canonical id",
                         name), err, errlen);
    size_t alias_len = strlen (alias), canonical_len = strlen (canonical);
    if (!s_id_ok (alias, alias_len))
        return s_refuse (self, s_say (self->message, sizeof self->message,
                         "%s alias '%.80s' (-> '%.80s') is empty, longer "
                         "than %d bytes or not valid UTF-8", name, alias, canonical,
                         DT_IDENTITY_ID_MAX), err, errlen);
    if (!s_id_ok (canonical, canonical_len))
        return s_refuse (self, s_say (self->message, sizeof self->message,
                         "%s alias '%.80s': its canonical id '%.80s' is "
                         "empty, longer than %d bytes or not valid UTF-8", name, alias,
                         canonical, DT_IDENTITY_ID_MAX), err, errlen);
    if (source && (strlen (source) > DT_IDENTITY_ID_MAX
               ||  !dt_utf8_valid (source, strlen (source))))
        return s_refuse (self, s_say (self->message, sizeof self->message,
                         "%s alias '%.80s': its source is longer than %d "
                         "bytes or not valid UTF-8", name, alias, DT_IDENTITY_ID_MAX),
                         err, errlen);
    int source_no = s_source (self, source);
    if (source_no < 0)
        return s_refuse (self, s_say (self->message, sizeof self->message,
                         "%s alias '%.80s': more than %d sources, or out "
                         "of memory", name, alias, SOURCES_MAX), err, errlen);
    if (self->row_count == self->row_alloc) {
        size_t alloc = self->row_alloc? self->row_alloc * 2: 64;
        uint32_t *grown = (uint32_t *) realloc (self->row_at, alloc * sizeof (uint32_t));
        if (!grown || self->row_count >= UINT32_MAX - 1) {
            if (grown)
                self->row_at = grown;
            return s_refuse (self, s_say (self->message, sizeof self->message,
                         "out of memory adding %s alias '%.80s'",
                             name, alias), err, errlen);
        }
        self->row_at = grown;
        self->row_alloc = alloc;
    }
    //  The row at a 4-byte boundary, then its alias
    static const char zeros [sizeof (uint32_t)];
    size_t pad = (sizeof (uint32_t) - self->arena.size % sizeof (uint32_t)) % sizeof (uint32_t);
    row_t fresh;
    memset (&fresh, 0, sizeof fresh);
    int64_t row_at = s_arena_put (&self->arena, zeros, pad) < 0? -1:
                     s_arena_put (&self->arena, (const char *) &fresh, sizeof fresh);
    int64_t alias_at = row_at < 0? -1: s_arena_put (&self->arena, alias, alias_len);
    //  Rows of one buyer usually come together (the loaders order by the
    //  canonical id): they share its bytes
    const row_t *prev = self->row_count? s_row (self, self->row_count - 1): NULL;
    int64_t canonical_at;
    if (prev && alias_at >= 0 && prev->canonical_len == canonical_len
    &&  memcmp (self->arena.data + prev->canonical, canonical, canonical_len) == 0)
        canonical_at = prev->canonical;
    else
        canonical_at = alias_at < 0? -1: s_arena_put (&self->arena, canonical, canonical_len);
    if (canonical_at < 0)
        return s_refuse (self, s_say (self->message, sizeof self->message,
                         "out of memory adding %s alias '%.80s'",
                         name, alias), err, errlen);
    row_t *row = (row_t *) (self->arena.data + row_at);
    self->row_at [self->row_count++] = (uint32_t) row_at;
    row->alias_len = (uint16_t) alias_len;
    row->canonical = (uint32_t) canonical_at;
    row->canonical_len = (uint16_t) canonical_len;
    row->source = (uint16_t) source_no;
    row->kind = (uint8_t) kind;
    self->kind_rows [kind]++;
    return 0;
}

//  --------------------------------------------------------------------------
//  Validation

static inline const char *
s_key (const dt_identity_t *self, const row_t *row)
{
    return (row->flags & ROW_KEY_NORM? self->norm.data: self->arena.data) + row->key;
}

static inline const char *
s_target (const dt_identity_t *self, const row_t *row)
{
    return (row->flags & ROW_TARGET_NORM? self->norm.data: self->arena.data) + row->target;
}

//  Normalise one side of a row: its offset, length and whether it went to
//  the norm arena; -1 out of memory
static int
s_normalise_side (dt_identity_t *self, bool on, uint32_t at, uint16_t len,
                  uint32_t *out_at, uint16_t *out_len, bool *in_norm)
{
    *out_at = at;
    *out_len = len;
    *in_norm = false;
    if (!on)
        return 0;
    char buffer [DT_IDENTITY_NORM_MAX];
    dt_str_t id = { self->arena.data + at, len };
    dt_str_t normal = dt_identity_normalise (id, buffer);
    if (normal.ptr == id.ptr)
        return 0;
    int64_t offset = s_arena_put (&self->norm, normal.ptr, normal.len);
    if (offset < 0)
        return -1;
    *out_at = (uint32_t) offset;
    *out_len = (uint16_t) normal.len;
    *in_norm = true;
    return 0;
}

//  "'alias' -> 'canonical' (source)" for messages
static void
s_row_text (const dt_identity_t *self, const row_t *row, char *out, size_t size)
{
    const char *source = row->source? self->sources [row->source - 1]: NULL;
    snprintf (out, size, "'%.*s' -> '%.*s'%s%.40s%s",
              row->alias_len > 80? 80: row->alias_len, s_alias (row),
              row->canonical_len > 80? 80: row->canonical_len, self->arena.data + row->canonical,
              source? " (from ": "", source? source: "", source? ")": "");
}

//  Find key in a kind's index: its row, or NULL
static row_t *
s_find (const dt_identity_t *self, int kind, const char *key, size_t len, uint64_t hash)
{
    size_t mask = self->index_size [kind] - 1;
    const slot_t *slots = self->index [kind];
    size_t stride = self->stride [kind];
    uint32_t tag = (uint32_t) (hash >> 32);
    for (size_t at = hash & mask; slots [at * stride].row; at = (at + 1) & mask) {
        if (slots [at * stride].tag != tag)
            continue;
        row_t *row = s_slot_row (self, &slots [at * stride]);
        if (row->key_len == len && memcmp (s_key (self, row), key, len) == 0)
            return row;
    }
    return NULL;
}

//  False if no key of the kind has this hash (certain); true if one may
static inline bool
s_filter_may (const dt_identity_t *self, int kind, uint64_t hash)
{
    return !self->filter [kind] || dt_bloom_has (self->filter [kind], hash);
}

static int
s_filter_build (dt_identity_t *self)
{
    for (int kind = 0; kind < DT_ID_KINDS; kind++) {
        dt_bloom_destroy (&self->filter [kind]);
        if (self->kind_rows [kind]
        &&  !(self->filter [kind] = dt_bloom_new (self->kind_rows [kind] * FILTER_BITS)))
            return -1;
    }
    for (size_t i = 0; i < self->row_count; i++) {
        const row_t *row = s_row (self, i);
        dt_bloom_add (self->filter [row->kind], dt_hash (s_key (self, row), row->key_len, 0));
    }
    return 0;
}

//  The reverse index, built once a map is valid: per kind, the row numbers
//  ordered by the hash of their canonical id
typedef struct {
    uint64_t hash;
    uint32_t row;
} by_hash_t;

static int
s_by_hash_cmp (const void *a, const void *b)
{
    const by_hash_t *x = (const by_hash_t *) a, *y = (const by_hash_t *) b;
    return x->hash < y->hash? -1: x->hash > y->hash? 1: (x->row > y->row) - (x->row < y->row);
}

static inline uint64_t
s_target_hash (const dt_identity_t *self, const row_t *row)
{
    return dt_hash (s_target (self, row), row->target_len, 0);
}

static int
s_reverse_build (dt_identity_t *self)
{
    for (int kind = 0; kind < DT_ID_KINDS; kind++) {
        free (self->by_target [kind]);
        self->by_target [kind] = NULL;
        size_t count = self->kind_rows [kind];
        if (count == 0)
            continue;
        by_hash_t *pairs = (by_hash_t *) malloc (count * sizeof (by_hash_t));
        self->by_target [kind] = (uint32_t *) dt_huge_alloc (count * sizeof (uint32_t), false);
        if (!pairs || !self->by_target [kind]) {
            free (pairs);
            return -1;
        }
        size_t used = 0;
        for (size_t i = 0; i < self->row_count; i++)
            if (s_row (self, i)->kind == kind) {
                pairs [used].hash = s_target_hash (self, s_row (self, i));
                pairs [used++].row = (uint32_t) i;
            }
        qsort (pairs, used, sizeof (by_hash_t), s_by_hash_cmp);
        for (size_t i = 0; i < used; i++)
            self->by_target [kind][i] = pairs [i].row;
        free (pairs);
    }
    return 0;
}

int
dt_identity_validate (dt_identity_t *self, char *err, size_t errlen)
{
    assert (self);
    self->valid = false;
    if (self->add_error [0]) {
        if (err && errlen)
            snprintf (err, errlen, "%s", self->add_error);
        return -1;
    }
    //  Normalise every row
    self->norm.size = 0;
    for (size_t i = 0; i < self->row_count; i++) {
        row_t *row = s_row (self, i);
        bool on = self->normalise [row->kind], key_norm, target_norm;
        const row_t *prev = i? s_row (self, i - 1): NULL;
        int rc = 0;
        if (prev && prev->canonical == row->canonical && self->normalise [prev->kind] == on) {
            //  The canonical id the row shares with the one before
            row->target = prev->target;
            row->target_len = prev->target_len;
            target_norm = (prev->flags & ROW_TARGET_NORM) != 0;
        }
        else
            rc = s_normalise_side (self, on, row->canonical, row->canonical_len,
                                   &row->target, &row->target_len, &target_norm);
        if (rc == 0)
            rc = s_normalise_side (self, on, (uint32_t) (s_alias (row) - self->arena.data),
                                   row->alias_len, &row->key,
                                   &row->key_len, &key_norm);
        if (rc) {
            if (err && errlen)
                snprintf (err, errlen, "out of memory validating the alias maps");
            return -1;
        }
        row->flags = (key_norm? ROW_KEY_NORM: 0) | (target_norm? ROW_TARGET_NORM: 0);
        if (row->key_len == row->target_len
        &&  memcmp (s_key (self, row), s_target (self, row), row->key_len) == 0)
            row->flags |= ROW_SELF;
    }
    //  The indexes: an alias pointing at two canonical ids is refused here
    for (int kind = 0; kind < DT_ID_KINDS; kind++) {
        free (self->index [kind]);
        self->index_size [kind] = dt_hash_slots (self->kind_rows [kind]);
        self->stride [kind] = kind == DT_ID_ACCOUNT? 2: 1;
        self->index [kind] = (slot_t *) dt_huge_alloc (self->index_size [kind] * self->stride [kind]
                                                     * sizeof (slot_t), true);
        if (!self->index [kind]) {
            self->index_size [kind] = 0;
            if (err && errlen)
                snprintf (err, errlen, "out of memory validating the alias maps");
            return -1;
        }
    }
    size_t problems = 0;
    char first [256], second [256];
    for (size_t i = 0; i < self->row_count; i++) {
        row_t *row = s_row (self, i);
        const char *key = s_key (self, row);
        uint64_t hash = dt_hash (key, row->key_len, 0);
        const row_t *earlier = s_find (self, row->kind, key, row->key_len, hash);
        if (earlier) {
            if (earlier->target_len == row->target_len
            &&  memcmp (s_target (self, earlier), s_target (self, row), row->target_len) == 0)
                row->flags |= ROW_DUP;
            else {
                row->flags |= ROW_TOLD;
                if (problems++ > 0)
                    continue;
                s_row_text (self, earlier, first, sizeof first);
                s_row_text (self, row, second, sizeof second);
                s_say (err, errlen, "%s alias '%.*s' points at two canonical ids: rows %s "
                       "and %s", dt_identity_kind_name (row->kind),
                       row->key_len > 80? 80: row->key_len, key, first, second);
            }
            continue;
        }
        size_t mask = self->index_size [row->kind] - 1;
        size_t stride = self->stride [row->kind];
        slot_t *slots = self->index [row->kind];
        size_t at = hash & mask;
        while (slots [at * stride].row)
            at = (at + 1) & mask;
        slots [at * stride].row = self->row_at [i] + 1;
        slots [at * stride].tag = (uint32_t) (hash >> 32);
        if (stride == 2) {
            uint64_t kept = dt_hash (s_target (self, row), row->target_len, 0);
            memcpy (&slots [at * stride + 1], &kept, sizeof kept);
        }
    }
    //  Chains: a row whose canonical id is itself an alias. The later of the
    //  two rows is the change that broke the map, and the sentence says so.
    for (size_t i = 0; i < self->row_count; i++) {
        row_t *row = s_row (self, i);
        if (row->flags & (ROW_SELF | ROW_DUP))
            continue;
        const char *target = s_target (self, row);
        row_t *other = s_find (self, row->kind, target, row->target_len,
                               dt_hash (target, row->target_len, 0));
        if (!other || (other->flags & ROW_SELF))
            continue;
        //  The later row is the one refused, each once
        row_t *later = s_row_number (self, other) < i? row: other;
        if (later->flags & ROW_TOLD)
            continue;
        later->flags |= ROW_TOLD;
        if (problems++ > 0)
            continue;
        const char *name = dt_identity_kind_name (row->kind);
        int target_len = row->target_len > 80? 80: row->target_len;
        s_row_text (self, row, first, sizeof first);
        s_row_text (self, other, second, sizeof second);
        if (later == row)
            s_say (err, errlen, "%s alias row %s makes a chain: '%.*s' is itself an alias "
                   "(row %s); point the alias at '%.*s' instead", name, first, target_len,
                   target, second, other->target_len > 80? 80: other->target_len,
                   s_target (self, other));
        else
            s_say (err, errlen, "%s alias row %s makes '%.*s' an alias, but '%.*s' is the "
                   "canonical id of another buyer (row %s); point that buyer's aliases "
                   "elsewhere first", name, second, target_len, target, target_len, target,
                   first);
    }
    if (problems) {
        if (problems > 1 && err && errlen) {
            size_t used = strlen (err);
            snprintf (err + used, errlen - used, " (%zu rows refused in all)", problems);
        }
        return -1;
    }
    //  Give back what the arrays do not use
    uint32_t *shrunk = (uint32_t *) s_shrink (self->row_at, self->row_count * sizeof (uint32_t),
                                              self->row_alloc * sizeof (uint32_t));
    if (shrunk != self->row_at || self->row_count * sizeof (uint32_t) < DT_HUGE_PAGE) {
        self->row_at = shrunk;
        if (self->row_count)
            self->row_alloc = self->row_count;
    }
    s_arena_shrink (&self->arena);
    s_arena_shrink (&self->norm);
    if (s_reverse_build (self) || s_filter_build (self)) {
        if (err && errlen)
            snprintf (err, errlen, "out of memory validating the alias maps");
        return -1;
    }
    self->valid = true;
    return 0;
}

bool
dt_identity_valid (const dt_identity_t *self)
{
    return self && self->valid;
}

//  --------------------------------------------------------------------------
//  Lookups

//  The canonical id of a normalised key: its row's, or the key itself;
//  *found is the row's arena offset + 1 (as slots hold it), or 0
static inline dt_str_t
s_answer (const dt_identity_t *self, int kind, dt_str_t key, uint64_t hash, uint32_t *found)
{
    const row_t *row = s_filter_may (self, kind, hash)? s_find (self, kind, key.ptr, key.len, hash):
                       NULL;
    *found = row? (uint32_t) ((const char *) row - self->arena.data) + 1: 0;
    if (!row)
        return key;
    dt_str_t canonical = { s_target (self, row), row->target_len };
    return canonical;
}

//  id as the kind looks it up (normalised into buffer when that changes
//  it), and its hash
static inline dt_str_t
s_lookup_key (const dt_identity_t *self, int kind, dt_str_t id, char *buffer, uint64_t *hash)
{
    if (self->normalise [kind])
        return dt_identity_normalise_hash (id, buffer, hash);
    *hash = dt_hash (id.ptr, id.len, 0);
    return id;
}

dt_str_t
dt_identity_resolve (dt_identity_t *self, dt_id_kind_t kind, dt_str_t id)
{
    assert (self && self->valid);
    assert ((unsigned) kind < DT_ID_KINDS);
    uint64_t hash;
    dt_str_t key = s_lookup_key (self, kind, id, self->scratch, &hash);
    if (self->kind_rows [kind] == 0 || key.len > UINT16_MAX)
        return key;
    uint32_t found;
    return s_answer (self, kind, key, hash, &found);
}

void
dt_identity_start (const dt_identity_t *self, dt_id_kind_t kind, dt_str_t id,
                   dt_identity_lookup_t *lookup)
{
    assert (self && self->valid);
    assert ((unsigned) kind < DT_ID_KINDS);
    lookup->kind = kind;
    lookup->key = s_lookup_key (self, kind, id, lookup->buffer, &lookup->hash);
    lookup->indexed = self->kind_rows [kind] > 0 && lookup->key.len <= UINT16_MAX;
    lookup->guessed = lookup->hash;
    lookup->stepped = false;
    lookup->guess = lookup->found = 0;
    if (lookup->indexed) {
        dt_bloom_prefetch (self->filter [kind], lookup->hash);
        size_t at = lookup->hash & (self->index_size [kind] - 1);
        __builtin_prefetch (&self->index [kind][at * self->stride [kind]]);
    }
}

uint64_t
dt_identity_step (const dt_identity_t *self, dt_identity_lookup_t *lookup)
{
    int kind = lookup->kind;
    if (!lookup->indexed || lookup->stepped)
        return lookup->guessed;
    lookup->stepped = true;
    if (!s_filter_may (self, kind, lookup->hash)) {
        lookup->indexed = false;            //  no alias: finish answers the key
        return lookup->guessed;
    }
    //  The first slot with the key's tag, most likely the key's own
    size_t mask = self->index_size [kind] - 1;
    const slot_t *slots = self->index [kind];
    size_t stride = self->stride [kind];
    uint32_t tag = (uint32_t) (lookup->hash >> 32);
    for (size_t at = lookup->hash & mask; slots [at * stride].row; at = (at + 1) & mask)
        if (slots [at * stride].tag == tag) {
            lookup->guess = slots [at * stride].row;
            if (stride == 2)
                memcpy (&lookup->guessed, &slots [at * stride + 1], sizeof lookup->guessed);
            //  The row and the strings after it (past a line's end, mostly)
            const char *row = (const char *) s_slot_row (self, &slots [at * stride]);
            __builtin_prefetch (row);
            __builtin_prefetch (row + sizeof (row_t) + 32);
            break;
        }
    return lookup->guessed;
}

dt_str_t
dt_identity_finish (const dt_identity_t *self, dt_identity_lookup_t *lookup)
{
    if (!lookup->indexed)
        return lookup->key;
    if (lookup->stepped) {
        //  Step read the slots: no slot with the key's tag, no alias; the
        //  row it asked for, most likely the key's own, is in cache
        if (!lookup->guess)
            return lookup->key;
        const row_t *row = (const row_t *) (self->arena.data + lookup->guess - 1);
        if (row->key_len == lookup->key.len
        &&  memcmp (s_key (self, row), lookup->key.ptr, lookup->key.len) == 0) {
            lookup->found = lookup->guess;
            return (dt_str_t) { s_target (self, row), row->target_len };
        }
    }
    return s_answer (self, lookup->kind, lookup->key, lookup->hash, &lookup->found);
}

size_t
dt_identity_ids_of (const dt_identity_t *self, dt_id_kind_t kind, dt_str_t canonical,
                    dt_str_t *ids, size_t max)
{
    assert (self && self->valid);
    assert ((unsigned) kind < DT_ID_KINDS);
    size_t count = self->kind_rows [kind], found = 0;
    const uint32_t *order = self->by_target [kind];
    if (count == 0)
        return 0;
    uint64_t hash = dt_hash (canonical.ptr, canonical.len, 0);
    //  The first row whose canonical id hashes to hash or more
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (s_target_hash (self, s_row (self, order [mid])) < hash)
            low = mid + 1;
        else
            high = mid;
    }
    for (size_t i = low; i < count; i++) {
        const row_t *row = s_row (self, order [i]);
        if (s_target_hash (self, row) != hash)
            break;
        if (row->target_len != canonical.len
        ||  memcmp (s_target (self, row), canonical.ptr, canonical.len) != 0)
            continue;
        dt_str_t alias = { s_alias (row), row->alias_len };
        dt_str_t key = { s_key (self, row), row->key_len };
        if (found < max)
            ids [found] = alias;
        found++;
        if (!dt_str_same (alias, key)) {
            if (found < max)
                ids [found] = key;
            found++;
        }
    }
    return found;
}

//  The canonical id of a normalised key in a valid map: its row's, or itself
static dt_str_t
s_resolved_key (const dt_identity_t *self, int kind, const char *key, size_t len)
{
    dt_str_t result = { key, (uint32_t) len };
    if (self->kind_rows [kind] == 0)
        return result;
    uint32_t found;
    return s_answer (self, kind, result, dt_hash (key, len, 0), &found);
}

//  Rows of one map whose alias the other map resolves elsewhere: counted,
//  and the alias and both canonical ids told
static size_t
s_moved (const dt_identity_t *from, const dt_identity_t *to, dt_id_kind_t kind,
         dt_identity_change_fn *fn, void *ctx)
{
    size_t moved = 0;
    for (size_t i = 0; i < from->row_count; i++) {
        const row_t *row = s_row (from, i);
        if (row->kind != kind || (row->flags & (ROW_SELF | ROW_DUP)))
            continue;
        dt_str_t target = { s_target (from, row), row->target_len };
        dt_str_t other = to? s_resolved_key (to, kind, s_key (from, row), row->key_len):
                             (dt_str_t) { s_key (from, row), row->key_len };
        if (dt_str_same (target, other))
            continue;
        moved++;
        if (fn) {
            dt_str_t key = { s_key (from, row), row->key_len };
            fn (ctx, kind, key);
            fn (ctx, kind, target);
            if (!dt_str_same (other, key))
                fn (ctx, kind, other);
        }
    }
    return moved;
}

void
dt_identity_diff (const dt_identity_t *old, const dt_identity_t *new_map, dt_id_kind_t kind,
                  size_t *added, size_t *removed, dt_identity_change_fn *fn, void *ctx)
{
    assert (!old || old->valid);
    assert (!new_map || new_map->valid);
    assert ((unsigned) kind < DT_ID_KINDS);
    *added = new_map? s_moved (new_map, old, kind, fn, ctx): 0;
    *removed = old? s_moved (old, new_map, kind, fn, ctx): 0;
}

size_t
dt_identity_rows (const dt_identity_t *self, dt_id_kind_t kind)
{
    assert (self);
    assert ((unsigned) kind < DT_ID_KINDS);
    return self->kind_rows [kind];
}

size_t
dt_identity_bytes (const dt_identity_t *self)
{
    assert (self);
    size_t bytes = sizeof *self + self->row_alloc * sizeof (uint32_t)
                 + self->arena.alloc + self->norm.alloc
                 + self->source_alloc * sizeof (char *);
    for (size_t i = 0; i < self->source_count; i++)
        bytes += strlen (self->sources [i]) + 1;
    for (int kind = 0; kind < DT_ID_KINDS; kind++)
        bytes += self->index_size [kind] * self->stride [kind] * sizeof (slot_t)
               + (self->by_target [kind]? self->kind_rows [kind] * sizeof (uint32_t): 0)
               + dt_bloom_bytes (self->filter [kind]);
    return bytes;
}
