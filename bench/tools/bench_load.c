/*  bench_load.c - the load generator of `make bench`: one publisher, one
    DEALER, many requests in flight, optionally at a fixed offered rate.

    All requests are packed before the clock starts (the events of a
    `dualtrack gen` JSON-lines file, BATCH per request). The tool then says
    "loaded" and waits for --go FILE to exist, so two publishers start
    together. Without --rate it keeps WINDOW requests in flight (maximum
    throughput). With --rate it is open-loop: request r is due at
    start + r * BATCH / RATE whatever happened before, and its latency is
    counted from that due time (so a stalled daemon is not hidden by the
    generator waiting for it: no coordinated omission).

    An "overloaded" answer is sent again 20 ms later (counted as resends);
    any other error fails the run.

    Usage: bench_load --endpoint EP --file F [--batch N] [--window N]
                      [--rate EVENTS/S] [--go FILE] [--sent FILE]
                      [--cert CERT --server-cert CERT]     (CURVE)
    Prints key=value lines (events, start_rt_ns, end_rt_ns, events_per_s,
    ack_p50_ms, ...). --sent writes "id due_ns ack_ns" per event
    (CLOCK_MONOTONIC), which bench_feed joins with the verdicts it saw.
*/
#include "bench_common.h"

#include <czmq.h>
#include <getopt.h>
#include <poll.h>

typedef struct {
    size_t first;               //  first event index
    uint32_t count;
    int64_t due;                //  latency is counted from here
    int64_t sent;               //  last (re)send, 0 = not yet
    int64_t acked;              //  0 = waiting
    int64_t resend_at;          //  overloaded: send again then
} request_t;

static void
send_request (void *sock, dt_buf_t *frame, request_t *r)
{
    if (zmq_send (sock, frame->data, frame->size, 0) < 0) {
        fprintf (stderr, "bench_load: send: %s\n", zmq_strerror (zmq_errno ()));
        exit (2);
    }
    r->sent = bench_mono_ns ();
}

