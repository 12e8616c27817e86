/*  bench_writesets.h - shared by bench_store.c and bench_copy_all.c: the
    benchmark's events as the coordinator's writesets, without daemons or
    sockets. Each track's events are decoded, stamped and packed as the
    track journals them, sent in link batches with the tracks taking turns,
    added to a writeset as the link thread adds them and judged by the rule
    engine with the tone book in the database. Not a test; see
    bench/README.md.
*/
#ifndef DT_BENCH_WRITESETS_H
#define DT_BENCH_WRITESETS_H

#include "bench_common.h"
#include "store/history.h"
#include "rules/engine.h"
#include "store/writeset.h"

//  One track's events as link items, in order
typedef struct {
    dt_track_t track;
    const char *name;
    dt_buf_t items;             //  packed link items, back to back
    size_t *end;                //  end offset of each
    size_t count, next;
    uint64_t seq;               //  the next batch's first item seq
} bench_stream_t;

typedef struct {
    bench_stream_t *streams;
    int count;
    int turn;                   //  the stream whose batch is next
    size_t batch;               //  items per link batch
    size_t writeset_max;        //  items per writeset
    const char *uri;            //  the database
    dt_stageset_t stages;
    zframe_t *peer;
    dt_history_t *history;
    dt_engine_t *engine;
} bench_feeder_t;

//  Loads the FILE:TRACK specs, then the tone book from the database at uri
//  into a rule engine; 0, or -1 with a message on stderr
static inline int
bench_feeder_load (bench_feeder_t *self, const char *uri, char **specs, int count, size_t batch)
{
    memset (self, 0, sizeof *self);
    self->streams = calloc ((size_t) count, sizeof *self->streams);
    self->count = count;
    self->batch = batch;
    self->peer = zframe_new ("bench", 5);
    dt_stageset_default (&self->stages);
    int64_t received_at = bench_real_ns () / 1000;
    for (int s = 0; s < count; s++) {
        bench_stream_t *stream = &self->streams [s];
        bench_events_t events = { 0 };
        if (bench_events_load_spec (&events, specs [s], &stream->track))
            return -1;
        stream->name = dt_track_name (stream->track);
        //  As the track journals them: decoded, stamped, packed as items
        stream->end = calloc (events.count + 1, sizeof (size_t));
        msgpack_packer pk;
        msgpack_packer_init (&pk, &stream->items, dt_buf_msgpack_write);
        for (size_t i = 0; i < events.count; i++) {
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            dt_error_t err;
            dt_event_t event;
            if (dt_wire_unpack (&unpacked, events.data.data + events.offset [i],
                                events.size [i], &err) == 0
            &&  dt_event_decode (&unpacked.data, &self->stages, DT_FORM_INGRESS, stream->track,
                                 &event, &err) == 0) {
                event.received_at = received_at++;
                dt_item_pack_event (&pk, &event);
                stream->end [stream->count++] = stream->items.size;
            }
            else
                fprintf (stderr, "bench: %s: event %zu refused by the codec\n", stream->name, i);
            msgpack_unpacked_destroy (&unpacked);
        }
        bench_events_free (&events);
    }
    //  The rule engine, with the tone book the coordinator would load
    char err [512];
    dt_tonebook_t *book = NULL;
    self->history = dt_history_new (uri, NULL, &self->stages);
    self->engine = dt_engine_new (NULL, &self->stages);
    if (dt_history_connect (self->history, err, sizeof err)
    ||  !(book = dt_history_tonebook (self->history, err, sizeof err))
    ||  dt_engine_set_tonebook (self->engine, &book, err, sizeof err)) {
        fprintf (stderr, "bench: tone book: %s\n", err);
        return -1;
    }
    return 0;
}

