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

#endif
