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
//  `identity tz set|remove|list` (identity_tz.c): argv from the word after
//  tz; kind "contact", "account" or NULL, source NULL for none
int dt_cli_identity_tz (const char *uri, const char *password_file, const char *kind,
                        const char *source, int argc, char **argv);
int dt_cli_token (int argc, char *argv []);
int dt_cli_policy (int argc, char *argv []);
int dt_cli_suppress (int argc, char *argv []);
int dt_cli_whatif (int argc, char *argv []);
int dt_cli_relay (int argc, char *argv []);

#include <czmq.h>
#include <libpq-fe.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>

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

//  CSV (csv.c). Write one field of a record (quoted if it must be; last:
//  end the line, else a comma)
void dt_cli_csv_field (FILE *out, const char *text, bool last);

//  Split the next record of a CSV text in place, from *cursor; fields get
//  up to max pointers. Returns the field count, 0 at the end, -1 when a
//  quote is not closed. *line counts the lines.
int dt_cli_csv_record (char **cursor, char **fields, int max, int *line);

//  The whole of a file, or standard input for "-", with a NUL after its
//  len bytes (the caller frees it); NULL after printing "PROG: cannot read"
//  (readfile.c)
char *dt_cli_read_file (const char *prog, const char *path, size_t *len);

//  Replace the file at path by text (len bytes) with the permissions mode:
//  written to path.tmp, fsynced, renamed over it, the directory fsynced, so
//  a crash leaves the old or the new. 0, or -1 with errno (writefile.c)
int dt_cli_write_atomic (const char *path, const char *text, size_t len, int mode);

//  Read a CSV file and its first record, which must be the header (the
//  field names, comma-separated, as written; a byte order mark before it is
//  skipped). The text, which the caller frees, with *cursor after the
//  header and *line its line; or NULL after printing "PROG: ..." why.
char *dt_cli_csv_open (const char *prog, const char *path, const char *header,
                       char **cursor, int *line);

//  Make room for one more item of size bytes in *items (count used, *alloc
//  allocated, grown by doubling); out of memory exits 2 after saying so
void dt_cli_grow (const char *prog, void **items, size_t count, size_t *alloc, size_t size);

//  The same, for a statement whose result is not wanted: 0, or -1 after
//  printing why
int dt_cli_pg_run (const char *prog, PGconn *conn, const char *sql, int nparams,
                   const char *const *params);

//  Begin a change: a transaction that holds tables (a LOCK TABLE list)
//  against other writers while readers go on. 0, or -1 after printing why.
int dt_cli_pg_begin (const char *prog, PGconn *conn, const char *tables);

//  Print a string of a msgpack map, or "-" (verdict.c)
void dt_cli_print_str (const msgpack_object *map, const char *key);

//  "  rule (severity): message [related: a, b]" per finding of an array
//  (NULL or not an array: nothing)
void dt_cli_print_findings (const msgpack_object *findings);

#endif
