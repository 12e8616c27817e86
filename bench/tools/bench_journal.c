/*  bench_journal.c - how fast the journal takes records, durably

    Appends 600-byte records in groups, one dt_journal_sync (fdatasync) per
    group, as a track daemon does per burst of requests; then reads them back
    with a cursor and times a recovery. Usage:

        bench_journal [dir] [records] [group]     (defaults: a temp dir under
                                                   /tmp, 200000, 1000)

    Run it on the filesystem the daemon will use: fdatasync is the cost.
*/
#include "journal/journal.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_clean (const char *path)
{
    DIR *dir = opendir (path);
    struct dirent *e;
    while (dir && (e = readdir (dir))) {
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
            char file [512];
            snprintf (file, sizeof file, "%s/%s", path, e->d_name);
            unlink (file);
        }
    }
    if (dir)
        closedir (dir);
    rmdir (path);
}

//  Appends count records in groups of group, one sync each; returns appends/s
static double
s_run (const char *dir, long count, long group, double *sync_us)
{
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, NULL, &report);
    if (!j) {
        fprintf (stderr, "%s\n", report.message);
        exit (1);
    }
    uint8_t record [600];
    for (size_t i = 0; i < sizeof record; i++)
        record [i] = (uint8_t) (i * 31);
    double start = s_now (), syncing = 0;
    long syncs = 0;
    for (long n = 0; n < count; ) {
        for (long i = 0; i < group && n < count; i++, n++) {
            record [0] = (uint8_t) n;
            if (dt_journal_append (j, record, sizeof record, NULL)) {
                perror ("append");
                exit (1);
            }
        }
        double before = s_now ();
        if (dt_journal_sync (j)) {
            perror ("sync");
            exit (1);
        }
        syncing += s_now () - before;
        syncs++;
        //  Confirm as the coordinator would, a group behind
        uint64_t synced = dt_journal_synced (j);
        if (synced > (uint64_t) group)
            dt_journal_confirm (j, synced - (uint64_t) group);
    }
    double elapsed = s_now () - start;
    *sync_us = syncing / (double) syncs * 1e6;
    dt_journal_destroy (&j);
    return (double) count / elapsed;
}

int
main (int argc, char *argv [])
{
    char temp [] = "/tmp/dt-bench-XXXXXX";
    const char *dir = argc > 1 ? argv [1] : mkdtemp (temp);
    long count = argc > 2 ? atol (argv [2]) : 200000;
    long group = argc > 3 ? atol (argv [3]) : 1000;
    if (!dir || count <= 0 || group <= 0) {
        fprintf (stderr, "usage: bench_journal [dir] [records] [group]\n");
        return 1;
    }
    double sync_us;
    double rate = s_run (dir, count, group, &sync_us);
    printf ("group commit of %ld x 600 B: %.0f appends/s, %.1f MB/s,"
            " %.0f us per sync\n", group, rate, rate * 616 / 1e6, sync_us);
    s_clean (dir);

    long single = count / 100 > 2000 ? 2000 : count / 100 + 1;
    rate = s_run (dir, single, 1, &sync_us);
    printf ("no grouping (1 record per sync): %.0f appends/s, %.0f us per sync\n",
            rate, sync_us);
    s_clean (dir);

    //  Unconfirmed backlog: append without confirming, then read and recover
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, NULL, &report);
    uint8_t record [600] = { 1 };
    double start = s_now ();
    for (long n = 0; n < count; n++)
        if (dt_journal_append (j, record, sizeof record, NULL))
            return 1;
    dt_journal_sync (j);
    double elapsed = s_now () - start;
    printf ("append only (one sync at the end): %.0f appends/s\n",
            (double) count / elapsed);
    dt_journal_cursor_t *cur = dt_journal_cursor_new (j, 0);
    start = s_now ();
    long got = 0;
    while (dt_journal_cursor_next (cur, NULL, NULL, NULL) == 1)
        got++;
    elapsed = s_now () - start;
    printf ("cursor: %ld records, %.0f records/s\n", got, (double) got / elapsed);
    dt_journal_cursor_destroy (&cur);
    dt_journal_destroy (&j);
    start = s_now ();
    j = dt_journal_new (dir, NULL, &report);
    elapsed = s_now () - start;
    printf ("recovery of %" PRIu64 " records (%.0f MB): %.0f ms\n",
            report.records, (double) report.records * 616 / 1e6, elapsed * 1e3);
    dt_journal_destroy (&j);
    s_clean (dir);
    return 0;
}
