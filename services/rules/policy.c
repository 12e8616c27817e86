/*  policy.c - the policy file: YAML text to rule settings and tone-book
    rows and back (see policy.h, docs/policy.md for the format).

    libyaml loads the text into a document (its nodes keep their marks, so
    every error names a line and column); a walk over the document checks
    each key against what the format allows and collects every error it
    finds instead of stopping at the first, so one `policy validate` shows
    them all. Each tone-book row is also added to a scratch tone book as it
    is read, so what the tone book refuses (invalid UTF-8, a phrase too
    long) is reported at the row that caused it.
*/
#include "rules/policy.h"
#include "base/calendar.h"
#include "base/hash.h"
#include "base/utf8.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

typedef struct {
    char *name;
    char *stages;               //  "a,b", "" for every stage
    int64_t valid_from, valid_to;
    bool retired;
    char *note;                 //  NULL none
} theme_t;

typedef struct {
    char *key, *value;
} claim_t;

typedef struct {
    char *phrase, *instead;     //  instead NULL: none
} banned_t;

struct _dt_policy_t {
    dt_rules_config_t cfg;
    theme_t *themes;
    size_t theme_count, theme_alloc;
    claim_t *claims;
    size_t claim_count, claim_alloc;
    banned_t *banned;
    size_t banned_count, banned_alloc;
};

//  The rule settings other than severities: where they sit in the file
//  (rules: <section>: <key>) and their settings.h key
static const struct {
    const char *section, *key, *setting;
} s_settings [] = {
    { "collision", "window", "collision.window" },
    { "collision", "scope", "collision.scope" },
    { "pressure", "max per contact", "pressure.contact.max" },
    { "pressure", "max per account", "pressure.account.max" },
    { "pressure", "period", "pressure.period" },
    { "sequence", "window", "sequence.window" },
    { "memory", "window", "memory.window" },
    { "budget", "caps", "budget.caps" },
    { "budget", "sending hours", "budget.quiet" },
    { "budget", "time zone", "budget.timezone" },
};
#define SETTINGS (sizeof s_settings / sizeof s_settings [0])

#define DAY_MS INT64_C (86400000)

//  --------------------------------------------------------------------------
//  The model

dt_policy_t *
dt_policy_new (const dt_rules_config_t *defaults)
{
    dt_policy_t *self = (dt_policy_t *) calloc (1, sizeof (dt_policy_t));
    if (!self)
        return NULL;
    if (defaults)
        self->cfg = *defaults;
    else
        dt_rules_config_default (&self->cfg);
    return self;
}

void
dt_policy_destroy (dt_policy_t **self_p)
{
    assert (self_p);
    dt_policy_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->theme_count; i++) {
        free (self->themes [i].name);
        free (self->themes [i].stages);
        free (self->themes [i].note);
    }
    for (size_t i = 0; i < self->claim_count; i++) {
        free (self->claims [i].key);
        free (self->claims [i].value);
    }
    for (size_t i = 0; i < self->banned_count; i++) {
        free (self->banned [i].phrase);
        free (self->banned [i].instead);
    }
    free (self->themes);
    free (self->claims);
    free (self->banned);
    free (self);
    *self_p = NULL;
}

static int
s_grow (void **items, size_t *alloc, size_t count, size_t size)
{
    if (count < *alloc)
        return 0;
    size_t grown_alloc = *alloc? *alloc * 2: 16;
    void *grown = realloc (*items, grown_alloc * size);
    if (!grown)
        return -1;
    *items = grown;
    *alloc = grown_alloc;
    return 0;
}

static char *
s_dup (const char *text)
{
    return text? strdup (text): NULL;
}

//  Names (copied) with an index each: what is listed twice, and what two
//  policies share, found without comparing every pair (a policy may list
//  ten thousand phrases, and the coordinator parses it between batches)
typedef struct {
    char **names;
    size_t *values;
    size_t size, count;
} names_t;

static void
s_names_free (names_t *self)
{
    for (size_t i = 0; i < self->size; i++)
        free (self->names [i]);
    free (self->names);
    free (self->values);
    memset (self, 0, sizeof *self);
}

static size_t
s_names_slot (const names_t *self, const char *name)
{
    size_t mask = self->size - 1, slot = dt_hash (name, strlen (name), 0) & mask;
    while (self->names [slot] && strcmp (self->names [slot], name) != 0)
        slot = (slot + 1) & mask;
    return slot;
}

//  True with *existing if name is there already; else adds it with value
//  (out of memory: reports nothing as listed twice)
static bool
s_names_put (names_t *self, const char *name, size_t value, size_t *existing)
{
    if ((self->count + 1) * 2 > self->size) {
        names_t grown = { NULL, NULL, dt_hash_slots (self->count + 1) * 2, 0 };
        grown.names = (char **) calloc (grown.size, sizeof (char *));
        grown.values = (size_t *) calloc (grown.size, sizeof (size_t));
        if (!grown.names || !grown.values) {
            s_names_free (&grown);
            return false;
        }
        for (size_t i = 0; i < self->size; i++)
            if (self->names [i]) {
                size_t slot = s_names_slot (&grown, self->names [i]);
                grown.names [slot] = self->names [i];
                grown.values [slot] = self->values [i];
                grown.count++;
            }
        free (self->names);
        free (self->values);
        *self = grown;
    }
    size_t slot = s_names_slot (self, name);
    if (self->names [slot]) {
        if (existing)
            *existing = self->values [slot];
        return true;
    }
    self->names [slot] = strdup (name);
    if (!self->names [slot])
        return false;
    self->values [slot] = value;
    self->count++;
    return false;
}

