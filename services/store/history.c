/*  history.c - see history.h
*/
#include "store/history.h"
#include "base/buf.h"
#include "base/jsonmp.h"
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
    dt_buf_t claims;            //  one row's claims as msgpack
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

//  The columns a row must have to become an event for the engine (the body
//  and attrs are not needed to remember a touch)
#define HISTORY_COLUMNS \
    "id, track, account, contact, stage, lead, advisors::text, project, theme," \
    " claims::text, (extract (epoch FROM occurred_at) * 1000)::bigint, category," \
    " source, channel, kind, attrs ->> 'tz'"

dt_history_t *
dt_history_new (const char *uri, const char *password, const dt_stageset_t *stages)
{
    dt_history_t *self = calloc (1, sizeof *self);
    self->uri = strdup (uri);
    self->password = password? strdup (password): NULL;
    self->stages = *stages;
    return self;
}

void
dt_history_destroy (dt_history_t **self_p)
{
    if (*self_p) {
        dt_history_t *self = *self_p;
        if (self->conn)
            PQfinish (self->conn);
        dt_buf_free (&self->claims);
        dt_buf_free (&self->accounts);
        free (self->uri);
        free (self->password);
        free (self);
        *self_p = NULL;
    }
}

static void
s_first_line (char *err, size_t errlen, const char *message)
{
    snprintf (err, errlen, "%s", message);
    char *newline = strchr (err, '\n');
    if (newline)
        *newline = 0;
}

int
dt_history_connect (dt_history_t *self, char *err, size_t errlen)
{
    if (self->conn)
        PQfinish (self->conn);
    const char *keys [] = { "dbname", "application_name", "password", NULL };
    const char *values [] = { self->uri, "dualtrack-coordinator-reader", self->password, NULL };
    if (!self->password)
        keys [2] = NULL;
    self->conn = PQconnectdbParams (keys, values, 1);
    if (PQstatus (self->conn) != CONNECTION_OK) {
        s_first_line (err, errlen, PQerrorMessage (self->conn));
        return -1;
    }
    PGresult *result = PQexec (self->conn, "LISTEN dualtrack_tonebook; LISTEN dualtrack_policy");
    int rc = PQresultStatus (result) == PGRES_COMMAND_OK? 0: -1;
    if (rc)
        s_first_line (err, errlen, PQerrorMessage (self->conn));
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
        changed = 1;
        PQfreemem (notify);
    }
    return changed;
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
        s_first_line (err, errlen, PQerrorMessage (self->conn));
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

PGconn *
dt_history_conn (dt_history_t *self)
{
    return dt_history_connected (self)? self->conn: NULL;
}

void
dt_history_record_reload (dt_history_t *self, bool ok, const char *message)
{
    const char *values [] = { ok? "t": "f", message };
    PGresult *result = PQexecParams (self->conn,
        "INSERT INTO tonebook_reloads (ok, message) VALUES ($1, $2)",
        2, NULL, values, NULL, NULL, 0);
    PQclear (result);
}

static dt_str_t
s_column (PGresult *result, int row, int col)
{
    dt_str_t s = { PQgetvalue (result, row, col), (uint32_t) PQgetlength (result, row, col) };
    return s;
}

