/*  watch.c - `dualtrack watch`: tail the decisions feed, and `dualtrack
    check`: ask the coordinator about a planned touchpoint. Both print a
    verdict the same way: a line for the touchpoint, a line per finding.
*/
#include "cli/cli.h"
#include "base/buf.h"
#include "base/jsonmp.h"
#include "proto/wire.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
print_str (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = dt_map_get (map, key);
    if (value && value->type == MSGPACK_OBJECT_STR)
        printf ("%.*s", (int) value->via.str.size, value->via.str.ptr);
    else
        printf ("-");
}

//  "  rule (severity): message [related: a, b]" per finding
static void
print_findings (const msgpack_object *map)
{
    const msgpack_object *findings = dt_map_get (map, "findings");
    if (!findings || findings->type != MSGPACK_OBJECT_ARRAY)
        return;
    for (uint32_t i = 0; i < findings->via.array.size; i++) {
        const msgpack_object *f = &findings->via.array.ptr [i];
        printf ("  ");
        print_str (f, "rule");
        printf (" (");
        print_str (f, "severity");
        printf ("): ");
        print_str (f, "message");
        const msgpack_object *related = dt_map_get (f, "related");
        if (related && related->type == MSGPACK_OBJECT_ARRAY && related->via.array.size) {
            printf (" [related:");
            for (uint32_t k = 0; k < related->via.array.size; k++)
                if (related->via.array.ptr [k].type == MSGPACK_OBJECT_STR)
                    printf (" %.*s", (int) related->via.array.ptr [k].via.str.size,
                            related->via.array.ptr [k].via.str.ptr);
            printf ("]");
        }
        printf ("\n");
    }
}

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
                print_str (&verdict.data, "id");
                printf (" account=");
                print_str (&verdict.data, "account");
                printf (" verdict=");
                print_str (&verdict.data, "verdict");
                printf ("\n");
                print_findings (&verdict.data);
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

int
dt_cli_check (int argc, char *argv [])
{
    const char *endpoint = "tcp://127.0.0.1:7711", *track = NULL;
    const char *cert = NULL, *server_cert = NULL;
    int timeout_ms = 5000;
    static struct option longopts [] = {
        { "endpoint", required_argument, 0, 'e' }, { "track", required_argument, 0, 't' },
        { "timeout", required_argument, 0, 'T' }, { "cert", required_argument, 0, 'c' },
        { "server-cert", required_argument, 0, 's' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "e:t:T:c:s:h", longopts, NULL)) != -1) {
        switch (opt) {
            case 'e': endpoint = optarg; break;
            case 't': track = optarg; break;
            case 'T': timeout_ms = atoi (optarg); break;
            case 'c': cert = optarg; break;
            case 's': server_cert = optarg; break;
            default:
                printf ("Usage: dualtrack check --track marketing|sales [--endpoint EP]\n"
                        "         [--cert FILE --server-cert FILE] < event.json\n"
                        "Asks the coordinator's check API (default tcp://127.0.0.1:7711) what it\n"
                        "would say about a planned touchpoint (one JSON event on stdin), without\n"
                        "storing it. Exit status: 0 ok, 1 warn, 2 violation, 3 error.\n");
                return opt == 'h'? 0: 3;
        }
    }
    if (!track) {
        fprintf (stderr, "check: --track marketing|sales is required\n");
        return 3;
    }
    json_error_t jerr;
    json_t *event = json_loadf (stdin, JSON_REJECT_DUPLICATES, &jerr);
    if (!event) {
        fprintf (stderr, "check: stdin is not one JSON event: %s\n", jerr.text);
        return 3;
    }
    dt_buf_t frame = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
    msgpack_pack_map (&pk, 4);
    dt_pack_cstr (&pk, "v");
    msgpack_pack_uint8 (&pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (&pk, "req");
    msgpack_pack_uint64 (&pk, 1);
    dt_pack_cstr (&pk, "track");
    dt_pack_cstr (&pk, track);
    dt_pack_cstr (&pk, "event");
    dt_pack_json (&pk, event);
    json_decref (event);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (dealer, timeout_ms);
    if (dt_cli_secure (dealer, cert, server_cert) || zsock_connect (dealer, "%s", endpoint) < 0) {
        zsock_destroy (&dealer);
        dt_buf_free (&frame);
        return 3;
    }
    zframe_t *request = zframe_new (frame.data, frame.size);
    dt_buf_free (&frame);
    zframe_send (&request, dealer, 0);
    zframe_t *reply = zframe_recv (dealer);
    int rc = 3;
    if (!reply)
        fprintf (stderr, "check: no answer from %s\n", endpoint);
    else {
        msgpack_unpacked answer;
        msgpack_unpacked_init (&answer);
        dt_error_t err;
        if (dt_wire_unpack (&answer, (const char *) zframe_data (reply), zframe_size (reply), &err) == 0) {
            const msgpack_object *error = dt_map_get (&answer.data, "error");
            const msgpack_object *verdict = dt_map_get (&answer.data, "verdict");
            if (error) {
                printf ("error: ");
                print_str (error, "code");
                printf (": ");
                print_str (error, "message");
                printf ("\n");
            }
            else
            if (verdict && verdict->type == MSGPACK_OBJECT_STR) {
                printf ("verdict: %.*s\n", (int) verdict->via.str.size, verdict->via.str.ptr);
                print_findings (&answer.data);
                rc = dt_str_eq (dt_str_of (verdict), "ok")? 0:
                     dt_str_eq (dt_str_of (verdict), "warn")? 1: 2;
            }
        }
        msgpack_unpacked_destroy (&answer);
        zframe_destroy (&reply);
    }
    zsock_destroy (&dealer);
    return rc;
}