//  The value of name, or false
static bool
s_names_get (const names_t *self, const char *name, size_t *value)
{
    if (!self->size)
        return false;
    size_t slot = s_names_slot (self, name);
    if (!self->names [slot])
        return false;
    *value = self->values [slot];
    return true;
}

//  Phrases compare as the tone book matches them: case and runs of white
//  space aside (ASCII folding is enough to catch the usual slip; the tone
//  book's own check, with Unicode folding, runs after). The key to compare
//  them by; NULL if memory runs out.
static char *
s_phrase_key (const char *phrase)
{
    char *key = (char *) malloc (strlen (phrase) + 1);
    if (!key)
        return NULL;
    size_t len = 0;
    bool space = false;
    for (const char *c = phrase; *c; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r')
            space = len > 0;
        else {
            if (space)
                key [len++] = ' ';
            space = false;
            key [len++] = (char) tolower ((unsigned char) *c);
        }
    }
    key [len] = 0;
    return key;
}

int
dt_policy_add_theme (dt_policy_t *self, const char *name, const char *stages,
                     int64_t valid_from, int64_t valid_to, bool retired, const char *note,
                     char *err, size_t errlen)
{
    if (s_grow ((void **) &self->themes, &self->theme_alloc, self->theme_count,
                sizeof (theme_t))) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    theme_t *theme = &self->themes [self->theme_count];
    theme->name = s_dup (name? name: "");
    theme->stages = s_dup (stages && strcmp (stages, "*") != 0? stages: "");
    theme->note = note && *note? s_dup (note): NULL;
    theme->valid_from = valid_from;
    theme->valid_to = valid_to;
    theme->retired = retired;
    self->theme_count++;
    return 0;
}

int
dt_policy_add_claim (dt_policy_t *self, const char *key, const char *value,
                     char *err, size_t errlen)
{
    if (s_grow ((void **) &self->claims, &self->claim_alloc, self->claim_count,
                sizeof (claim_t))) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    self->claims [self->claim_count].key = s_dup (key? key: "");
    self->claims [self->claim_count].value = s_dup (value? value: "");
    self->claim_count++;
    return 0;
}

int
dt_policy_add_banned (dt_policy_t *self, const char *phrase, const char *instead,
                      char *err, size_t errlen)
{
    if (s_grow ((void **) &self->banned, &self->banned_alloc, self->banned_count,
                sizeof (banned_t))) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    self->banned [self->banned_count].phrase = s_dup (phrase? phrase: "");
    self->banned [self->banned_count].instead = instead && *instead? s_dup (instead): NULL;
    self->banned_count++;
    return 0;
}

dt_rules_config_t *
dt_policy_config (dt_policy_t *self)
{
    return &self->cfg;
}

size_t dt_policy_themes (const dt_policy_t *self) { return self->theme_count; }
size_t dt_policy_claims (const dt_policy_t *self) { return self->claim_count; }
size_t dt_policy_banned (const dt_policy_t *self) { return self->banned_count; }

dt_tonebook_t *
dt_policy_tonebook (const dt_policy_t *self, char *err, size_t errlen)
{
    dt_tonebook_t *book = dt_tonebook_new ();
    if (!book) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < self->theme_count && rc == 0; i++) {
        const theme_t *t = &self->themes [i];
        rc = dt_tonebook_add_theme (book, t->name, t->stages, t->valid_from, t->valid_to,
                                    t->retired, err, errlen);
    }
    for (size_t i = 0; i < self->claim_count && rc == 0; i++)
        rc = dt_tonebook_add_claim (book, self->claims [i].key, self->claims [i].value,
                                    err, errlen);
    for (size_t i = 0; i < self->banned_count && rc == 0; i++) {
        rc = dt_tonebook_add_banned (book, self->banned [i].phrase, err, errlen);
        if (rc == 0 && self->banned [i].instead)
            rc = dt_tonebook_suggest (book, self->banned [i].instead, err, errlen);
    }
    if (rc)
        dt_tonebook_destroy (&book);
    return book;
}

//  --------------------------------------------------------------------------
//  Dates: 2026-05-03 (midnight UTC) or 2026-05-03T10:00:00Z

//  Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant)
static int64_t
s_days_from_civil (int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0? y: y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2? -3: 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
s_date_parse (const char *text, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, s = 0, milli = 0, n = 0;
    size_t len = strlen (text);
    if (len == 10 && sscanf (text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10)
        ;
    else
    if (len == 20 && sscanf (text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) == 6
    &&  n == 20)
        ;
    else
    if (len == 24 && sscanf (text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &s,
                             &milli, &n) == 7 && n == 24)
        ;
    else
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!isdigit ((unsigned char) text [i]) && !strchr ("-T:Z.", text [i]))
            return -1;
    static const int month_days [] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days [mo - 1]
    ||  h > 23 || mi > 59 || s > 59)
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    *ms = s_days_from_civil (y, mo, d) * DAY_MS + ((int64_t) h * 3600 + mi * 60 + s) * 1000
        + milli;
    return 0;
}

