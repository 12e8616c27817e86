/*  tonebook.h - the tone book: the approved themes (with the stages each may
    be used at and its validity dates), the canonical claims, the banned
    phrases. It is the "one tone" of DOMAIN.md rule 2 as data.

    The caller builds it row by row (the rows live in PostgreSQL; this module
    does no I/O), then validates it against the configured stages. Only a
    tone book that passed dt_tonebook_validate answers lookups; a broken one
    is refused with a sentence that names the offending row, so the caller
    can keep the old one in force.

    Theme names and claim keys match exactly (byte for byte). Banned phrases
    match case-insensitively on whole words, see dt_tonebook_scan.
*/
#ifndef DT_TONEBOOK_H
#define DT_TONEBOOK_H

#include "proto/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct _dt_tonebook_t dt_tonebook_t;

//  What the tone book says about a theme at a time and stage
typedef enum {
    DT_THEME_OK = 0,
    DT_THEME_UNKNOWN,           //  not in the tone book
    DT_THEME_RETIRED,
    DT_THEME_NOT_YET,           //  before valid_from (*when_ms = valid_from)
    DT_THEME_EXPIRED,           //  at or after valid_to (*when_ms = valid_to)
    DT_THEME_WRONG_STAGE        //  valid, but not approved at that stage
} dt_theme_status_t;

#define DT_PHRASE_MAX       256     //  bytes in a banned phrase

//  Create an empty tone book
dt_tonebook_t *dt_tonebook_new (void);

//  Destroy the tone book and null the caller's pointer; safe on NULL
void dt_tonebook_destroy (dt_tonebook_t **self_p);

//  Add an approved theme. stages_csv lists the stage names it may be used at
//  ("awareness,interest"); "" or "*" means every stage. Stage names are
//  checked by dt_tonebook_validate. valid_from_ms/valid_to_ms are 0 for
//  "no limit"; the theme is valid from valid_from (inclusive) until valid_to
//  (exclusive). Returns 0, or -1 with a sentence in err; a failed add also
//  makes dt_tonebook_validate fail, so a half-loaded book is never used.
int dt_tonebook_add_theme (dt_tonebook_t *self, const char *name, const char *stages_csv,
                           int64_t valid_from_ms, int64_t valid_to_ms, bool retired,
                           char *err, size_t errlen);

//  Add a canonical claim: the value every touchpoint must use for key
int dt_tonebook_add_claim (dt_tonebook_t *self, const char *key, const char *canonical_value,
                           char *err, size_t errlen);

//  Add a banned phrase (a word or several; runs of white space inside it
//  match any run of white space in a text)
int dt_tonebook_add_banned (dt_tonebook_t *self, const char *phrase, char *err, size_t errlen);

//  Check the whole book against the stages and build its lookup indexes:
//  refuses unknown stages, duplicate themes, claim keys or phrases, and
//  any row an add refused. Returns 0, or -1 with a sentence in err.
int dt_tonebook_validate (dt_tonebook_t *self, const dt_stageset_t *stages,
                          char *err, size_t errlen);

//  True if validated and not changed since
bool dt_tonebook_valid (const dt_tonebook_t *self);

//  Row counts and bytes held (for logs and the benchmark)
size_t dt_tonebook_themes (const dt_tonebook_t *self);
size_t dt_tonebook_claims (const dt_tonebook_t *self);
size_t dt_tonebook_phrases (const dt_tonebook_t *self);
size_t dt_tonebook_bytes (const dt_tonebook_t *self);

//  --------------------------------------------------------------------------
//  Lookups; the tone book must be valid

//  Judge a theme at time at_ms and stage_index (-1 to skip the stage check).
//  when_ms gets the validity bound for NOT_YET/EXPIRED; stages gets the
//  approved stages as text ("awareness, interest") for WRONG_STAGE. Either
//  out pointer may be NULL.
dt_theme_status_t dt_tonebook_theme (const dt_tonebook_t *self, dt_str_t theme,
                                     int64_t at_ms, int stage_index,
                                     int64_t *when_ms, const char **stages);

//  True if the theme is in the book at all (any status but UNKNOWN)
bool dt_tonebook_has_theme (const dt_tonebook_t *self, dt_str_t theme);

//  The canonical value for a claim key as a slice, or false if none
bool dt_tonebook_canonical (const dt_tonebook_t *self, dt_str_t key, dt_str_t *value);

//  Find banned phrases in text: whole words or phrases only (the characters
//  just before and after a match are not word characters), case folded by
//  Unicode's simple case folding (base/utf8.h). CJK characters do not
//  count as word characters (those scripts do not put spaces between
//  words), so a Chinese phrase matches inside a Chinese sentence. Never
//  reads outside ptr/len; invalid UTF-8 bytes count as non-letters.
//  Writes up to max distinct phrase indexes not already in hits[0..*count)
//  to hits, updating *count. Returns the number added.
int dt_tonebook_scan (const dt_tonebook_t *self, const char *ptr, size_t len,
                      int *hits, int *count, int max);

//  The text of banned phrase index (as normalised when added)
const char *dt_tonebook_phrase (const dt_tonebook_t *self, int index);

//  Give the banned phrase added last a suggested replacement (a policy's
//  `instead`), which the banned_phrase finding names. Returns 0, or -1 with
//  a sentence in err (no phrase yet, empty, too long or not valid UTF-8).
int dt_tonebook_suggest (dt_tonebook_t *self, const char *suggestion, char *err, size_t errlen);

//  The suggested replacement of banned phrase index, or NULL if none
const char *dt_tonebook_suggestion (const dt_tonebook_t *self, int index);

#endif
