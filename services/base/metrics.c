/*  metrics.c - a tiny Prometheus registry (see metrics.h)

    Families form an append-only list: a new family is filled in under the
    mutex, then published with a release store, so the renderer walks the
    list without locking. Label children of a counter work the same way: a
    fixed array whose used length is published with a release store, so
    dt_counter_add finds an existing label value without the mutex.
    Values are C11 atomics, updated relaxed; doubles are kept as their bits
    in a uint64_t and added with a compare-and-swap loop.
*/
#include "base/metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double dt_metrics_seconds_buckets [13] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_GAUGE_FN, KIND_HISTOGRAM } kind_t;

typedef struct {
    char *label_value;                  //  NULL in a plain counter
    _Atomic uint64_t value;
} child_t;

struct _dt_counter_t {
    dt_metrics_t *registry;
    char *label_name;                   //  NULL for a plain counter
    atomic_int count;                   //  children in use, published last
    child_t children [DT_METRICS_LABELS_MAX + 1];   //  + 1 for DT_METRICS_OTHER
};

struct _dt_gauge_t {
    _Atomic uint64_t bits;              //  a double
};

struct _dt_histogram_t {
    int count;                          //  bounds, not counting +Inf
    double bounds [DT_METRICS_BUCKETS_MAX];
    _Atomic uint64_t buckets [DT_METRICS_BUCKETS_MAX + 1];   //  not cumulative
    _Atomic uint64_t sum_bits;          //  a double
};

typedef struct family_t family_t;
struct family_t {
    _Atomic (family_t *) next;
    kind_t kind;
    char *name;                         //  with the registry's prefix
    char *help;
    dt_counter_t *counter;
    dt_gauge_t *gauge;
    dt_gauge_fn *fn;
    void *ctx;
    dt_histogram_t *histogram;
};

struct _dt_metrics_t {
    pthread_mutex_t mutex;              //  held to add families and children
    char *prefix;
    _Atomic (family_t *) head;
    family_t *tail;                     //  under the mutex
};

//  --------------------------------------------------------------------------
//  Doubles as bits, so plain 64-bit atomics carry them

static inline uint64_t
s_bits (double value)
{
    uint64_t bits;
    memcpy (&bits, &value, sizeof bits);
    return bits;
}

static inline double
s_double (uint64_t bits)
{
    double value;
    memcpy (&value, &bits, sizeof value);
    return value;
}

static void
s_add_double (_Atomic uint64_t *bits, double delta)
{
    uint64_t old = atomic_load_explicit (bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit (bits, &old,
            s_bits (s_double (old) + delta), memory_order_relaxed, memory_order_relaxed))
        ;
}

//  --------------------------------------------------------------------------
//  Names: metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]*

static bool
s_name_char (char c, bool first, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
        || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static bool
s_valid_name (const char *prefix, const char *name)
{
    if (!name || !*name)
        return false;
    bool first = true;
    for (const char *c = prefix; *c; c++, first = false)
        if (!s_name_char (*c, first, true))
            return false;
    for (const char *c = name; *c; c++, first = false)
        if (!s_name_char (*c, first, true))
            return false;
    return true;
}

static bool
s_valid_label_name (const char *name)
{
    if (!name || !*name || strncmp (name, "__", 2) == 0)
        return false;
    for (const char *c = name; *c; c++)
        if (!s_name_char (*c, c == name, false))
            return false;
    return true;
}

//  --------------------------------------------------------------------------
//  Registry

dt_metrics_t *
dt_metrics_new (const char *prefix)
{
    if (!prefix)
        prefix = "";
    if (*prefix && !s_valid_name ("", prefix))
        return NULL;
    dt_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->prefix = strdup (prefix);
    if (!self->prefix) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->mutex, NULL);
    atomic_init (&self->head, NULL);
    return self;
}

static void
s_family_free (family_t *family)
{
    if (family->counter) {
        int count = atomic_load (&family->counter->count);
        for (int i = 0; i < count; i++)
            free (family->counter->children [i].label_value);
        free (family->counter->label_name);
        free (family->counter);
    }
    free (family->gauge);
    free (family->histogram);
    free (family->name);
    free (family->help);
    free (family);
}

