/*  test_sequencer.c - the feed's numbering (services/coordinator/
    sequencer.c), step by step as the store actors would drive it: exact
    first seqs in the order sent, a guess while the writeset ahead writes,
    kept when it stored every event, missed (and asked again) when a resend
    was among them, no guess across a shared id, a USED heard after a MISS
    ignored, writesets without events or stopped taking no seq, and the
    seqs 1..N without gap or repeat at the end.
*/
#include "unit/testing.h"
#include "unit/writesets.h"
#include "coordinator/sequencer.h"

#include <stdio.h>

//  What the sequencer told, as "COMMAND#writeset=value" lines
static char told [4096];
static dt_writeset_t *named [8];

static void
s_tell (void *ctx, dt_writeset_t *ws, const char *command, uint64_t value)
{
    (void) ctx;
    int index = 0;
    while (index < 8 && named [index] != ws)
        index++;
    size_t len = strlen (told);
    snprintf (told + len, sizeof told - len, "%s#%d=%llu ", command, index,
              (unsigned long long) value);
}

//  What was told since the last call
static const char *
s_told (void)
{
    static char copy [4096];
    snprintf (copy, sizeof copy, "%s", told);
    told [0] = 0;
    return copy;
}

//  Writeset k is sent, with count events of ids "<name>-<i>"
static dt_writeset_t *
s_sent (dt_sequencer_t *seq, dt_engine_t *engine, int k, const char *name, size_t count)
{
    const char **ids = ids_of (name, 0, count);
    dt_writeset_t *ws = writeset_of (engine, ids, count);
    ids_free (ids, count);
    named [k] = ws;
    zlistx_add_end (seq->writesets, ws);
    dt_sequencer_sent (seq, ws);
    return ws;
}

static void
s_finish (dt_sequencer_t *seq)
{
    dt_writeset_t *ws;
    while ((ws = (dt_writeset_t *) zlistx_detach (seq->writesets, NULL)))
        dt_writeset_destroy (&ws);
    memset (named, 0, sizeof named);
    told [0] = 0;
}

static void
test_in_order (dt_engine_t *engine)
{
    dt_sequencer_t seq = { .next = 0, .tell = s_tell, .writesets = zlistx_new () };
    dt_writeset_t *a = s_sent (&seq, engine, 0, "a", 10);
    dt_writeset_t *b = s_sent (&seq, engine, 1, "b", 5);
    //  The second asks first: it waits for the first to ask
    dt_sequencer_asked (&seq, b);
    CHECK_STR (s_told (), "");
    //  Nothing before the start has read the last seq
    dt_sequencer_asked (&seq, a);
    CHECK_STR (s_told (), "");
    seq.next = 101;
    dt_sequencer_turn (&seq);
    CHECK_STR (s_told (), "BASE#0=101 GUESS#1=111 ");
    //  The first stored all 10: the guess holds
    dt_sequencer_used (&seq, a, 10);
    CHECK_STR (s_told (), "GO#1=0 ");
    CHECK_INT (seq.next, 111);
    dt_sequencer_used (&seq, b, 5);
    CHECK_STR (s_told (), "");
    CHECK_INT (seq.next, 116);
    //  The third, after both are counted: exact
    dt_writeset_t *c = s_sent (&seq, engine, 2, "c", 3);
    dt_sequencer_asked (&seq, c);
    CHECK_STR (s_told (), "BASE#2=116 ");
    zlistx_destroy (&seq.writesets);
    dt_writeset_destroy (&a);
    dt_writeset_destroy (&b);
    dt_writeset_destroy (&c);
    memset (named, 0, sizeof named);
}

