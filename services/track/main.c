/*  main.c - dualtrack-trackd: the marketing or the sales track daemon.
    One program for both tracks; --track picks the profile below.
*/
#include "base/config.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/signals.h"
#include "proto/event.h"
#include "track/trackd.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

//  What differs between the tracks is data, not code
static const struct {
    dt_track_t track;
    const char *ingress;
    const char *http;
    const char *http_ingress;
} track_profiles [] = {
    { DT_TRACK_MARKETING, "tcp://*:7701", "127.0.0.1:9701", "*:7801" },
    { DT_TRACK_SALES, "tcp://*:7702", "127.0.0.1:9702", "*:7802" }
};

static const dt_option_t s_options [] = {
    { "track", "", "marketing or sales (required)" },
    { "ingress", "", "where publishers connect (default tcp://*:7701 marketing, tcp://*:7702 sales)" },
    { "coordinator", "tcp://127.0.0.1:7720", "the coordinator's link endpoint" },
    { "http", "", "health and metrics HOST:PORT (default 127.0.0.1:9701 marketing, :9702 sales; off: none)" },
    { "http.ingress", "", "POST /v1/events HOST:PORT (default *:7801 marketing, *:7802 sales; off: none). "
      "Needs --http.cert and --http.key, or --security plain for plain HTTP, and the token directory; "
      "left at its default it is off, with a log line, when one is missing" },
    { "http.tokens", "keys/tokens", "directory of bearer token hashes, one file per publishing system (dualtrack token new)" },
    { "http.cert", "", "PEM certificate for HTTPS on the HTTP ingress" },
    { "http.key", "", "PEM private key of --http.cert" },
    { "stages", DT_DEFAULT_STAGES, "funnel stages in order, each name:owner" },
    { "batch.max", "1000", "items per batch forwarded to the coordinator" },
    { "window", "16", "batches in flight to the coordinator" },
    { "heartbeat.ms", "1000", "ping the coordinator after this many quiet ms" },
    { "liveness.ms", "3000", "reconnect and resend after this many ms of coordinator silence" },
    { "drain.ms", "5000", "on SIGTERM, time to forward what the journal holds" },
    { "journal.dir", "", "the journal directory (default journal/TRACK)" },
    { "journal.max_bytes", "1073741824", "unforwarded bytes before answering overloaded" },
    { "security", "curve", "curve (encrypted, clients on an allow-list) or plain (local development only)" },
    { "curve.cert", "", "this track's certificate from dualtrack keygen (default keys/TRACK.cert)" },
    { "curve.clients", "keys/publishers", "directory of the publishers' public certificates allowed in" },
    { "curve.coordinator", "keys/coordinator.cert", "the coordinator's public certificate" },
    { "log.level", "info", "debug, info, warn or error" },
    { NULL, NULL, NULL }
};

//  Whether the HTTP ingress runs, and how. Given explicitly, whatever it
//  lacks is an error; at its default, it is off (one log line) until the
//  TLS material (or --security plain) and the token directory are there.
static int
s_http_ingress_options (dt_config_t *config, dt_trackd_opts_t *opts, const char *security,
                        const char *name)
{
    const char *address = dt_config_get (config, "http.ingress");
    bool given = strcmp (dt_config_origin (config, "http.ingress"), "default") != 0;
    for (size_t i = 0; !*address && i < sizeof track_profiles / sizeof track_profiles [0]; i++)
        if (track_profiles [i].track == opts->track)
            address = track_profiles [i].http_ingress;
    if (strcmp (address, "off") == 0)
        return 0;
    const char *cert = dt_config_get (config, "http.cert");
    const char *key = dt_config_get (config, "http.key");
    const char *tokens = dt_config_get (config, "http.tokens");
    if (!*cert != !*key) {
        fprintf (stderr, "dualtrack-trackd: give both --http.cert and --http.key, or neither\n");
        return -1;
    }
    const char *missing = NULL;
    struct stat st;
    if (!*cert && strcmp (security, "plain") != 0)
        missing = "no --http.cert and --http.key (plain HTTP only with --security plain)";
    else
    if (stat (tokens, &st) || !S_ISDIR (st.st_mode))
        missing = "no token directory (--http.tokens; dualtrack token new NAME DIR makes one)";
    if (missing && given) {
        fprintf (stderr, "dualtrack-trackd: --http.ingress %s: %s\n", address, missing);
        return -1;
    }
    if (missing) {
        dt_info ("HTTP ingress off", "track=%s reason=\"%s\" tokens=%s", name, missing, tokens);
        return 0;
    }
    opts->http_ingress = address;
    opts->http_tokens = tokens;
    opts->http_cert = *cert? cert: NULL;
    opts->http_key = *key? key: NULL;
    return 0;
}

