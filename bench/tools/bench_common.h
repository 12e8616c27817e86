/*  bench_common.h - shared by the benchmark tools in bench/tools (each .c
    there is its own program, so this header holds the little they share):
    events from `dualtrack gen` JSON lines as msgpack, clocks, percentiles,
    a libpq COPY.
    Not a test; see bench/README.md.
*/
#ifndef DT_BENCH_COMMON_H
#define DT_BENCH_COMMON_H

#include "base/buf.h"
#include "proto/event.h"
#include "base/jsonmp.h"
#include "proto/wire.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

//  Events of one JSON-lines file, each packed as msgpack (as `dualtrack
//  publish` packs them), back to back in one buffer
typedef struct {
    dt_buf_t data;
    size_t *offset;
    size_t *size;
    char **id;
    size_t count;
    size_t alloc;
} bench_events_t;

//  CPU seconds this process has used, user + system, all threads
static inline double
cpu_seconds (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
         + (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static inline int64_t
bench_mono_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int64_t
bench_real_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

//  utime + stime of another process on this machine (a PostgreSQL backend),
//  in seconds; -1 if unreadable
static inline double
bench_process_cpu_s (int pid)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/stat", pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line [1024];
    size_t len = fread (line, 1, sizeof line - 1, file);
    fclose (file);
    line [len] = 0;
    char *after = strrchr (line, ')');
    unsigned long long utime, stime;
    //  After "pid (comm) ": state is field 3, utime 14, stime 15
    if (!after || sscanf (after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                          &utime, &stime) != 2)
        return -1;
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

//  The key=value lines of a timed write: rows, seconds, rows_per_s, and
//  backend_cpu_s (the server process's CPU seconds between the two
//  readings of bench_process_cpu_s; -1 if either failed)
static inline void
bench_print_write (size_t rows, double seconds, double cpu_before, double cpu_after)
{
    printf ("rows=%zu\n", rows);
    printf ("seconds=%.6f\n", seconds);
    printf ("rows_per_s=%.1f\n", seconds > 0? (double) rows / seconds: 0.0);
    printf ("backend_cpu_s=%.3f\n", cpu_before < 0 || cpu_after < 0? -1.0: cpu_after - cpu_before);
}

//  Reads every line of path; returns 0, or -1 with a message on stderr
static inline int
bench_events_load (bench_events_t *self, const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "bench: can not read %s: %s\n", path, strerror (errno));
        return -1;
    }
    char *line = NULL;
    size_t line_alloc = 0;
    ssize_t len;
    long number = 0;
    while ((len = getline (&line, &line_alloc, file)) >= 0) {
        number++;
        while (len > 0 && (line [len - 1] == '\n' || line [len - 1] == '\r'))
            line [--len] = 0;
        if (len == 0)
            continue;
        json_error_t jerr;
        json_t *value = json_loadb (line, (size_t) len, JSON_REJECT_DUPLICATES, &jerr);
        if (!value || !json_is_object (value)) {
            fprintf (stderr, "bench: %s line %ld: not a JSON object\n", path, number);
            json_decref (value);
            continue;
        }
        if (self->count == self->alloc) {
            self->alloc = self->alloc? 2 * self->alloc: 4096;
            self->offset = realloc (self->offset, self->alloc * sizeof (size_t));
            self->size = realloc (self->size, self->alloc * sizeof (size_t));
            self->id = realloc (self->id, self->alloc * sizeof (char *));
            if (!self->offset || !self->size || !self->id) {
                fprintf (stderr, "bench: out of memory\n");
                exit (2);
            }
        }
        size_t start = self->data.size;
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->data, dt_buf_msgpack_write);
        dt_pack_json (&pk, value);
        json_t *id = json_object_get (value, "id");
        self->offset [self->count] = start;
        self->size [self->count] = self->data.size - start;
        self->id [self->count] = strdup (json_is_string (id)? json_string_value (id): "");
        self->count++;
        json_decref (value);
    }
    free (line);
    fclose (file);
    return 0;
}

//  Loads the events of a FILE:TRACK argument and sets its track; returns
//  0, or -1 with a message on stderr
static inline int
bench_events_load_spec (bench_events_t *self, const char *spec, dt_track_t *track)
{
    const char *colon = strrchr (spec, ':');
    *track = colon? dt_track_parse (colon + 1, strlen (colon + 1)): DT_TRACK_NONE;
    if (*track == DT_TRACK_NONE) {
        fprintf (stderr, "bench: %s: want FILE:marketing or FILE:sales\n", spec);
        return -1;
    }
    char *path = strndup (spec, (size_t) (colon - spec));
    int rc = bench_events_load (self, path);
    free (path);
    return rc;
}

