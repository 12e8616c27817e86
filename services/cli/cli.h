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
//  Make sock a CURVE client when --cert and --server-cert were given (both
//  NULL: plain). Call before connect. 0, or -1 after printing why.
int dt_cli_secure (zsock_t *sock, const char *cert, const char *server_cert);

#endif
