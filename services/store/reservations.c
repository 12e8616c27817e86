/*  reservations.c - see reservations.h
*/
#include "store/reservations.h"
#include "store/pgconn.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A new row and the rows it took, in one statement (one transaction; a
//  data-modifying WITH runs whether or not the INSERT reads it)
#define RECORD_SQL \
    "WITH taken AS (UPDATE reservations SET taken_by = $1, taken_at = to_timestamp ($4::bigint / 1000.0)" \
    "  WHERE token = ANY ($14::text []) AND taken_by IS NULL RETURNING token)" \
    " INSERT INTO reservations (token, owner, priority, created_at, expires_at, account_key," \
    "  contact_key, track, channel, kind, category, planned_at, zone)" \
    " VALUES ($1, $2, $3::integer, to_timestamp ($4::bigint / 1000.0)," \
    "  to_timestamp ($5::bigint / 1000.0), $6, $7, $8, $9, $10, $11," \
    "  to_timestamp ($12::bigint / 1000.0), nullif ($13, ''))"

#define MS(column) "(extract (epoch FROM " column ") * 1000)::bigint"
#define LOAD_SQL \
    "SELECT r.token, r.owner, r.priority, " MS ("r.created_at") ", " MS ("r.expires_at") "," \
    " r.account_key, r.contact_key, r.track, r.channel, r.kind, r.category," \
    " " MS ("r.planned_at") ", coalesce (r.zone, ''), u.id, coalesce (r.taken_by, '')," \
    " coalesce (b.owner, ''), coalesce (" MS ("r.taken_at") ", 0)" \
    " FROM reservations r" \
    " LEFT JOIN LATERAL (SELECT t.id FROM touchpoints t WHERE t.reservation = r.token LIMIT 1) u ON true" \
    " LEFT JOIN reservations b ON b.token = r.taken_by" \
    " WHERE r.expires_at > to_timestamp ($1::bigint / 1000.0)"

int
dt_reservations_record (dt_history_t *history, const dt_reservation_t *held,
                        const dt_reservation_t *taken, int taken_count, char *err, size_t errlen)
{
    PGconn *conn = dt_history_conn_or_say (history, err, errlen);
    if (!conn)
        return -1;
    char priority [16], created [24], expires [24], planned [24];
    snprintf (priority, sizeof priority, "%d", held->priority);
    snprintf (created, sizeof created, "%lld", (long long) held->created_at);
    snprintf (expires, sizeof expires, "%lld", (long long) held->expires_at);
    snprintf (planned, sizeof planned, "%lld", (long long) held->planned_at);
    //  Tokens are ours (uuids): no quoting needed inside the array literal
    char tokens [DT_TAKEN_LIST_MAX] = "{";
    for (int i = 0; i < taken_count; i++) {
        size_t len = strlen (tokens);
        snprintf (tokens + len, sizeof tokens - len, "%s\"%s\"", i? ",": "", taken [i].token);
    }
    strncat (tokens, "}", sizeof tokens - strlen (tokens) - 1);
    const char *values [14] = {
        held->token, held->owner, priority, created, expires, held->account_key,
        held->contact_key, dt_track_name (held->track), held->channel, held->kind,
        dt_category_name (held->category), planned, held->zone, tokens
    };
    PGresult *result = dt_pg_query (conn, RECORD_SQL, 14, values, PGRES_COMMAND_OK, err, errlen);
    PQclear (result);
    return result? 0: -1;
}

int64_t
dt_reservations_load (dt_history_t *history, dt_engine_t *engine, int64_t now_ms,
                      char *err, size_t errlen)
{
    PGconn *conn = dt_history_conn_or_say (history, err, errlen);
    if (!conn)
        return -1;
    char since [24];
    snprintf (since, sizeof since, "%lld", (long long) (now_ms - DT_RESERVATION_KEEP_MS));
    const char *values [1] = { since };
    PGresult *result = dt_pg_query (conn, LOAD_SQL, 1, values, PGRES_TUPLES_OK, err, errlen);
    if (!result)
        return -1;
    int64_t count = 0;
    for (int i = 0; i < PQntuples (result); i++) {
        dt_reservation_t rec;
        memset (&rec, 0, sizeof rec);
        #define COPY(field, column) \
            snprintf (rec.field, sizeof rec.field, "%s", PQgetvalue (result, i, column))
        COPY (token, 0);
        COPY (owner, 1);
        rec.priority = atoi (PQgetvalue (result, i, 2));
        rec.created_at = atoll (PQgetvalue (result, i, 3));
        rec.expires_at = atoll (PQgetvalue (result, i, 4));
        COPY (account_key, 5);
        COPY (contact_key, 6);
        const char *track = PQgetvalue (result, i, 7);
        rec.track = dt_track_parse (track, strlen (track));
        COPY (channel, 8);
        COPY (kind, 9);
        const char *category = PQgetvalue (result, i, 10);
        rec.category = strcmp (category, "promotional") == 0? DT_CATEGORY_PROMOTIONAL:
                       strcmp (category, "transactional") == 0? DT_CATEGORY_TRANSACTIONAL:
                                                                 DT_CATEGORY_ONE_TO_ONE;
        rec.planned_at = atoll (PQgetvalue (result, i, 11));
        COPY (zone, 12);
        if (!PQgetisnull (result, i, 13)) {
            rec.state = DT_RESERVATION_USED;
            COPY (used_by, 13);
        }
        else
        if (PQgetvalue (result, i, 14) [0]) {
            rec.state = DT_RESERVATION_PREEMPTED;
            COPY (taken_by, 14);
            COPY (taken_by_owner, 15);
            rec.ended_at = atoll (PQgetvalue (result, i, 16));
        }
        #undef COPY
        if (dt_engine_restore_reservation (engine, &rec) == 0)
            count++;
    }
    PQclear (result);
    return count;
}