static inline void
bench_events_free (bench_events_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free (self->id [i]);
    free (self->id);
    free (self->offset);
    free (self->size);
    dt_buf_free (&self->data);
    memset (self, 0, sizeof *self);
}

static int
bench_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y? 1: 0;
}

//  Nearest-rank percentile of values sorted ascending; NAN when empty
static inline double
bench_percentile (const double *sorted, size_t count, double q)
{
    if (count == 0)
        return NAN;
    size_t rank = (size_t) ceil (q * (double) count);
    if (rank < 1)
        rank = 1;
    if (rank > count)
        rank = count;
    return sorted [rank - 1];
}

//  Prints NAME_p50_ms=.. NAME_p99_ms=.. NAME_p999_ms=.. NAME_max_ms=.. NAME_n=..
//  (sorts values in place)
static inline void
bench_print_latency (const char *name, double *values, size_t count)
{
    qsort (values, count, sizeof (double), bench_cmp_double);
    printf ("%s_n=%zu\n", name, count);
    printf ("%s_p50_ms=%.3f\n", name, bench_percentile (values, count, 0.50));
    printf ("%s_p99_ms=%.3f\n", name, bench_percentile (values, count, 0.99));
    printf ("%s_p999_ms=%.3f\n", name, bench_percentile (values, count, 0.999));
    printf ("%s_max_ms=%.3f\n", name, count? values [count - 1]: NAN);
}

//  Runs a command that should end in want; 0, or -1 with a message on stderr
static inline int
bench_pg_exec (PGconn *conn, const char *sql, ExecStatusType want)
{
    PGresult *result = PQexec (conn, sql);
    int rc = PQresultStatus (result) == want? 0: -1;
    if (rc)
        fprintf (stderr, "bench: %s: %s", sql, PQerrorMessage (conn));
    PQclear (result);
    return rc;
}

//  COPY a buffer of rows with the given statement (COPY ... FROM STDIN);
//  0, or -1 with a message on stderr
static inline int
bench_pg_copy (PGconn *conn, const char *sql, const char *data, size_t size)
{
    if (bench_pg_exec (conn, sql, PGRES_COPY_IN))
        return -1;
    //  In slices of 256 KiB, as a streaming client would send them
    const size_t slice = 256 * 1024;
    for (size_t at = 0; at < size; at += slice) {
        size_t len = size - at < slice? size - at: slice;
        if (PQputCopyData (conn, data + at, (int) len) != 1) {
            fprintf (stderr, "bench: COPY: %s", PQerrorMessage (conn));
            return -1;
        }
    }
    if (PQputCopyEnd (conn, NULL) != 1) {
        fprintf (stderr, "bench: COPY end: %s", PQerrorMessage (conn));
        return -1;
    }
    PGresult *result;
    int rc = 0;
    while ((result = PQgetResult (conn))) {
        if (PQresultStatus (result) != PGRES_COMMAND_OK) {
            fprintf (stderr, "bench: COPY: %s", PQresultErrorMessage (result));
            rc = -1;
        }
        PQclear (result);
    }
    return rc;
}

//  CURVE client side, when the daemons run with --security curve: this
//  tool's certificate (its _secret twin beside it, as `dualtrack keygen`
//  writes them) and the server's public certificate. Both NULL: plain.
static inline int
bench_curve_client (zsock_t *sock, const char *cert_path, const char *server_cert_path)
{
    if (!cert_path && !server_cert_path)
        return 0;
    zcert_t *cert = cert_path? zcert_load (cert_path): NULL;
    zcert_t *server = server_cert_path? zcert_load (server_cert_path): NULL;
    if (!cert || !server) {
        fprintf (stderr, "bench: can not load %s\n", !cert? cert_path: server_cert_path);
        zcert_destroy (&cert);
        zcert_destroy (&server);
        return -1;
    }
    zcert_apply (cert, zsock_resolve (sock));
    zsock_set_curve_serverkey (sock, zcert_public_txt (server));
    zcert_destroy (&cert);
    zcert_destroy (&server);
    return 0;
}

#endif
