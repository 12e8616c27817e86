/*  tonebook.c - the tone book (see tonebook.h).

    Rows are copied when added and checked twice: what one row can get wrong
    (empty names, invalid UTF-8, dates in the wrong order) is refused by the
    add, what needs the whole book or the stage list (duplicates, unknown
    stages) by dt_tonebook_validate, which then builds the indexes the rule
    engine uses on every touchpoint: open-addressing tables for themes and
    claim keys, and the banned phrases sorted by their first (folded)
    character so a text is scanned once, whatever the number of phrases.
*/
#include "rules/tonebook.h"
#include "base/hash.h"
#include "base/utf8.h"

#include <assert.h>
#include <endian.h>
#include <stdarg.h>
#ifdef __SSE2__
#   include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char *name;
    size_t name_len;
    uint64_t hash;
    char *stages_csv;           //  as given
    char *stages_text;          //  normalised for messages, set by validate
    uint32_t stage_mask;        //  bit per stage index, set by validate
    bool any_stage;
    int64_t valid_from, valid_to;
    bool retired;
} theme_t;

typedef struct {
    char *key, *value;
    size_t key_len, value_len;
    uint64_t hash;
} claim_t;

typedef struct {
    char *text;                 //  trimmed, white space collapsed to one space
    uint32_t *cps;              //  folded characters; ' ' stands for white space
    uint16_t cp_count;          //  at most DT_PHRASE_MAX
    //  The leading ASCII characters other than ' ' (up to four, head_len)
    //  as the bytes of head: text that is ASCII there and differs is
    //  refused without s_match. Fits where a size_t count was.
    uint8_t head_len;
    uint32_t head;
    char *suggestion;           //  what to say instead, or NULL
} phrase_t;

struct _dt_tonebook_t {
    theme_t *themes;
    size_t theme_count, theme_alloc;
    claim_t *claims;
    size_t claim_count, claim_alloc;
    phrase_t *phrases;
    size_t phrase_count, phrase_alloc;
    //  Built by validate
    uint32_t *theme_index;      //  index + 1, 0 for an empty slot
    size_t theme_index_size;
    uint32_t *claim_index;
    size_t claim_index_size;
    uint32_t *phrase_order;     //  phrase indexes sorted by first character
    uint32_t *phrase_first;     //  first character of phrase_order [i]
    size_t phrase_sorted;       //  phrases in phrase_order
    uint32_t ascii_from [128], ascii_to [128];
    //  Filters that let the scan skip most word starts without a compare:
    //  the first two characters of phrases that start with two ASCII
    //  characters, the ASCII first characters of the other phrases, and a
    //  bit per non-ASCII first character (modulo 64)
    uint8_t bigram [128 * 128 / 8];
    bool loose [128];
    uint64_t other_first;
    bool nonword_first;         //  a phrase starts with ASCII punctuation
    bool valid;
    char add_error [256];       //  the first add that failed, if any
    size_t bytes;
};

//  --------------------------------------------------------------------------
//  Building

static void *
s_alloc (dt_tonebook_t *self, size_t size)
{
    void *block = calloc (1, size);
    if (block)
        self->bytes += size;
    return block;
}

static char *
s_strdup (dt_tonebook_t *self, const char *text, size_t len)
{
    char *copy = (char *) s_alloc (self, len + 1);
    if (copy)
        memcpy (copy, text, len);
    return copy;
}

//  Grow an array of item_size items so one more fits
static int
s_grow (dt_tonebook_t *self, void **items, size_t *alloc, size_t count, size_t item_size)
{
    if (count < *alloc)
        return 0;
    size_t new_alloc = *alloc? *alloc * 2: 16;
    void *grown = realloc (*items, new_alloc * item_size);
    if (!grown)
        return -1;
    self->bytes += (new_alloc - *alloc) * item_size;
    *items = grown;
    *alloc = new_alloc;
    return 0;
}