static void
test_missed (dt_engine_t *engine)
{
    dt_sequencer_t seq = { .next = 1, .tell = s_tell, .writesets = zlistx_new () };
    dt_writeset_t *a = s_sent (&seq, engine, 0, "a", 10);
    dt_writeset_t *b = s_sent (&seq, engine, 1, "b", 5);
    dt_writeset_t *c = s_sent (&seq, engine, 2, "c", 4);
    dt_sequencer_asked (&seq, a);
    dt_sequencer_asked (&seq, b);
    dt_sequencer_asked (&seq, c);
    //  One guess at a time: the third waits
    CHECK_STR (s_told (), "BASE#0=1 GUESS#1=11 ");
    //  The second finished its rows first (it waits for the word)
    dt_sequencer_used (&seq, b, 5);
    CHECK_STR (s_told (), "");
    //  The first held 3 resends: it used 7, so the guess missed
    dt_sequencer_used (&seq, a, 7);
    CHECK_STR (s_told (), "MISS#1=0 ");
    CHECK_INT (seq.next, 8);
    //  Its USED said before it heard changes nothing; it asks again
    dt_sequencer_used (&seq, b, 5);
    CHECK_STR (s_told (), "");
    dt_sequencer_asked (&seq, b);
    CHECK_STR (s_told (), "BASE#1=8 GUESS#2=13 ");
    dt_sequencer_used (&seq, b, 5);
    CHECK_STR (s_told (), "GO#2=0 ");
    dt_sequencer_used (&seq, c, 4);
    CHECK_INT (seq.next, 17);           //  1..16: 7 + 5 + 4, no gap
    s_finish (&seq);
    zlistx_destroy (&seq.writesets);
}

static void
test_shared_id (dt_engine_t *engine)
{
    dt_sequencer_t seq = { .next = 1, .tell = s_tell, .writesets = zlistx_new () };
    dt_writeset_t *a = s_sent (&seq, engine, 0, "same", 10);
    dt_writeset_t *b = s_sent (&seq, engine, 1, "same", 5);   //  same-0 .. same-4 again
    dt_sequencer_asked (&seq, a);
    dt_sequencer_asked (&seq, b);
    //  No guess: the second waits for the first's count, as before
    CHECK_STR (s_told (), "BASE#0=1 ");
    dt_sequencer_used (&seq, a, 10);
    CHECK_STR (s_told (), "BASE#1=11 ");
    s_finish (&seq);
    zlistx_destroy (&seq.writesets);
}

static void
test_no_seq (dt_engine_t *engine)
{
    dt_sequencer_t seq = { .next = 1, .tell = s_tell, .writesets = zlistx_new () };
    //  Rejects alone: no events, no turn
    dt_writeset_t *empty = dt_writeset_new ();
    zlistx_add_end (seq.writesets, empty);
    dt_sequencer_sent (&seq, empty);
    dt_writeset_t *a = s_sent (&seq, engine, 1, "a", 10);
    dt_writeset_t *b = s_sent (&seq, engine, 2, "b", 5);
    dt_writeset_t *c = s_sent (&seq, engine, 3, "c", 2);
    dt_sequencer_asked (&seq, a);
    CHECK_STR (s_told (), "BASE#1=1 ");
    //  The first's actor stopped before it said how many: it took none
    //  (an error: it had its turn), and the next one's guess is checked
    //  against that
    dt_sequencer_asked (&seq, b);
    CHECK_STR (s_told (), "GUESS#2=11 ");
    CHECK (!dt_sequencer_stopped (&seq, a));
    CHECK_STR (s_told (), "MISS#2=0 ");
    dt_sequencer_asked (&seq, b);
    CHECK_STR (s_told (), "BASE#2=1 ");
    //  One that stops before its turn took none and is no error
    CHECK (dt_sequencer_stopped (&seq, c));
    dt_sequencer_used (&seq, b, 5);
    CHECK_INT (seq.next, 6);
    CHECK_STR (s_told (), "");
    s_finish (&seq);
    zlistx_destroy (&seq.writesets);
}

int
main (void)
{
    dt_engine_t *engine = writesets_engine ();
    test_in_order (engine);
    test_missed (engine);
    test_shared_id (engine);
    test_no_seq (engine);
    dt_engine_destroy (&engine);
    return TESTING_DONE ();
}
