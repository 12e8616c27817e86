/*  metrics.h - a tiny Prometheus registry: counters (with at most one label),
    gauges (set/add, or a callback read at scrape time) and histograms with
    fixed buckets, rendered in the text exposition format 0.0.4.

    The registry owns every family and handle it returns; they live until
    dt_metrics_destroy. Updates (dt_counter_add, dt_gauge_set/add,
    dt_histogram_observe) are lock-free atomics and may come from any thread
    while another thread renders. Registering a family, and the first use of
    a label value, take the registry's mutex. Destroy the registry only when
    no other thread (e.g. the HTTP server) can still use it.

    Usage:
        dt_metrics_t *m = dt_metrics_new ("dualtrack_");
        dt_counter_t *rejected = dt_metrics_counter (m, "events_rejected_total",
            "Events rejected, by reason.", "code");
        dt_counter_add (rejected, "bad_value", 1);
        char *text = dt_metrics_render (m);     //  caller frees
*/
#ifndef DT_METRICS_H
#define DT_METRICS_H

#include <stdint.h>

typedef struct _dt_metrics_t dt_metrics_t;
typedef struct _dt_counter_t dt_counter_t;
typedef struct _dt_gauge_t dt_gauge_t;
typedef struct _dt_histogram_t dt_histogram_t;

//  Called at scrape time, from the rendering (HTTP) thread: must be
//  thread-safe, quick, and must not register metrics
typedef double (dt_gauge_fn) (void *ctx);

//  Distinct values per labelled family; further new values are counted
//  under the label value DT_METRICS_OTHER
#define DT_METRICS_LABELS_MAX   64
#define DT_METRICS_OTHER        "_other"
//  Buckets per histogram, not counting +Inf
#define DT_METRICS_BUCKETS_MAX  32

//  Latency buckets in seconds, 0.5 ms to 5 s
extern const double dt_metrics_seconds_buckets [13];

//  Create a registry; prefix (e.g. "dualtrack_", or NULL) goes before every
//  family name. Returns NULL if the prefix is not a valid name start.
dt_metrics_t *
    dt_metrics_new (const char *prefix);

//  Destroy the registry and every family in it; safe on NULL and twice
void
    dt_metrics_destroy (dt_metrics_t **self_p);

//  Register a counter family. label_name is NULL for a plain counter, or the
//  name of its one label ("code", "rule"). Returns NULL if a name is not
//  valid Prometheus or the family name is already registered.
dt_counter_t *
    dt_metrics_counter (dt_metrics_t *self, const char *name, const char *help,
                        const char *label_name);

//  Add n. label_value must be NULL for a plain counter and non-NULL for a
//  labelled one; a new label value is created on first use (n = 0 creates
//  it, so it shows as 0 before anything happened).
void
    dt_counter_add (dt_counter_t *self, const char *label_value, uint64_t n);

//  The current value, 0 for a label value never used (for tests)
uint64_t
    dt_counter_value (dt_counter_t *self, const char *label_value);

//  Register a gauge, starting at 0; NULL on a bad or duplicate name
dt_gauge_t *
    dt_metrics_gauge (dt_metrics_t *self, const char *name, const char *help);

void
    dt_gauge_set (dt_gauge_t *self, double value);
void
    dt_gauge_add (dt_gauge_t *self, double delta);
double
    dt_gauge_value (dt_gauge_t *self);

//  Register a gauge whose value is fn (ctx), called at each render.
//  Returns 0, or -1 on a bad or duplicate name.
int
    dt_metrics_gauge_fn (dt_metrics_t *self, const char *name, const char *help,
                         dt_gauge_fn *fn, void *ctx);

//  Register a histogram with the given upper bounds (copied): finite and
//  strictly increasing, 1 to DT_METRICS_BUCKETS_MAX of them; +Inf is added.
//  Returns NULL on bad bounds or a bad or duplicate name.
dt_histogram_t *
    dt_metrics_histogram (dt_metrics_t *self, const char *name, const char *help,
                          const double *bounds, int count);

//  Count one observation (value <= bound goes in that bucket); NaN is ignored
void
    dt_histogram_observe (dt_histogram_t *self, double value);

//  The whole registry in the text format 0.0.4, families in the order they
//  were registered. Returns a string the caller frees, or NULL if out of memory.
char *
    dt_metrics_render (dt_metrics_t *self);

#endif
