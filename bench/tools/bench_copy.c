/*  bench_copy.c - the baseline of `make bench`: how fast one libpq client
    COPYs the benchmark's touchpoint rows straight into a table.

    The rows are the ones the coordinator would store for the same events
    (the same JSON lines, decoded by the same codec, written by the same
    dt_copy_judged_touchpoint, verdict ok), interleaved across the files as
    the two tracks would interleave them. They are built before the clock
    starts; the clock covers BEGIN, one COPY ... FROM STDIN of every row and
    COMMIT, which is what the store can do at best from one client.

    The coordinator's own store path on the same events is bench_store.c;
    the second baseline, everything the system stores for them in its
    transaction sizes, is bench_copy_all.c.

    Usage: bench_copy URI TABLE FILE:TRACK [FILE:TRACK ...]
    Prints key=value lines: rows, bytes, seconds, rows_per_s, and the CPU
    seconds of the server process that did the COPY (backend_cpu_s, from
    /proc: the server runs on this machine; -1 when it can not be read).
*/
#include "bench_common.h"
#include "store/copyrow.h"

int
main (int argc, char *argv [])
{
    int arg = 1;
    if (argc - arg < 3) {
        fprintf (stderr, "usage: bench_copy URI TABLE FILE:TRACK [FILE:TRACK ...]\n");
        return 2;
    }
    const char *uri = argv [arg], *table = argv [arg + 1];
    int files = argc - arg - 2;
    argv += arg - 1;
    bench_events_t *events = calloc ((size_t) files, sizeof (bench_events_t));
    dt_track_t *tracks = calloc ((size_t) files, sizeof (dt_track_t));
    size_t total = 0, longest = 0;
    for (int f = 0; f < files; f++) {
        if (bench_events_load_spec (&events [f], argv [3 + f], &tracks [f]))
            return 2;
        total += events [f].count;
        if (events [f].count > longest)
            longest = events [f].count;
    }

    //  The rows, before the clock
    dt_stageset_t stages;
    dt_stageset_default (&stages);
    dt_buf_t rows = { 0 }, scratch = { 0 };
    size_t made = 0, refused = 0;
    int64_t received_at = bench_real_ns () / 1000;
    for (size_t i = 0; i < longest; i++)
        for (int f = 0; f < files; f++) {
            if (i >= events [f].count)
                continue;
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            dt_error_t err;
            dt_event_t event;
            if (dt_wire_unpack (&unpacked, events [f].data.data + events [f].offset [i],
                                events [f].size [i], &err) == 0
            &&  dt_event_decode (&unpacked.data, &stages, DT_FORM_INGRESS, tracks [f],
                                 &event, &err) == 0) {
                event.received_at = received_at++;
                dt_copy_judged_touchpoint (&rows, &scratch, &event, "ok", event.account,
                                           event.contact, 0, (dt_str_t) { "", 0 });
                made++;
            }
            else
                refused++;
            msgpack_unpacked_destroy (&unpacked);
        }
    if (refused)
        fprintf (stderr, "bench_copy: %zu of %zu events refused by the codec\n", refused, total);

    PGconn *conn = PQconnectdb (uri);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "bench_copy: %s", PQerrorMessage (conn));
        return 2;
    }
    int backend = PQbackendPID (conn);
    double cpu_before = bench_process_cpu_s (backend);
    char sql [512];
    snprintf (sql, sizeof sql, "COPY %s (" DT_JUDGED_TOUCHPOINT_COLUMNS ") FROM STDIN", table);

    int64_t start = bench_mono_ns ();
    if (bench_pg_exec (conn, "BEGIN", PGRES_COMMAND_OK)
    ||  bench_pg_copy (conn, sql, rows.data, rows.size)
    ||  bench_pg_exec (conn, "COMMIT", PGRES_COMMAND_OK))
        return 2;
    double seconds = (double) (bench_mono_ns () - start) / 1e9;
    double cpu_after = bench_process_cpu_s (backend);

    printf ("bytes=%zu\n", rows.size);
    bench_print_write (made, seconds, cpu_before, cpu_after);
    PQfinish (conn);
    dt_buf_free (&rows);
    dt_buf_free (&scratch);
    for (int f = 0; f < files; f++)
        bench_events_free (&events [f]);
    free (events);
    free (tracks);
    return 0;
}
