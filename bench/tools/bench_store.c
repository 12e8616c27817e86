/*  bench_store.c - a diagnostic of `make bench`: the coordinator's store
    alone. The same events as the baseline go through the coordinator's own
    code, minus the daemons and the sockets: packed as the tracks' link
    batches, added to writesets and judged by the rule engine (with the tone
    book in the database), then written by dt_store_write, the statements
    the coordinator sends (touchpoint_ids, touchpoints, findings). Only the
    writes are timed, so rows_per_s is what the store path can take from one
    connection at that writeset size, to set beside the baseline's one COPY.

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
#include "bench_common.h"
#include "store/history.h"
#include "rules/engine.h"
#include "store/store.h"
#include "store/writeset.h"

//  One track's events as link items, in order
typedef struct {
    dt_track_t track;
    const char *name;
    dt_buf_t items;             //  packed link items, back to back
    size_t *end;                //  end offset of each
    size_t count, next;
} stream_t;

//  The next link batch of up to limit items of a stream, as a frame
static zframe_t *
s_next_batch (stream_t *stream, size_t limit, uint64_t *seq)
{
    size_t from = stream->next, to = from + limit < stream->count? from + limit: stream->count;
    size_t start = from? stream->end [from - 1]: 0;
    dt_buf_t frame = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
    dt_link_batch_pack_head (&pk, stream->name, *seq, (uint32_t) (to - from));
    dt_buf_append (&frame, stream->items.data + start, stream->end [to - 1] - start);
    zframe_t *result = zframe_new (frame.data, frame.size);
    dt_buf_free (&frame);
    *seq += to - from;
    stream->next = to;
    return result;
}

int
main (int argc, char *argv [])
{
    size_t writeset_max = 4000, batch = 1000;
    int arg = 1;
    for (; arg + 1 < argc && strncmp (argv [arg], "--", 2) == 0; arg += 2)
        if (strcmp (argv [arg], "--writeset") == 0)
            writeset_max = (size_t) atol (argv [arg + 1]);
        else
        if (strcmp (argv [arg], "--batch") == 0)
            batch = (size_t) atol (argv [arg + 1]);
        else
            break;
    if (argc - arg < 2 || writeset_max == 0 || batch == 0) {
        fprintf (stderr, "usage: bench_store [--writeset N] [--batch B] URI FILE:TRACK [FILE:TRACK ...]\n");
        return 2;
    }
    const char *uri = argv [arg++];
    int count = argc - arg;
    stream_t *streams = calloc ((size_t) count, sizeof *streams);
    dt_stageset_t stages;
    dt_stageset_default (&stages);
    int64_t received_at = bench_real_ns () / 1000;
    for (int s = 0; s < count; s++) {
        bench_events_t events = { 0 };
        if (bench_events_load_spec (&events, argv [arg + s], &streams [s].track))
            return 2;
        streams [s].name = dt_track_name (streams [s].track);
        //  As the track journals them: decoded, stamped, packed as items
        streams [s].end = calloc (events.count + 1, sizeof (size_t));
        msgpack_packer pk;
        msgpack_packer_init (&pk, &streams [s].items, dt_buf_msgpack_write);
        for (size_t i = 0; i < events.count; i++) {
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            dt_error_t err;
            dt_event_t event;
            if (dt_wire_unpack (&unpacked, events.data.data + events.offset [i],
                                events.size [i], &err) == 0
            &&  dt_event_decode (&unpacked.data, &stages, DT_FORM_INGRESS, streams [s].track,
                                 &event, &err) == 0) {
                event.received_at = received_at++;
                dt_item_pack_event (&pk, &event);
                streams [s].end [streams [s].count++] = streams [s].items.size;
            }
            else
                fprintf (stderr, "bench_store: %s: event %zu refused by the codec\n",
                         streams [s].name, i);
            msgpack_unpacked_destroy (&unpacked);
        }
        bench_events_free (&events);
    }

    //  The rule engine, with the tone book the coordinator would load
    char err [512];
    dt_history_t *history = dt_history_new (uri, NULL, &stages);
    dt_engine_t *engine = dt_engine_new (NULL, &stages);
    dt_tonebook_t *book = NULL;
    if (dt_history_connect (history, err, sizeof err)
    ||  !(book = dt_history_tonebook (history, err, sizeof err))
    ||  dt_engine_set_tonebook (engine, &book, err, sizeof err)) {
        fprintf (stderr, "bench_store: tone book: %s\n", err);
        return 2;
    }
    dt_store_t *store = dt_store_new (uri, NULL);
    if (dt_store_connect (store, err, sizeof err)) {
        fprintf (stderr, "bench_store: %s\n", err);
        return 2;
    }
    int backend = dt_store_backend_pid (store);
    double cpu_before = bench_process_cpu_s (backend);

    //  Writesets filled as the link thread fills them: whole batches, the
    //  streams taking turns, judged batch by batch; then written
    dt_writeset_t *ws = dt_writeset_new ();
    zframe_t *peer = zframe_new ("bench", 5);
    uint64_t *seq = calloc ((size_t) count, sizeof (uint64_t));
    size_t rows = 0, findings = 0, writesets = 0;
    int64_t writing_ns = 0;
    int turn = 0;
    while (true) {
        int s = -1;
        for (int k = 0; k < count && s < 0; k++)
            if (streams [(turn + k) % count].next < streams [(turn + k) % count].count)
                s = (turn + k) % count;
        if (s >= 0) {
            turn = (s + 1) % count;
            zframe_t *frame = s_next_batch (&streams [s], batch, &seq [s]);
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            dt_error_t werr;
            if (dt_wire_unpack (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &werr)
            ||  dt_writeset_add_batch (ws, &frame, &unpacked, peer, &stages)) {
                fprintf (stderr, "bench_store: a batch the writeset refused\n");
                return 2;
            }
            dt_writeset_judge (ws, engine);
        }
        if (dt_writeset_size (ws) == 0)
            break;
        if (s >= 0 && dt_writeset_size (ws) < writeset_max)
            continue;
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
    double cpu_after = bench_process_cpu_s (backend);
    double seconds = (double) writing_ns / 1e9;
    printf ("rows=%zu\n", rows);
    printf ("writesets=%zu\n", writesets);
    printf ("findings=%zu\n", findings);
    printf ("seconds=%.6f\n", seconds);
    printf ("rows_per_s=%.1f\n", seconds > 0? (double) rows / seconds: 0.0);
    printf ("backend_cpu_s=%.3f\n", cpu_before < 0 || cpu_after < 0? -1.0: cpu_after - cpu_before);

    dt_writeset_destroy (&ws);
    zframe_destroy (&peer);
    dt_store_destroy (&store);
    dt_engine_destroy (&engine);
    dt_history_destroy (&history);
    for (int s = 0; s < count; s++) {
        dt_buf_free (&streams [s].items);
        free (streams [s].end);
    }
    free (streams);
    free (seq);
    return 0;
}