//  Turn one row into an event and remember it. The claims live in
//  self->claims and an unpacked zone until the engine has copied them.
static void
s_remember_row (dt_history_t *self, dt_engine_t *engine, PGresult *result, int row)
{
    dt_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.id = s_column (result, row, 0);
    ev.track = dt_track_parse (PQgetvalue (result, row, 1), (size_t) PQgetlength (result, row, 1));
    ev.account = s_column (result, row, 2);
    if (!PQgetisnull (result, row, 3)) {
        ev.contact = s_column (result, row, 3);
        ev.present |= DT_HAS_CONTACT;
    }
    ev.stage = s_column (result, row, 4);
    ev.stage_index = dt_stageset_find (&self->stages, ev.stage.ptr, ev.stage.len);
    ev.lead = dt_track_parse (PQgetvalue (result, row, 5), (size_t) PQgetlength (result, row, 5));
    const char *advisors = PQgetvalue (result, row, 6);
    for (int t = 0; t < DT_TRACKS; t++)
        if (strstr (advisors, dt_track_name ((dt_track_t) t)))
            ev.advisors |= (uint8_t) (1u << t);
    if (ev.advisors)
        ev.present |= DT_HAS_ADVISORS;
    if (!PQgetisnull (result, row, 7)) {
        ev.project = s_column (result, row, 7);
        ev.present |= DT_HAS_PROJECT;
    }
    if (!PQgetisnull (result, row, 8)) {
        ev.theme = s_column (result, row, 8);
        ev.present |= DT_HAS_THEME;
    }
    ev.occurred_at = atoll (PQgetvalue (result, row, 10));
    const char *category = PQgetvalue (result, row, 11);
    ev.category = strcmp (category, "promotional") == 0? DT_CATEGORY_PROMOTIONAL:
                  strcmp (category, "transactional") == 0? DT_CATEGORY_TRANSACTIONAL:
                  DT_CATEGORY_ONE_TO_ONE;
    ev.source = s_column (result, row, 12);
    ev.channel = s_column (result, row, 13);
    ev.kind = s_column (result, row, 14);
    if (ev.track == DT_TRACK_NONE || ev.lead == DT_TRACK_NONE || ev.stage_index < 0)
        return;     //  a row from another stage configuration: nothing to learn
    //  The contact budget's local time: attrs.tz is all of attrs it reads
    msgpack_object attrs;
    msgpack_object_kv tz;
    if (!PQgetisnull (result, row, 15)) {
        tz.key.type = tz.val.type = MSGPACK_OBJECT_STR;
        tz.key.via.str.ptr = "tz";
        tz.key.via.str.size = 2;
        tz.val.via.str.ptr = PQgetvalue (result, row, 15);
        tz.val.via.str.size = (uint32_t) PQgetlength (result, row, 15);
        attrs.type = MSGPACK_OBJECT_MAP;
        attrs.via.map.size = 1;
        attrs.via.map.ptr = &tz;
        ev.attrs = &attrs;
        ev.present |= DT_HAS_ATTRS;
    }

    msgpack_unpacked claims;
    msgpack_unpacked_init (&claims);
    if (!PQgetisnull (result, row, 9)) {
        json_t *json = json_loads (PQgetvalue (result, row, 9), 0, NULL);
        if (json && json_is_object (json)) {
            dt_buf_reset (&self->claims);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &self->claims, dt_buf_msgpack_write);
            dt_pack_json (&pk, json);
            size_t offset = 0;
            if (msgpack_unpack_next (&claims, self->claims.data, self->claims.size, &offset)
                    == MSGPACK_UNPACK_SUCCESS) {
                ev.claims = claims.data.via.map.ptr;
                ev.claim_count = claims.data.via.map.size;
                ev.present |= DT_HAS_CLAIMS;
            }
        }
        json_decref (json);
    }
    dt_engine_remember (engine, &ev);
    if (self->observer)
        self->observer (self->observer_ctx, &ev);
    msgpack_unpacked_destroy (&claims);
}

//  Stream a query's rows into the engine one at a time (single-row mode),
//  so a million rows never sit in memory at once
static int64_t
s_stream_rows (dt_history_t *self, dt_engine_t *engine, const char *sql,
             int params, const char *const *values, char *err, size_t errlen)
{
    if (!PQsendQueryParams (self->conn, sql, params, NULL, values, NULL, NULL, 0)
    ||  !PQsetSingleRowMode (self->conn)) {
        s_first_line (err, errlen, PQerrorMessage (self->conn));
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
            s_first_line (err, errlen, PQresultErrorMessage (result));
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

//  Append text to a PostgreSQL array literal as one quoted element
static void
s_array_element (dt_buf_t *array, dt_str_t text)
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
        s_array_element (&self->accounts, accounts [i]);
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