//  Record the failure of an add and report it
static int
s_refuse (dt_tonebook_t *self, char *err, size_t errlen, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_refuse (dt_tonebook_t *self, char *err, size_t errlen, const char *format, ...)
{
    char message [256];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    if (!self->add_error [0])
        snprintf (self->add_error, sizeof self->add_error, "%s", message);
    if (err && errlen)
        snprintf (err, errlen, "%s", message);
    return -1;
}

dt_tonebook_t *
dt_tonebook_new (void)
{
    dt_tonebook_t *self = (dt_tonebook_t *) calloc (1, sizeof (dt_tonebook_t));
    if (self)
        self->bytes = sizeof (dt_tonebook_t);
    return self;
}

void
dt_tonebook_destroy (dt_tonebook_t **self_p)
{
    assert (self_p);
    dt_tonebook_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->theme_count; i++) {
        free (self->themes [i].name);
        free (self->themes [i].stages_csv);
        free (self->themes [i].stages_text);
    }
    for (size_t i = 0; i < self->claim_count; i++) {
        free (self->claims [i].key);
        free (self->claims [i].value);
    }
    for (size_t i = 0; i < self->phrase_count; i++) {
        free (self->phrases [i].text);
        free (self->phrases [i].cps);
        free (self->phrases [i].suggestion);
    }
    free (self->themes);
    free (self->claims);
    free (self->phrases);
    free (self->theme_index);
    free (self->claim_index);
    free (self->phrase_order);
    free (self->phrase_first);
    free (self);
    *self_p = NULL;
}

int
dt_tonebook_add_theme (dt_tonebook_t *self, const char *name, const char *stages_csv,
                       int64_t valid_from_ms, int64_t valid_to_ms, bool retired,
                       char *err, size_t errlen)
{
    assert (self);
    self->valid = false;
    if (!name || !*name)
        return s_refuse (self, err, errlen, "a theme has an empty name");
    size_t len = strlen (name);
    if (len > DT_TEXT_MAX || !dt_utf8_valid (name, len))
        return s_refuse (self, err, errlen, "theme '%.60s' is longer than %d bytes or "
                         "not valid UTF-8", name, DT_TEXT_MAX);
    if (!stages_csv)
        stages_csv = "";
    if (!dt_utf8_valid (stages_csv, strlen (stages_csv)))
        return s_refuse (self, err, errlen, "theme '%.60s': its stage list is not valid "
                         "UTF-8", name);
    if (valid_from_ms < 0 || valid_to_ms < 0)
        return s_refuse (self, err, errlen, "theme '%.60s': validity dates before 1970",
                         name);
    if (valid_from_ms && valid_to_ms && valid_to_ms <= valid_from_ms)
        return s_refuse (self, err, errlen, "theme '%.60s': valid_to is not after "
                         "valid_from, so it is never valid", name);
    if (s_grow (self, (void **) &self->themes, &self->theme_alloc, self->theme_count,
                sizeof (theme_t)))
        return s_refuse (self, err, errlen, "out of memory adding theme '%.60s'", name);
    theme_t *theme = &self->themes [self->theme_count];
    memset (theme, 0, sizeof *theme);
    theme->name = s_strdup (self, name, len);
    theme->stages_csv = s_strdup (self, stages_csv, strlen (stages_csv));
    if (!theme->name || !theme->stages_csv) {
        free (theme->name);
        free (theme->stages_csv);
        return s_refuse (self, err, errlen, "out of memory adding theme '%.60s'", name);
    }
    theme->name_len = len;
    theme->hash = dt_hash (name, len, 0);
    theme->valid_from = valid_from_ms;
    theme->valid_to = valid_to_ms;
    theme->retired = retired;
    self->theme_count++;
    return 0;
}

