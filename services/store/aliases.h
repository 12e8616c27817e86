/*  aliases.h - the alias maps read from the store and put in force: the
    rows of contact_aliases and account_aliases (migration 007) loaded into
    a rules/identity map, validated, compared with the map in force, and
    handed to the engine; every attempt recorded in identity_reloads
    (migration 008) and logged with what changed.

    Merging after the fact: memory filed under canonical ids the change
    touched is dropped (dt_engine_forget), so the next touchpoint of such a
    buyer brings its history back under the new mapping (the coordinator's
    preload, with dt_aliases_ids) and is judged against all of it, as if
    the ids had always been one buyer; removing an alias splits them again
    the same way. For contacts, the accounts whose stored touchpoints name
    a contact id that moved are dropped.

    Reads through the history's connection, on the coordinator's main
    thread, as the tone book does.
*/
#ifndef DT_ALIASES_H
#define DT_ALIASES_H

#include "store/history.h"

//  Told each canonical account whose memory was dropped (or that now has
//  ids with history it did not have), so the caller can mark it as one
//  whose history the store may hold
typedef void (dt_aliases_mark_fn) (void *ctx, dt_str_t canonical);

//  Both alias tables as a new, validated map (the caller owns it), read
//  only: nothing is recorded. NULL with the reason (naming the rows) in err.
dt_identity_t *dt_aliases_load (struct pg_conn *conn, char *err, size_t errlen);

//  Load both alias tables and put them in force in the engine. On a
//  refused change (a row that breaks validation, or a failed query) the
//  map in force stays, the reason (naming the rows) is logged and recorded
//  and -1 returned with it in err. On success the change is logged and
//  recorded with rows added and removed per kind, and the memory of the
//  buyers it touched (with touchpoints since since_ms, for contacts) is
//  dropped. Returns 0.
int dt_aliases_reload (dt_history_t *history, dt_engine_t *engine, int64_t since_ms,
                       dt_aliases_mark_fn *mark, void *ctx, char *err, size_t errlen);

//  The accounts whose stored touchpoints occurred since since_ms and name
//  one of contacts (a PostgreSQL array literal being built: "{" and
//  elements by dt_history_array_element; this closes it) as sent or as
//  judged: fn is told each account as stored (valid during the call).
//  The buyers whose judgement a change moved (an alias, a time zone) have
//  their memory dropped through it. 0, or -1 with err (the query failed).
typedef void (dt_aliases_account_fn) (void *ctx, dt_str_t account);
int dt_aliases_contact_accounts (struct pg_conn *conn, dt_buf_t *contacts, int64_t since_ms,
                                 dt_aliases_account_fn *fn, void *ctx, char *err, size_t errlen);

//  Every id the store may hold an account's touchpoints under: the
//  canonical id itself and each of its aliases (as added and normalised),
//  appended to ids (grown with realloc; *count and *alloc updated).
//  canonical must outlive ids' use (the map in force answers for the
//  aliases). Returns 0, or -1 out of memory.
int dt_aliases_ids (dt_engine_t *engine, dt_str_t canonical, dt_str_t **ids,
                    size_t *count, size_t *alloc);

#endif
