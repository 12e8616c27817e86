/*  history.c - see history.h
*/
#include "store/history.h"
#include "store/pgconn.h"
#include "store/tprow.h"
#include "base/buf.h"
#include "base/log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _dt_history_t {
    char *uri;
    char *password;
    dt_stageset_t stages;
    PGconn *conn;
    dt_tprow_t *rows;           //  decodes a row into an event
    dt_buf_t accounts;          //  accounts to load, as an array literal
    dt_history_observer_fn *observer;
    void *observer_ctx;
};

void
dt_history_set_observer (dt_history_t *self, dt_history_observer_fn *fn, void *ctx)
{
    self->observer = fn;
    self->observer_ctx = ctx;
}

//  The columns a row must have to become an event for the engine
#define HISTORY_COLUMNS DT_TPROW_COLUMNS

dt_history_t *
dt_history_new (const char *uri, const char *password, const dt_stageset_t *stages)
{
    dt_history_t *self = calloc (1, sizeof *self);
    self->uri = strdup (uri);
    self->password = password? strdup (password): NULL;
    self->stages = *stages;
    self->rows = dt_tprow_new (stages);
    return self;
}

void
dt_history_destroy (dt_history_t **self_p)
{
    if (*self_p) {
        dt_history_t *self = *self_p;
        if (self->conn)
            PQfinish (self->conn);
        dt_tprow_destroy (&self->rows);
        dt_buf_free (&self->accounts);
        free (self->uri);
        free (self->password);
        free (self);
        *self_p = NULL;
    }
}

int
dt_history_connect (dt_history_t *self, char *err, size_t errlen)
{
    if (self->conn)
        PQfinish (self->conn);
    self->conn = dt_pg_connect (self->uri, self->password, "dualtrack-coordinator-reader",
                                err, errlen);
    if (PQstatus (self->conn) != CONNECTION_OK)
        return -1;
    PGresult *result = PQexec (self->conn, "LISTEN dualtrack_tonebook; LISTEN dualtrack_identity;"
                                           " LISTEN dualtrack_policy; LISTEN dualtrack_suppressions;"
                                           " LISTEN dualtrack_settings");
    int rc = PQresultStatus (result) == PGRES_COMMAND_OK? 0: -1;
    if (rc)
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
    PQclear (result);
    return rc;
}

bool
dt_history_connected (dt_history_t *self)
{
    return self->conn && PQstatus (self->conn) == CONNECTION_OK;
}

int
dt_history_socket (dt_history_t *self)
{
    return dt_history_connected (self)? PQsocket (self->conn): -1;
}

int
dt_history_notified (dt_history_t *self)
{
    if (!dt_history_connected (self) || !PQconsumeInput (self->conn))
        return -1;
    int changed = 0;
    PGnotify *notify;
    while ((notify = PQnotifies (self->conn))) {
        changed |= strcmp (notify->relname, "dualtrack_identity") == 0? DT_HISTORY_IDENTITY:
                   strcmp (notify->relname, "dualtrack_suppressions") == 0?
                   DT_HISTORY_SUPPRESSIONS:
                   strcmp (notify->relname, "dualtrack_settings") == 0?
                   DT_HISTORY_SETTINGS: DT_HISTORY_TONEBOOK;
        PQfreemem (notify);
    }
    return changed;
}

struct pg_conn *
dt_history_conn (dt_history_t *self)
{
    return dt_history_connected (self)? self->conn: NULL;
}

PGconn *
dt_history_conn_or_say (dt_history_t *self, char *err, size_t errlen)
{
    PGconn *conn = dt_history_conn (self);
    if (!conn)
        snprintf (err, errlen, "not connected to the store");
    return conn;
}

dt_tonebook_t *
dt_history_tonebook (dt_history_t *self, char *err, size_t errlen)
{
    PGresult *themes = PQexec (self->conn,
        "SELECT name, array_to_string (stages, ','),"
        " coalesce ((extract (epoch FROM valid_from) * 1000)::bigint, 0),"
        " coalesce ((extract (epoch FROM valid_to) * 1000)::bigint, 0), retired"
        " FROM tone_themes ORDER BY name");
    PGresult *claims = PQexec (self->conn, "SELECT key, value FROM tone_claims ORDER BY key");
    PGresult *banned = PQexec (self->conn, "SELECT phrase FROM tone_banned ORDER BY phrase");
    dt_tonebook_t *book = NULL;
    if (PQresultStatus (themes) != PGRES_TUPLES_OK || PQresultStatus (claims) != PGRES_TUPLES_OK
    ||  PQresultStatus (banned) != PGRES_TUPLES_OK)
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
    else {
        book = dt_tonebook_new ();
        int rc = 0;
        for (int i = 0; i < PQntuples (themes) && rc == 0; i++)
            rc = dt_tonebook_add_theme (book, PQgetvalue (themes, i, 0), PQgetvalue (themes, i, 1),
                                        atoll (PQgetvalue (themes, i, 2)),
                                        atoll (PQgetvalue (themes, i, 3)),
                                        PQgetvalue (themes, i, 4) [0] == 't', err, errlen);
        for (int i = 0; i < PQntuples (claims) && rc == 0; i++)
            rc = dt_tonebook_add_claim (book, PQgetvalue (claims, i, 0), PQgetvalue (claims, i, 1),
                                        err, errlen);
        for (int i = 0; i < PQntuples (banned) && rc == 0; i++)
            rc = dt_tonebook_add_banned (book, PQgetvalue (banned, i, 0), err, errlen);
        if (rc)
            dt_tonebook_destroy (&book);
    }
    PQclear (themes);
    PQclear (claims);
    PQclear (banned);
    return book;
}