int
dt_tonebook_add_claim (dt_tonebook_t *self, const char *key, const char *canonical_value,
                       char *err, size_t errlen)
{
    assert (self);
    self->valid = false;
    if (!key || !*key)
        return s_refuse (self, err, errlen, "a canonical claim has an empty key");
    size_t key_len = strlen (key);
    if (key_len > DT_CLAIM_KEY_MAX || !dt_utf8_valid (key, key_len))
        return s_refuse (self, err, errlen, "claim key '%.60s' is longer than %d bytes or "
                         "not valid UTF-8", key, DT_CLAIM_KEY_MAX);
    if (!canonical_value || !*canonical_value)
        return s_refuse (self, err, errlen, "canonical claim '%s' has an empty value", key);
    size_t value_len = strlen (canonical_value);
    if (value_len > DT_TEXT_MAX || !dt_utf8_valid (canonical_value, value_len))
        return s_refuse (self, err, errlen, "canonical value of claim '%s' is longer than "
                         "%d bytes or not valid UTF-8", key, DT_TEXT_MAX);
    if (s_grow (self, (void **) &self->claims, &self->claim_alloc, self->claim_count,
                sizeof (claim_t)))
        return s_refuse (self, err, errlen, "out of memory adding claim '%s'", key);
    claim_t *claim = &self->claims [self->claim_count];
    claim->key = s_strdup (self, key, key_len);
    claim->value = s_strdup (self, canonical_value, value_len);
    if (!claim->key || !claim->value) {
        free (claim->key);
        free (claim->value);
        return s_refuse (self, err, errlen, "out of memory adding claim '%s'", key);
    }
    claim->key_len = key_len;
    claim->value_len = value_len;
    claim->hash = dt_hash (key, key_len, 0);
    self->claim_count++;
    return 0;
}

int
dt_tonebook_add_banned (dt_tonebook_t *self, const char *phrase, char *err, size_t errlen)
{
    assert (self);
    self->valid = false;
    if (!phrase)
        phrase = "";
    size_t len = strlen (phrase);
    if (len > DT_PHRASE_MAX || !dt_utf8_valid (phrase, len))
        return s_refuse (self, err, errlen, "banned phrase '%.60s' is longer than %d bytes "
                         "or not valid UTF-8", phrase, DT_PHRASE_MAX);
    //  Normalise: trim, collapse white space, fold case
    char text [DT_PHRASE_MAX + 1];
    uint32_t cps [DT_PHRASE_MAX];
    size_t text_len = 0, cp_count = 0;
    const uint8_t *cursor = (const uint8_t *) phrase, *end = cursor + len;
    bool pending_space = false;
    while (cursor < end) {
        uint32_t cp;
        size_t n = dt_utf8_next (cursor, end, &cp);
        if (dt_utf8_is_space (cp))
            pending_space = cp_count > 0;
        else {
            if (pending_space) {
                text [text_len++] = ' ';
                cps [cp_count++] = ' ';
                pending_space = false;
            }
            memcpy (text + text_len, cursor, n);
            text_len += n;
            cps [cp_count++] = dt_utf8_fold (cp);
        }
        cursor += n;
    }
    if (cp_count == 0)
        return s_refuse (self, err, errlen, "a banned phrase is empty or only white space");
    if (s_grow (self, (void **) &self->phrases, &self->phrase_alloc, self->phrase_count,
                sizeof (phrase_t)))
        return s_refuse (self, err, errlen, "out of memory adding banned phrase");
    phrase_t *entry = &self->phrases [self->phrase_count];
    entry->text = s_strdup (self, text, text_len);
    entry->cps = (uint32_t *) s_alloc (self, cp_count * sizeof (uint32_t));
    if (!entry->text || !entry->cps) {
        free (entry->text);
        free (entry->cps);
        return s_refuse (self, err, errlen, "out of memory adding banned phrase");
    }
    memcpy (entry->cps, cps, cp_count * sizeof (uint32_t));
    entry->suggestion = NULL;
    entry->cp_count = (uint16_t) cp_count;
    entry->head = 0;
    entry->head_len = 0;
    while (entry->head_len < cp_count && entry->head_len < 4
       &&  cps [entry->head_len] < 0x80 && cps [entry->head_len] != ' ') {
        entry->head |= cps [entry->head_len] << (8 * entry->head_len);
        entry->head_len++;
    }
    self->phrase_count++;
    return 0;
}

//  --------------------------------------------------------------------------
//  Validation and indexes

