/*  watch.c - `dualtrack watch`: tail the decisions feed, a line per
    touchpoint and a line per finding
*/
#include "cli/cli.h"
#include "proto/wire.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int
dt_cli_watch (int argc, char *argv [])
{
    const char *endpoint = "tcp://127.0.0.1:7710", *cert = NULL, *server_cert = NULL;
    long count = -1, timeout_ms = -1;
    bool quiet = false;
    zlist_t *topics = zlist_new ();
    static struct option longopts [] = {
        { "endpoint", required_argument, 0, 'e' }, { "topic", required_argument, 0, 't' },
        { "count", required_argument, 0, 'n' }, { "timeout", required_argument, 0, 'T' },
        { "quiet", no_argument, 0, 'q' }, { "cert", required_argument, 0, 'c' },
        { "server-cert", required_argument, 0, 's' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "e:t:n:T:c:s:qh", longopts, NULL)) != -1) {
        switch (opt) {
            case 'e': endpoint = optarg; break;
            case 't': zlist_append (topics, optarg); break;
            case 'n': count = atol (optarg); break;
            case 'T': timeout_ms = atol (optarg); break;
            case 'q': quiet = true; break;
            case 'c': cert = optarg; break;
            case 's': server_cert = optarg; break;
            default:
                printf ("Usage: dualtrack watch [--endpoint EP] [--topic PREFIX]... [--count N]\n"
                        "         [--timeout MS] [--quiet] [--cert FILE --server-cert FILE]\n"
                        "Prints verdicts from the decisions feed (default tcp://127.0.0.1:7710).\n"
                        "Topics are TRACK.VERDICT (sales.warn) and advisory.TRACK; a prefix\n"
                        "filters (--topic sales. --topic marketing.violation). --count exits\n"
                        "after N verdicts, --timeout after MS quiet ms; --quiet prints only the\n"
                        "final count.\n");
                zlist_destroy (&topics);
                return opt == 'h'? 0: 2;
        }
    }
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 0);
    if (dt_cli_secure (sub, cert, server_cert)) {
        zsock_destroy (&sub);
        zlist_destroy (&topics);
        return 2;
    }
    if (zlist_size (topics) == 0)
        zsock_set_subscribe (sub, "");
    for (char *topic = zlist_first (topics); topic; topic = zlist_next (topics))
        zsock_set_subscribe (sub, topic);
    zlist_destroy (&topics);
    if (zsock_connect (sub, "%s", endpoint) < 0) {
        fprintf (stderr, "watch: bad endpoint %s\n", endpoint);
        zsock_destroy (&sub);
        return 2;
    }
    if (timeout_ms >= 0)
        zsock_set_rcvtimeo (sub, (int) timeout_ms);
    long seen = 0;
    while (count < 0 || seen < count) {
        char *topic = NULL;
        zframe_t *body = NULL;
        if (zsock_recv (sub, "sf", &topic, &body) < 0)
            break;      //  timeout or interrupted
        msgpack_unpacked verdict;
        msgpack_unpacked_init (&verdict);
        dt_error_t err;
        if (body && dt_wire_unpack (&verdict, (const char *) zframe_data (body),
                                    zframe_size (body), &err) == 0) {
            seen++;
            if (!quiet) {
                printf ("%s ", topic);
                dt_cli_print_str (&verdict.data, "id");
                printf (" account=");
                dt_cli_print_str (&verdict.data, "account");
                printf (" verdict=");
                dt_cli_print_str (&verdict.data, "verdict");
                printf ("\n");
                dt_cli_print_findings (dt_map_get (&verdict.data, "findings"));
                fflush (stdout);
            }
        }
        msgpack_unpacked_destroy (&verdict);
        zframe_destroy (&body);
        zstr_free (&topic);
    }
    printf ("watched %ld verdicts\n", seen);
    zsock_destroy (&sub);
    return 0;
}