void
dt_metrics_destroy (dt_metrics_t **self_p)
{
    assert (self_p);
    dt_metrics_t *self = *self_p;
    if (!self)
        return;
    family_t *family = atomic_load (&self->head);
    while (family) {
        family_t *next = atomic_load (&family->next);
        s_family_free (family);
        family = next;
    }
    pthread_mutex_destroy (&self->mutex);
    free (self->prefix);
    free (self);
    *self_p = NULL;
}

//  Make a family for name, not yet published; NULL if the name is bad or
//  taken. Call with the mutex held.
static family_t *
s_family_new (dt_metrics_t *self, kind_t kind, const char *name, const char *help)
{
    if (!s_valid_name (self->prefix, name))
        return NULL;
    size_t prefix_len = strlen (self->prefix);
    for (family_t *f = atomic_load_explicit (&self->head, memory_order_relaxed); f;
         f = atomic_load_explicit (&f->next, memory_order_relaxed))
        if (strncmp (f->name, self->prefix, prefix_len) == 0
        &&  strcmp (f->name + prefix_len, name) == 0)
            return NULL;

    family_t *family = calloc (1, sizeof *family);
    if (!family)
        return NULL;
    atomic_init (&family->next, NULL);
    family->kind = kind;
    family->name = malloc (prefix_len + strlen (name) + 1);
    family->help = strdup (help? help: "");
    if (!family->name || !family->help) {
        s_family_free (family);
        return NULL;
    }
    strcpy (family->name, self->prefix);
    strcpy (family->name + prefix_len, name);
    return family;
}

//  Append a finished family to the list, where the renderer sees it.
//  Call with the mutex held.
static void
s_family_publish (dt_metrics_t *self, family_t *family)
{
    if (self->tail)
        atomic_store_explicit (&self->tail->next, family, memory_order_release);
    else
        atomic_store_explicit (&self->head, family, memory_order_release);
    self->tail = family;
}

//  Register a family like model (its kind and its member: counter, gauge,
//  fn or histogram, made by the caller) under name, and publish it.
//  Returns false if the name is bad or taken; the member is the caller's
//  then.
static bool
s_family_add (dt_metrics_t *self, const family_t *model, const char *name, const char *help)
{
    pthread_mutex_lock (&self->mutex);
    family_t *family = s_family_new (self, model->kind, name, help);
    if (family) {
        family->counter = model->counter;
        family->gauge = model->gauge;
        family->fn = model->fn;
        family->ctx = model->ctx;
        family->histogram = model->histogram;
        s_family_publish (self, family);
    }
    pthread_mutex_unlock (&self->mutex);
    return family != NULL;
}

//  --------------------------------------------------------------------------
//  Counters

dt_counter_t *
dt_metrics_counter (dt_metrics_t *self, const char *name, const char *help,
                    const char *label_name)
{
    assert (self);
    if (label_name && !s_valid_label_name (label_name))
        return NULL;
    dt_counter_t *counter = calloc (1, sizeof *counter);
    if (!counter)
        return NULL;
    counter->registry = self;
    for (int i = 0; i < DT_METRICS_LABELS_MAX + 1; i++)
        atomic_init (&counter->children [i].value, 0);
    //  A plain counter has its one child, with no label, from the start
    atomic_init (&counter->count, label_name? 0: 1);
    if ((label_name && !(counter->label_name = strdup (label_name)))
    ||  !s_family_add (self, &(family_t) { .kind = KIND_COUNTER, .counter = counter }, name, help)) {
        free (counter->label_name);
        free (counter);
        return NULL;
    }
    return counter;
}

static child_t *
s_child_find (dt_counter_t *self, const char *label_value, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp (self->children [i].label_value, label_value) == 0)
            return &self->children [i];
    return NULL;
}