//  Resolve a theme's stage list to a mask; 0 or -1 with err
static int
s_resolve_stages (dt_tonebook_t *self, theme_t *theme, const dt_stageset_t *stages,
                  char *err, size_t errlen)
{
    const char *csv = theme->stages_csv;
    while (*csv == ' ')
        csv++;
    theme->stage_mask = 0;
    theme->any_stage = (*csv == 0 || strcmp (csv, "*") == 0);
    if (theme->stages_text)
        self->bytes -= strlen (theme->stages_text) + 1;
    free (theme->stages_text);
    theme->stages_text = NULL;
    if (theme->any_stage)
        return 0;
    char text [DT_MAX_STAGES * (DT_STAGE_NAME_MAX + 2) + 1];
    size_t text_len = 0;
    const char *cursor = theme->stages_csv;
    while (true) {
        const char *comma = strchr (cursor, ',');
        const char *stop = comma? comma: cursor + strlen (cursor);
        const char *start = cursor;
        while (start < stop && (*start == ' ' || *start == '\t'))
            start++;
        const char *last = stop;
        while (last > start && (last [-1] == ' ' || last [-1] == '\t'))
            last--;
        if (last == start) {
            snprintf (err, errlen, "theme '%.60s': its stage list '%.80s' has an empty "
                      "entry", theme->name, theme->stages_csv);
            return -1;
        }
        int index = dt_stageset_find (stages, start, (size_t) (last - start));
        if (index < 0) {
            char known [DT_MAX_STAGES * (DT_STAGE_NAME_MAX + 2) + 1] = "";
            size_t known_len = 0;
            for (int i = 0; i < stages->count; i++)
                known_len += (size_t) snprintf (known + known_len, sizeof known - known_len,
                                                "%s%s", i? ", ": "", stages->name [i]);
            snprintf (err, errlen, "theme '%.60s': stage '%.*s' is not a configured stage "
                      "(stages are %s)", theme->name, (int) (last - start > 40? 40:
                      last - start), start, known);
            return -1;
        }
        if (!(theme->stage_mask & (1u << index))) {
            theme->stage_mask |= 1u << index;
            text_len += (size_t) snprintf (text + text_len, sizeof text - text_len, "%s%s",
                                           text_len? ", ": "", stages->name [index]);
        }
        if (!comma)
            break;
        cursor = comma + 1;
    }
    theme->stages_text = s_strdup (self, text, text_len);
    return theme->stages_text? 0: -1;
}

static int
s_compare_first (const void *a, const void *b, void *arg)
{
    const dt_tonebook_t *self = (const dt_tonebook_t *) arg;
    uint32_t first_a = self->phrases [*(const uint32_t *) a].cps [0];
    uint32_t first_b = self->phrases [*(const uint32_t *) b].cps [0];
    if (first_a != first_b)
        return first_a < first_b? -1: 1;
    return *(const uint32_t *) a < *(const uint32_t *) b? -1: 1;
}

static bool
s_same_phrase (const phrase_t *a, const phrase_t *b)
{
    return a->cp_count == b->cp_count
        && memcmp (a->cps, b->cps, a->cp_count * sizeof (uint32_t)) == 0;
}

//  The name an index is keyed by, with its hash: entry i of themes or claims
typedef uint64_t (s_index_key_fn) (const dt_tonebook_t *self, size_t i,
                                   const char **name, size_t *len);

static uint64_t
s_theme_name (const dt_tonebook_t *self, size_t i, const char **name, size_t *len)
{
    *name = self->themes [i].name;
    *len = self->themes [i].name_len;
    return self->themes [i].hash;
}

static uint64_t
s_claim_key (const dt_tonebook_t *self, size_t i, const char **name, size_t *len)
{
    *name = self->claims [i].key;
    *len = self->claims [i].key_len;
    return self->claims [i].hash;
}

//  (Re)build an open-addressing index (entry + 1, 0 for an empty slot) of
//  count entries, refusing a name listed twice ("<what> 'x' is listed twice")
static int
s_index_build (dt_tonebook_t *self, uint32_t **index_p, size_t *size_p, size_t count,
               s_index_key_fn *key_of, const char *what, char *err, size_t errlen)
{
    if (*index_p)
        self->bytes -= *size_p * sizeof (uint32_t);
    free (*index_p);
    *size_p = dt_hash_slots (count);
    uint32_t *index = (uint32_t *) s_alloc (self, *size_p * sizeof (uint32_t));
    *index_p = index;
    if (!index) {
        snprintf (err, errlen, "out of memory indexing the tone book");
        return -1;
    }
    size_t mask = *size_p - 1;
    for (size_t i = 0; i < count; i++) {
        const char *name, *other;
        size_t len, other_len;
        size_t slot = key_of (self, i, &name, &len) & mask;
        while (index [slot]) {
            key_of (self, index [slot] - 1, &other, &other_len);
            if (other_len == len && memcmp (other, name, len) == 0) {
                snprintf (err, errlen, "%s '%.60s' is listed twice", what, name);
                return -1;
            }
            slot = (slot + 1) & mask;
        }
        index [slot] = (uint32_t) i + 1;
    }
    return 0;
}

