/*  cli.h - the `dualtrack` command's subcommands, one file each
*/
#ifndef DT_CLI_H
#define DT_CLI_H

int dt_cli_publish (int argc, char *argv []);
int dt_cli_gen (int argc, char *argv []);
int dt_cli_watch (int argc, char *argv []);
int dt_cli_check (int argc, char *argv []);

#endif