int
main (int argc, char *argv [])
{
    dt_heap_keep_freed_memory ();
    int exit_code;
    dt_config_t *config = dt_config_new ("dualtrack-trackd",
        "The Dualtrack track daemon: takes touchpoint events from publishers,\n"
        "validates them and forwards them to the coordinator.", s_options, argc, argv, &exit_code);
    if (!config)
        return exit_code;

    const char *name = dt_config_get (config, "track");
    dt_trackd_opts_t opts = { .track = dt_track_parse (name, strlen (name)) };
    if (opts.track == DT_TRACK_NONE) {
        fprintf (stderr, "dualtrack-trackd: --track must be marketing or sales\n");
        dt_config_destroy (&config);
        return 2;
    }
    char service [32];
    snprintf (service, sizeof service, "track-%s", name);
    dt_log_init (service, dt_config_get (config, "log.level"));

    opts.ingress = dt_config_get (config, "ingress");
    opts.http = dt_config_get (config, "http");
    for (size_t i = 0; i < sizeof track_profiles / sizeof track_profiles [0]; i++)
        if (track_profiles [i].track == opts.track) {
            if (!*opts.ingress)
                opts.ingress = track_profiles [i].ingress;
            if (!*opts.http)
                opts.http = track_profiles [i].http;
        }
    if (strcmp (opts.http, "off") == 0)
        opts.http = "";
    const char *security = dt_config_get (config, "security");
    char cert [512];
    snprintf (cert, sizeof cert, "%s", dt_config_get (config, "curve.cert"));
    if (!*cert)
        snprintf (cert, sizeof cert, "keys/%s.cert", name);
    if (strcmp (security, "curve") == 0) {
        opts.curve_cert = cert;
        opts.curve_clients = dt_config_get (config, "curve.clients");
        opts.curve_coordinator = dt_config_get (config, "curve.coordinator");
    }
    else
    if (strcmp (security, "plain") != 0) {
        fprintf (stderr, "dualtrack-trackd: security must be curve or plain\n");
        dt_config_destroy (&config);
        return 2;
    }
    if (s_http_ingress_options (config, &opts, security, name)) {
        dt_config_destroy (&config);
        return 2;
    }
    opts.coordinator = dt_config_get (config, "coordinator");
    char err [256];
    if (dt_stageset_parse (&opts.stages, dt_config_get (config, "stages"), err, sizeof err)) {
        fprintf (stderr, "dualtrack-trackd: %s\n", err);
        dt_config_destroy (&config);
        return 2;
    }
    opts.batch_max = (int) dt_config_int (config, "batch.max");
    opts.window = (int) dt_config_int (config, "window");
    opts.heartbeat_ms = (int) dt_config_int (config, "heartbeat.ms");
    opts.liveness_ms = (int) dt_config_int (config, "liveness.ms");
    opts.drain_ms = (int) dt_config_int (config, "drain.ms");
    opts.journal_max_bytes = (uint64_t) dt_config_int (config, "journal.max_bytes");
    char journal_dir [512];
    snprintf (journal_dir, sizeof journal_dir, "%s", dt_config_get (config, "journal.dir"));
    if (!*journal_dir)
        snprintf (journal_dir, sizeof journal_dir, "journal/%s", name);
    opts.journal_dir = journal_dir;
    if (opts.batch_max < 1 || opts.window < 1 || opts.journal_max_bytes < 1) {
        fprintf (stderr, "dualtrack-trackd: batch.max, window and journal.max_bytes must be positive\n");
        dt_config_destroy (&config);
        return 2;
    }

    dt_signals_install ();
    dt_trackd_t *trackd = dt_trackd_new (&opts);
    int rc = 1;
    if (trackd) {
        rc = dt_trackd_run (trackd) == 0? 0: 1;
        dt_trackd_destroy (&trackd);
    }
    dt_config_destroy (&config);
    return rc;
}