//  Parses [--writeset N] [--batch B] URI FILE:TRACK [FILE:TRACK ...] (the
//  defaults: 4000, the coordinator's writeset.max, and 1000); returns the
//  index of URI, or -1 after printing the usage line of tool
static inline int
bench_writeset_args (int argc, char *argv [], const char *tool, size_t *writeset_max, size_t *batch)
{
    *writeset_max = 4000;
    *batch = 1000;
    int arg = 1;
    for (; arg + 1 < argc && strncmp (argv [arg], "--", 2) == 0; arg += 2)
        if (strcmp (argv [arg], "--writeset") == 0)
            *writeset_max = (size_t) atol (argv [arg + 1]);
        else
        if (strcmp (argv [arg], "--batch") == 0)
            *batch = (size_t) atol (argv [arg + 1]);
        else
            break;
    if (argc - arg < 2 || *writeset_max == 0 || *batch == 0) {
        fprintf (stderr, "usage: %s [--writeset N] [--batch B] URI FILE:TRACK [FILE:TRACK ...]\n", tool);
        return -1;
    }
    return arg;
}

//  The tool's arguments, then bench_feeder_load with them (keeping the
//  writeset size and the URI); 0, or -1 with a message on stderr
static inline int
bench_feeder_open (bench_feeder_t *self, int argc, char *argv [], const char *tool)
{
    size_t writeset_max, batch;
    int arg = bench_writeset_args (argc, argv, tool, &writeset_max, &batch);
    if (arg < 0
    ||  bench_feeder_load (self, argv [arg], argv + arg + 1, argc - arg - 1, batch))
        return -1;
    self->writeset_max = writeset_max;
    self->uri = argv [arg];
    return 0;
}

//  The next link batch of up to limit items of a stream, as a frame
static inline zframe_t *
bench_stream_next_batch (bench_stream_t *stream, size_t limit)
{
    size_t from = stream->next, to = from + limit < stream->count? from + limit: stream->count;
    size_t start = from? stream->end [from - 1]: 0;
    dt_buf_t frame = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
    dt_link_batch_pack_head (&pk, stream->name, stream->seq, (uint32_t) (to - from));
    dt_buf_append (&frame, stream->items.data + start, stream->end [to - 1] - start);
    zframe_t *result = zframe_new (frame.data, frame.size);
    dt_buf_free (&frame);
    stream->seq += to - from;
    stream->next = to;
    return result;
}

//  Fills an empty writeset as the link thread fills it: whole batches, the
//  streams taking turns, judged batch by batch, until it holds writeset_max
//  self->writeset_max items or the events run out. Returns its size (0: no events left), or
//  -1 with a message on stderr.
static inline int64_t
bench_feeder_fill (bench_feeder_t *self, dt_writeset_t *ws)
{
    while (dt_writeset_size (ws) < self->writeset_max) {
        int s = -1;
        for (int k = 0; k < self->count && s < 0; k++) {
            int candidate = (self->turn + k) % self->count;
            if (self->streams [candidate].next < self->streams [candidate].count)
                s = candidate;
        }
        if (s < 0)
            break;
        self->turn = (s + 1) % self->count;
        zframe_t *frame = bench_stream_next_batch (&self->streams [s], self->batch);
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        dt_error_t werr;
        if (dt_wire_unpack (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &werr)
        ||  dt_writeset_add_batch (ws, &frame, &unpacked, self->peer, &self->stages)) {
            fprintf (stderr, "bench: a batch the writeset refused\n");
            return -1;
        }
        dt_writeset_judge (ws, self->engine);
    }
    return dt_writeset_size (ws);
}

static inline void
bench_feeder_free (bench_feeder_t *self)
{
    for (int s = 0; s < self->count; s++) {
        dt_buf_free (&self->streams [s].items);
        free (self->streams [s].end);
    }
    free (self->streams);
    zframe_destroy (&self->peer);
    dt_engine_destroy (&self->engine);
    dt_history_destroy (&self->history);
    memset (self, 0, sizeof *self);
}

#endif
