/*  contact_settings.c - see contact_settings.h
*/
#include "store/contact_settings.h"
#include "base/log.h"
#include "store/aliases.h"
#include "store/pgconn.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_RELOADS   "contact_setting_reloads"
#define REFUSED         "contact settings change refused; the settings in force stay"

//  Every row into map; 0, or -1 with err naming the row
static int
s_load (PGconn *conn, dt_zonemap_t *map, char *err, size_t errlen)
{
    PGresult *result = dt_pg_query (conn, "SELECT kind, id, tz FROM contact_settings ORDER BY kind, id",
                                    0, NULL, PGRES_TUPLES_OK, err, errlen);
    if (!result)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples (result) && rc == 0; i++) {
        char sentence [384];
        rc = dt_zonemap_add (map, PQgetvalue (result, i, 0), PQgetvalue (result, i, 1),
                             PQgetvalue (result, i, 2), sentence, sizeof sentence);
        if (rc)
            snprintf (err, errlen, "contact_settings: %s", sentence);
    }
    PQclear (result);
    return rc;
}

dt_zonemap_t *
dt_contact_settings_load (PGconn *conn, const dt_tzdb_t *zones, char *err, size_t errlen)
{
    dt_zonemap_t *map = dt_zonemap_new (zones);
    if (!map)
        snprintf (err, errlen, "out of memory loading the contact settings");
    else
    if (s_load (conn, map, err, errlen))
        dt_zonemap_destroy (&map);
    return map;
}

//  What a change touched: the accounts whose counters were counted in
//  another zone lose their memory (the coordinator reads it back from the
//  store on their next touch, counted in the new zone)
typedef struct {
    dt_engine_t *engine;
    size_t forgotten;
    dt_buf_t contacts;          //  contacts whose zone changed, an array literal
    size_t contact_ids;
} change_t;

static void
s_account (void *ctx, dt_str_t account)
{
    change_t *change = (change_t *) ctx;
    if (dt_engine_forget (change->engine, dt_engine_canonical (change->engine, DT_ID_ACCOUNT,
                                                               account)))
        change->forgotten++;
}

static void
s_on_change (void *ctx, dt_id_kind_t kind, dt_str_t canonical)
{
    change_t *change = (change_t *) ctx;
    if (kind == DT_ID_ACCOUNT) {
        if (dt_engine_forget (change->engine, canonical))
            change->forgotten++;
    }
    else {
        dt_history_array_element (&change->contacts, canonical);
        change->contact_ids++;
    }
}

int
dt_contact_settings_reload (dt_history_t *history, dt_engine_t *engine, const dt_tzdb_t *zones,
                            int64_t since_ms, char *err, size_t errlen)
{
    PGconn *conn = dt_history_conn_or_say (history, err, errlen);
    if (!conn)
        return -1;
    err [0] = 0;
    dt_zonemap_t *map = dt_contact_settings_load (conn, zones, err, errlen);
    //  Filed under canonical ids now, to name the buyers a change touches
    if (!map || dt_zonemap_resolve (map, dt_engine_identity (engine), err, errlen)) {
        dt_zonemap_destroy (&map);
        return dt_history_refused (history, TABLE_RELOADS, REFUSED, err);
    }
    //  A first load into an empty memory has nothing to drop
    change_t change = { engine, 0, { 0 }, 0 };
    dt_buf_append (&change.contacts, "{", 1);
    size_t added = 0, removed = 0, changed = 0;
    int rc = dt_zonemap_diff (dt_engine_zonemap (engine), map, &added, &removed, &changed,
                              dt_engine_accounts (engine)? s_on_change: NULL, &change);
    if (rc == 0 && change.contact_ids
    &&  dt_aliases_contact_accounts (conn, &change.contacts, since_ms, s_account, &change,
                                     err, errlen)) {
        //  Counters may stay in the old zone for some accounts: say so, go on
        dt_warn ("could not find the accounts of contacts whose zone changed",
                 "error=\"%s\"", err);
    }
    dt_buf_free (&change.contacts);
    size_t rows = dt_zonemap_rows (map);
    if (rc || dt_engine_set_zonemap (engine, &map, err, errlen)) {
        if (rc)
            snprintf (err, errlen, "out of memory comparing the contact settings");
        dt_zonemap_destroy (&map);
        return dt_history_refused (history, TABLE_RELOADS, REFUSED, err);
    }
    size_t conflicts = dt_zonemap_conflicts (dt_engine_zonemap (engine));
    char message [256];
    int len = snprintf (message, sizeof message, "contact settings +%zu -%zu ~%zu (%zu rows); "
                        "%zu accounts' memory dropped", added, removed, changed, rows,
                        change.forgotten);
    if (conflicts)
        snprintf (message + len, sizeof message - (size_t) len, "; %zu rows overridden by "
                  "another row of their buyer with another zone", conflicts);
    dt_info ("contact settings reloaded", "added=%zu removed=%zu changed=%zu rows=%zu"
             " overridden=%zu accounts_dropped=%zu", added, removed, changed, rows, conflicts,
             change.forgotten);
    dt_history_record (history, TABLE_RELOADS, true, message);
    return 0;
}