static void
s_date_format (int64_t ms, char *buf, size_t buflen)
{
    int64_t days = ms / DAY_MS, rest = ms % DAY_MS;
    int64_t year;
    int month, day;
    dt_civil_from_days (days, &year, &month, &day);
    if (rest == 0)
        snprintf (buf, buflen, "%04" PRId64 "-%02d-%02d", year, month, day);
    else
    if (rest % 1000 == 0)
        snprintf (buf, buflen, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
                  (int) (rest / 3600000), (int) (rest / 60000 % 60), (int) (rest / 1000 % 60));
    else
        snprintf (buf, buflen, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day,
                  (int) (rest / 3600000), (int) (rest / 60000 % 60), (int) (rest / 1000 % 60),
                  (int) (rest % 1000));
}

//  --------------------------------------------------------------------------
//  Parsing

typedef struct {
    yaml_document_t doc;
    dt_policy_t *policy;
    dt_policy_errors_t *errors;
    const dt_stageset_t *stages;
    dt_tonebook_t *scratch;     //  every row added as read: its refusals located
    names_t phrases;            //  banned phrases so far, by s_phrase_key
} parse_t;

static void
s_error (parse_t *p, const yaml_node_t *node, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_error (parse_t *p, const yaml_node_t *node, const char *format, ...)
{
    if (p->errors->count >= DT_POLICY_ERRORS_MAX) {
        p->errors->more++;
        return;
    }
    dt_policy_error_t *e = &p->errors->error [p->errors->count++];
    e->line = node? (int) node->start_mark.line + 1: 1;
    e->column = node? (int) node->start_mark.column + 1: 1;
    char reason [sizeof e->reason];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    //  Quoting the file's text at most so many bytes may cut a character
    //  in two: keep whole characters only, so the reason is valid UTF-8
    const uint8_t *cursor = (const uint8_t *) reason, *end = cursor + strlen (reason);
    size_t len = 0;
    while (cursor < end) {
        uint32_t cp;
        size_t n = dt_utf8_next (cursor, end, &cp);
        if (dt_utf8_valid ((const char *) cursor, n)) {
            memcpy (e->reason + len, cursor, n);
            len += n;
        }
        cursor += n;
    }
    e->reason [len] = 0;
}

static yaml_node_t *
s_node (parse_t *p, int index)
{
    return yaml_document_get_node (&p->doc, index);
}

//  A scalar's text, or NULL after an error naming what was expected
static const char *
s_scalar (parse_t *p, yaml_node_t *node, const char *what)
{
    if (node->type != YAML_SCALAR_NODE) {
        s_error (p, node, "%s must be a single value, not a %s", what,
                 node->type == YAML_MAPPING_NODE? "mapping": "list");
        return NULL;
    }
    return (const char *) node->data.scalar.value;
}

//  An empty plain value (`note:`) is no value
static bool
s_is_empty (yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE && node->data.scalar.length == 0
        && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool
s_expect_mapping (parse_t *p, yaml_node_t *node, const char *what)
{
    if (node->type == YAML_MAPPING_NODE || s_is_empty (node))
        return node->type == YAML_MAPPING_NODE;
    s_error (p, node, "%s must be a mapping of keys to values", what);
    return false;
}

//  Iterate a mapping's pairs, refusing keys that are not scalars or come
//  twice. Calls fn for each good pair; returns nothing (errors collected).
typedef void (s_pair_fn) (parse_t *p, const char *key, yaml_node_t *key_node,
                          yaml_node_t *value, void *arg);

static void
s_each_pair (parse_t *p, yaml_node_t *map, const char *what, s_pair_fn *fn, void *arg)
{
    names_t keys = { 0 };
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = s_node (p, pair->key), *value = s_node (p, pair->value);
        if (key->type != YAML_SCALAR_NODE) {
            s_error (p, key, "a key in %s must be plain text", what);
            continue;
        }
        if (s_names_put (&keys, (const char *) key->data.scalar.value, 0, NULL)) {
            s_error (p, key, "'%.60s' is given twice in %s", (char *) key->data.scalar.value,
                     what);
            continue;
        }
        fn (p, (const char *) key->data.scalar.value, key, value, arg);
    }
    s_names_free (&keys);
}

//  A theme's stages: a list of stage names, or `all`
static bool
s_theme_stages (parse_t *p, const char *theme, yaml_node_t *node, char *csv, size_t csvlen)
{
    csv [0] = 0;
    if (node->type == YAML_SCALAR_NODE && strcmp ((char *) node->data.scalar.value, "all") == 0)
        return true;
    if (node->type != YAML_SEQUENCE_NODE) {
        s_error (p, node, "theme '%.60s': stages must be a list like [awareness, interest] "
                 "or all", theme);
        return false;
    }
    bool ok = true;
    size_t used = 0;
    if (node->data.sequence.items.start == node->data.sequence.items.top) {
        s_error (p, node, "theme '%.60s': stages is empty; write all for every stage", theme);
        return false;
    }
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        yaml_node_t *stage = s_node (p, *item);
        const char *name = s_scalar (p, stage, "a stage");
        if (!name) {
            ok = false;
            continue;
        }
        if (!*name || strchr (name, ',')) {
            s_error (p, stage, "theme '%.60s': '%.40s' is not a stage name", theme, name);
            ok = false;
            continue;
        }
        if (p->stages && dt_stageset_find (p->stages, name, strlen (name)) < 0) {
            char known [DT_MAX_STAGES * (DT_STAGE_NAME_MAX + 2) + 1] = "";
            size_t known_len = 0;
            for (int i = 0; i < p->stages->count; i++)
                known_len += (size_t) snprintf (known + known_len, sizeof known - known_len,
                                                "%s%s", i? ", ": "", p->stages->name [i]);
            s_error (p, stage, "theme '%.60s': '%.40s' is not a configured stage (stages "
                     "are %s)", theme, name, known);
            ok = false;
            continue;
        }
        int n = snprintf (csv + used, csvlen - used, "%s%s", used? ",": "", name);
        if (n < 0 || (size_t) n >= csvlen - used) {
            s_error (p, stage, "theme '%.60s': too many stages", theme);
            return false;
        }
        used += (size_t) n;
    }
    return ok;
}