int
dt_tonebook_validate (dt_tonebook_t *self, const dt_stageset_t *stages,
                      char *err, size_t errlen)
{
    assert (self);
    assert (stages);
    char scratch [8];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    self->valid = false;
    if (self->add_error [0]) {
        snprintf (err, errlen, "%s", self->add_error);
        return -1;
    }
    //  Themes: stages, then duplicates while building the index
    for (size_t i = 0; i < self->theme_count; i++)
        if (s_resolve_stages (self, &self->themes [i], stages, err, errlen))
            return -1;
    if (s_index_build (self, &self->theme_index, &self->theme_index_size, self->theme_count,
                       s_theme_name, "theme", err, errlen)
    ||  s_index_build (self, &self->claim_index, &self->claim_index_size, self->claim_count,
                       s_claim_key, "canonical claim", err, errlen))
        return -1;
    //  Phrases: sort by first character, refuse duplicates (after folding)
    size_t count = self->phrase_count;
    if (self->phrase_order)
        self->bytes -= 2 * (self->phrase_sorted + 1) * sizeof (uint32_t);
    free (self->phrase_order);
    free (self->phrase_first);
    self->phrase_order = self->phrase_first = NULL;
    self->phrase_sorted = count;
    self->phrase_order = (uint32_t *) s_alloc (self, (count + 1) * sizeof (uint32_t));
    self->phrase_first = (uint32_t *) s_alloc (self, (count + 1) * sizeof (uint32_t));
    if (!self->phrase_order || !self->phrase_first) {
        snprintf (err, errlen, "out of memory indexing the tone book");
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        self->phrase_order [i] = (uint32_t) i;
    qsort_r (self->phrase_order, count, sizeof (uint32_t), s_compare_first, self);
    for (size_t i = 0; i < count; i++)
        self->phrase_first [i] = self->phrases [self->phrase_order [i]].cps [0];
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count && self->phrase_first [j] == self->phrase_first [i]; j++)
            if (s_same_phrase (&self->phrases [self->phrase_order [i]],
                               &self->phrases [self->phrase_order [j]])) {
                snprintf (err, errlen, "banned phrase '%.80s' is listed twice (ignoring case)",
                          self->phrases [self->phrase_order [j]].text);
                return -1;
            }
    memset (self->ascii_from, 0, sizeof self->ascii_from);
    memset (self->ascii_to, 0, sizeof self->ascii_to);
    memset (self->bigram, 0, sizeof self->bigram);
    memset (self->loose, 0, sizeof self->loose);
    self->other_first = 0;
    self->nonword_first = false;
    for (size_t i = 0; i < count; i++) {
        const phrase_t *phrase = &self->phrases [self->phrase_order [i]];
        uint32_t first = self->phrase_first [i];
        if (first < 128) {
            if (!dt_utf8_is_word (first))
                self->nonword_first = true;
            if (self->ascii_to [first] == 0)
                self->ascii_from [first] = (uint32_t) i;
            self->ascii_to [first] = (uint32_t) i + 1;
            uint32_t second = phrase->cp_count > 1? phrase->cps [1]: 0;
            if (second > ' ' && second < 128) {
                size_t bit = first * 128 + second;
                self->bigram [bit / 8] |= (uint8_t) (1 << (bit % 8));
            }
            else
                self->loose [first] = true;
        }
        else
            self->other_first |= 1ULL << (first & 63);
    }
    self->valid = true;
    return 0;
}

bool
dt_tonebook_valid (const dt_tonebook_t *self)
{
    return self && self->valid;
}

size_t dt_tonebook_themes (const dt_tonebook_t *self) { return self->theme_count; }
size_t dt_tonebook_claims (const dt_tonebook_t *self) { return self->claim_count; }
size_t dt_tonebook_phrases (const dt_tonebook_t *self) { return self->phrase_count; }
size_t dt_tonebook_bytes (const dt_tonebook_t *self) { return self->bytes; }

