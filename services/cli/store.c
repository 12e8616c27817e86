/*  store.c - how the subcommands that read or write the store connect to it
    (`dualtrack report`, `dualtrack identity`): the URI from --pg, else
    $DT_PG_URI, else postgresql:///dualtrack; the password from a file, so
    it is never on a command line.
*/
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
dt_cli_pg_uri (void)
{
    const char *uri = getenv ("DT_PG_URI");
    return uri && *uri? uri: "postgresql:///dualtrack";
}

PGconn *
dt_cli_pg_connect (const char *prog, const char *uri, const char *password_file, int *rc)
{
    char password [1024] = "";
    if (password_file && *password_file) {
        FILE *file = fopen (password_file, "r");
        if (!file) {
            fprintf (stderr, "%s: cannot read the password file %s: %s\n", prog,
                     password_file, strerror (errno));
            *rc = 2;
            return NULL;
        }
        if (!fgets (password, (int) sizeof password, file))
            password [0] = 0;
        fclose (file);
        password [strcspn (password, "\r\n")] = 0;
    }
    char application [64];
    snprintf (application, sizeof application, "dualtrack-%s", prog);
    const char *keys [] = { "dbname", "application_name", "password", NULL };
    const char *values [] = { uri, application, password, NULL };
    if (!*password)
        keys [2] = NULL;    //  the URI, PGPASSWORD or ~/.pgpass
    PGconn *conn = PQconnectdbParams (keys, values, 1);
    explicit_bzero (password, sizeof password);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "%s: cannot connect to the store: %s", prog, PQerrorMessage (conn));
        PQfinish (conn);
        *rc = 1;
        return NULL;
    }
    return conn;
}

PGresult *
dt_cli_pg_query (const char *prog, PGconn *conn, const char *sql, int nparams,
                 const char *const *params)
{
    PGresult *r = PQexecParams (conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (r) != PGRES_TUPLES_OK && PQresultStatus (r) != PGRES_COMMAND_OK) {
        fprintf (stderr, "%s: query failed: %s", prog, PQerrorMessage (conn));
        PQclear (r);
        return NULL;
    }
    return r;
}

int
dt_cli_pg_run (const char *prog, PGconn *conn, const char *sql, int nparams,
               const char *const *params)
{
    PGresult *r = dt_cli_pg_query (prog, conn, sql, nparams, params);
    PQclear (r);
    return r? 0: -1;
}

int
dt_cli_pg_begin (const char *prog, PGconn *conn, const char *tables)
{
    char lock [256];
    snprintf (lock, sizeof lock, "LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", tables);
    return dt_cli_pg_run (prog, conn, "BEGIN", 0, NULL)
        || dt_cli_pg_run (prog, conn, lock, 0, NULL);
}
