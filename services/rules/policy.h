/*  policy.h - the policy file (docs/policy.md): the whole policy the people
    who own it (marketing and sales operations) write by hand, in YAML: the
    tone book (themes with their stages and validity dates, canonical
    claims, banned phrases with what to say instead) and every rule setting
    of settings.h (severities, windows, scopes, pressure limits).

    This module turns the text into a rule configuration and the rows of a
    tone book, with every error located (line and column, from libyaml's
    marks) and its reason, and back into canonical text (dt_policy_format:
    sorted, every setting written, so export -> apply -> export gives the
    same bytes). It also says what changed between two policies in words
    (dt_policy_diff).

    Pure: parsing text is not I/O (libyaml reads from memory here), so the
    CLI, the coordinator and tests all use it. Settings a file leaves out
    keep the values of the defaults passed in (the coordinator's options).
*/
#ifndef DT_POLICY_H
#define DT_POLICY_H

#include "base/buf.h"
#include "proto/event.h"
#include "rules/settings.h"
#include "rules/tonebook.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _dt_policy_t dt_policy_t;

//  Where the text is wrong, and why. Lines and columns count from 1.
#define DT_POLICY_ERRORS_MAX 32
typedef struct {
    int line, column;
    char reason [256];
} dt_policy_error_t;

typedef struct {
    int count;                  //  in error [], at most DT_POLICY_ERRORS_MAX
    int more;                   //  errors found beyond those
    dt_policy_error_t error [DT_POLICY_ERRORS_MAX];
} dt_policy_errors_t;

//  An empty policy (no tone book) over a copy of the settings defaults
//  (NULL: the documented defaults)
dt_policy_t *dt_policy_new (const dt_rules_config_t *defaults);

//  Destroy it and null the caller's pointer; safe on NULL
void dt_policy_destroy (dt_policy_t **self_p);

//  Parse a policy file's text (len bytes, need not end in NUL) over the
//  settings defaults (NULL: documented ones). With stages, every theme's
//  stage must be one of them. Returns the policy, or NULL with every error
//  found (up to DT_POLICY_ERRORS_MAX, the rest counted) in errors.
dt_policy_t *dt_policy_parse (const char *text, size_t len, const dt_rules_config_t *defaults,
                              const dt_stageset_t *stages, dt_policy_errors_t *errors);

//  Build a policy row by row (from the tone-book tables of a store that has
//  no policy yet). Stages as "awareness,interest" ("" or "*": all);
//  dates in ms since the epoch, 0 none; note and instead may be NULL.
//  Each returns 0, or -1 with a sentence in err.
int dt_policy_add_theme (dt_policy_t *self, const char *name, const char *stages,
                         int64_t valid_from, int64_t valid_to, bool retired, const char *note,
                         char *err, size_t errlen);
int dt_policy_add_claim (dt_policy_t *self, const char *key, const char *value,
                         char *err, size_t errlen);
int dt_policy_add_banned (dt_policy_t *self, const char *phrase, const char *instead,
                          char *err, size_t errlen);

//  The rule settings: read them, or change them while building
dt_rules_config_t *dt_policy_config (dt_policy_t *self);

//  A new tone book from the policy's rows (the caller owns it; it is not
//  validated yet: dt_engine_set_tonebook validates it against the
//  engine's stages). NULL if memory runs out or a row is refused (err).
dt_tonebook_t *dt_policy_tonebook (const dt_policy_t *self, char *err, size_t errlen);

//  Row counts
size_t dt_policy_themes (const dt_policy_t *self);
size_t dt_policy_claims (const dt_policy_t *self);
size_t dt_policy_banned (const dt_policy_t *self);

//  Append the canonical text of the policy to out: a header comment, then
//  tone (themes, claims, banned phrases, each sorted) and rules (every
//  setting). Parsing it gives the same policy, and formatting that the
//  same bytes.
void dt_policy_format (const dt_policy_t *self, dt_buf_t *out);

//  Append what changes from policy `from` to policy `to`, one line each
//  ("collision window: 72h -> 30d", "theme added: ..."). Returns the
//  number of lines (0: the same policy).
int dt_policy_diff (const dt_policy_t *from, const dt_policy_t *to, dt_buf_t *out);

#endif
