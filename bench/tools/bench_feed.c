/*  bench_feed.c - the decisions-feed subscriber of `make bench`.

    Subscribes to "marketing." and "sales." (the advisory copies are the
    same verdicts again) before publishing starts, notes when each event's
    verdict arrives (CLOCK_MONOTONIC) and stops once it has seen --expect
    distinct ids, or after --idle-ms without a verdict. A verdict is
    published right after its writeset committed, so the last one seen is
    when the system had stored everything.

    Then it reads the --sent files of the publishers (bench_load: "id due_ns
    ack_ns" per event, waiting up to a minute for them) and prints, per
    event, acknowledgement latency (due -> ack) and verdict latency
    (due -> verdict seen) as percentiles. --timeline FILE also writes, per
    event, "id due ack verdict" in wall-clock nanoseconds (verdict 0 if not
    seen), to line latency spikes up with the daemons' and PostgreSQL's logs.

    Usage: bench_feed --endpoint EP --expect N [--idle-ms MS] [--sent FILE]...
                      [--timeline FILE]
                      [--cert CERT --server-cert CERT]     (CURVE)
    Prints "ready=1" once subscribed, then key=value lines.
*/
#include "bench_common.h"

#include <czmq.h>
#include <getopt.h>

#define MAX_SENT 8

