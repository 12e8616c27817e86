/*  bench_copy_all.c - the second baseline of `make bench`: how fast one
    libpq client COPYs everything the system stores for the benchmark's
    events, in the transactions the system uses at maximum load.

    The rows are exactly the coordinator's: the events go through the same
    writesets as in bench_store.c (bench_writesets.h: link batches, the
    tracks taking turns, judged by the rule engine with the tone book in the
    database), and each writeset's touchpoint_ids rows (dt_copy_touchpoint_id),
    touchpoint rows with their verdicts and finding rows (made by the
    writeset as it judges) are kept, numbered with the feed's seqs. All of that before the clock starts.
    The clock covers, per writeset, BEGIN; COPY touchpoint_ids; COPY
    touchpoints; COPY findings (if it has any); COMMIT, each statement in
    its own round trip, into the real tables: what the store can take of
    this schema from one client, with no pipeline in front of it.

    Against bench_copy.c (the first baseline, the touchpoint rows alone in
    one transaction) it adds the id table, the findings and the commits;
    against bench_store.c it leaves out the coordinator's own work while
    writing (the id rows, the savepoint, the fallback for resends).

    Usage: bench_copy_all [--writeset N] [--batch B] URI FILE:TRACK [FILE:TRACK ...]
      --writeset N  items per transaction (4000, the coordinator's
                    writeset.max, the size of its writesets at maximum load)
      --batch B     items per link batch, the tracks' batches taking turns (1000)
    The database must be migrated (the coordinator or bench_store have
    connected to it) and its tables empty of these ids. Prints key=value
    lines: rows (events), writesets, findings, bytes, seconds, rows_per_s
    (events/s), and backend_cpu_s (the CPU seconds of the server process
    that did the COPYs, from /proc; -1 when it can not be read).
*/
#include "bench_writesets.h"
#include "store/copyrow.h"

//  One writeset's COPY data
typedef struct {
    dt_buf_t ids, touchpoints, findings;
} rows_t;

int
main (int argc, char *argv [])
{
    bench_feeder_t feeder;
    if (bench_feeder_open (&feeder, argc, argv, "bench_copy_all"))
        return 2;

    //  The feed's seqs go on after the highest stored, as the store numbers
    //  them (each id row and touchpoint row carries its seq)
    uint64_t next_seq = 1;
    PGconn *conn = PQconnectdb (feeder.uri);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "bench_copy_all: %s", PQerrorMessage (conn));
        return 2;
    }
    PGresult *last = PQexec (conn, "SELECT coalesce (max (seq), 0) FROM touchpoint_ids");
    if (PQresultStatus (last) == PGRES_TUPLES_OK)
        next_seq = strtoull (PQgetvalue (last, 0, 0), NULL, 10) + 1;
    PQclear (last);

    //  The rows, before the clock
    dt_writeset_t *ws = dt_writeset_new ();
    rows_t *sets = NULL;
    size_t count = 0, alloc = 0, events = 0, findings = 0, bytes = 0;
    int64_t size;
    while ((size = bench_feeder_fill (&feeder, ws)) > 0) {
        if (count == alloc) {
            alloc = alloc? 2 * alloc: 64;
            sets = realloc (sets, alloc * sizeof *sets);
            assert (sets);
        }
        rows_t *set = &sets [count++];
        memset (set, 0, sizeof *set);
        uint64_t seq = next_seq;
        for (uint32_t i = 0; i < ws->event_count; i++)
            if (!ws->judgements [i].repeat) {
                dt_buf_put_uint (&set->ids, seq++);
                dt_buf_putc (&set->ids, '\t');
                dt_copy_touchpoint_id (&set->ids, &ws->events [i]);
            }
        for (uint32_t k = 0; k < ws->distinct; k++)
            dt_writeset_put_seq (ws->touchpoint_rows.data + ws->seq_at [k], next_seq + k);
        next_seq += ws->distinct;
        dt_buf_append (&set->touchpoints, ws->touchpoint_rows.data, ws->touchpoint_rows.size);
        dt_buf_append (&set->findings, ws->finding_rows.data, ws->finding_rows.size);
        events += ws->distinct;
        findings += ws->finding_count;
        bytes += set->ids.size + set->touchpoints.size + set->findings.size;
        dt_writeset_reset (ws);
    }
    if (size < 0)
        return 2;
    dt_writeset_destroy (&ws);
    bench_feeder_free (&feeder);

    //  The partitions the coordinator makes ahead when it connects
    if (bench_pg_exec (conn, "SELECT ensure_touchpoint_partitions (now (), 3)", PGRES_TUPLES_OK))
        return 2;
    int backend = PQbackendPID (conn);
    double cpu_before = bench_process_cpu_s (backend);

    int64_t start = bench_mono_ns ();
    for (size_t s = 0; s < count; s++) {
        rows_t *set = &sets [s];
        if (bench_pg_exec (conn, "BEGIN", PGRES_COMMAND_OK)
        ||  bench_pg_copy (conn, "COPY touchpoint_ids (seq, " DT_TOUCHPOINT_ID_COLUMNS ") FROM STDIN",
                           set->ids.data, set->ids.size)
        ||  bench_pg_copy (conn, "COPY touchpoints (" DT_WRITESET_ROW_COLUMNS ") FROM STDIN",
                           set->touchpoints.data, set->touchpoints.size)
        ||  (set->findings.size
          && bench_pg_copy (conn, "COPY findings (" DT_FINDING_COLUMNS ") FROM STDIN",
                            set->findings.data, set->findings.size))
        ||  bench_pg_exec (conn, "COMMIT", PGRES_COMMAND_OK))
            return 2;
    }
    double seconds = (double) (bench_mono_ns () - start) / 1e9;
    double cpu_after = bench_process_cpu_s (backend);

    printf ("writesets=%zu\n", count);
    printf ("findings=%zu\n", findings);
    printf ("bytes=%zu\n", bytes);
    bench_print_write (events, seconds, cpu_before, cpu_after);
    PQfinish (conn);
    for (size_t s = 0; s < count; s++) {
        dt_buf_free (&sets [s].ids);
        dt_buf_free (&sets [s].touchpoints);
        dt_buf_free (&sets [s].findings);
    }
    free (sets);
    return 0;
}
