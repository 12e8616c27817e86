/*  test_metrics.c - the Prometheus registry (services/base/metrics.c): the
    exact text of counters with and without a label, gauges, a callback
    gauge and histograms (cumulative buckets, +Inf, _sum, _count); escaping
    of help texts and label values; number formats; names and bounds that
    are refused; the bound on label values; and exact totals when two
    threads update while a third renders.
*/
#include "base/metrics.h"
#include "unit/testing.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) ((int) (sizeof (a) / sizeof ((a) [0])))

static double
s_depth (void *ctx)
{
    return (double) *(int *) ctx;
}

//  --------------------------------------------------------------------------

static void
test_render (void)
{
    dt_metrics_t *m = dt_metrics_new ("dt_");
    CHECK (m);
    char *text = dt_metrics_render (m);
    CHECK_STR (text, "");
    free (text);

    dt_counter_t *events = dt_metrics_counter (m, "events_total", "Events received.", NULL);
    dt_counter_t *rejected = dt_metrics_counter (m, "rejected_total",
        "Events rejected, by code.", "code");
    dt_counter_t *findings = dt_metrics_counter (m, "findings_total",
        "Findings, by rule.", "rule");
    dt_gauge_t *depth = dt_metrics_gauge (m, "journal_bytes", "Journal size.");
    int journal_depth = 17;
    CHECK_INT (dt_metrics_gauge_fn (m, "journal_depth", "Events in the journal.",
                                    s_depth, &journal_depth), 0);
    const double bounds [] = { 0.5, 1, 5 };
    dt_histogram_t *batch = dt_metrics_histogram (m, "batch_seconds", "Batch time.",
                                                  bounds, ARRAY_SIZE (bounds));
    CHECK (events && rejected && findings && depth && batch);

    dt_counter_add (events, NULL, 3);
    dt_counter_add (events, NULL, 2);
    dt_counter_add (rejected, "bad_value", 2);
    dt_counter_add (rejected, "missing_field", 1);
    dt_counter_add (rejected, "bad_value", 1);
    dt_counter_add (rejected, "too_long", 0);     //  shows as 0
    dt_gauge_set (depth, 42);
    dt_gauge_add (depth, -2.5);
    dt_histogram_observe (batch, 0.25);
    dt_histogram_observe (batch, 0.5);            //  le is inclusive
    dt_histogram_observe (batch, 0.5);
    dt_histogram_observe (batch, 3);
    dt_histogram_observe (batch, 10);
    dt_histogram_observe (batch, NAN);            //  ignored

    CHECK_INT (dt_counter_value (events, NULL), 5);
    CHECK_INT (dt_counter_value (rejected, "bad_value"), 3);
    CHECK_INT (dt_counter_value (rejected, "missing_field"), 1);
    CHECK_INT (dt_counter_value (rejected, "too_long"), 0);
    CHECK_INT (dt_counter_value (rejected, "never"), 0);
    CHECK (dt_gauge_value (depth) == 39.5);

    text = dt_metrics_render (m);
    CHECK_STR (text,
        "# HELP dt_events_total Events received.\n"
        "# TYPE dt_events_total counter\n"
        "dt_events_total 5\n"
        "# HELP dt_rejected_total Events rejected, by code.\n"
        "# TYPE dt_rejected_total counter\n"
        "dt_rejected_total{code=\"bad_value\"} 3\n"
        "dt_rejected_total{code=\"missing_field\"} 1\n"
        "dt_rejected_total{code=\"too_long\"} 0\n"
        "# HELP dt_findings_total Findings, by rule.\n"
        "# TYPE dt_findings_total counter\n"
        "# HELP dt_journal_bytes Journal size.\n"
        "# TYPE dt_journal_bytes gauge\n"
        "dt_journal_bytes 39.5\n"
        "# HELP dt_journal_depth Events in the journal.\n"
        "# TYPE dt_journal_depth gauge\n"
        "dt_journal_depth 17\n"
        "# HELP dt_batch_seconds Batch time.\n"
        "# TYPE dt_batch_seconds histogram\n"
        "dt_batch_seconds_bucket{le=\"0.5\"} 3\n"
        "dt_batch_seconds_bucket{le=\"1\"} 3\n"
        "dt_batch_seconds_bucket{le=\"5\"} 4\n"
        "dt_batch_seconds_bucket{le=\"+Inf\"} 5\n"
        "dt_batch_seconds_sum 14.25\n"
        "dt_batch_seconds_count 5\n");
    free (text);

    //  The callback runs at each render
    journal_depth = 3;
    dt_counter_add (findings, "collision", 1);
    text = dt_metrics_render (m);
    CHECK (text && strstr (text, "\ndt_journal_depth 3\n"));
    CHECK (text && strstr (text, "\ndt_findings_total{rule=\"collision\"} 1\n"));
    free (text);

    dt_metrics_destroy (&m);
    CHECK (m == NULL);
    dt_metrics_destroy (&m);                      //  safe twice
}

