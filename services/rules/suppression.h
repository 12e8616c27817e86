/*  suppression.h - consent: the contacts and accounts no touchpoint may
    reach (a buyer who unsubscribed, complained, or must not be contacted
    for legal reasons), each for a scope and a time range.

    The caller adds the rows (they live in PostgreSQL, table suppressions,
    docs/schema.md; this module does no I/O), seals the set, and the rule
    engine looks ids up (rules/engine.h, dt_engine_set_suppressions; rule
    `suppressed`, docs/rules.md). A row that fails validation is refused
    with a sentence naming the row and the field; the set then refuses to
    seal, so the caller keeps its old set in force and a bad change loses
    nothing.

    Rows name buyers by any of their ids; dt_suppression_resolve files them
    under the canonical ids of an alias map (rules/identity.h), again
    whenever the map changes, so suppressing bob@acme.com suppresses
    003Dn00000Xk2 when the two are one buyer. Lookups allocate nothing.
*/
#ifndef DT_SUPPRESSION_H
#define DT_SUPPRESSION_H

#include "rules/identity.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _dt_suppression_t dt_suppression_t;

typedef enum {
    DT_SUPPRESS_PROMOTIONAL = 0,   //  transactional touchpoints are exempt
    DT_SUPPRESS_ALL = 1            //  every touchpoint
} dt_suppress_scope_t;

//  until: open-ended
#define DT_SUPPRESS_OPEN    INT64_MAX

//  One row, as added
typedef struct {
    dt_id_kind_t kind;
    dt_suppress_scope_t scope;
    int64_t since, until;       //  ms since the epoch; [since, until)
    const char *id;             //  as the row names it
    const char *reason;
} dt_suppression_row_t;

dt_suppression_t *dt_suppression_new (void);
void dt_suppression_destroy (dt_suppression_t **self_p);

//  Add a row: kind "contact" or "account", the id (1..256 bytes of valid
//  UTF-8), scope "promotional" or "all", since, until (DT_SUPPRESS_OPEN for
//  none; after since), reason (1..1000 bytes). Strings are copied. Returns
//  0, or -1 with a sentence naming the row (its number, from 1, and id) and
//  the field; a refused row also makes the set refuse to seal.
int dt_suppression_add (dt_suppression_t *self, const char *kind, const char *id,
                        const char *scope, int64_t since, int64_t until,
                        const char *reason, char *err, size_t errlen);

//  Check the rows and index them under the canonical ids identity gives
//  their ids (dt_identity_resolve), or under their ids exactly as given
//  when identity is NULL (the engine then judges ids as sent too). Call
//  again with the new map whenever it changes; the map must be valid. Returns 0, or -1 with the first refused row's
//  sentence (the set answers no lookups then).
int dt_suppression_resolve (dt_suppression_t *self, dt_identity_t *identity,
                            char *err, size_t errlen);

//  The row that forbids a touchpoint to the buyer known by canonical id
//  at time at (a transactional one passes promotional rows), or NULL. The
//  set must be resolved. The earliest-starting such row when several do.
const dt_suppression_row_t *dt_suppression_find (const dt_suppression_t *self,
                                                 dt_id_kind_t kind, dt_str_t id,
                                                 int64_t at, bool transactional);

size_t dt_suppression_rows (const dt_suppression_t *self);

//  Rows in force at time at (since <= at < until), of either scope
size_t dt_suppression_in_force (const dt_suppression_t *self, int64_t at);

//  What changed from old to new (either may be NULL: no rows): *added rows
//  of new that old has not, *removed rows of old that new has not, rows
//  compared by kind, id, scope, since, until and reason (a row edited
//  counts once in each). Returns 0, or -1 out of memory.
int dt_suppression_diff (const dt_suppression_t *old, const dt_suppression_t *new_set,
                         size_t *added, size_t *removed);

//  Scope names: "promotional", "all"; parse returns -1 for anything else
const char *dt_suppress_scope_name (dt_suppress_scope_t scope);
int dt_suppress_scope_parse (const char *name, dt_suppress_scope_t *scope);

#endif
