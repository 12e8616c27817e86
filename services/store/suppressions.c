/*  suppressions.c - see suppressions.h
*/
#include "store/suppressions.h"
#include "base/log.h"
#include "store/pgconn.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_RELOADS   "suppression_reloads"

//  Times as ms since the epoch; a time that is not finite comes back NULL
//  (the table's constraints forbid it: a row edited past them is refused)
#define SELECT_ROWS \
    "SELECT suppression_no, kind, id, scope, reason," \
    " CASE WHEN isfinite (since) THEN (extract (epoch FROM since) * 1000)::bigint END," \
    " CASE WHEN isfinite (until) THEN (extract (epoch FROM until) * 1000)::bigint END," \
    " until IS NULL" \
    " FROM suppressions ORDER BY suppression_no"

//  Every row into set; 0, or -1 with err naming the row
static int
s_load (PGconn *conn, dt_suppression_t *set, char *err, size_t errlen)
{
    PGresult *result = dt_pg_query (conn, SELECT_ROWS, 0, NULL, PGRES_TUPLES_OK, err, errlen);
    if (!result)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples (result) && rc == 0; i++) {
        char sentence [384];
        const char *no = PQgetvalue (result, i, 0);
        bool open = PQgetvalue (result, i, 7) [0] == 't';
        if (PQgetisnull (result, i, 5) || (!open && PQgetisnull (result, i, 6))) {
            snprintf (sentence, sizeof sentence, "since and until must be finite times");
            rc = -1;
        }
        else
            rc = dt_suppression_add (set, PQgetvalue (result, i, 1), PQgetvalue (result, i, 2),
                                     PQgetvalue (result, i, 3),
                                     atoll (PQgetvalue (result, i, 5)),
                                     open? DT_SUPPRESS_OPEN: atoll (PQgetvalue (result, i, 6)),
                                     PQgetvalue (result, i, 4), sentence, sizeof sentence);
        if (rc)
            snprintf (err, errlen, "suppressions row suppression_no %s (%.8s %.60s): %s", no,
                      PQgetvalue (result, i, 1), PQgetvalue (result, i, 2), sentence);
    }
    PQclear (result);
    return rc;
}

dt_suppression_t *
dt_suppressions_load (PGconn *conn, char *err, size_t errlen)
{
    dt_suppression_t *set = dt_suppression_new ();
    if (!set)
        snprintf (err, errlen, "out of memory loading the suppressions");
    else
    if (s_load (conn, set, err, errlen))
        dt_suppression_destroy (&set);
    return set;
}

static int
s_refused (dt_history_t *history, const char *err)
{
    return dt_history_refused (history, TABLE_RELOADS,
                               "suppression change refused; the set in force stays", err);
}

int
dt_suppressions_reload (dt_history_t *history, dt_engine_t *engine, int64_t now_ms,
                        char *err, size_t errlen)
{
    PGconn *conn = dt_history_conn_or_say (history, err, errlen);
    if (!conn)
        return -1;
    err [0] = 0;
    dt_suppression_t *set = dt_suppression_new ();
    if (!set) {
        snprintf (err, errlen, "out of memory loading the suppressions");
        return s_refused (history, err);
    }
    size_t added = 0, removed = 0;
    if (s_load (conn, set, err, errlen)
    ||  dt_suppression_diff (dt_engine_suppressions (engine), set, &added, &removed)) {
        if (!*err)
            snprintf (err, errlen, "out of memory comparing the suppressions");
        dt_suppression_destroy (&set);
        return s_refused (history, err);
    }
    size_t rows = dt_suppression_rows (set);
    size_t in_force = dt_suppression_in_force (set, now_ms);
    if (dt_engine_set_suppressions (engine, &set, err, errlen))
        return s_refused (history, err);
    char message [128];
    snprintf (message, sizeof message, "suppressions +%zu -%zu (%zu rows, %zu in force now)",
              added, removed, rows, in_force);
    dt_info ("suppressions reloaded", "added=%zu removed=%zu rows=%zu in_force=%zu",
             added, removed, rows, in_force);
    dt_history_record (history, TABLE_RELOADS, true, message);
    return 0;
}
