/*  contact_settings.c - see contact_settings.h
*/
#include "store/contact_settings.h"
#include "base/log.h"
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
    PGresult *result = PQexec (conn, "SELECT kind, id, tz FROM contact_settings ORDER BY kind, id");
    if (PQresultStatus (result) != PGRES_TUPLES_OK) {
        dt_pg_first_line (err, errlen, PQresultErrorMessage (result));
        PQclear (result);
        return -1;
    }
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

int
dt_contact_settings_reload (dt_history_t *history, dt_engine_t *engine, const dt_tzdb_t *zones,
                            char *err, size_t errlen)
{
    PGconn *conn = dt_history_conn (history);
    if (!conn) {
        snprintf (err, errlen, "not connected to the store");
        return -1;
    }
    err [0] = 0;
    dt_zonemap_t *map = dt_contact_settings_load (conn, zones, err, errlen);
    size_t added = 0, removed = 0, changed = 0;
    if (!map || dt_zonemap_diff (dt_engine_zonemap (engine), map, &added, &removed, &changed)) {
        if (!*err)
            snprintf (err, errlen, "out of memory comparing the contact settings");
        dt_zonemap_destroy (&map);
        return dt_history_refused (history, TABLE_RELOADS, REFUSED, err);
    }
    size_t rows = dt_zonemap_rows (map);
    if (dt_engine_set_zonemap (engine, &map, err, errlen))
        return dt_history_refused (history, TABLE_RELOADS, REFUSED, err);
    //  Conflicts are known once the map is filed under canonical ids
    size_t conflicts = dt_zonemap_conflicts (dt_engine_zonemap (engine));
    char message [192];
    int len = snprintf (message, sizeof message, "contact settings +%zu -%zu ~%zu (%zu rows)",
                        added, removed, changed, rows);
    if (conflicts)
        snprintf (message + len, sizeof message - (size_t) len, "; %zu rows overridden by another "
                  "row of their buyer with another zone", conflicts);
    dt_info ("contact settings reloaded", "added=%zu removed=%zu changed=%zu rows=%zu"
             " overridden=%zu", added, removed, changed, rows, conflicts);
    dt_history_record (history, TABLE_RELOADS, true, message);
    return 0;
}