//  --------------------------------------------------------------------------
//  Lookups

static const theme_t *
s_theme_find (const dt_tonebook_t *self, dt_str_t name)
{
    if (!self->theme_count)
        return NULL;
    size_t mask = self->theme_index_size - 1;
    size_t slot = dt_hash (name.ptr, name.len, 0) & mask;
    while (self->theme_index [slot]) {
        const theme_t *theme = &self->themes [self->theme_index [slot] - 1];
        if (theme->name_len == name.len && memcmp (theme->name, name.ptr, name.len) == 0)
            return theme;
        slot = (slot + 1) & mask;
    }
    return NULL;
}

dt_theme_status_t
dt_tonebook_theme (const dt_tonebook_t *self, dt_str_t name, int64_t at_ms, int stage_index,
                   int64_t *when_ms, const char **stages)
{
    assert (self && self->valid);
    const theme_t *theme = s_theme_find (self, name);
    if (!theme)
        return DT_THEME_UNKNOWN;
    if (theme->retired)
        return DT_THEME_RETIRED;
    if (theme->valid_from && at_ms < theme->valid_from) {
        if (when_ms)
            *when_ms = theme->valid_from;
        return DT_THEME_NOT_YET;
    }
    if (theme->valid_to && at_ms >= theme->valid_to) {
        if (when_ms)
            *when_ms = theme->valid_to;
        return DT_THEME_EXPIRED;
    }
    if (!theme->any_stage && stage_index >= 0 && stage_index < DT_MAX_STAGES
    &&  !(theme->stage_mask & (1u << stage_index))) {
        if (stages)
            *stages = theme->stages_text;
        return DT_THEME_WRONG_STAGE;
    }
    return DT_THEME_OK;
}

bool
dt_tonebook_has_theme (const dt_tonebook_t *self, dt_str_t name)
{
    assert (self && self->valid);
    return s_theme_find (self, name) != NULL;
}

bool
dt_tonebook_canonical (const dt_tonebook_t *self, dt_str_t key, dt_str_t *value)
{
    assert (self && self->valid);
    if (!self->claim_count)
        return false;
    size_t mask = self->claim_index_size - 1;
    size_t slot = dt_hash (key.ptr, key.len, 0) & mask;
    while (self->claim_index [slot]) {
        const claim_t *claim = &self->claims [self->claim_index [slot] - 1];
        if (claim->key_len == key.len && memcmp (claim->key, key.ptr, key.len) == 0) {
            if (value) {
                value->ptr = claim->value;
                value->len = (uint32_t) claim->value_len;
            }
            return true;
        }
        slot = (slot + 1) & mask;
    }
    return false;
}

//  Match phrase at p; returns where the match ends, or NULL
static const uint8_t *
s_match (const phrase_t *phrase, const uint8_t *p, const uint8_t *end)
{
    for (size_t i = 0; i < phrase->cp_count; i++) {
        uint32_t cp;
        if (p >= end)
            return NULL;
        if (phrase->cps [i] == ' ') {
            size_t n = dt_utf8_next (p, end, &cp);
            if (!dt_utf8_is_space (cp))
                return NULL;
            p += n;
            while (p < end) {
                n = dt_utf8_next (p, end, &cp);
                if (!dt_utf8_is_space (cp))
                    break;
                p += n;
            }
        }
        else {
            if (*p < 0x80)
                cp = *p++;
            else
                p += dt_utf8_next (p, end, &cp);
            if (dt_utf8_fold (cp) != phrase->cps [i])
                return NULL;
        }
    }
    return p;
}

static inline bool
s_ascii_word (uint8_t c)
{
    return (unsigned) ((c | 32) - 'a') < 26u || (unsigned) (c - '0') < 10u;
}

static inline uint8_t
s_ascii_fold (uint8_t c)
{
    return (uint8_t) (c + (((unsigned) (c - 'A') < 26u) << 5));
}