int
main (int argc, char *argv [])
{
    const char *endpoint = NULL, *sent [MAX_SENT], *cert = NULL, *server_cert = NULL;
    const char *timeline_path = NULL;
    int sent_count = 0;
    long expect = 0;
    int idle_ms = 30000;
    static struct option longopts [] = {
        { "endpoint", required_argument, 0, 'e' }, { "expect", required_argument, 0, 'n' },
        { "idle-ms", required_argument, 0, 'i' }, { "sent", required_argument, 0, 's' },
        { "cert", required_argument, 0, 'c' }, { "server-cert", required_argument, 0, 'S' },
        { "timeline", required_argument, 0, 't' },
        { 0, 0, 0, 0 }
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "e:n:i:s:c:S:t:", longopts, NULL)) != -1) {
        switch (opt) {
            case 'e': endpoint = optarg; break;
            case 'n': expect = atol (optarg); break;
            case 'i': idle_ms = atoi (optarg); break;
            case 's': if (sent_count < MAX_SENT) sent [sent_count++] = optarg; break;
            case 'c': cert = optarg; break;
            case 'S': server_cert = optarg; break;
            case 't': timeline_path = optarg; break;
            default:
                fprintf (stderr, "usage: bench_feed --endpoint EP --expect N [--idle-ms MS]"
                                 " [--sent FILE]...\n");
                return 2;
        }
    }
    if (!endpoint || expect < 1) {
        fprintf (stderr, "bench_feed: --endpoint and --expect are required\n");
        return 2;
    }
    zsys_init ();
    zsys_handler_set (NULL);
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 0);
    zsock_set_subscribe (sub, "marketing.");
    zsock_set_subscribe (sub, "sales.");
    if (bench_curve_client (sub, cert, server_cert))
        return 2;
    if (zsock_connect (sub, "%s", endpoint) < 0) {
        fprintf (stderr, "bench_feed: bad endpoint %s\n", endpoint);
        return 2;
    }
    //  Let the subscription reach the publisher (ZeroMQ's slow joiner)
    zclock_sleep (300);
    printf ("ready=1\n");
    fflush (stdout);

    zhashx_t *seen = zhashx_new ();         //  id -> index into seen_at
    size_t alloc = (size_t) expect + 16;
    int64_t *seen_at = malloc (alloc * sizeof (int64_t));
    size_t unique = 0;
    uint64_t messages = 0, duplicates = 0, verdicts [3] = { 0, 0, 0 }, findings = 0;
    int64_t first_rt = 0, last_rt = 0, last_mono = bench_mono_ns ();
    bool any = false;
    void *sock = zsock_resolve (sub);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    while ((long) unique < expect) {
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll (&item, 1, 200);
        int64_t now = bench_mono_ns ();
        if (rc <= 0) {
            if (any && now - last_mono > (int64_t) idle_ms * 1000000)
                break;
            if (!any && now - last_mono > 600000000000LL)
                break;
            continue;
        }
        while (true) {
            zmq_msg_t topic, body;
            zmq_msg_init (&topic);
            zmq_msg_init (&body);
            if (zmq_msg_recv (&topic, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&topic);
                zmq_msg_close (&body);
                break;
            }
            if (!zmq_msg_more (&topic) || zmq_msg_recv (&body, sock, 0) < 0) {
                zmq_msg_close (&topic);
                zmq_msg_close (&body);
                continue;
            }
            now = bench_mono_ns ();
            messages++;
            dt_error_t err;
            const msgpack_object *id = NULL;
            if (dt_wire_unpack (&unpacked, zmq_msg_data (&body), zmq_msg_size (&body), &err) == 0)
                id = dt_map_get (&unpacked.data, "id");
            if (id && id->type == MSGPACK_OBJECT_STR) {
                char key [DT_ID_MAX + 1];
                snprintf (key, sizeof key, "%.*s", (int) id->via.str.size, id->via.str.ptr);
                if (zhashx_lookup (seen, key))
                    duplicates++;
                else {
                    if (unique == alloc) {
                        alloc *= 2;
                        seen_at = realloc (seen_at, alloc * sizeof (int64_t));
                    }
                    seen_at [unique] = now;
                    zhashx_insert (seen, key, (void *) (uintptr_t) (unique + 1));
                    unique++;
                    const msgpack_object *verdict = dt_map_get (&unpacked.data, "verdict");
                    if (verdict && verdict->type == MSGPACK_OBJECT_STR) {
                        if (dt_str_eq (dt_str_of (verdict), "ok"))
                            verdicts [0]++;
                        else
                        if (dt_str_eq (dt_str_of (verdict), "warn"))
                            verdicts [1]++;
                        else
                            verdicts [2]++;
                    }
                    const msgpack_object *list = dt_map_get (&unpacked.data, "findings");
                    if (list && list->type == MSGPACK_OBJECT_ARRAY)
                        findings += list->via.array.size;
                }
                last_rt = bench_real_ns ();
                if (!any)
                    first_rt = last_rt;
                any = true;
                last_mono = now;
            }
            zmq_msg_close (&topic);
            zmq_msg_close (&body);
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    printf ("messages=%llu\n", (unsigned long long) messages);
    printf ("verdicts=%zu\n", unique);
    printf ("duplicates=%llu\n", (unsigned long long) duplicates);
    printf ("expected=%ld\n", expect);
    printf ("first_rt_ns=%lld\n", (long long) first_rt);
    printf ("last_rt_ns=%lld\n", (long long) last_rt);
    //  This process's own CPU (user + system, all threads): the harness
    //  shares the machine with what it measures
    printf ("cpu_s=%.3f\n", cpu_seconds ());
    printf ("verdict_ok=%llu\n", (unsigned long long) verdicts [0]);
    printf ("verdict_warn=%llu\n", (unsigned long long) verdicts [1]);
    printf ("verdict_violation=%llu\n", (unsigned long long) verdicts [2]);
    printf ("findings=%llu\n", (unsigned long long) findings);
    fflush (stdout);

    //  Join with what the publishers sent
    FILE *timeline = timeline_path? fopen (timeline_path, "w"): NULL;
    if (timeline_path && !timeline)
        fprintf (stderr, "bench_feed: can not write %s: %s\n", timeline_path, strerror (errno));
    int64_t mono_to_real = bench_real_ns () - bench_mono_ns ();
    size_t cap = (size_t) expect + 16, acks = 0, verdicts_joined = 0, missing = 0;
    double *ack = malloc (cap * sizeof (double));
    double *verdict = malloc (cap * sizeof (double));
    for (int f = 0; f < sent_count; f++) {
        int64_t deadline = bench_mono_ns () + 60000000000LL;
        while (access (sent [f], F_OK) != 0 && bench_mono_ns () < deadline)
            usleep (20000);
        FILE *file = fopen (sent [f], "r");
        if (!file) {
            fprintf (stderr, "bench_feed: can not read %s: %s\n", sent [f], strerror (errno));
            continue;
        }
        char id [DT_ID_MAX + 2];
        long long due, acked;
        while (fscanf (file, "%65s %lld %lld", id, &due, &acked) == 3) {
            if (acks == cap) {
                cap *= 2;
                ack = realloc (ack, cap * sizeof (double));
                verdict = realloc (verdict, cap * sizeof (double));
            }
            ack [acks++] = (double) (acked - due) / 1e6;
            uintptr_t slot = (uintptr_t) zhashx_lookup (seen, id);
            if (slot)
                verdict [verdicts_joined++] = (double) (seen_at [slot - 1] - due) / 1e6;
            else
                missing++;
            if (timeline)
                fprintf (timeline, "%s %lld %lld %lld\n", id, due + mono_to_real,
                         acked + mono_to_real, slot? (long long) (seen_at [slot - 1] + mono_to_real): 0LL);
        }
        fclose (file);
    }
    if (timeline)
        fclose (timeline);
    if (sent_count) {
        printf ("missing_verdicts=%zu\n", missing);
        bench_print_latency ("ack", ack, acks);
        bench_print_latency ("verdict", verdict, verdicts_joined);
    }
    free (ack);
    free (verdict);
    free (seen_at);
    zhashx_destroy (&seen);
    zsock_destroy (&sub);
    return (long) unique >= expect? 0: 1;
}
