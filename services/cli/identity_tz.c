/*  identity_tz.c - `dualtrack identity tz`: a buyer's own time zone
    (table contact_settings, docs/schema.md) set, removed and listed from
    the command line.

    A zone is checked before anything is written, by the same module the
    coordinator loads the table with (rules/zonemap.h) against this
    machine's tz database, so the refusal reads as the coordinator's would:
    it names the field (tz) and the row. The table checks again
    (constraint contact_settings_tz), and the coordinator once more against
    its own tz database when it reloads.
*/
#include "cli/cli.h"
#include "rules/zonemap.h"

#include <stdlib.h>
#include <string.h>

#define PROG    "identity"

//  0 if the row would be taken, else -1 after printing why
static int
s_check (const char *kind, const char *id, const char *zone)
{
    char err [256];
    dt_tzdb_t *zones = dt_tzdb_new ();
    if (!zones || dt_tzdb_load_dir (zones, DT_TZDB_DIR, err, sizeof err) < 0)
        fprintf (stderr, PROG ": tz: no tz database on this machine (%s): the zone is "
                 "checked by the store and the coordinator only\n", zones? err: "out of memory");
    dt_zonemap_t *map = dt_zonemap_new (zones);
    int rc = map? dt_zonemap_add (map, kind, id, zone, err, sizeof err): 0;
    //  Without a database of our own, the table's check decides
    if (rc && zones && dt_tzdb_count (zones) > 1)
        fprintf (stderr, PROG ": tz: %s\n", err);
    else
        rc = 0;
    dt_zonemap_destroy (&map);
    dt_tzdb_destroy (&zones);
    return rc;
}

//  End a change: commit if it wrote a row, else roll back, so that the
//  table's trigger notifies the coordinator of real changes only. 0, or
//  -1 after printing why.
static int
s_end (PGconn *conn, bool wrote)
{
    return dt_cli_pg_run (PROG, conn, wrote? "COMMIT": "ROLLBACK", 0, NULL);
}

static int
s_set (PGconn *conn, const char *kind, const char *id, const char *zone, const char *source)
{
    if (s_check (kind, id, zone))
        return 1;
    //  The CTE reads the row as it was before the statement: the old zone.
    //  Nothing changes (no row comes back) when the zone and source are
    //  already these.
    const char *params [] = { kind, id, zone, source };
    if (dt_cli_pg_run (PROG, conn, "BEGIN", 0, NULL))
        return 1;
    PGresult *r = dt_cli_pg_query (PROG, conn,
        "WITH old AS (SELECT tz FROM contact_settings WHERE kind = $1 AND id = $2)"
        " INSERT INTO contact_settings (kind, id, tz, source) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (kind, id) DO UPDATE SET tz = EXCLUDED.tz,"
        "   source = coalesce (EXCLUDED.source, contact_settings.source)"
        " WHERE contact_settings.tz <> EXCLUDED.tz"
        "    OR (EXCLUDED.source IS NOT NULL AND EXCLUDED.source IS DISTINCT FROM contact_settings.source)"
        " RETURNING coalesce ((SELECT tz FROM old), '')", 4, params);
    if (!r || s_end (conn, PQntuples (r) > 0)) {
        PQclear (r);
        return 1;
    }
    if (PQntuples (r) == 0)
        printf ("already set: %s '%s' is in %s\n", kind, id, zone);
    else
    if (*PQgetvalue (r, 0, 0))
        printf ("%s '%s' is in %s (was %s)\n", kind, id, zone, PQgetvalue (r, 0, 0));
    else
        printf ("%s '%s' is in %s\n", kind, id, zone);
    PQclear (r);
    return 0;
}

static int
s_remove (PGconn *conn, const char *kind, const char *id)
{
    const char *params [] = { kind, id };
    if (dt_cli_pg_run (PROG, conn, "BEGIN", 0, NULL))
        return 1;
    PGresult *r = dt_cli_pg_query (PROG, conn,
        "DELETE FROM contact_settings WHERE kind = $1 AND id = $2 RETURNING tz", 2, params);
    if (!r || s_end (conn, PQntuples (r) > 0)) {
        PQclear (r);
        return 1;
    }
    int rc = 0;
    if (PQntuples (r) == 0) {
        fprintf (stderr, PROG ": tz: %s '%s' has no time zone of its own\n", kind, id);
        rc = 1;
    }
    else
        printf ("%s '%s' is no longer in %s: its events' attrs.tz or the policy's zone apply\n",
                kind, id, PQgetvalue (r, 0, 0));
    PQclear (r);
    return rc;
}

static int
s_list (PGconn *conn, const char *kind_filter)
{
    const char *params [] = { kind_filter };
    PGresult *r = dt_cli_pg_query (PROG, conn,
        "SELECT kind, id, tz, coalesce (source, ''), updated_at, updated_by FROM contact_settings"
        " WHERE $1::text IS NULL OR kind = $1 ORDER BY kind DESC, id", 1, params);
    if (!r)
        return 1;
    long contacts = 0, accounts = 0;
    for (int i = 0; i < PQntuples (r); i++) {
        const char *source = PQgetvalue (r, i, 3);
        if (strcmp (PQgetvalue (r, i, 0), "contact") == 0)
            contacts++;
        else
            accounts++;
        printf ("%-7s  %s  %s  (%s%s%.19s by %s)\n", PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                PQgetvalue (r, i, 2), source, *source? ", ": "", PQgetvalue (r, i, 4),
                PQgetvalue (r, i, 5));
    }
    PQclear (r);
    printf ("%ld contacts and %ld accounts with a time zone of their own\n", contacts, accounts);
    return 0;
}

int
dt_cli_identity_tz (const char *uri, const char *password_file, const char *kind,
                    const char *source, int argc, char **argv)
{
    const char *command = argc > 0? argv [0]: "";
    int want = strcmp (command, "set") == 0? 3: strcmp (command, "remove") == 0? 2:
               strcmp (command, "list") == 0? 1: 0;
    if (want == 0) {
        fprintf (stderr, PROG ": tz set, tz remove or tz list, not '%s' (--help)\n", command);
        return 2;
    }
    if (argc != want) {
        fprintf (stderr, PROG ": tz %s takes %d argument%s (--help)\n", command, want - 1,
                 want == 2? "": "s");
        return 2;
    }
    if (want > 1 && !kind) {
        fprintf (stderr, PROG ": tz %s needs --contact or --account\n", command);
        return 2;
    }
    if (source && want != 3) {
        fprintf (stderr, PROG ": --source goes with tz set\n");
        return 2;
    }
    int rc = 0;
    PGconn *conn = dt_cli_pg_connect (PROG, uri, password_file, &rc);
    if (!conn)
        return rc;
    rc = want == 3? s_set (conn, kind, argv [1], argv [2], source && *source? source: NULL):
         want == 2? s_remove (conn, kind, argv [1]): s_list (conn, kind);
    PQfinish (conn);
    return rc;
}