//  Is an ASCII character at p, where a word starts, the start of a phrase?
//  Two table lookups decide for almost every word
static inline bool
s_candidate (const dt_tonebook_t *self, const uint8_t *p, const uint8_t *end)
{
    uint8_t next = p + 1 < end? p [1]: 0;
    uint8_t first = s_ascii_fold (p [0]);
    uint8_t second = next < 0x80? s_ascii_fold (next): 0;
    size_t bit = (size_t) first * 128 + second;
    return ((self->bigram [bit / 8] >> (bit % 8)) & 1) | self->loose [first];
}

//  Try the phrases from..to at p; record new hits. Returns false when max
//  is reached.
static bool
s_try (const dt_tonebook_t *self, size_t from, size_t to, const uint8_t *p,
       const uint8_t *end, int *hits, int *count, int max, int *added)
{
    //  Most tries are a common word that starts like a phrase ("the" for
    //  "this ..."): four ASCII bytes of text, folded at once, refuse them
    uint32_t text = 0;
    bool ascii = end - p >= 4;
    if (ascii) {
        memcpy (&text, p, 4);
        text = le32toh (text);
        ascii = !(text & 0x80808080u);
        //  Bytes below 0x80: adding 0x3F sets the top bit from 'A' up,
        //  adding 0x25 from 'Z' + 1 up, and no byte carries into the next
        uint32_t upper = (text + 0x3F3F3F3Fu) & ~(text + 0x25252525u) & 0x80808080u;
        text |= upper >> 2;
    }
    for (size_t k = from; k < to; k++) {
        int index = (int) self->phrase_order [k];
        const phrase_t *phrase = &self->phrases [index];
        uint32_t head_mask = (uint32_t) (0xFFFFFFFFull >> (32 - 8 * phrase->head_len));
        if (ascii && (text & head_mask) != phrase->head)
            continue;
        const uint8_t *stop = s_match (phrase, p, end);
        if (!stop)
            continue;
        if (stop < end) {
            uint32_t next;
            dt_utf8_next (stop, end, &next);
            if (dt_utf8_is_word (next))
                continue;
        }
        bool seen = false;
        for (int h = 0; h < *count && !seen; h++)
            seen = hits [h] == index;
        if (seen)
            continue;
        hits [(*count)++] = index;
        (*added)++;
        if (*count >= max)
            return false;
    }
    return true;
}

