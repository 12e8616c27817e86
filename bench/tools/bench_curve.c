/*  bench_curve.c - what CURVE costs per event on one hop, alone: the
    benchmark's events in requests of --batch events (msgpack, as the
    publishers send them), pushed from a PUSH socket to a PULL socket over
    loopback TCP in this process, once plain and once with CURVE (a
    throwaway server key, no authenticator), --reps times in turn. The
    figure is this process's CPU (all threads: ZeroMQ's I/O threads do the
    encryption and decryption) per 1000 events: one hop costs the sender's
    encryption plus the receiver's decryption, so it is what a hop of the
    system (publisher -> track, track -> coordinator) adds between its two
    ends. Not part of bench/run (docs/performance.md, "The CURVE cost").

    Usage: bench_curve [--batch B] [--reps R] FILE:TRACK
    Prints key=value lines: events, bytes, and per mode (plain_, curve_)
    the median cpu_ms_per_1000 and seconds, then curve_cost_ms_per_1000.
*/
#include "bench_common.h"

//  Pushes every request through a fresh PUSH/PULL pair; CPU seconds used
static double
s_run (zlist_t *requests, bool curve, double *seconds)
{
    zsock_t *pull = zsock_new (ZMQ_PULL), *push = zsock_new (ZMQ_PUSH);
    zcert_t *server = NULL, *client = NULL;
    if (curve) {
        server = zcert_new ();
        client = zcert_new ();
        zcert_apply (server, zsock_resolve (pull));
        zsock_set_curve_server (pull, 1);
        zcert_apply (client, zsock_resolve (push));
        zsock_set_curve_serverkey (push, zcert_public_txt (server));
    }
    zsock_set_rcvhwm (pull, 0);
    zsock_set_sndhwm (push, 0);
    int port = zsock_bind (pull, "tcp://127.0.0.1:*");
    zsock_connect (push, "tcp://127.0.0.1:%d", port);
    //  The handshake, before the clock
    zstr_send (push, "hello");
    free (zstr_recv (pull));
    double cpu = cpu_seconds ();
    int64_t start = bench_mono_ns ();
    size_t count = zlist_size (requests);
    for (zframe_t *frame = zlist_first (requests); frame; frame = zlist_next (requests)) {
        zframe_t *copy = zframe_dup (frame);
        zframe_send (&copy, push, 0);
    }
    for (size_t i = 0; i < count; i++) {
        zframe_t *frame = zframe_recv (pull);
        zframe_destroy (&frame);
    }
    *seconds = (double) (bench_mono_ns () - start) / 1e9;
    cpu = cpu_seconds () - cpu;
    zsock_destroy (&push);
    zsock_destroy (&pull);
    zcert_destroy (&server);
    zcert_destroy (&client);
    return cpu;
}

int
main (int argc, char *argv [])
{
    size_t batch = 200;
    int reps = 5, arg = 1;
    for (; arg + 1 < argc && strncmp (argv [arg], "--", 2) == 0; arg += 2)
        if (strcmp (argv [arg], "--batch") == 0)
            batch = (size_t) atol (argv [arg + 1]);
        else
        if (strcmp (argv [arg], "--reps") == 0)
            reps = atoi (argv [arg + 1]);
        else
            break;
    if (argc - arg != 1 || batch == 0 || reps < 1 || reps > 99) {
        fprintf (stderr, "usage: bench_curve [--batch B] [--reps R] FILE:TRACK\n");
        return 2;
    }
    bench_events_t events = { 0 };
    dt_track_t track;
    if (bench_events_load_spec (&events, argv [arg], &track) || events.count == 0)
        return 2;
    //  Requests of batch events, their msgpack back to back
    zlist_t *requests = zlist_new ();
    for (size_t i = 0; i < events.count; i += batch) {
        size_t to = i + batch < events.count? i + batch: events.count;
        size_t end = events.offset [to - 1] + events.size [to - 1];
        zlist_append (requests, zframe_new (events.data.data + events.offset [i], end - events.offset [i]));
    }
    double cpu [2][99], wall [2][99];
    for (int r = 0; r < reps; r++)
        for (int curve = 0; curve < 2; curve++)
            cpu [curve][r] = s_run (requests, curve, &wall [curve][r]) / (double) events.count * 1e6;
    printf ("events=%zu\n", events.count);
    printf ("bytes=%zu\n", events.data.size);
    double median [2];
    for (int curve = 0; curve < 2; curve++) {
        const char *mode = curve? "curve": "plain";
        qsort (cpu [curve], (size_t) reps, sizeof (double), bench_cmp_double);
        qsort (wall [curve], (size_t) reps, sizeof (double), bench_cmp_double);
        median [curve] = bench_percentile (cpu [curve], (size_t) reps, 0.5);
        printf ("%s_cpu_ms_per_1000=%.3f\n", mode, median [curve]);
        printf ("%s_seconds=%.3f\n", mode, bench_percentile (wall [curve], (size_t) reps, 0.5));
    }
    printf ("curve_cost_ms_per_1000=%.3f\n", median [1] - median [0]);
    for (zframe_t *frame = zlist_first (requests); frame; frame = zlist_next (requests))
        zframe_destroy (&frame);
    zlist_destroy (&requests);
    bench_events_free (&events);
    return 0;
}
