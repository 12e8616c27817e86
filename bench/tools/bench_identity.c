/*  bench_identity.c - what the alias maps (services/rules/identity.c) cost:
    bytes per alias and lookups per second. Not a test: it prints figures.

    N aliases (default 1,000,000) of N/3 contacts, three ids each as company
    systems write them: an e-mail address (one in ten with capitals), a
    phone number with separators, a lead id; canonical ids like CRM ids,
    rows ordered by canonical id as the loaders read them. Memory is the
    map's own accounting (dt_identity_bytes) and, as a check on it, what
    malloc holds more after the build than before (mallinfo2).

    Lookups, one core, wall time: ids that are aliases, written as the
    events would (normalisation at work), and ids that are no alias (the
    common case: a contact nobody mapped).

    Usage: bench_identity [aliases]
*/
#include "rules/identity.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

//  Alias i as added (lookup false) or as an event would carry it
static void
s_alias (int i, char *alias, size_t size, bool lookup)
{
    int person = i / 3;
    if (i % 3 == 0)
        snprintf (alias, size, person % 10 == 0 && !lookup?
                  "Firstname.Lastname%d@Company%d.example":
                  "firstname.lastname%d@company%d.example", person, person % 977);
    else
    if (i % 3 == 1)
        snprintf (alias, size, lookup? "+49 (3%04d) %05d": "+49 3%04d %05d",
                  person / 100000, person % 100000);
    else
        snprintf (alias, size, "00Q%012d", person);
}

int
main (int argc, char *argv [])
{
    int count = argc > 1? atoi (argv [1]): 1000000;
    if (count < 3) {
        fprintf (stderr, "usage: bench_identity [aliases, at least 3]\n");
        return 2;
    }
    char err [512], alias [80], canonical [32];
    struct mallinfo2 before = mallinfo2 ();
    double start = s_now ();
    dt_identity_t *map = dt_identity_new ();
    for (int i = 0; i < count; i++) {
        s_alias (i, alias, sizeof alias, false);
        snprintf (canonical, sizeof canonical, "003Dn%013d", i / 3);
        if (dt_identity_add (map, DT_ID_CONTACT, alias, canonical,
                             i % 3 == 0? "marketo": i % 3 == 1? "calls": "crm",
                             err, sizeof err)) {
            fprintf (stderr, "bench_identity: %s\n", err);
            return 1;
        }
    }
    double added = s_now ();
    if (dt_identity_validate (map, err, sizeof err)) {
        fprintf (stderr, "bench_identity: %s\n", err);
        return 1;
    }
    double validated = s_now ();
    struct mallinfo2 after = mallinfo2 ();
    size_t held = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);

    //  The ids events carry, made before the clock starts
    char (*hits) [64] = malloc ((size_t) count * sizeof *hits);
    char (*misses) [64] = malloc ((size_t) count * sizeof *misses);
    for (int i = 0; i < count; i++) {
        s_alias (i, hits [i], sizeof hits [i], true);
        snprintf (misses [i], sizeof misses [i], i % 2? "someone.%d@elsewhere.example":
                  "003Dn%013d", i);
    }
    size_t check = 0;
    double hit_start = s_now ();
    for (int i = 0; i < count; i++) {
        dt_str_t id = { hits [i], (uint32_t) strlen (hits [i]) };
        check += dt_identity_contact (map, id).len;
    }
    double hit_end = s_now ();
    for (int i = 0; i < count; i++) {
        dt_str_t id = { misses [i], (uint32_t) strlen (misses [i]) };
        check += dt_identity_contact (map, id).len;
    }
    double miss_end = s_now ();
    //  Every alias found (outside the clock)
    int wrong = 0;
    for (int i = 0; i < count; i++) {
        dt_str_t id = { hits [i], (uint32_t) strlen (hits [i]) };
        dt_str_t got = dt_identity_contact (map, id);
        snprintf (canonical, sizeof canonical, "003Dn%013d", i / 3);
        if (got.len != strlen (canonical) || memcmp (got.ptr, canonical, got.len)) {
            if (wrong++ < 3)
                fprintf (stderr, "bench_identity: '%s' is '%.*s', want '%s'\n", hits [i],
                         (int) got.len, got.ptr, canonical);
        }
    }
    if (wrong) {
        fprintf (stderr, "bench_identity: %d aliases not resolved\n", wrong);
        return 1;
    }
    printf ("aliases            %d\n", count);
    printf ("add                %.2f s (%.0f rows/s)\n", added - start, count / (added - start));
    printf ("validate           %.2f s\n", validated - added);
    printf ("bytes (own count)  %zu (%.1f per alias)\n", dt_identity_bytes (map),
            (double) dt_identity_bytes (map) / count);
    printf ("bytes (malloc)     %zu (%.1f per alias)\n", held, (double) held / count);
    printf ("lookups, aliases   %.2f M/s (%.0f ns each)\n",
            count / (hit_end - hit_start) / 1e6, (hit_end - hit_start) / count * 1e9);
    printf ("lookups, no alias  %.2f M/s (%.0f ns each)\n",
            count / (miss_end - hit_end) / 1e6, (miss_end - hit_end) / count * 1e9);
    printf ("checksum           %zu\n", check);
    free (hits);
    free (misses);
    dt_identity_destroy (&map);
    return 0;
}