int
main (int argc, char *argv [])
{
    const char *endpoint = NULL, *path = NULL, *go = NULL, *sent_path = NULL;
    const char *cert = NULL, *server_cert = NULL;
    int batch = 200, window = 64;
    double rate = 0;
    static struct option longopts [] = {
        { "endpoint", required_argument, 0, 'e' }, { "file", required_argument, 0, 'f' },
        { "batch", required_argument, 0, 'b' }, { "window", required_argument, 0, 'w' },
        { "rate", required_argument, 0, 'r' }, { "go", required_argument, 0, 'g' },
        { "sent", required_argument, 0, 's' }, { "cert", required_argument, 0, 'c' },
        { "server-cert", required_argument, 0, 'S' }, { 0, 0, 0, 0 }
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "e:f:b:w:r:g:s:c:S:", longopts, NULL)) != -1) {
        switch (opt) {
            case 'e': endpoint = optarg; break;
            case 'f': path = optarg; break;
            case 'b': batch = atoi (optarg); break;
            case 'w': window = atoi (optarg); break;
            case 'r': rate = atof (optarg); break;
            case 'g': go = optarg; break;
            case 's': sent_path = optarg; break;
            case 'c': cert = optarg; break;
            case 'S': server_cert = optarg; break;
            default:
                fprintf (stderr, "usage: bench_load --endpoint EP --file F [--batch N] [--window N]"
                                 " [--rate EVENTS/S] [--go FILE] [--sent FILE]\n");
                return 2;
        }
    }
    if (!endpoint || !path || batch < 1 || batch > DT_EVENTS_MAX || window < 1 || rate < 0) {
        fprintf (stderr, "bench_load: --endpoint and --file are required; batch 1..%d\n",
                 DT_EVENTS_MAX);
        return 2;
    }
    bench_events_t events = { 0 };
    if (bench_events_load (&events, path) || events.count == 0) {
        fprintf (stderr, "bench_load: no events in %s\n", path);
        return 2;
    }

    //  Every request packed before the clock
    size_t nreq = (events.count + (size_t) batch - 1) / (size_t) batch;
    request_t *requests = calloc (nreq, sizeof (request_t));
    dt_buf_t *frames = calloc (nreq, sizeof (dt_buf_t));
    for (size_t r = 0; r < nreq; r++) {
        request_t *req = &requests [r];
        req->first = r * (size_t) batch;
        req->count = (uint32_t) (events.count - req->first < (size_t) batch?
                                 events.count - req->first: (size_t) batch);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &frames [r], dt_buf_msgpack_write);
        msgpack_pack_map (&pk, 3);
        dt_pack_cstr (&pk, "v");
        msgpack_pack_uint8 (&pk, DT_PROTOCOL_VERSION);
        dt_pack_cstr (&pk, "req");
        msgpack_pack_uint64 (&pk, r + 1);
        dt_pack_cstr (&pk, "events");
        msgpack_pack_array (&pk, req->count);
        for (size_t i = req->first; i < req->first + req->count; i++)
            dt_buf_append (&frames [r], events.data.data + events.offset [i], events.size [i]);
    }

    zsys_init ();
    zsys_handler_set (NULL);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_sndhwm (dealer, 0);
    zsock_set_rcvhwm (dealer, 0);
    zsock_set_linger (dealer, 0);
    if (bench_curve_client (dealer, cert, server_cert))
        return 2;
    if (zsock_connect (dealer, "%s", endpoint) < 0) {
        fprintf (stderr, "bench_load: bad endpoint %s\n", endpoint);
        return 2;
    }
    void *sock = zsock_resolve (dealer);
    int fd;
    size_t fd_size = sizeof fd;
    zmq_getsockopt (sock, ZMQ_FD, &fd, &fd_size);

    fprintf (stderr, "bench_load: loaded %zu events in %zu requests\n", events.count, nreq);
    printf ("loaded=1\n");
    fflush (stdout);
    if (go)
        while (access (go, F_OK) != 0)
            usleep (500);

    int64_t start = bench_mono_ns (), start_rt = bench_real_ns ();
    double cpu_at_start = cpu_seconds ();
    int64_t interval = rate > 0? (int64_t) (1e9 * batch / rate): 0;
    for (size_t r = 0; r < nreq; r++)
        requests [r].due = start + (int64_t) r * interval;
    size_t next = 0, done = 0, inflight = 0;
    uint64_t accepted = 0, rejected = 0, resends = 0, errors = 0;
    size_t waiting_resend = 0;
    int64_t last_progress = start, end_rt = start_rt;
    double lag_max = 0;
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);

    while (done < nreq) {
        //  Replies first
        uint32_t events_flags = 0;
        size_t flags_size = sizeof events_flags;
        while (zmq_getsockopt (sock, ZMQ_EVENTS, &events_flags, &flags_size) == 0
           &&  (events_flags & ZMQ_POLLIN)) {
            zmq_msg_t msg;
            zmq_msg_init (&msg);
            if (zmq_msg_recv (&msg, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&msg);
                break;
            }
            int64_t now = bench_mono_ns ();
            dt_error_t err;
            uint64_t req = 0;
            if (dt_wire_unpack (&reply, zmq_msg_data (&msg), zmq_msg_size (&msg), &err) == 0
            &&  dt_map_uint (&reply.data, "req", &req) && req >= 1 && req <= nreq
            &&  !requests [req - 1].acked && requests [req - 1].sent) {
                request_t *r = &requests [req - 1];
                const msgpack_object *error = dt_map_get (&reply.data, "error");
                if (error) {
                    const msgpack_object *code = dt_map_get (error, "code");
                    if (code && code->type == MSGPACK_OBJECT_STR
                    &&  dt_str_eq (dt_str_of (code), "overloaded")) {
                        r->resend_at = now + 20000000;
                        resends++;
                        waiting_resend++;
                    }
                    else {
                        const msgpack_object *message = dt_map_get (error, "message");
                        fprintf (stderr, "bench_load: request %llu refused: %.*s\n",
                                 (unsigned long long) req,
                                 message && message->type == MSGPACK_OBJECT_STR?
                                     (int) message->via.str.size: 0,
                                 message && message->type == MSGPACK_OBJECT_STR?
                                     message->via.str.ptr: "");
                        errors++;
                        r->acked = now;
                        done++;
                        inflight--;
                    }
                }
                else {
                    uint64_t count = 0;
                    dt_map_uint (&reply.data, "accepted", &count);
                    accepted += count;
                    const msgpack_object *refused = dt_map_get (&reply.data, "rejected");
                    if (refused && refused->type == MSGPACK_OBJECT_ARRAY)
                        rejected += refused->via.array.size;
                    r->acked = now;
                    done++;
                    inflight--;
                    end_rt = bench_real_ns ();
                }
                last_progress = now;
            }
            zmq_msg_close (&msg);
        }
        //  Then what is due
        int64_t now = bench_mono_ns ();
        int64_t wake = now + 100000000;
        for (size_t r = 0; waiting_resend && r < next; r++)     //  overloaded ones, rare
            if (!requests [r].acked && requests [r].resend_at) {
                if (requests [r].resend_at <= now) {
                    requests [r].resend_at = 0;
                    waiting_resend--;
                    send_request (sock, &frames [r], &requests [r]);
                }
                else
                if (requests [r].resend_at < wake)
                    wake = requests [r].resend_at;
            }
        while (next < nreq && inflight < (size_t) window && requests [next].due <= now) {
            send_request (sock, &frames [next], &requests [next]);
            double lag = (double) (requests [next].sent - requests [next].due) / 1e6;
            if (lag > lag_max)
                lag_max = lag;
            next++;
            inflight++;
            now = bench_mono_ns ();
        }
        if (next < nreq && inflight < (size_t) window && requests [next].due < wake)
            wake = requests [next].due;
        if (now - last_progress > 120000000000LL) {
            fprintf (stderr, "bench_load: no reply for 120 s (%zu of %zu requests answered)\n",
                     done, nreq);
            return 2;
        }
        //  Sleep until a reply or the next due time (ZMQ_FD is edge-like:
        //  sleep only after ZMQ_EVENTS said nothing is waiting)
        if (zmq_getsockopt (sock, ZMQ_EVENTS, &events_flags, &flags_size) == 0
        &&  (events_flags & ZMQ_POLLIN))
            continue;
        if (wake > now) {
            int64_t ns = wake - now;
            struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
            struct pollfd pfd = { fd, POLLIN, 0 };
            ppoll (&pfd, 1, &ts, NULL);
        }
    }
    double seconds = (double) (end_rt - start_rt) / 1e9;

    //  Acknowledgement latency of each event: its request's
    double *latency = malloc (events.count * sizeof (double));
    size_t measured = 0;
    for (size_t r = 0; r < nreq; r++)
        for (uint32_t i = 0; i < requests [r].count; i++)
            latency [measured++] = (double) (requests [r].acked -
                                             (rate > 0? requests [r].due: requests [r].sent)) / 1e6;
    printf ("events=%zu\n", events.count);
    printf ("requests=%zu\n", nreq);
    printf ("accepted=%llu\n", (unsigned long long) accepted);
    printf ("rejected=%llu\n", (unsigned long long) rejected);
    printf ("errors=%llu\n", (unsigned long long) errors);
    printf ("resends=%llu\n", (unsigned long long) resends);
    printf ("offered_rate=%.1f\n", rate);
    printf ("start_rt_ns=%lld\n", (long long) start_rt);
    printf ("end_rt_ns=%lld\n", (long long) end_rt);
    //  This process's own CPU while publishing (loading the file is not
    //  timed): the harness shares the machine with what it measures
    printf ("cpu_s=%.3f\n", cpu_seconds () - cpu_at_start);
    printf ("seconds=%.6f\n", seconds);
    printf ("events_per_s=%.1f\n", (double) accepted / seconds);
    printf ("send_lag_max_ms=%.3f\n", lag_max);
    bench_print_latency ("ack", latency, measured);
    free (latency);

    if (sent_path) {
        char tmp [1024];
        snprintf (tmp, sizeof tmp, "%s.tmp", sent_path);
        FILE *out = fopen (tmp, "w");
        if (!out) {
            fprintf (stderr, "bench_load: can not write %s: %s\n", tmp, strerror (errno));
            return 2;
        }
        for (size_t r = 0; r < nreq; r++) {
            int64_t from = rate > 0? requests [r].due: requests [r].sent;
            for (size_t i = requests [r].first; i < requests [r].first + requests [r].count; i++)
                fprintf (out, "%s %lld %lld\n", events.id [i], (long long) from,
                         (long long) requests [r].acked);
        }
        if (fclose (out) || rename (tmp, sent_path)) {
            fprintf (stderr, "bench_load: can not write %s: %s\n", sent_path, strerror (errno));
            return 2;
        }
    }
    msgpack_unpacked_destroy (&reply);
    zsock_destroy (&dealer);
    for (size_t r = 0; r < nreq; r++)
        dt_buf_free (&frames [r]);
    free (frames);
    free (requests);
    bench_events_free (&events);
    return errors? 1: 0;
}
