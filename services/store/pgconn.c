/*  pgconn.c - see pgconn.h
*/
#include "store/pgconn.h"

#include <stdio.h>
#include <string.h>

PGresult *
dt_pg_query (PGconn *conn, const char *sql, int nparams, const char *const *values,
             ExecStatusType want, char *err, size_t errlen)
{
    PGresult *result = PQexecParams (conn, sql, nparams, NULL, values, NULL, NULL, 0);
    if (PQresultStatus (result) == want)
        return result;
    dt_pg_first_line (err, errlen, PQresultErrorMessage (result));
    PQclear (result);
    return NULL;
}

void
dt_pg_first_line (char *err, size_t errlen, const char *message)
{
    snprintf (err, errlen, "%s", message);
    char *newline = strchr (err, '\n');
    if (newline)
        *newline = 0;
}

PGconn *
dt_pg_connect (const char *uri, const char *password, const char *application,
               char *err, size_t errlen)
{
    const char *keys [] = { "dbname", "application_name", "password", NULL };
    const char *values [] = { uri, application, password, NULL };
    if (!password)
        keys [2] = NULL;
    PGconn *conn = PQconnectdbParams (keys, values, 1);
    if (PQstatus (conn) != CONNECTION_OK)
        dt_pg_first_line (err, errlen, PQerrorMessage (conn));
    return conn;
}