static void
test_seconds_buckets (void)
{
    dt_metrics_t *m = dt_metrics_new (NULL);
    dt_histogram_t *latency = dt_metrics_histogram (m, "commit_seconds", NULL,
        dt_metrics_seconds_buckets, ARRAY_SIZE (dt_metrics_seconds_buckets));
    CHECK (latency);
    dt_histogram_observe (latency, 0.0005);
    dt_histogram_observe (latency, 0.003);
    dt_histogram_observe (latency, 0.003);
    dt_histogram_observe (latency, 7);
    dt_histogram_observe (latency, -1);           //  first bucket
    char *text = dt_metrics_render (m);
    CHECK_STR (text,
        "# TYPE commit_seconds histogram\n"
        "commit_seconds_bucket{le=\"0.0005\"} 2\n"
        "commit_seconds_bucket{le=\"0.001\"} 2\n"
        "commit_seconds_bucket{le=\"0.0025\"} 2\n"
        "commit_seconds_bucket{le=\"0.005\"} 4\n"
        "commit_seconds_bucket{le=\"0.01\"} 4\n"
        "commit_seconds_bucket{le=\"0.025\"} 4\n"
        "commit_seconds_bucket{le=\"0.05\"} 4\n"
        "commit_seconds_bucket{le=\"0.1\"} 4\n"
        "commit_seconds_bucket{le=\"0.25\"} 4\n"
        "commit_seconds_bucket{le=\"0.5\"} 4\n"
        "commit_seconds_bucket{le=\"1\"} 4\n"
        "commit_seconds_bucket{le=\"2.5\"} 4\n"
        "commit_seconds_bucket{le=\"5\"} 4\n"
        "commit_seconds_bucket{le=\"+Inf\"} 5\n"
        "commit_seconds_sum 6.0065\n"
        "commit_seconds_count 5\n");
    free (text);
    dt_metrics_destroy (&m);
}

static void
test_escaping_and_numbers (void)
{
    dt_metrics_t *m = dt_metrics_new ("x_");
    dt_counter_t *c = dt_metrics_counter (m, "c", "back\\slash \"quoted\"\nsecond line", "v");
    dt_counter_add (c, "a\"b\\c\nd", 1);
    dt_counter_add (c, "", 2);
    dt_counter_add (c, "snowman \xe2\x98\x83", 3);
    const char *names [] = { "inf", "ninf", "nan", "tiny", "small", "big", "third",
                             "round", "count", "neg", "zero", "large" };
    const double values [] = { INFINITY, -INFINITY, NAN, 1e-7, 0.00005,
                               12345678901234567890.0, 1.0 / 3, 500000, 1234567,
                               -0.25, 0, 9007199254740993.0 };
    dt_gauge_t *g [ARRAY_SIZE (values)];
    for (int i = 0; i < ARRAY_SIZE (values); i++) {
        g [i] = dt_metrics_gauge (m, names [i], NULL);
        dt_gauge_set (g [i], values [i]);
    }
    char *text = dt_metrics_render (m);
    CHECK_STR (text,
        "# HELP x_c back\\\\slash \"quoted\"\\nsecond line\n"
        "# TYPE x_c counter\n"
        "x_c{v=\"a\\\"b\\\\c\\nd\"} 1\n"
        "x_c{v=\"\"} 2\n"
        "x_c{v=\"snowman \xe2\x98\x83\"} 3\n"
        "# TYPE x_inf gauge\nx_inf +Inf\n"
        "# TYPE x_ninf gauge\nx_ninf -Inf\n"
        "# TYPE x_nan gauge\nx_nan NaN\n"
        "# TYPE x_tiny gauge\nx_tiny 1e-07\n"
        "# TYPE x_small gauge\nx_small 0.00005\n"
        "# TYPE x_big gauge\nx_big 1.2345678901234567e+19\n"
        "# TYPE x_third gauge\nx_third 0.3333333333333333\n"
        "# TYPE x_round gauge\nx_round 500000\n"
        "# TYPE x_count gauge\nx_count 1234567\n"
        "# TYPE x_neg gauge\nx_neg -0.25\n"
        "# TYPE x_zero gauge\nx_zero 0\n"
        "# TYPE x_large gauge\nx_large 9007199254740992\n");
    free (text);
    dt_metrics_destroy (&m);
}

