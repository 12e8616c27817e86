/*  test_suppression.c - the suppression set on its own: what a reload
    reports as changed (dt_suppression_diff: rows added, removed, edited,
    the same rows in another order) and the rows in force at a time.
    The rule itself is tested through the engine (test_engine.c,
    test_suppressed).
*/
#include "rules/suppression.h"
#include "unit/testing.h"

#define T0      1777766400000LL     //  3 May 2026 00:00 UTC
#define DAY     86400000LL

static dt_suppression_t *
s_set (int rows)
{
    static const char *const ids [] = { "bob@acme.com", "globex.com", "carol@acme.com" };
    static const char *const kinds [] = { "contact", "account", "contact" };
    dt_suppression_t *set = dt_suppression_new ();
    char err [256];
    //  Added in reverse: the order must not matter
    for (int i = rows - 1; i >= 0; i--)
        CHECK_INT (dt_suppression_add (set, kinds [i], ids [i], i == 1? "all": "promotional",
                                       T0 + i * DAY, i == 2? T0 + 5 * DAY: DT_SUPPRESS_OPEN,
                                       "unsubscribed", err, sizeof err), 0);
    return set;
}

static void
s_diff (const dt_suppression_t *old, const dt_suppression_t *new_set, size_t want_added,
        size_t want_removed)
{
    size_t added = 99, removed = 99;
    CHECK_INT (dt_suppression_diff (old, new_set, &added, &removed), 0);
    CHECK_INT (added, want_added);
    CHECK_INT (removed, want_removed);
}

int
main (void)
{
    dt_suppression_t *two = s_set (2), *three = s_set (3), *again = s_set (3);
    s_diff (NULL, NULL, 0, 0);
    s_diff (NULL, three, 3, 0);             //  the first load
    s_diff (three, NULL, 0, 3);
    s_diff (two, three, 1, 0);
    s_diff (three, two, 0, 1);
    s_diff (three, again, 0, 0);            //  the same rows: nothing changed
    //  A row edited (ended): one removed, one added
    dt_suppression_t *ended = dt_suppression_new ();
    char err [256];
    dt_suppression_add (ended, "contact", "bob@acme.com", "promotional", T0, T0 + DAY,
                        "unsubscribed", err, sizeof err);
    dt_suppression_add (ended, "account", "globex.com", "all", T0 + DAY, DT_SUPPRESS_OPEN,
                        "unsubscribed", err, sizeof err);
    s_diff (two, ended, 1, 1);
    //  In force: since included, until excluded
    CHECK_INT (dt_suppression_in_force (NULL, T0), 0);
    CHECK_INT (dt_suppression_in_force (three, T0 - 1), 0);
    CHECK_INT (dt_suppression_in_force (three, T0), 1);
    CHECK_INT (dt_suppression_in_force (three, T0 + 2 * DAY), 3);
    CHECK_INT (dt_suppression_in_force (three, T0 + 5 * DAY), 2);
    CHECK_INT (dt_suppression_in_force (ended, T0 + DAY), 1);
    dt_suppression_destroy (&two);
    dt_suppression_destroy (&three);
    dt_suppression_destroy (&again);
    dt_suppression_destroy (&ended);
    return TESTING_DONE ();
}