typedef struct {
    const char *name;
    char stages [DT_MAX_STAGES * (DT_STAGE_NAME_MAX + 1) + 1];
    bool has_stages, ok, retired;
    int64_t from, until;
    const char *note;
    yaml_node_t *from_node;
} theme_fields_t;

static void
s_theme_field (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    theme_fields_t *t = (theme_fields_t *) arg;
    if (strcmp (key, "stages") == 0) {
        t->has_stages = true;
        if (!s_theme_stages (p, t->name, value, t->stages, sizeof t->stages))
            t->ok = false;
        return;
    }
    if (strcmp (key, "from") == 0 || strcmp (key, "until") == 0) {
        const char *text = s_scalar (p, value, key);
        int64_t *ms = key [0] == 'f'? &t->from: &t->until;
        if (!text)
            t->ok = false;
        else
        if (s_date_parse (text, ms)) {
            s_error (p, value, "theme '%.60s': %s must be a date like 2026-05-03 or "
                     "2026-05-03T09:00:00Z (UTC), not '%.40s'", t->name, key, text);
            t->ok = false;
        }
        if (key [0] == 'f')
            t->from_node = value;
        return;
    }
    if (strcmp (key, "retired") == 0) {
        const char *text = s_scalar (p, value, key);
        if (text && (strcmp (text, "true") == 0 || strcmp (text, "yes") == 0))
            t->retired = true;
        else
        if (text && (strcmp (text, "false") == 0 || strcmp (text, "no") == 0))
            t->retired = false;
        else {
            if (text)
                s_error (p, value, "theme '%.60s': retired must be true or false, not '%.40s'",
                         t->name, text);
            t->ok = false;
        }
        return;
    }
    if (strcmp (key, "note") == 0) {
        t->note = s_is_empty (value)? NULL: s_scalar (p, value, key);
        if (!t->note && !s_is_empty (value))
            t->ok = false;
        return;
    }
    s_error (p, key_node, "theme '%.60s': '%.40s' is not a theme setting (they are stages, "
             "from, until, retired, note)", t->name, key);
    t->ok = false;
}

static void
s_theme (parse_t *p, const char *name, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    (void) arg;
    theme_fields_t t;
    memset (&t, 0, sizeof t);
    t.name = name;
    t.ok = true;
    if (!*name) {
        s_error (p, key_node, "a theme has an empty name");
        return;
    }
    if (!s_expect_mapping (p, value, "a theme")) {
        if (s_is_empty (value))
            s_error (p, value, "theme '%.60s' needs at least its stages", name);
        return;
    }
    s_each_pair (p, value, "a theme", s_theme_field, &t);
    if (!t.has_stages) {
        s_error (p, key_node, "theme '%.60s' has no stages (a list, or all)", name);
        t.ok = false;
    }
    if (t.ok && t.from && t.until && t.until <= t.from) {
        s_error (p, t.from_node, "theme '%.60s': until is not after from, so it is never "
                 "valid", name);
        t.ok = false;
    }
    if (!t.ok)
        return;
    char err [256];
    if (dt_tonebook_add_theme (p->scratch, name, t.stages, t.from, t.until, t.retired,
                               err, sizeof err))
        s_error (p, key_node, "%s", err);
    else
        dt_policy_add_theme (p->policy, name, t.stages, t.from, t.until, t.retired, t.note,
                             err, sizeof err);
}

static void
s_claim (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    (void) arg;
    (void) key_node;
    const char *text = s_scalar (p, value, "a canonical claim's value");
    if (!text)
        return;
    char err [256];
    if (dt_tonebook_add_claim (p->scratch, key, text, err, sizeof err))
        s_error (p, *key? value: key_node, "%s", err);
    else
        dt_policy_add_claim (p->policy, key, text, err, sizeof err);
}

typedef struct {
    const char *phrase, *instead;
    yaml_node_t *phrase_node;
    bool ok;
} banned_fields_t;

static void
s_banned_field (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    banned_fields_t *b = (banned_fields_t *) arg;
    if (strcmp (key, "phrase") == 0 || strcmp (key, "instead") == 0) {
        const char *text = s_scalar (p, value, key);
        if (!text)
            b->ok = false;
        else
        if (key [0] == 'p') {
            b->phrase = text;
            b->phrase_node = value;
        }
        else
            b->instead = text;
        return;
    }
    s_error (p, key_node, "'%.40s' is not a banned phrase setting (they are phrase and "
             "instead)", key);
    b->ok = false;
}

