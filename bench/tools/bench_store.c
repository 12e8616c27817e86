/*  bench_store.c - a diagnostic of `make bench`: the coordinator's store
    alone. The same events as the baseline go through the coordinator's own
    code, minus the daemons and the sockets: packed as the tracks' link
    batches, added to writesets and judged by the rule engine (with the tone
    book in the database), then written by dt_store_write, the statements
    the coordinator sends (touchpoint_ids, touchpoints, findings). Only the
    writes are timed, so rows_per_s is what the store path can take from one
    connection at that writeset size, to set beside the baseline's one COPY.
    The writesets are made as bench_writesets.h makes them (as
    bench_copy_all.c, the second baseline, makes them).

    Usage: bench_store [--writeset N] [--batch B] URI FILE:TRACK [FILE:TRACK ...]
      --writeset N  items per writeset (4000, the coordinator's writeset.max)
      --batch B     items per link batch, the tracks' batches taking turns
                    (1000; the latency runs' writesets are ~130 items of
                    100-event requests)
    The tables must be empty of these ids. Prints key=value lines: rows,
    writesets, findings, seconds, rows_per_s, and backend_cpu_s (the CPU
    seconds of the server process that did the writes, from /proc; -1 when
    it can not be read).
*/
#include "bench_writesets.h"
#include "store/store.h"

int
main (int argc, char *argv [])
{
    bench_feeder_t feeder;
    if (bench_feeder_open (&feeder, argc, argv, "bench_store"))
        return 2;
    char err [512];
    dt_store_t *store = dt_store_new (feeder.uri, NULL);
    if (dt_store_connect (store, err, sizeof err)) {
        fprintf (stderr, "bench_store: %s\n", err);
        return 2;
    }
    int backend = dt_store_backend_pid (store);
    double cpu_before = bench_process_cpu_s (backend);

    //  Each writeset filled and judged, then written
    dt_writeset_t *ws = dt_writeset_new ();
    size_t rows = 0, findings = 0, writesets = 0;
    int64_t writing_ns = 0, size;
    while ((size = bench_feeder_fill (&feeder, ws)) > 0) {
        int64_t start = bench_mono_ns ();
        if (dt_store_write (store, ws, err, sizeof err)) {
            fprintf (stderr, "bench_store: %s\n", err);
            return 2;
        }
        writing_ns += bench_mono_ns () - start;
        if (ws->duplicates) {
            fprintf (stderr, "bench_store: %u events already stored: empty the tables first\n",
                     ws->duplicates);
            return 2;
        }
        rows += ws->stored;
        findings += ws->finding_count;
        writesets++;
        dt_writeset_reset (ws);
    }
    if (size < 0)
        return 2;
    double cpu_after = bench_process_cpu_s (backend);
    double seconds = (double) writing_ns / 1e9;
    printf ("writesets=%zu\n", writesets);
    printf ("findings=%zu\n", findings);
    bench_print_write (rows, seconds, cpu_before, cpu_after);

    dt_writeset_destroy (&ws);
    dt_store_destroy (&store);
    bench_feeder_free (&feeder);
    return 0;
}