//  The child for label_value, created on first use; NULL if out of memory
static child_t *
s_child (dt_counter_t *self, const char *label_value)
{
    if (!self->label_name)
        return &self->children [0];
    int count = atomic_load_explicit (&self->count, memory_order_acquire);
    child_t *child = s_child_find (self, label_value, count);
    if (child)
        return child;

    pthread_mutex_lock (&self->registry->mutex);
    count = atomic_load_explicit (&self->count, memory_order_relaxed);
    child = s_child_find (self, label_value, count);
    if (!child && count >= DT_METRICS_LABELS_MAX) {
        label_value = DT_METRICS_OTHER;
        child = s_child_find (self, label_value, count);
    }
    if (!child && count < DT_METRICS_LABELS_MAX + 1) {
        char *copy = strdup (label_value);
        if (copy) {
            child = &self->children [count];
            child->label_value = copy;
            atomic_store_explicit (&self->count, count + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock (&self->registry->mutex);
    return child;
}

void
dt_counter_add (dt_counter_t *self, const char *label_value, uint64_t n)
{
    assert (self);
    assert ((label_value == NULL) == (self->label_name == NULL));
    child_t *child = s_child (self, label_value);
    if (child)
        atomic_fetch_add_explicit (&child->value, n, memory_order_relaxed);
}

uint64_t
dt_counter_value (dt_counter_t *self, const char *label_value)
{
    assert (self);
    assert ((label_value == NULL) == (self->label_name == NULL));
    child_t *child = self->label_name
        ? s_child_find (self, label_value,
                        atomic_load_explicit (&self->count, memory_order_acquire))
        : &self->children [0];
    return child? atomic_load_explicit (&child->value, memory_order_relaxed): 0;
}

//  --------------------------------------------------------------------------
//  Gauges

dt_gauge_t *
dt_metrics_gauge (dt_metrics_t *self, const char *name, const char *help)
{
    assert (self);
    dt_gauge_t *gauge = calloc (1, sizeof *gauge);
    if (!gauge)
        return NULL;
    atomic_init (&gauge->bits, s_bits (0.0));
    if (!s_family_add (self, &(family_t) { .kind = KIND_GAUGE, .gauge = gauge }, name, help)) {
        free (gauge);
        return NULL;
    }
    return gauge;
}

void
dt_gauge_set (dt_gauge_t *self, double value)
{
    assert (self);
    atomic_store_explicit (&self->bits, s_bits (value), memory_order_relaxed);
}

void
dt_gauge_add (dt_gauge_t *self, double delta)
{
    assert (self);
    s_add_double (&self->bits, delta);
}

double
dt_gauge_value (dt_gauge_t *self)
{
    assert (self);
    return s_double (atomic_load_explicit (&self->bits, memory_order_relaxed));
}

int
dt_metrics_gauge_fn (dt_metrics_t *self, const char *name, const char *help,
                     dt_gauge_fn *fn, void *ctx)
{
    assert (self);
    assert (fn);
    return s_family_add (self, &(family_t) { .kind = KIND_GAUGE_FN, .fn = fn, .ctx = ctx },
                         name, help)? 0: -1;
}

//  --------------------------------------------------------------------------
//  Histograms

dt_histogram_t *
dt_metrics_histogram (dt_metrics_t *self, const char *name, const char *help,
                      const double *bounds, int count)
{
    assert (self);
    if (!bounds || count < 1 || count > DT_METRICS_BUCKETS_MAX)
        return NULL;
    for (int i = 0; i < count; i++)
        if (!isfinite (bounds [i]) || (i > 0 && bounds [i] <= bounds [i - 1]))
            return NULL;

    dt_histogram_t *histogram = calloc (1, sizeof *histogram);
    if (!histogram)
        return NULL;
    histogram->count = count;
    memcpy (histogram->bounds, bounds, (size_t) count * sizeof *bounds);
    for (int i = 0; i <= count; i++)
        atomic_init (&histogram->buckets [i], 0);
    atomic_init (&histogram->sum_bits, s_bits (0.0));
    if (!s_family_add (self, &(family_t) { .kind = KIND_HISTOGRAM, .histogram = histogram },
                       name, help)) {
        free (histogram);
        return NULL;
    }
    return histogram;
}

void
dt_histogram_observe (dt_histogram_t *self, double value)
{
    assert (self);
    if (isnan (value))
        return;
    int bucket = 0;
    while (bucket < self->count && value > self->bounds [bucket])
        bucket++;
    atomic_fetch_add_explicit (&self->buckets [bucket], 1, memory_order_relaxed);
    s_add_double (&self->sum_bits, value);
}

//  --------------------------------------------------------------------------
//  Rendering, text format 0.0.4

//  The fewest digits that read back as the same double, without an exponent
//  from 1e-5 to below 1e16 (500000, not 5e+05); +Inf, -Inf, NaN
static void
s_put_double (FILE *out, double value)
{
    if (isnan (value))
        fputs ("NaN", out);
    else
    if (isinf (value))
        fputs (value > 0? "+Inf": "-Inf", out);
    else {
        char text [48];
        int precision = 1;
        for (; precision <= 17; precision++) {
            snprintf (text, sizeof text, "%.*g", precision, value);
            if (strtod (text, NULL) == value)
                break;
        }
        char *e = strchr (text, 'e');
        int exponent = e? atoi (e + 1): 0;
        if (e && exponent >= -5 && exponent < 16) {
            int decimals = precision - 1 - exponent;
            snprintf (text, sizeof text, "%.*f", decimals > 0? decimals: 0, value);
        }
        fputs (text, out);
    }
}

//  HELP escapes backslash and newline; label values also double quote
static void
s_put_escaped (FILE *out, const char *text, bool quote)
{
    for (const char *c = text; *c; c++) {
        if (*c == '\\')
            fputs ("\\\\", out);
        else
        if (*c == '\n')
            fputs ("\\n", out);
        else
        if (*c == '"' && quote)
            fputs ("\\\"", out);
        else
            fputc (*c, out);
    }
}

static void
s_render_family (FILE *out, family_t *family)
{
    static const char *types [] = { "counter", "gauge", "gauge", "histogram" };
    if (*family->help) {
        fprintf (out, "# HELP %s ", family->name);
        s_put_escaped (out, family->help, false);
        fputc ('\n', out);
    }
    fprintf (out, "# TYPE %s %s\n", family->name, types [family->kind]);

    if (family->kind == KIND_COUNTER) {
        dt_counter_t *counter = family->counter;
        int count = atomic_load_explicit (&counter->count, memory_order_acquire);
        for (int i = 0; i < count; i++) {
            child_t *child = &counter->children [i];
            fputs (family->name, out);
            if (counter->label_name) {
                fprintf (out, "{%s=\"", counter->label_name);
                s_put_escaped (out, child->label_value, true);
                fputs ("\"}", out);
            }
            fprintf (out, " %llu\n", (unsigned long long)
                     atomic_load_explicit (&child->value, memory_order_relaxed));
        }
    }
    else
    if (family->kind == KIND_GAUGE || family->kind == KIND_GAUGE_FN) {
        fprintf (out, "%s ", family->name);
        s_put_double (out, family->gauge
                      ? dt_gauge_value (family->gauge)
                      : family->fn (family->ctx));
        fputc ('\n', out);
    }
    else {
        dt_histogram_t *histogram = family->histogram;
        //  _count is the +Inf bucket, so the two always agree
        uint64_t cumulative = 0;
        for (int i = 0; i <= histogram->count; i++) {
            cumulative += atomic_load_explicit (&histogram->buckets [i], memory_order_relaxed);
            fprintf (out, "%s_bucket{le=\"", family->name);
            s_put_double (out, i < histogram->count? histogram->bounds [i]: INFINITY);
            fprintf (out, "\"} %llu\n", (unsigned long long) cumulative);
        }
        fprintf (out, "%s_sum ", family->name);
        s_put_double (out, s_double (
            atomic_load_explicit (&histogram->sum_bits, memory_order_relaxed)));
        fprintf (out, "\n%s_count %llu\n", family->name, (unsigned long long) cumulative);
    }
}

char *
dt_metrics_render (dt_metrics_t *self)
{
    assert (self);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    for (family_t *family = atomic_load_explicit (&self->head, memory_order_acquire);
         family; family = atomic_load_explicit (&family->next, memory_order_acquire))
        s_render_family (out, family);
    bool failed = ferror (out) != 0;
    if (fclose (out) != 0)
        failed = true;
    if (failed) {
        free (text);
        return NULL;
    }
    return text;
}