static void
s_banned (parse_t *p, yaml_node_t *item)
{
    banned_fields_t b = { NULL, NULL, item, true };
    if (item->type == YAML_SCALAR_NODE)
        b.phrase = (const char *) item->data.scalar.value;
    else
    if (item->type == YAML_MAPPING_NODE) {
        s_each_pair (p, item, "a banned phrase", s_banned_field, &b);
        if (b.ok && !b.phrase) {
            s_error (p, item, "a banned phrase needs its phrase");
            return;
        }
    }
    else {
        s_error (p, item, "a banned phrase is text, or phrase: and instead:");
        return;
    }
    if (!b.ok)
        return;
    char *phrase_key = s_phrase_key (b.phrase);
    bool twice = phrase_key && s_names_put (&p->phrases, phrase_key, 0, NULL);
    free (phrase_key);
    if (twice) {
        s_error (p, b.phrase_node, "banned phrase '%.60s' is listed twice (ignoring case)",
                 b.phrase);
        return;
    }
    char err [256];
    if (dt_tonebook_add_banned (p->scratch, b.phrase, err, sizeof err)
    ||  (b.instead && dt_tonebook_suggest (p->scratch, b.instead, err, sizeof err)))
        s_error (p, b.phrase_node, "%s", err);
    else
        dt_policy_add_banned (p->policy, b.phrase, b.instead, err, sizeof err);
}

static void
s_tone_section (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    (void) arg;
    if (strcmp (key, "themes") == 0) {
        if (s_expect_mapping (p, value, "tone themes"))
            s_each_pair (p, value, "tone themes", s_theme, NULL);
    }
    else
    if (strcmp (key, "claims") == 0) {
        if (s_expect_mapping (p, value, "tone claims"))
            s_each_pair (p, value, "tone claims", s_claim, NULL);
    }
    else
    if (strcmp (key, "banned") == 0) {
        if (value->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *item = value->data.sequence.items.start;
                 item < value->data.sequence.items.top; item++)
                s_banned (p, s_node (p, *item));
        }
        else
        if (!s_is_empty (value))
            s_error (p, value, "tone banned must be a list of phrases");
    }
    else
        s_error (p, key_node, "'%.40s' is not part of the tone book (it has themes, claims, "
                 "banned)", key);
}

static void
s_severity (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    (void) arg;
    if (dt_rule_parse (key) == DT_RULES) {
        s_error (p, key_node, "'%.40s' names no rule; rules are stage_crossing, collision, "
                 "unknown_theme, theme_stage, banned_phrase, claim_conflict, lead_violation, "
                 "sequence, key_project_solo, contact_pressure, quiet_hours", key);
        return;
    }
    const char *text = s_scalar (p, value, "a severity");
    char setting [64], err [256];
    snprintf (setting, sizeof setting, "severity.%s", key);
    if (text && dt_rules_config_set (&p->policy->cfg, setting, text, err, sizeof err))
        s_error (p, value, "severity of %s must be off, info, warn or violation, not '%.40s'",
                 key, text);
}

typedef struct {
    const char *section;
} section_t;

static void
s_setting (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    const char *section = ((section_t *) arg)->section;
    char known [128] = "";
    size_t known_len = 0;
    for (size_t i = 0; i < SETTINGS; i++) {
        if (strcmp (s_settings [i].section, section) != 0)
            continue;
        if (strcmp (s_settings [i].key, key) == 0) {
            const char *text = s_scalar (p, value, key);
            char err [256];
            if (text && dt_rules_config_set (&p->policy->cfg, s_settings [i].setting, text,
                                             err, sizeof err))
                s_error (p, value, "%s %s: %s", section, key, err);
            return;
        }
        known_len += (size_t) snprintf (known + known_len, sizeof known - known_len, "%s%s",
                                        known_len? ", ": "", s_settings [i].key);
    }
    s_error (p, key_node, "'%.40s' is not a %s setting (they are %s)", key, section, known);
}

static void
s_rules_section (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    (void) arg;
    if (strcmp (key, "severity") == 0) {
        if (s_expect_mapping (p, value, "rules severity"))
            s_each_pair (p, value, "rules severity", s_severity, NULL);
        return;
    }
    for (size_t i = 0; i < SETTINGS; i++)
        if (strcmp (s_settings [i].section, key) == 0) {
            section_t section = { s_settings [i].section };
            if (s_expect_mapping (p, value, key))
                s_each_pair (p, value, key, s_setting, &section);
            return;
        }
    s_error (p, key_node, "'%.40s' is not a rules section (they are severity, collision, "
             "pressure, sequence, memory, budget)", key);
}

static void
s_top (parse_t *p, const char *key, yaml_node_t *key_node, yaml_node_t *value, void *arg)
{
    (void) arg;
    if (strcmp (key, "tone") == 0) {
        if (s_expect_mapping (p, value, "tone"))
            s_each_pair (p, value, "tone", s_tone_section, NULL);
    }
    else
    if (strcmp (key, "rules") == 0) {
        if (s_expect_mapping (p, value, "rules"))
            s_each_pair (p, value, "rules", s_rules_section, NULL);
    }
    else
        s_error (p, key_node, "'%.40s' is not a policy section (they are tone and rules)", key);
}

