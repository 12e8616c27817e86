/*  test_writeset.c - the writeset's id table (services/store/writeset.c):
    an id twice in one writeset has a row for its first copy only, and
    dt_writeset_shares_id, which the link thread asks before a writeset
    may start on a guessed first seq, finds an id two writesets share
    whichever is larger, in tables that grew, and nothing where there is
    nothing.

    Writesets are filled as the link thread fills them: events decoded by
    the real codec, packed as a track's link batch, added, and judged by a
    rule engine with its default settings.
*/
#include "store/writeset.h"
#include "rules/engine.h"
#include "proto/link.h"
#include "proto/wire.h"
#include "unit/testing.h"

#include <stdlib.h>

static dt_stageset_t stages;

//  A writeset holding one marketing batch of the events named by ids
static dt_writeset_t *
writeset_of (dt_engine_t *engine, const char *const *ids, size_t count)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    dt_link_batch_pack_head (&pk, "marketing", 1, (uint32_t) count);
    for (size_t i = 0; i < count; i++) {
        //  An event as a publisher sends it, through the codec
        msgpack_sbuffer in;
        msgpack_sbuffer_init (&in);
        msgpack_packer ipk;
        msgpack_packer_init (&ipk, &in, msgpack_sbuffer_write);
        msgpack_pack_map (&ipk, 8);
        const char *fields [] = { "id", ids [i], "source", "crm", "account", "acme",
                                  "contact", "bob@acme.com",
                                  "stage", "awareness", "channel", "email", "kind", "email" };
        for (size_t f = 0; f < sizeof fields / sizeof fields [0]; f++)
            dt_pack_cstr (&ipk, fields [f]);
        dt_pack_cstr (&ipk, "occurred_at");
        msgpack_pack_int64 (&ipk, 1777593600000 + (int64_t) i * 60000);
        msgpack_unpacked up;
        msgpack_unpacked_init (&up);
        size_t offset = 0;
        msgpack_unpack_next (&up, in.data, in.size, &offset);
        dt_event_t event;
        dt_error_t err;
        int rc = dt_event_decode (&up.data, &stages, DT_FORM_INGRESS, DT_TRACK_MARKETING,
                                  &event, &err);
        CHECK (rc == 0);
        if (rc)
            fprintf (stderr, "  %s: %s\n", err.field, err.message);
        event.received_at = 1777593600000000 + (int64_t) i;
        dt_item_pack_event (&pk, &event);
        msgpack_unpacked_destroy (&up);
        msgpack_sbuffer_destroy (&in);
    }
    dt_writeset_t *ws = dt_writeset_new ();
    zframe_t *frame = zframe_new (sb.data, sb.size);
    zframe_t *peer = zframe_new ("marketing", 9);
    msgpack_unpacked unpacked;     //  its zone is taken
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &offset);
    CHECK (dt_writeset_add_batch (ws, &frame, &unpacked, peer, &stages) == 0);
    CHECK_INT (ws->event_count, count);
    dt_writeset_judge (ws, engine);
    zframe_destroy (&peer);
    msgpack_sbuffer_destroy (&sb);
    return ws;
}

//  count ids "<prefix>-<n>", n from first
static const char **
ids_of (const char *prefix, size_t first, size_t count)
{
    const char **ids = calloc (count, sizeof *ids);
    for (size_t i = 0; i < count; i++) {
        char *id = malloc (64);
        snprintf (id, 64, "%s-%zu", prefix, first + i);
        ids [i] = id;
    }
    return ids;
}

static void
ids_free (const char **ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free ((char *) ids [i]);
    free (ids);
}

static void
test_repeats (dt_engine_t *engine)
{
    const char *ids [] = { "a", "b", "a", "c", "b" };
    dt_writeset_t *ws = writeset_of (engine, ids, 5);
    CHECK_INT (ws->distinct, 3);
    CHECK (!ws->judgements [0].repeat && !ws->judgements [1].repeat);
    CHECK (ws->judgements [2].repeat && ws->judgements [4].repeat);
    CHECK (!ws->judgements [3].repeat);
    dt_writeset_destroy (&ws);
}

static void
test_shares_id (dt_engine_t *engine)
{
    //  3,000 ids (the table grew from 1,024 slots) against 10 others
    const char **big_ids = ids_of ("tp", 0, 3000);
    const char **apart = ids_of ("tp", 3000, 10);
    const char **overlap = ids_of ("tp", 2995, 10);     //  tp-2995 .. tp-2999 shared
    const char **one = ids_of ("tp", 1234, 1);
    dt_writeset_t *big = writeset_of (engine, big_ids, 3000);
    dt_writeset_t *small_apart = writeset_of (engine, apart, 10);
    dt_writeset_t *small_overlap = writeset_of (engine, overlap, 10);
    dt_writeset_t *single = writeset_of (engine, one, 1);
    dt_writeset_t *empty = dt_writeset_new ();
    CHECK (big->id_slot_count > 1024);
    CHECK (!dt_writeset_shares_id (big, small_apart));
    CHECK (!dt_writeset_shares_id (small_apart, big));
    CHECK (dt_writeset_shares_id (big, small_overlap));
    CHECK (dt_writeset_shares_id (small_overlap, big));
    CHECK (dt_writeset_shares_id (single, big));
    CHECK (dt_writeset_shares_id (small_apart, small_overlap));     //  tp-3000 .. tp-3004
    CHECK (!dt_writeset_shares_id (single, small_apart));
    CHECK (!dt_writeset_shares_id (empty, big));
    CHECK (!dt_writeset_shares_id (big, empty));
    //  Ids that differ in their last byte or their length only
    const char *near_ids [] = { "tp-1", "tp-10", "tp-12" };
    const char *other_ids [] = { "tp-2", "tp-1 ", "tp-100" };
    dt_writeset_t *near = writeset_of (engine, near_ids, 3);
    dt_writeset_t *other = writeset_of (engine, other_ids, 3);
    CHECK (!dt_writeset_shares_id (near, other));
    //  Reset and filled again: the old ids are gone from the table
    dt_writeset_reset (big);
    CHECK (!dt_writeset_shares_id (big, small_overlap));
    dt_writeset_destroy (&near);
    dt_writeset_destroy (&other);
    dt_writeset_destroy (&big);
    dt_writeset_destroy (&small_apart);
    dt_writeset_destroy (&small_overlap);
    dt_writeset_destroy (&single);
    dt_writeset_destroy (&empty);
    ids_free (big_ids, 3000);
    ids_free (apart, 10);
    ids_free (overlap, 10);
    ids_free (one, 1);
}

int
main (void)
{
    dt_stageset_default (&stages);
    dt_engine_t *engine = dt_engine_new (NULL, &stages);
    test_repeats (engine);
    test_shares_id (engine);
    dt_engine_destroy (&engine);
    return TESTING_DONE ();
}
