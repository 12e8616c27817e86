/*  check.c - `dualtrack check`: ask the coordinator's check API what it
    would say about a planned touchpoint (one JSON event on stdin)
*/
#include "cli/cli.h"
#include "base/buf.h"
#include "base/jsonmp.h"
#include "proto/link.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

//  An error reply with code `unavailable`
static bool
s_unavailable (zframe_t *reply)
{
    msgpack_unpacked answer;
    msgpack_unpacked_init (&answer);
    dt_error_t err;
    dt_check_reply_t answered;
    bool unavailable = dt_wire_unpack (&answer, (const char *) zframe_data (reply),
                                       zframe_size (reply), &err) == 0
                    && dt_check_reply_open (&answer.data, &answered) == 0 && answered.error
                    && dt_map_get (answered.error, "code")
                    && dt_str_eq (dt_str_of (dt_map_get (answered.error, "code")), "unavailable");
    msgpack_unpacked_destroy (&answer);
    return unavailable;
}

int
dt_cli_check (int argc, char *argv [])
{
    const char *endpoint = "tcp://127.0.0.1:7711", *track = NULL;
    const char *cert = NULL, *server_cert = NULL;
    int timeout_ms = 5000;
    dt_check_options_t options = { false, DT_TTL_MS_DEFAULT, 0, { "", 0 } };
    bool with_options = false;
    static struct option longopts [] = {
        { "endpoint", required_argument, 0, 'e' }, { "track", required_argument, 0, 't' },
        { "timeout", required_argument, 0, 'T' }, { "cert", required_argument, 0, 'c' },
        { "server-cert", required_argument, 0, 's' }, { "reserve", no_argument, 0, 'r' },
        { "ttl-ms", required_argument, 0, 'l' }, { "priority", required_argument, 0, 'p' },
        { "owner", required_argument, 0, 'o' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "e:t:T:c:s:rl:p:o:h", longopts, NULL)) != -1) {
        switch (opt) {
            case 'e': endpoint = optarg; break;
            case 't': track = optarg; break;
            case 'T': timeout_ms = atoi (optarg); break;
            case 'c': cert = optarg; break;
            case 's': server_cert = optarg; break;
            case 'r': options.reserve = with_options = true; break;
            case 'l': options.ttl_ms = atoll (optarg); with_options = true; break;
            case 'p': options.priority = atoi (optarg); with_options = true; break;
            case 'o': options.owner = dt_str_c (optarg); with_options = true; break;
            default:
                printf ("Usage: dualtrack check --track marketing|sales [--endpoint EP]\n"
                        "         [--cert FILE --server-cert FILE]\n"
                        "         [--reserve [--ttl-ms MS] [--priority N]] [--owner NAME] < event.json\n"
                        "Asks the coordinator's check API (default tcp://127.0.0.1:7711) what it\n"
                        "would say about a planned touchpoint (one JSON event on stdin), without\n"
                        "storing it. --reserve also holds a slot of the contact budget for it if\n"
                        "it fits every cap (default 15 minutes) and prints its token: send the\n"
                        "event with \"reservation\": TOKEN. --owner names who asks (default the\n"
                        "track); the reservations of that owner taken since its last check are\n"
                        "listed. Exit status: 0 ok, 1 warn, 2 violation, 3 error, 4 not reserved.\n");
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
    dt_check_request_pack_head (&pk, 1, track, with_options? &options: NULL);
    dt_pack_json (&pk, event);
    json_decref (event);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (dealer, timeout_ms);
    if (dt_cli_secure (dealer, cert, server_cert) || zsock_connect (dealer, "%s", endpoint) < 0) {
        zsock_destroy (&dealer);
        dt_buf_free (&frame);
        return 3;
    }
    //  A coordinator still starting answers `unavailable`: ask again
    //  while the timeout lasts
    int64_t deadline = zclock_mono () + timeout_ms;
    zframe_t *reply = NULL;
    while (true) {
        zframe_t *request = zframe_new (frame.data, frame.size);
        zframe_send (&request, dealer, 0);
        reply = zframe_recv (dealer);
        if (!reply || zclock_mono () + 200 >= deadline || !s_unavailable (reply))
            break;
        zframe_destroy (&reply);
        zclock_sleep (200);
    }
    dt_buf_free (&frame);
    int rc = 3;
    if (!reply)
        fprintf (stderr, "check: no answer from %s\n", endpoint);
    else {
        msgpack_unpacked answer;
        msgpack_unpacked_init (&answer);
        dt_error_t err;
        if (dt_wire_unpack (&answer, (const char *) zframe_data (reply), zframe_size (reply), &err) == 0) {
            dt_check_reply_t answered;
            bool opened = dt_check_reply_open (&answer.data, &answered) == 0;
            if (opened && answered.error) {
                printf ("error: ");
                dt_cli_print_str (answered.error, "code");
                printf (": ");
                dt_cli_print_str (answered.error, "message");
                printf ("\n");
            }
            else
            if (opened) {
                printf ("verdict: %.*s\n", (int) answered.verdict.len, answered.verdict.ptr);
                //  The canonical ids the rules judged it by (older
                //  coordinators do not say: nothing printed)
                if (dt_map_get (&answer.data, "account_key")) {
                    printf ("judged as: account ");
                    dt_cli_print_str (&answer.data, "account_key");
                    if (dt_map_get (&answer.data, "contact_key")) {
                        printf (", contact ");
                        dt_cli_print_str (&answer.data, "contact_key");
                    }
                    printf ("\n");
                }
                dt_cli_print_findings (answered.findings);
                rc = dt_str_eq (answered.verdict, "ok")? 0:
                     dt_str_eq (answered.verdict, "warn")? 1: 2;
                if (answered.reservation.len) {
                    time_t until = (time_t) (answered.expires_at / 1000);
                    struct tm tm;
                    char when [32] = "?";
                    if (gmtime_r (&until, &tm))
                        strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
                    printf ("reservation: %.*s until %s\n", (int) answered.reservation.len,
                            answered.reservation.ptr, when);
                }
                else
                if (options.reserve) {
                    printf ("reservation: none (the touch does not fit the contact budget)\n");
                    rc = 4;
                }
                for (uint32_t i = 0; answered.taken && i < answered.taken->via.array.size; i++) {
                    const msgpack_object *taken = &answered.taken->via.array.ptr [i];
                    printf ("taken: reservation ");
                    dt_cli_print_str (taken, "reservation");
                    printf (" by ");
                    dt_cli_print_str (taken, "by");
                    printf (" of ");
                    dt_cli_print_str (taken, "by_owner");
                    printf ("\n");
                }
            }
        }
        msgpack_unpacked_destroy (&answer);
        zframe_destroy (&reply);
    }
    zsock_destroy (&dealer);
    return rc;
}