dt_policy_t *
dt_policy_parse (const char *text, size_t len, const dt_rules_config_t *defaults,
                 const dt_stageset_t *stages, dt_policy_errors_t *errors)
{
    memset (errors, 0, sizeof *errors);
    parse_t p;
    memset (&p, 0, sizeof p);
    p.errors = errors;
    p.stages = stages;
    p.policy = dt_policy_new (defaults);
    p.scratch = dt_tonebook_new ();
    if (!p.policy || !p.scratch) {
        s_error (&p, NULL, "out of memory");
        dt_policy_destroy (&p.policy);
        dt_tonebook_destroy (&p.scratch);
        return NULL;
    }
    yaml_parser_t parser;
    yaml_parser_initialize (&parser);
    yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
    if (!yaml_parser_load (&parser, &p.doc)) {
        //  Not YAML: one error, where libyaml gave up
        dt_policy_error_t *e = &errors->error [errors->count++];
        e->line = (int) parser.problem_mark.line + 1;
        e->column = (int) parser.problem_mark.column + 1;
        snprintf (e->reason, sizeof e->reason, "not valid YAML: %s%s%s",
                  parser.problem? parser.problem: "unreadable",
                  parser.context? " ": "", parser.context? parser.context: "");
        yaml_parser_delete (&parser);
        dt_policy_destroy (&p.policy);
        dt_tonebook_destroy (&p.scratch);
        s_names_free (&p.phrases);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node (&p.doc);
    if (!root)
        s_error (&p, NULL, "the file is empty; a policy has tone and rules sections");
    else
    if (s_expect_mapping (&p, root, "a policy"))
        s_each_pair (&p, root, "the policy", s_top, NULL);
    //  A second document would be silently ignored: refuse it
    yaml_document_t next;
    if (errors->count == 0 && yaml_parser_load (&parser, &next)) {
        yaml_node_t *second = yaml_document_get_root_node (&next);
        if (second)
            s_error (&p, second, "a policy file holds one document; remove the second '---'");
        yaml_document_delete (&next);
    }
    //  What only the whole book shows (duplicates after Unicode folding)
    char err [256];
    if (errors->count == 0 && stages
    &&  dt_tonebook_validate (p.scratch, stages, err, sizeof err))
        s_error (&p, root, "%s", err);
    yaml_document_delete (&p.doc);
    yaml_parser_delete (&parser);
    dt_tonebook_destroy (&p.scratch);
    s_names_free (&p.phrases);
    if (errors->count) {
        dt_policy_destroy (&p.policy);
        return NULL;
    }
    return p.policy;
}

//  --------------------------------------------------------------------------
//  Canonical text

//  A character YAML reads as a line break (NEL, LINE and PARAGRAPH
//  SEPARATOR) or does not allow in a document (C1 controls, BOM, what is
//  no character): escaped in double quotes, never written as it is
static bool
s_yaml_unsafe (uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF
        || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF;
}

//  Plain YAML text reads best; anything YAML could read otherwise (a
//  colon, a leading dash, "yes", a line break beyond ASCII) is double-quoted
static bool
s_plain_ok (const char *text)
{
    static const char *const reserved [] = {
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "all", NULL
    };
    if (!*text || !isalnum ((unsigned char) text [0]))
        return false;
    size_t len = strlen (text);
    if (text [len - 1] == ' ')
        return false;
    for (const char *c = text; *c; c++)
        if (!isalnum ((unsigned char) *c) && !strchr (" _./+-%@", *c) && (unsigned char) *c < 0x80)
            return false;
    const uint8_t *at = (const uint8_t *) text, *end = at + len;
    while (at < end) {
        uint32_t cp;
        at += dt_utf8_next (at, end, &cp);
        if (s_yaml_unsafe (cp))
            return false;
    }
    for (int i = 0; reserved [i]; i++)
        if (strcasecmp (text, reserved [i]) == 0)
            return false;
    return true;
}

static void
s_put_text (dt_buf_t *out, const char *text)
{
    if (s_plain_ok (text)) {
        dt_buf_puts (out, text);
        return;
    }
    dt_buf_putc (out, '"');
    const unsigned char *end = (const unsigned char *) text + strlen (text);
    for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
        if (*c == '"' || *c == '\\') {
            dt_buf_putc (out, '\\');
            dt_buf_putc (out, (char) *c);
        }
        else
        if (*c == '\n')
            dt_buf_puts (out, "\\n");
        else
        if (*c == '\t')
            dt_buf_puts (out, "\\t");
        else
        if (*c < 0x20 || *c == 0x7F)
            dt_buf_printf (out, "\\x%02x", *c);
        else
        if (*c < 0x80)
            dt_buf_putc (out, (char) *c);
        else {
            uint32_t cp;
            size_t n = dt_utf8_next (c, end, &cp);
            if (s_yaml_unsafe (cp))
                dt_buf_printf (out, "\\u%04x", (unsigned) cp);
            else
                dt_buf_append (out, c, n);
            c += n - 1;
        }
    }
    dt_buf_putc (out, '"');
}

static int
s_theme_order (const void *a, const void *b)
{
    return strcmp ((*(const theme_t *const *) a)->name, (*(const theme_t *const *) b)->name);
}

static int
s_claim_order (const void *a, const void *b)
{
    return strcmp ((*(const claim_t *const *) a)->key, (*(const claim_t *const *) b)->key);
}

static int
s_banned_order (const void *a, const void *b)
{
    return strcmp ((*(const banned_t *const *) a)->phrase, (*(const banned_t *const *) b)->phrase);
}

//  Pointers to count items of size bytes, sorted
static const void **
s_sorted (const void *items, size_t count, size_t size, int (*order) (const void *, const void *))
{
    const void **sorted = (const void **) calloc (count + 1, sizeof (void *));
    if (!sorted)
        return NULL;
    for (size_t i = 0; i < count; i++)
        sorted [i] = (const char *) items + i * size;
    qsort (sorted, count, sizeof (void *), order);
    return sorted;
}

