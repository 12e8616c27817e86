/*  suppressions.h - consent read from the store: the rows of table
    suppressions (migration 014) loaded into a rules/suppression set,
    validated, compared with the set in force and handed to the engine
    (rule `suppressed`); every attempt recorded in suppression_reloads and
    logged with what changed.

    The engine files the set under the canonical ids of the alias map in
    force, and again whenever that map changes: nothing here depends on the
    order the two are loaded in. A suppression keeps no rule memory, so a
    change drops none. Reads through the history's connection, on the
    coordinator's main thread, as the tone book and the aliases do.
*/
#ifndef DT_SUPPRESSIONS_H
#define DT_SUPPRESSIONS_H

#include "store/history.h"

//  The table as a new set (the caller owns it), read only: nothing is
//  recorded (the what-if's way). NULL with the reason, naming the row, in err.
dt_suppression_t *dt_suppressions_load (struct pg_conn *conn, char *err, size_t errlen);

//  Load the table and put the set in force in the engine. On a refused
//  change (a row that fails validation, named by its suppression_no, or a
//  failed query) the set in force stays, the reason is logged and recorded
//  and -1 returned with it in err. On success the change is logged and
//  recorded (rows added and removed, rows in force at now_ms). Returns 0.
int dt_suppressions_reload (dt_history_t *history, dt_engine_t *engine, int64_t now_ms,
                            char *err, size_t errlen);

#endif