static void
test_refused (void)
{
    CHECK (dt_metrics_new ("9lives_") == NULL);
    CHECK (dt_metrics_new ("has space") == NULL);
    dt_metrics_t *m = dt_metrics_new ("dt:");
    CHECK (m);
    CHECK (dt_metrics_counter (m, "ok_total", "", NULL));
    CHECK (dt_metrics_counter (m, "ok_total", "", NULL) == NULL);     //  duplicate
    CHECK (dt_metrics_gauge (m, "ok_total", "") == NULL);
    CHECK_INT (dt_metrics_gauge_fn (m, "ok_total", "", s_depth, NULL), -1);
    CHECK (dt_metrics_counter (m, "", "", NULL) == NULL);
    CHECK (dt_metrics_counter (m, NULL, "", NULL) == NULL);
    CHECK (dt_metrics_counter (m, "a-b", "", NULL) == NULL);
    CHECK (dt_metrics_counter (m, "a b", "", NULL) == NULL);
    CHECK (dt_metrics_counter (m, "l1", "", "__reserved") == NULL);
    CHECK (dt_metrics_counter (m, "l2", "", "a:b") == NULL);
    CHECK (dt_metrics_counter (m, "l3", "", "9x") == NULL);
    CHECK (dt_metrics_counter (m, "l4", "", "") == NULL);
    CHECK (dt_metrics_counter (m, "9_after_prefix_is_fine", "", "code"));

    const double up [] = { 1, 2, 3 }, down [] = { 1, 3, 2 }, same [] = { 1, 1 },
                 nan [] = { 1, NAN }, inf [] = { 1, INFINITY };
    double many [DT_METRICS_BUCKETS_MAX + 1];
    for (int i = 0; i < ARRAY_SIZE (many); i++)
        many [i] = i;
    CHECK (dt_metrics_histogram (m, "h1", "", down, 3) == NULL);
    CHECK (dt_metrics_histogram (m, "h2", "", same, 2) == NULL);
    CHECK (dt_metrics_histogram (m, "h3", "", nan, 2) == NULL);
    CHECK (dt_metrics_histogram (m, "h4", "", inf, 2) == NULL);
    CHECK (dt_metrics_histogram (m, "h5", "", up, 0) == NULL);
    CHECK (dt_metrics_histogram (m, "h6", "", NULL, 3) == NULL);
    CHECK (dt_metrics_histogram (m, "h7", "", many, ARRAY_SIZE (many)) == NULL);
    CHECK (dt_metrics_histogram (m, "h8", "", many, DT_METRICS_BUCKETS_MAX));
    CHECK (dt_metrics_histogram (m, "h9", "", up, 3));
    CHECK (dt_metrics_histogram (m, "h9", "", up, 3) == NULL);

    //  Nothing refused shows up
    char *text = dt_metrics_render (m);
    CHECK (text && strstr (text, "# TYPE dt:ok_total counter\ndt:ok_total 0\n"));
    CHECK (text && strstr (text, "dt:9_after_prefix_is_fine"));
    CHECK (text && strstr (text, "dt:h8_bucket{le=\"31\"} 0\n"));
    CHECK (text && !strstr (text, "dt:l1") && !strstr (text, "dt:h1")
                && !strstr (text, "dt:h7"));
    free (text);
    dt_metrics_destroy (&m);
}

static void
test_label_bound (void)
{
    dt_metrics_t *m = dt_metrics_new (NULL);
    dt_counter_t *c = dt_metrics_counter (m, "c", NULL, "v");
    char value [16];
    for (int i = 0; i < DT_METRICS_LABELS_MAX + 6; i++) {
        snprintf (value, sizeof value, "v%d", i);
        dt_counter_add (c, value, 1);
        dt_counter_add (c, value, 1);
    }
    CHECK_INT (dt_counter_value (c, "v0"), 2);
    snprintf (value, sizeof value, "v%d", DT_METRICS_LABELS_MAX - 1);
    CHECK_INT (dt_counter_value (c, value), 2);
    snprintf (value, sizeof value, "v%d", DT_METRICS_LABELS_MAX);
    CHECK_INT (dt_counter_value (c, value), 0);
    CHECK_INT (dt_counter_value (c, DT_METRICS_OTHER), 12);
    char *text = dt_metrics_render (m);
    int lines = 0;
    for (char *s = text; s && (s = strchr (s, '\n')); s++)
        lines++;
    CHECK_INT (lines, 1 + DT_METRICS_LABELS_MAX + 1);
    CHECK (text && strstr (text, "\nc{v=\"_other\"} 12\n"));
    free (text);
    dt_metrics_destroy (&m);
}

