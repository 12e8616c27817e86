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

#include <czmq.h>
#include <msgpack.h>

//  Make sock a CURVE client when --cert and --server-cert were given (both
//  NULL: plain). Call before connect. 0, or -1 after printing why.
int dt_cli_secure (zsock_t *sock, const char *cert, const char *server_cert);

//  Print a string of a msgpack map, or "-" (verdict.c)
void dt_cli_print_str (const msgpack_object *map, const char *key);

//  "  rule (severity): message [related: a, b]" per finding of an array
//  (NULL or not an array: nothing)
void dt_cli_print_findings (const msgpack_object *findings);

#endif