void
dt_history_record_reload (dt_history_t *self, bool ok, const char *message)
{
    dt_history_record (self, "tonebook_reloads", ok, message);
}

void
dt_history_record (dt_history_t *self, const char *table, bool ok, const char *message)
{
    char sql [96];
    snprintf (sql, sizeof sql, "INSERT INTO %s (ok, message) VALUES ($1, $2)", table);
    const char *values [] = { ok? "t": "f", message };
    PGresult *result = PQexecParams (self->conn, sql, 2, NULL, values, NULL, NULL, 0);
    if (PQresultStatus (result) != PGRES_COMMAND_OK)
        dt_warn ("could not record the reload", "table=%s error=\"%s\"", table,
                 PQresultErrorMessage (result));
    PQclear (result);
}

int
dt_history_refused (dt_history_t *self, const char *table, const char *msg, const char *err)
{
    dt_error (msg, "error=\"%s\"", err);
    dt_history_record (self, table, false, err);
    return -1;
}

//  Turn one row into an event and remember it
static void
s_remember_row (dt_history_t *self, dt_engine_t *engine, PGresult *result, int row)
{
    dt_tpcol_t cols [DT_TPROW_COUNT];
    for (int c = 0; c < DT_TPROW_COUNT; c++) {
        cols [c].ptr = PQgetvalue (result, row, c);
        cols [c].len = (uint32_t) PQgetlength (result, row, c);
        cols [c].null = PQgetisnull (result, row, c);
    }
    dt_event_t ev;
    if (dt_tprow_decode (self->rows, cols, &ev))
        return;     //  a row from another stage configuration: nothing to learn
    dt_engine_remember (engine, &ev);
    if (self->observer)
        self->observer (self->observer_ctx, &ev);
}

//  Stream a query's rows into the engine one at a time (single-row mode),
//  so a million rows never sit in memory at once
static int64_t
s_stream_rows (dt_history_t *self, dt_engine_t *engine, const char *sql,
             int params, const char *const *values, char *err, size_t errlen)
{
    if (!PQsendQueryParams (self->conn, sql, params, NULL, values, NULL, NULL, 0)
    ||  !PQsetSingleRowMode (self->conn)) {
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
        return -1;
    }
    int64_t count = 0;
    int rc = 0;
    PGresult *result;
    while ((result = PQgetResult (self->conn))) {
        ExecStatusType status = PQresultStatus (result);
        if (status == PGRES_SINGLE_TUPLE) {
            s_remember_row (self, engine, result, 0);
            count++;
        }
        else
        if (status != PGRES_TUPLES_OK) {
            dt_pg_first_line (err, errlen, PQresultErrorMessage (result));
            rc = -1;
        }
        PQclear (result);
    }
    return rc? -1: count;
}

int64_t
dt_history_rebuild (dt_history_t *self, dt_engine_t *engine, int64_t horizon_ms,
                    char *err, size_t errlen)
{
    char horizon [32];
    snprintf (horizon, sizeof horizon, "%lld", (long long) horizon_ms);
    const char *values [] = { horizon };
    //  In occurred order, as the engine would have seen them live
    return s_stream_rows (self, engine,
        "SELECT " HISTORY_COLUMNS " FROM touchpoints"
        " WHERE occurred_at > now () - $1::bigint * interval '1 millisecond'"
        "    OR received_at > now () - $1::bigint * interval '1 millisecond'"
        " ORDER BY occurred_at", 1, values, err, errlen);
}

void
dt_history_array_element (dt_buf_t *array, dt_str_t text)
{
    dt_buf_append (array, array->size > 1? ",\"": "\"", array->size > 1? 2: 1);
    for (uint32_t i = 0; i < text.len; i++) {
        if (text.ptr [i] == '"' || text.ptr [i] == '\\')
            dt_buf_append (array, "\\", 1);
        dt_buf_append (array, text.ptr + i, 1);
    }
    dt_buf_append (array, "\"", 1);
}

int64_t
dt_history_load_accounts (dt_history_t *self, dt_engine_t *engine,
                          const dt_str_t *accounts, size_t count, int64_t since_ms)
{
    if (count == 0)
        return 0;
    dt_buf_reset (&self->accounts);
    dt_buf_append (&self->accounts, "{", 1);
    for (size_t i = 0; i < count; i++)
        dt_history_array_element (&self->accounts, accounts [i]);
    dt_buf_append (&self->accounts, "}", 2);      //  with its NUL
    char since [32];
    snprintf (since, sizeof since, "%lld", (long long) since_ms);
    const char *values [] = { self->accounts.data, since };
    char err [256];
    int64_t rows = s_stream_rows (self, engine,
        "SELECT " HISTORY_COLUMNS " FROM touchpoints"
        " WHERE account = ANY ($1::text[]) AND occurred_at >= to_timestamp ($2::bigint / 1000.0)"
        " ORDER BY occurred_at", 2, values, err, sizeof err);
    if (rows < 0)
        dt_warn ("could not reload accounts' history", "accounts=%zu error=\"%s\"", count, err);
    return rows;
}