//  A theme's stages as the file writes them: [a, b] or all
static void
s_put_stages (dt_buf_t *out, const char *csv)
{
    if (!*csv) {
        dt_buf_puts (out, "all");
        return;
    }
    dt_buf_putc (out, '[');
    for (const char *c = csv; *c; c++) {
        if (*c == ',')
            dt_buf_puts (out, ", ");
        else
            dt_buf_putc (out, *c);
    }
    dt_buf_putc (out, ']');
}

void
dt_policy_format (const dt_policy_t *self, dt_buf_t *out)
{
    char text [64];
    dt_buf_puts (out,
        "# Dualtrack policy (docs/policy.md). Check it with `dualtrack policy validate`,\n"
        "# see what it changes with `dualtrack policy diff`, make it live with\n"
        "# `dualtrack policy apply FILE --note \"why\"`.\n"
        "tone:\n  themes:");
    const theme_t **themes = (const theme_t **) s_sorted (self->themes, self->theme_count,
                                                          sizeof (theme_t), s_theme_order);
    dt_buf_puts (out, self->theme_count? "\n": " {}\n");
    for (size_t i = 0; themes && i < self->theme_count; i++) {
        const theme_t *t = themes [i];
        dt_buf_puts (out, "    ");
        s_put_text (out, t->name);
        dt_buf_puts (out, ":\n      stages: ");
        s_put_stages (out, t->stages);
        dt_buf_putc (out, '\n');
        if (t->valid_from) {
            s_date_format (t->valid_from, text, sizeof text);
            dt_buf_printf (out, "      from: %s\n", text);
        }
        if (t->valid_to) {
            s_date_format (t->valid_to, text, sizeof text);
            dt_buf_printf (out, "      until: %s\n", text);
        }
        if (t->retired)
            dt_buf_puts (out, "      retired: true\n");
        if (t->note) {
            dt_buf_puts (out, "      note: ");
            s_put_text (out, t->note);
            dt_buf_putc (out, '\n');
        }
    }
    free (themes);
    dt_buf_puts (out, "  claims:");
    const claim_t **claims = (const claim_t **) s_sorted (self->claims, self->claim_count,
                                                          sizeof (claim_t), s_claim_order);
    dt_buf_puts (out, self->claim_count? "\n": " {}\n");
    for (size_t i = 0; claims && i < self->claim_count; i++) {
        dt_buf_puts (out, "    ");
        s_put_text (out, claims [i]->key);
        dt_buf_puts (out, ": ");
        s_put_text (out, claims [i]->value);
        dt_buf_putc (out, '\n');
    }
    free (claims);
    dt_buf_puts (out, "  banned:");
    const banned_t **banned = (const banned_t **) s_sorted (self->banned, self->banned_count,
                                                            sizeof (banned_t), s_banned_order);
    dt_buf_puts (out, self->banned_count? "\n": " []\n");
    for (size_t i = 0; banned && i < self->banned_count; i++) {
        if (banned [i]->instead) {
            dt_buf_puts (out, "    - phrase: ");
            s_put_text (out, banned [i]->phrase);
            dt_buf_puts (out, "\n      instead: ");
            s_put_text (out, banned [i]->instead);
        }
        else {
            dt_buf_puts (out, "    - ");
            s_put_text (out, banned [i]->phrase);
        }
        dt_buf_putc (out, '\n');
    }
    free (banned);
    dt_buf_puts (out, "rules:\n  severity:\n");
    for (int r = 0; r < DT_RULES; r++)
        dt_buf_printf (out, "    %s: %s\n", dt_rule_id ((dt_rule_t) r),
                       dt_severity_name (self->cfg.severity [r]));
    const char *section = "";
    for (size_t i = 0; i < SETTINGS; i++) {
        if (strcmp (section, s_settings [i].section) != 0) {
            section = s_settings [i].section;
            dt_buf_printf (out, "  %s:\n", section);
        }
        char value [DT_SETTING_TEXT_MAX];
        dt_rules_config_get (&self->cfg, s_settings [i].setting, value, sizeof value);
        dt_buf_printf (out, "    %s: ", s_settings [i].key);
        s_put_text (out, value);
        dt_buf_putc (out, '\n');
    }
}

//  --------------------------------------------------------------------------
//  Differences

static void
s_theme_text (const theme_t *t, dt_buf_t *out)
{
    char text [64];
    dt_buf_puts (out, "stages ");
    s_put_stages (out, t->stages);
    if (t->valid_from) {
        s_date_format (t->valid_from, text, sizeof text);
        dt_buf_printf (out, ", from %s", text);
    }
    if (t->valid_to) {
        s_date_format (t->valid_to, text, sizeof text);
        dt_buf_printf (out, ", until %s", text);
    }
    if (t->retired)
        dt_buf_puts (out, ", retired");
}

//  A policy's rows by name: themes, claim keys, phrases (by s_phrase_key)
typedef struct {
    names_t themes, claims, banned;
} rows_index_t;

static void
s_rows_index (const dt_policy_t *self, rows_index_t *index)
{
    memset (index, 0, sizeof *index);
    for (size_t i = 0; i < self->theme_count; i++)
        s_names_put (&index->themes, self->themes [i].name, i, NULL);
    for (size_t i = 0; i < self->claim_count; i++)
        s_names_put (&index->claims, self->claims [i].key, i, NULL);
    for (size_t i = 0; i < self->banned_count; i++) {
        char *key = s_phrase_key (self->banned [i].phrase);
        if (key)
            s_names_put (&index->banned, key, i, NULL);
        free (key);
    }
}

