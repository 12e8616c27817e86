/*  test_writeset.c - the writeset's id table (services/store/writeset.c):
    an id twice in one writeset has a row for its first copy only, and
    dt_writeset_shares_id, which the link thread asks before a writeset
    may start on a guessed first seq, finds an id two writesets share
    whichever is larger, in tables that grew, and nothing where there is
    nothing.

    Writesets are filled as the link thread fills them (unit/writesets.h).
*/
#include "store/writeset.h"
#include "unit/testing.h"
#include "unit/writesets.h"

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
    dt_engine_t *engine = writesets_engine ();
    test_repeats (engine);
    test_shares_id (engine);
    dt_engine_destroy (&engine);
    return TESTING_DONE ();
}