int
dt_tonebook_scan (const dt_tonebook_t *self, const char *ptr, size_t len,
                  int *hits, int *count, int max)
{
    assert (self && self->valid);
    if (!self->phrase_count || !len || *count >= max)
        return 0;
    int added = 0;
    const uint8_t *p = (const uint8_t *) ptr, *end = p + len;
    bool previous_word = false;
#ifdef __SSE2__
    //  Sixteen bytes that are not all ASCII are taken one character at a
    //  time up to here before the vector path looks again
    const uint8_t *scalar_to = p;
#endif
    while (p < end) {
#ifdef __SSE2__
        //  Sixteen ASCII bytes at a time: fold them and find the word
        //  starts with vector compares, then look only at the starts
        if (p >= scalar_to && end - p >= 16 && !self->nonword_first) {
            __m128i bytes = _mm_loadu_si128 ((const __m128i *) p);
            if (!_mm_movemask_epi8 (bytes)) {
                __m128i upper = _mm_and_si128 (_mm_cmpgt_epi8 (bytes, _mm_set1_epi8 ('A' - 1)),
                                               _mm_cmplt_epi8 (bytes, _mm_set1_epi8 ('Z' + 1)));
                __m128i folded = _mm_add_epi8 (bytes, _mm_and_si128 (upper, _mm_set1_epi8 (32)));
                __m128i letter = _mm_and_si128 (_mm_cmpgt_epi8 (folded, _mm_set1_epi8 ('a' - 1)),
                                                _mm_cmplt_epi8 (folded, _mm_set1_epi8 ('z' + 1)));
                __m128i digit = _mm_and_si128 (_mm_cmpgt_epi8 (bytes, _mm_set1_epi8 ('0' - 1)),
                                               _mm_cmplt_epi8 (bytes, _mm_set1_epi8 ('9' + 1)));
                unsigned word = (unsigned) _mm_movemask_epi8 (_mm_or_si128 (letter, digit));
                unsigned starts = word & ~((word << 1) | (previous_word? 1u: 0u));
                uint8_t f [17];
                _mm_storeu_si128 ((__m128i *) f, folded);
                f [16] = p + 16 < end && p [16] < 0x80? s_ascii_fold (p [16]): 0;
                while (starts) {
                    int k = __builtin_ctz (starts);
                    size_t bit = (size_t) f [k] * 128 + f [k + 1];
                    if ((((self->bigram [bit / 8] >> (bit % 8)) & 1) | self->loose [f [k]])
                    &&  !s_try (self, self->ascii_from [f [k]], self->ascii_to [f [k]], p + k,
                                end, hits, count, max, &added))
                        return added;
                    starts &= starts - 1;
                }
                previous_word = word >> 15;
                p += 16;
                continue;
            }
            scalar_to = p + 16;
        }
#endif
        uint8_t c = *p;
        if (c < 0x80) {
            //  ASCII: a phrase can only start where a word starts (or at a
            //  non-word character)
            if (!previous_word && s_candidate (self, p, end)) {
                uint8_t first = s_ascii_fold (c);
                if (!s_try (self, self->ascii_from [first], self->ascii_to [first], p, end,
                            hits, count, max, &added))
                    return added;
            }
            previous_word = s_ascii_word (c);
            p++;
            continue;
        }
        //  U+3000..U+9FFF (CJK ideographs, kana and their punctuation), most
        //  of a Chinese or Japanese text, in three bytes: no word characters
        //  and nothing to fold, so the general decoder is not needed
        uint32_t cp;
        size_t n;
        bool word, caseless;
        if (c >= 0xE3 && c <= 0xE9 && end - p >= 3
        &&  (p [1] & 0xC0) == 0x80 && (p [2] & 0xC0) == 0x80) {
            cp = (uint32_t) (c & 0x0F) << 12 | (uint32_t) (p [1] & 0x3F) << 6 | (p [2] & 0x3F);
            n = 3;
            word = false;
            caseless = true;
        }
        else {
            n = dt_utf8_next (p, end, &cp);
            word = dt_utf8_is_word (cp);
            caseless = false;
        }
        if (!previous_word) {
            uint32_t folded = caseless? cp: dt_utf8_fold (cp);
            if (self->other_first & (1ULL << (folded & 63))) {
                //  Binary search for the first phrase with this character
                size_t low = 0, high = self->phrase_count;
                while (low < high) {
                    size_t mid = (low + high) / 2;
                    if (self->phrase_first [mid] < folded)
                        low = mid + 1;
                    else
                        high = mid;
                }
                size_t to = low;
                while (to < self->phrase_count && self->phrase_first [to] == folded)
                    to++;
                if (to > low && !s_try (self, low, to, p, end, hits, count, max, &added))
                    return added;
            }
        }
        previous_word = word;
        p += n;
    }
    return added;
}

const char *
dt_tonebook_phrase (const dt_tonebook_t *self, int index)
{
    assert (self);
    return index >= 0 && (size_t) index < self->phrase_count? self->phrases [index].text: "";
}

int
dt_tonebook_suggest (dt_tonebook_t *self, const char *suggestion, char *err, size_t errlen)
{
    assert (self);
    self->valid = false;
    if (!self->phrase_count)
        return s_refuse (self, err, errlen, "a suggestion needs a banned phrase before it");
    phrase_t *entry = &self->phrases [self->phrase_count - 1];
    size_t len = suggestion? strlen (suggestion): 0;
    if (len == 0 || len > DT_PHRASE_MAX || !dt_utf8_valid (suggestion, len))
        return s_refuse (self, err, errlen, "the suggestion for banned phrase '%.60s' is "
                         "empty, longer than %d bytes or not valid UTF-8", entry->text,
                         DT_PHRASE_MAX);
    char *copy = s_strdup (self, suggestion, len);
    if (!copy)
        return s_refuse (self, err, errlen, "out of memory adding a suggestion");
    free (entry->suggestion);
    entry->suggestion = copy;
    return 0;
}

const char *
dt_tonebook_suggestion (const dt_tonebook_t *self, int index)
{
    assert (self);
    return index >= 0 && (size_t) index < self->phrase_count? self->phrases [index].suggestion:
           NULL;
}