static void
s_rows_index_free (rows_index_t *index)
{
    s_names_free (&index->themes);
    s_names_free (&index->claims);
    s_names_free (&index->banned);
}

static const theme_t *
s_find_theme (const dt_policy_t *self, const rows_index_t *index, const char *name)
{
    size_t i;
    return s_names_get (&index->themes, name, &i)? &self->themes [i]: NULL;
}

static const claim_t *
s_find_claim (const dt_policy_t *self, const rows_index_t *index, const char *key)
{
    size_t i;
    return s_names_get (&index->claims, key, &i)? &self->claims [i]: NULL;
}

static const banned_t *
s_find_banned (const dt_policy_t *self, const rows_index_t *index, const char *phrase)
{
    char *key = s_phrase_key (phrase);
    size_t i;
    bool found = key && s_names_get (&index->banned, key, &i);
    free (key);
    return found? &self->banned [i]: NULL;
}

static bool
s_same_text (const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp (a, b) == 0);
}

int
dt_policy_diff (const dt_policy_t *from, const dt_policy_t *to, dt_buf_t *out)
{
    int lines = 0;
    rows_index_t from_index, to_index;
    s_rows_index (from, &from_index);
    s_rows_index (to, &to_index);
    for (size_t i = 0; i < to->theme_count; i++) {
        const theme_t *after = &to->themes [i], *before = s_find_theme (from, &from_index, after->name);
        if (!before) {
            dt_buf_printf (out, "theme added: %s (", after->name);
            s_theme_text (after, out);
            dt_buf_puts (out, ")\n");
            lines++;
        }
        else
        if (strcmp (before->stages, after->stages) || before->valid_from != after->valid_from
        ||  before->valid_to != after->valid_to || before->retired != after->retired) {
            dt_buf_printf (out, "theme changed: %s: ", after->name);
            s_theme_text (before, out);
            dt_buf_puts (out, " -> ");
            s_theme_text (after, out);
            dt_buf_putc (out, '\n');
            lines++;
        }
        else
        if (!s_same_text (before->note, after->note)) {
            dt_buf_printf (out, "theme note changed: %s\n", after->name);
            lines++;
        }
    }
    for (size_t i = 0; i < from->theme_count; i++)
        if (!s_find_theme (to, &to_index, from->themes [i].name)) {
            dt_buf_printf (out, "theme removed: %s\n", from->themes [i].name);
            lines++;
        }
    for (size_t i = 0; i < to->claim_count; i++) {
        const claim_t *after = &to->claims [i], *before = s_find_claim (from, &from_index, after->key);
        if (!before)
            dt_buf_printf (out, "claim added: %s = %s\n", after->key, after->value);
        else
        if (strcmp (before->value, after->value))
            dt_buf_printf (out, "claim changed: %s = %s -> %s\n", after->key, before->value,
                           after->value);
        else
            continue;
        lines++;
    }
    for (size_t i = 0; i < from->claim_count; i++)
        if (!s_find_claim (to, &to_index, from->claims [i].key)) {
            dt_buf_printf (out, "claim removed: %s\n", from->claims [i].key);
            lines++;
        }
    for (size_t i = 0; i < to->banned_count; i++) {
        const banned_t *after = &to->banned [i], *before = s_find_banned (from, &from_index, after->phrase);
        if (!before) {
            dt_buf_printf (out, "banned phrase added: \"%s\"", after->phrase);
            if (after->instead)
                dt_buf_printf (out, " (instead: \"%s\")", after->instead);
            dt_buf_putc (out, '\n');
        }
        else
        if (!s_same_text (before->instead, after->instead))
            dt_buf_printf (out, "banned phrase \"%s\": instead \"%s\" -> \"%s\"\n",
                           after->phrase, before->instead? before->instead: "",
                           after->instead? after->instead: "");
        else
            continue;
        lines++;
    }
    for (size_t i = 0; i < from->banned_count; i++)
        if (!s_find_banned (to, &to_index, from->banned [i].phrase)) {
            dt_buf_printf (out, "banned phrase removed: \"%s\"\n", from->banned [i].phrase);
            lines++;
        }
    for (int r = 0; r < DT_RULES; r++)
        if (from->cfg.severity [r] != to->cfg.severity [r]) {
            dt_buf_printf (out, "severity of %s: %s -> %s\n", dt_rule_id ((dt_rule_t) r),
                           dt_severity_name (from->cfg.severity [r]),
                           dt_severity_name (to->cfg.severity [r]));
            lines++;
        }
    for (size_t i = 0; i < SETTINGS; i++) {
        char before [DT_SETTING_TEXT_MAX], after [DT_SETTING_TEXT_MAX];
        dt_rules_config_get (&from->cfg, s_settings [i].setting, before, sizeof before);
        dt_rules_config_get (&to->cfg, s_settings [i].setting, after, sizeof after);
        if (strcmp (before, after)) {
            dt_buf_printf (out, "%s %s: %s -> %s\n", s_settings [i].section, s_settings [i].key,
                           before, after);
            lines++;
        }
    }
    s_rows_index_free (&from_index);
    s_rows_index_free (&to_index);
    return lines;
}