//  --------------------------------------------------------------------------
//  Two threads update, a third renders, totals are exact

#define ROUNDS 1000000

typedef struct {
    dt_metrics_t *registry;
    int renders, bad_renders;           //  by the scraper
    dt_counter_t *plain, *labelled, *bounded;
    dt_gauge_t *gauge;
    dt_histogram_t *histogram;
    atomic_bool done;
} shared_t;

static const char *codes [] = { "a", "b", "c", "d", "e", "f", "g", "h" };

static void *
s_updater (void *arg)
{
    shared_t *shared = arg;
    char value [16];
    for (int i = 0; i < ROUNDS; i++) {
        dt_counter_add (shared->plain, NULL, 1);
        dt_counter_add (shared->labelled, codes [i % 8], 1);
        if (i < 100) {
            //  Both threads create the same values, racing to be first
            snprintf (value, sizeof value, "u%d", i);
            dt_counter_add (shared->bounded, value, 1);
        }
        if (i % 4 == 0) {
            dt_gauge_add (shared->gauge, 1);
            dt_histogram_observe (shared->histogram, (i / 4) % 2? 0.5: 2);
        }
    }
    return NULL;
}

static void *
s_scraper (void *arg)
{
    shared_t *shared = arg;
    do {
        char *text = dt_metrics_render (shared->registry);
        if (text && strstr (text, "# TYPE plain_total counter\nplain_total "))
            shared->renders++;
        else
            shared->bad_renders++;
        free (text);
    } while (!atomic_load (&shared->done));
    return NULL;
}

static void
test_threads (void)
{
    dt_metrics_t *m = dt_metrics_new (NULL);
    shared_t shared = {
        .registry = m,
        .plain = dt_metrics_counter (m, "plain_total", "", NULL),
        .labelled = dt_metrics_counter (m, "labelled_total", "", "code"),
        .bounded = dt_metrics_counter (m, "bounded_total", "", "v"),
        .gauge = dt_metrics_gauge (m, "gauge", ""),
        .histogram = dt_metrics_histogram (m, "histogram", "", (double []) { 1 }, 1),
    };
    atomic_init (&shared.done, false);
    pthread_t updaters [2], scraper;
    pthread_create (&scraper, NULL, s_scraper, &shared);
    for (int i = 0; i < 2; i++)
        pthread_create (&updaters [i], NULL, s_updater, &shared);
    //  Registering while the others run is allowed too
    dt_counter_t *late = dt_metrics_counter (m, "late_total", "", NULL);
    dt_counter_add (late, NULL, 1);
    for (int i = 0; i < 2; i++)
        pthread_join (updaters [i], NULL);
    atomic_store (&shared.done, true);
    pthread_join (scraper, NULL);
    CHECK (shared.renders > 0);
    CHECK_INT (shared.bad_renders, 0);

    CHECK_INT (dt_counter_value (shared.plain, NULL), 2 * ROUNDS);
    for (int i = 0; i < 8; i++)
        CHECK_INT (dt_counter_value (shared.labelled, codes [i]), 2 * ROUNDS / 8);
    //  u0..u63 exist before either thread reaches u64: the rest is _other
    CHECK_INT (dt_counter_value (shared.bounded, "u0"), 2);
    CHECK_INT (dt_counter_value (shared.bounded, "u63"), 2);
    CHECK_INT (dt_counter_value (shared.bounded, "u64"), 0);
    CHECK_INT (dt_counter_value (shared.bounded, DT_METRICS_OTHER), 2 * 36);
    CHECK (dt_gauge_value (shared.gauge) == 2 * ROUNDS / 4);

    char *text = dt_metrics_render (m);
    CHECK (text && strstr (text, "\nplain_total 2000000\n"));
    CHECK (text && strstr (text, "\nlabelled_total{code=\"h\"} 250000\n"));
    CHECK (text && strstr (text, "\ngauge 500000\n"));
    CHECK (text && strstr (text,
        "histogram_bucket{le=\"1\"} 250000\n"
        "histogram_bucket{le=\"+Inf\"} 500000\n"
        "histogram_sum 625000\n"
        "histogram_count 500000\n"));
    CHECK (text && strstr (text, "\nlate_total 1\n"));
    free (text);
    dt_metrics_destroy (&m);
}

int
main (void)
{
    test_render ();
    test_seconds_buckets ();
    test_escaping_and_numbers ();
    test_refused ();
    test_label_bound ();
    test_threads ();
    return TESTING_DONE ();
}
