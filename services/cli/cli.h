/*  cli.h - the `dualtrack` command's subcommands, one file each
*/
#ifndef DT_CLI_H
#define DT_CLI_H

int dt_cli_publish (int argc, char *argv []);
int dt_cli_gen (int argc, char *argv []);
int dt_cli_watch (int argc, char *argv []);
int dt_cli_check (int argc, char *argv []);
int dt_cli_keygen (int argc, char *argv []);
int dt_cli_report (int argc, char *argv []);
int dt_cli_identity (int argc, char *argv []);
int dt_cli_token (int argc, char *argv []);
int dt_cli_policy (int argc, char *argv []);
int dt_cli_whatif (int argc, char *argv []);

#include <czmq.h>
#include <libpq-fe.h>
#include <msgpack.h>

//  Make sock a CURVE client when --cert and --server-cert were given (both
//  NULL: plain). Call before connect. 0, or -1 after printing why.
int dt_cli_secure (zsock_t *sock, const char *cert, const char *server_cert);

//  The store's URI when --pg is not given: $DT_PG_URI, else
//  postgresql:///dualtrack (store.c)
const char *dt_cli_pg_uri (void);

//  Connect to the store as application "dualtrack-PROG", with the password
//  of password_file if not NULL or "" (else the URI's, PGPASSWORD or
//  ~/.pgpass). NULL after printing why, with *rc the exit status: 2 the
//  password file is unreadable, 1 the connection failed.
PGconn *dt_cli_pg_connect (const char *prog, const char *uri, const char *password_file,
                           int *rc);

//  Run one statement with text parameters: its result (the caller clears
//  it), or NULL after printing "PROG: query failed: ..."
PGresult *dt_cli_pg_query (const char *prog, PGconn *conn, const char *sql, int nparams,
                           const char *const *params);

//  The whole of a file, or standard input for "-", with a NUL after its
//  len bytes (the caller frees it); NULL after printing "PROG: cannot read"
//  (readfile.c)
char *dt_cli_read_file (const char *prog, const char *path, size_t *len);

//  Print a string of a msgpack map, or "-" (verdict.c)
void dt_cli_print_str (const msgpack_object *map, const char *key);

//  "  rule (severity): message [related: a, b]" per finding of an array
//  (NULL or not an array: nothing)
void dt_cli_print_findings (const msgpack_object *findings);

#endif
