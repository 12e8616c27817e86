/*  pgconn.h - what every PostgreSQL connection of the store room does the
    same way: connecting with a URI, an optional password (a compose
    secret, never written into the URI) and an application name, and the
    first line of libpq's error message for a log line.
*/
#ifndef DT_PGCONN_H
#define DT_PGCONN_H

#include <libpq-fe.h>
#include <stddef.h>

//  Connect; NULL password: the URI's, or libpq's usual sources. Returns the
//  connection (to PQfinish even on failure), err filled when it is not OK.
PGconn *dt_pg_connect (const char *uri, const char *password, const char *application,
                       char *err, size_t errlen);

//  message up to its first newline, into err
void dt_pg_first_line (char *err, size_t errlen, const char *message);

//  One statement with text parameters (nparams may be 0): its result when
//  its status is want (the caller clears it), else NULL with the first
//  line of the error in err
PGresult *dt_pg_query (PGconn *conn, const char *sql, int nparams, const char *const *values,
                       ExecStatusType want, char *err, size_t errlen);

#endif
