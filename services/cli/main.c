/*  main.c - `dualtrack`: the command-line tool for publishers and operators
*/
#include "cli/cli.h"
#include "base/config.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run) (int argc, char *argv []);
    const char *help;
} commands [] = {
    { "publish", dt_cli_publish, "publish JSON-lines events to a track daemon" },
    { "gen", dt_cli_gen, "generate sample events as JSON lines (tests, benchmarks)" },
    { "watch", dt_cli_watch, "print verdicts from the decisions feed" },
    { "relay", dt_cli_relay, "daemon: POST the matching verdicts of the feed to webhooks (at least once, resumable)" },
    { "check", dt_cli_check, "ask what the coordinator would say about a planned touchpoint" },
    { "keygen", dt_cli_keygen, "make CURVE certificates for daemons and clients" },
    { "report", dt_cli_report, "render an HTML report (inline SVG) from the store for a date range" },
    { "identity", dt_cli_identity, "add, remove, import, export or list the contact and account aliases" },
    { "token", dt_cli_token, "make a bearer token for a system publishing over HTTP" },
    { "policy", dt_cli_policy, "validate, diff, apply, export or roll back the policy file (tone book and rule settings)" },
    { "suppress", dt_cli_suppress, "add, remove, import or list suppressed contacts and accounts (consent)" },
    { "whatif", dt_cli_whatif, "judge a date range again under a candidate policy and report what would change" },
};

int
main (int argc, char *argv [])
{
    if (argc >= 2 && strcmp (argv [1], "--version") == 0) {
        printf ("dualtrack %s\n", DT_VERSION);
        return 0;
    }
    for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands [0]; i++)
        if (strcmp (argv [1], commands [i].name) == 0)
            return commands [i].run (argc - 1, argv + 1);
    printf ("Usage: dualtrack COMMAND [OPTIONS]   (COMMAND --help for its options)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands [0]; i++)
        printf ("  %-10s %s\n", commands [i].name, commands [i].help);
    return argc >= 2 && strcmp (argv [1], "--help") != 0? 2: 0;
}
