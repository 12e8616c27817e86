/*  main.c - dualtrack-coordinator: thin main in the Malamute shape: config,
    signals, the server, wait, destroy.
*/
#include "base/config.h"
#include "coordinator/coordinator.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/signals.h"
#include "proto/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const dt_option_t s_base_options [] = {
    { "links", "tcp://*:7720", "where the track daemons connect" },
    { "decisions", "tcp://*:7710", "the decisions feed (PUB): every verdict" },
    { "check", "tcp://*:7711", "the check API (ROUTER): judge a planned touchpoint" },
    { "catchup", "tcp://*:7712", "the catch-up API (ROUTER): the feed's verdicts after a seq, from the store" },
    { "http", "127.0.0.1:9720", "health (/healthz, /readyz) and /metrics on HOST:PORT; off: none" },
    { "pg.uri", "postgresql:///dualtrack", "PostgreSQL connection URI" },
    { "pg.password_file", "", "a file holding only the database password (e.g. a compose secret)" },
    { "stages", DT_DEFAULT_STAGES, "funnel stages in order, each name:owner" },
    { "credit", "20000", "items each track may have unacknowledged (bounds memory and transaction size)" },
    { "store.connections", "2", "PostgreSQL connections writing at once (each commits whole writesets)" },
    { "writeset.max", "4000", "items per transaction at most (more wait for the next one)" },
    { "drain.ms", "30000", "on SIGTERM, wait this long to commit what is in hand" },
    { "security", "curve", "curve (encrypted, clients on an allow-list) or plain (local development only)" },
    { "curve.cert", "keys/coordinator.cert", "the coordinator's certificate from dualtrack keygen" },
    { "curve.clients", "keys/clients", "directory of the public certificates allowed in (tracks, subscribers, check clients)" },
    { "log.level", "info", "debug, info, warn or error" },
    { NULL, NULL, NULL }
};

//  The rule settings (docs/rules.md) join the options, with their defaults,
//  so they come from flags, environment or the config file like the rest
static dt_option_t *
s_all_options (void)
{
    const char *const *keys = dt_rules_config_keys ();
    size_t base = sizeof s_base_options / sizeof s_base_options [0] - 1, rules = 0;
    while (keys [rules])
        rules++;
    dt_option_t *options = calloc (base + rules + 1, sizeof (dt_option_t));
    memcpy (options, s_base_options, base * sizeof (dt_option_t));
    dt_rules_config_t defaults;
    dt_rules_config_default (&defaults);
    static char values [64][32];
    for (size_t i = 0; i < rules && i < 64; i++) {
        dt_rules_config_get (&defaults, keys [i], values [i], sizeof values [i]);
        options [base + i].key = keys [i];
        options [base + i].value = values [i];
        options [base + i].help = "a rule setting (docs/rules.md)";
    }
    return options;
}

int
main (int argc, char *argv [])
{
    dt_heap_keep_freed_memory ();
    int exit_code;
    dt_option_t *options = s_all_options ();
    dt_config_t *config = dt_config_new ("dualtrack-coordinator",
        "The Dualtrack coordinator: takes events from both track daemons, judges\n"
        "them against the four rules, publishes verdicts and stores everything\n"
        "in PostgreSQL.", options, argc, argv, &exit_code);
    if (!config) {
        free (options);
        return exit_code;
    }
    dt_log_init ("coordinator", dt_config_get (config, "log.level"));

    dt_coordinator_opts_t opts = {
        .links = dt_config_get (config, "links"),
        .decisions = dt_config_get (config, "decisions"),
        .check = dt_config_get (config, "check"),
        .catchup = dt_config_get (config, "catchup"),
        .http = strcmp (dt_config_get (config, "http"), "off") == 0? "": dt_config_get (config, "http"),
        .pg_uri = dt_config_get (config, "pg.uri"),
        .credit = (int) dt_config_int (config, "credit"),
        .drain_ms = (int) dt_config_int (config, "drain.ms"),
        .store_connections = (int) dt_config_int (config, "store.connections"),
        .writeset_max = (int) dt_config_int (config, "writeset.max")
    };
    char password [256] = "";
    const char *password_file = dt_config_get (config, "pg.password_file");
    if (*password_file) {
        FILE *file = fopen (password_file, "r");
        if (!file || !fgets (password, sizeof password, file)) {
            fprintf (stderr, "dualtrack-coordinator: can not read pg.password_file %s\n", password_file);
            if (file)
                fclose (file);
            dt_config_destroy (&config);
            return 2;
        }
        fclose (file);
        password [strcspn (password, "\r\n")] = 0;
        opts.pg_password = password;
    }
    char err [256];
    if (dt_stageset_parse (&opts.stages, dt_config_get (config, "stages"), err, sizeof err)) {
        fprintf (stderr, "dualtrack-coordinator: %s\n", err);
        dt_config_destroy (&config);
        return 2;
    }
    const char *security = dt_config_get (config, "security");
    if (strcmp (security, "curve") == 0) {
        opts.curve_cert = dt_config_get (config, "curve.cert");
        opts.curve_clients = dt_config_get (config, "curve.clients");
    }
    else
    if (strcmp (security, "plain") != 0) {
        fprintf (stderr, "dualtrack-coordinator: security must be curve or plain\n");
        dt_config_destroy (&config);
        free (options);
        return 2;
    }
    dt_rules_config_default (&opts.rules);
    for (const char *const *key = dt_rules_config_keys (); *key; key++)
        if (dt_rules_config_set (&opts.rules, *key, dt_config_get (config, *key), err, sizeof err)) {
            fprintf (stderr, "dualtrack-coordinator: %s\n", err);
            dt_config_destroy (&config);
            free (options);
            return 2;
        }
    if (dt_rules_config_check (&opts.rules, err, sizeof err)) {
        fprintf (stderr, "dualtrack-coordinator: %s\n", err);
        dt_config_destroy (&config);
        free (options);
        return 2;
    }
    if (opts.store_connections < 1 || opts.store_connections > DT_STORE_CONNECTIONS_MAX
    ||  opts.writeset_max < 1) {
        fprintf (stderr, "dualtrack-coordinator: store.connections must be 1 to %d,"
                         " writeset.max positive\n", DT_STORE_CONNECTIONS_MAX);
        dt_config_destroy (&config);
        free (options);
        return 2;
    }
    if (opts.credit < 1) {
        fprintf (stderr, "dualtrack-coordinator: credit must be positive\n");
        dt_config_destroy (&config);
        free (options);
        return 2;
    }
    dt_signals_install ();
    dt_coordinator_t *coordinator = dt_coordinator_new (&opts);
    int rc = 1;
    if (coordinator) {
        rc = dt_coordinator_run (coordinator) == 0? 0: 1;
        dt_coordinator_destroy (&coordinator);
    }
    dt_config_destroy (&config);
    free (options);
    return rc;
}
