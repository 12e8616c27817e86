/*  watch.c - `dualtrack watch`: tail the decisions feed, a line per
    touchpoint and a line per finding.

    With --since or --cursor it resumes (proto/PROTOCOL.md, "Resuming the
    feed") through follow.c: every verdict once, in order, without gap.
*/
#include "cli/cli.h"
#include "cli/follow.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool quiet;
    long count;                     //  -1: no end
    long seen;                      //  messages shown
} s_watch_t;

static dt_follow_act_t
s_show (void *ctx, dt_str_t topic, const msgpack_object *message)
{
    s_watch_t *self = ctx;
    self->seen++;
    if (!self->quiet) {
        printf ("%.*s ", (int) topic.len, topic.ptr);
        dt_cli_print_str (message, "id");
        printf (" account=");
        dt_cli_print_str (message, "account");
        printf (" verdict=");
        dt_cli_print_str (message, "verdict");
        uint64_t seq;
        if (dt_map_uint (message, "seq", &seq))
            printf (" seq=%llu", (unsigned long long) seq);
        printf ("\n");
        dt_cli_print_findings (dt_map_get (message, "findings"));
        fflush (stdout);
    }
    return self->count >= 0 && self->seen >= self->count? DT_FOLLOW_DONE: DT_FOLLOW_NEXT;
}

int
dt_cli_watch (int argc, char *argv [])
{
    const char *endpoint = "tcp://127.0.0.1:7710", *cert = NULL, *server_cert = NULL;
    const char *since = NULL;
    long timeout_ms = -1;
    s_watch_t self = { .count = -1 };
    zlist_t *topics = zlist_new ();
    dt_follow_opts_t opts = { .prog = "watch", .catchup = "tcp://127.0.0.1:7712" };
    static struct option longopts [] = {
        { "endpoint", required_argument, 0, 'e' }, { "topic", required_argument, 0, 't' },
        { "count", required_argument, 0, 'n' }, { "timeout", required_argument, 0, 'T' },
        { "quiet", no_argument, 0, 'q' }, { "cert", required_argument, 0, 'c' },
        { "server-cert", required_argument, 0, 's' }, { "since", required_argument, 0, 'S' },
        { "cursor", required_argument, 0, 'C' }, { "catchup", required_argument, 0, 'u' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "e:t:n:T:c:s:S:C:u:qh", longopts, NULL)) != -1) {
        switch (opt) {
            case 'e': endpoint = optarg; break;
            case 't': zlist_append (topics, optarg); break;
            case 'n': self.count = atol (optarg); break;
            case 'T': timeout_ms = atol (optarg); break;
            case 'q': self.quiet = true; break;
            case 'c': cert = optarg; break;
            case 's': server_cert = optarg; break;
            case 'S': since = optarg; break;
            case 'C': opts.cursor_path = optarg; break;
            case 'u': opts.catchup = optarg; break;
            default:
                printf ("Usage: dualtrack watch [--endpoint EP] [--topic PREFIX]... [--count N]\n"
                        "         [--timeout MS] [--quiet] [--cert FILE --server-cert FILE]\n"
                        "         [--since SEQ] [--cursor FILE] [--catchup EP]\n"
                        "Prints verdicts from the decisions feed (default tcp://127.0.0.1:7710),\n"
                        "each with its seq. Topics are TRACK.VERDICT (sales.warn) and\n"
                        "advisory.TRACK; a prefix filters (--topic sales. --topic\n"
                        "marketing.violation). --count exits after N verdicts, --timeout after\n"
                        "MS quiet ms; --quiet prints only the final count.\n"
                        "--since SEQ first shows the stored verdicts after SEQ (0: all) from the\n"
                        "catch-up API (default tcp://127.0.0.1:7712), then the live ones: each\n"
                        "once, in order, none missing. --cursor FILE keeps the last seq shown\n"
                        "in FILE and resumes after it (over --since when FILE exists).\n");
                zlist_destroy (&topics);
                return opt == 'h'? 0: 2;
        }
    }
    if (since) {
        char *end = NULL;
        errno = 0;
        opts.since = strtoull (since, &end, 10);
        if (!*since || *end || errno || *since == '-') {
            fprintf (stderr, "watch: --since must be a seq (0 or more), not '%s'\n", since);
            zlist_destroy (&topics);
            return 2;
        }
    }
    opts.endpoint = endpoint;
    opts.cert = cert;
    opts.server_cert = server_cert;
    opts.topics = topics;
    opts.resume = since || opts.cursor_path;
    dt_follow_t *follow = dt_follow_new (&opts, s_show, &self);
    if (!follow) {
        zlist_destroy (&topics);
        return 2;
    }
    int rc = dt_follow_catch_up (follow)? 1: 0;
    int64_t quiet_since = zclock_mono ();
    while (rc == 0 && !dt_follow_done (follow) && !zsys_interrupted) {
        int taken = dt_follow_poll (follow, 200);
        if (taken < 0)
            rc = 1;
        else
        if (taken == 0) {
            dt_follow_save (follow, true);
            if (timeout_ms >= 0 && zclock_mono () - quiet_since >= timeout_ms)
                break;
        }
        else {
            quiet_since = zclock_mono ();
            dt_follow_save (follow, false);
        }
    }
    if (dt_follow_save (follow, true))
        rc = 1;
    printf ("watched %ld verdicts\n", self.seen);
    dt_follow_destroy (&follow);
    zlist_destroy (&topics);
    return rc;
}
