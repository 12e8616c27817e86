/*  test_tzdb.c - time zones from the system's tz database: every zone's
    offset at instants from 1900 to 2100 agrees with libc's localtime_r
    (TZ set per zone; fine in a single-threaded test), footer rules on their
    own (a slim file: no transitions, north and south of the equator, a
    negative rule time), the range an offset holds for, refused files, and
    the time a lookup takes.
*/
#include "base/tzdb.h"
#include "unit/testing.h"

#include <stdlib.h>
#include <time.h>

//  A version-2 TZif file with no transitions, one time type and a footer
static size_t
s_slim (uint8_t *out, int32_t offset, const char *footer)
{
    uint8_t header [44] = { 'T', 'Z', 'i', 'f', '2' };
    header [39] = 1;        //  typecnt
    header [43] = 4;        //  charcnt
    size_t len = 0;
    for (int block = 0; block < 2; block++) {
        memcpy (out + len, header, 44);
        len += 44;
        uint8_t type [6] = { (uint8_t) (offset >> 24), (uint8_t) (offset >> 16),
                             (uint8_t) (offset >> 8), (uint8_t) offset, 0, 0 };
        memcpy (out + len, type, 6);
        len += 6;
        memcpy (out + len, "XXX", 4);
        len += 4;
    }
    len += (size_t) sprintf ((char *) out + len, "\n%s\n", footer);
    return len;
}

static int64_t
s_libc_offset (const char *zone, int64_t seconds)
{
    setenv ("TZ", zone, 1);
    tzset ();
    time_t t = (time_t) seconds;
    struct tm tm;
    localtime_r (&t, &tm);
    return tm.tm_gmtoff;
}

static void
s_test_against_libc (void)
{
    dt_tzdb_t *db = dt_tzdb_new ();
    char err [256];
    int zones = dt_tzdb_load_dir (db, DT_TZDB_DIR, err, sizeof err);
    printf ("tzdb: %d zones, %zu bytes\n", zones, dt_tzdb_bytes (db));
    CHECK (zones > 300);
    static const char *names [] = {
        "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
        "Pacific/Chatham", "America/Sao_Paulo", "Europe/London", "Asia/Tokyo",
        "America/Santiago", "Africa/Casablanca", "Pacific/Kiritimati", "America/St_Johns",
        "Etc/GMT+5", "UTC", "Europe/Dublin", "Antarctica/Troll"
    };
    int wrong = 0, checked = 0;
    for (size_t n = 0; n < sizeof names / sizeof names [0]; n++) {
        const dt_zone_t *zone = dt_tzdb_find (db, names [n], strlen (names [n]));
        CHECK (zone != NULL);
        if (!zone)
            continue;
        //  Every ~3 days from 1900 to 2100, and an hour either side of
        //  each point: crosses every transition's neighbourhood often
        for (int64_t t = -2208988800LL; t < 4102444800LL; t += 3 * 86400 + 3607) {
            int64_t want = s_libc_offset (names [n], t);
            int64_t from, to;
            int64_t got = dt_zone_offset (zone, t * 1000, &from, &to) / 1000;
            checked++;
            if (got != want || from > t * 1000 || to <= t * 1000) {
                if (wrong++ < 5)
                    fprintf (stderr, "  %s at %lld: %lld, libc %lld\n", names [n],
                             (long long) t, (long long) got, (long long) want);
            }
        }
    }
    CHECK_INT (wrong, 0);
    printf ("tzdb: %d instants compared with localtime_r\n", checked);

    //  All zones at a few instants
    wrong = 0;
    int64_t instants [] = { 0, 1777766400, 1798761600, 2145916800, 2500000000LL, 3000000000LL };
    const char *more [] = { "America/Los_Angeles", "Europe/Moscow", "Asia/Tehran",
                            "America/Havana", "Asia/Gaza", "Pacific/Auckland" };
    for (size_t n = 0; n < sizeof more / sizeof more [0]; n++) {
        const dt_zone_t *zone = dt_tzdb_find (db, more [n], strlen (more [n]));
        CHECK (zone != NULL);
        for (size_t i = 0; zone && i < sizeof instants / sizeof instants [0]; i++)
            wrong += dt_zone_offset (zone, instants [i] * 1000, NULL, NULL) / 1000
                  != s_libc_offset (more [n], instants [i]);
    }
    CHECK_INT (wrong, 0);

    //  Finding: exact names only
    CHECK (dt_tzdb_find (db, "Europe/Berlinx", 13) != NULL);    //  13 bytes: Europe/Berlin
    CHECK (dt_tzdb_find (db, "Europe/Berlin", 12) == NULL);
    CHECK (dt_tzdb_find (db, "europe/berlin", 13) == NULL);
    CHECK (dt_tzdb_find (db, "", 0) == NULL);
    CHECK (dt_tzdb_utc (db) != NULL);

    //  Speed: a lookup in a zone with many transitions
    const dt_zone_t *berlin = dt_tzdb_find (db, "Europe/Berlin", 13);
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    int64_t sum = 0;
    for (int64_t i = 0; i < 1000000; i++)
        sum += dt_zone_offset (berlin, 1700000000000LL + i * 7919777LL, NULL, NULL);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double ns = ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / 1e6;
    printf ("tzdb: %.1f ns per lookup (binary search, Europe/Berlin; checksum %lld)\n",
            ns, (long long) (sum % 1000));
    dt_tzdb_destroy (&db);
    CHECK (db == NULL);
}

static void
s_test_footer (void)
{
    dt_tzdb_t *db = dt_tzdb_new ();
    char err [256];
    uint8_t file [512];
    size_t len = s_slim (file, 3600, "CET-1CEST,M3.5.0,M10.5.0/3");
    CHECK_INT (dt_tzdb_add (db, "Test/Berlin", file, len, err, sizeof err), 0);
    len = s_slim (file, 36000, "AEST-10AEDT,M10.1.0,M4.1.0/3");
    CHECK_INT (dt_tzdb_add (db, "Test/Sydney", file, len, err, sizeof err), 0);
    //  Greenland: DST from the last Sunday of March at -1:00 (23:00 the
    //  Saturday before) to the last Sunday of October at 00:00
    len = s_slim (file, -7200, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    CHECK_INT (dt_tzdb_add (db, "Test/Nuuk", file, len, err, sizeof err), 0);
    len = s_slim (file, 19800, "IST-5:30");
    CHECK_INT (dt_tzdb_add (db, "Test/Kolkata", file, len, err, sizeof err), 0);
    const dt_zone_t *berlin = dt_tzdb_find (db, "Test/Berlin", 11);
    const dt_zone_t *sydney = dt_tzdb_find (db, "Test/Sydney", 11);
    const dt_zone_t *nuuk = dt_tzdb_find (db, "Test/Nuuk", 9);
    const dt_zone_t *kolkata = dt_tzdb_find (db, "Test/Kolkata", 12);
    CHECK (berlin && sydney && nuuk && kolkata);
    if (!berlin || !sydney || !nuuk || !kolkata)
        return;
    //  29 March 2026 01:00 UTC: Berlin goes to CEST
    int64_t change = 1774746000000LL, from, to;
    CHECK_INT (dt_zone_offset (berlin, change - 1, NULL, &to), 3600000);
    CHECK_INT (to, change);
    CHECK_INT (dt_zone_offset (berlin, change, &from, &to), 7200000);
    CHECK_INT (from, change);
    CHECK_INT (to, 1792890000000LL);        //  25 Oct 2026 01:00 UTC
    //  Sydney: DST in January, standard in June
    CHECK_INT (dt_zone_offset (sydney, 1768000000000LL, NULL, NULL), 39600000);
    CHECK_INT (dt_zone_offset (sydney, 1781000000000LL, NULL, NULL), 36000000);
    //  Nuuk 2026: DST from Sat 28 Mar 23:00 -02 (= 29 Mar 01:00 UTC)
    CHECK_INT (dt_zone_offset (nuuk, 1774746000000LL - 1, NULL, NULL), -7200000);
    CHECK_INT (dt_zone_offset (nuuk, 1774746000000LL, NULL, NULL), -3600000);
    CHECK_INT (dt_zone_offset (kolkata, 1774742400000LL, NULL, NULL), 19800000);
    //  Far ahead: 2090 still follows the rule
    CHECK_INT (dt_zone_offset (berlin, 3802291200000LL, NULL, NULL), 7200000);  //  July 2090

    //  Refused: not TZif, cut short, an unknown footer
    CHECK_INT (dt_tzdb_add (db, "Bad/One", (const uint8_t *) "hello", 5, err, sizeof err), -1);
    CHECK (strstr (err, "not a TZif") != NULL);
    len = s_slim (file, 0, "UTC0");
    CHECK_INT (dt_tzdb_add (db, "Bad/Two", file, 100, err, sizeof err), -1);
    CHECK (strstr (err, "cut short") != NULL);
    len = s_slim (file, 0, "CET-1CEST,X3,M10.5.0");
    CHECK_INT (dt_tzdb_add (db, "Bad/Three", file, len, err, sizeof err), -1);
    CHECK (strstr (err, "footer") != NULL);
    CHECK (dt_tzdb_find (db, "Bad/Three", 9) == NULL);
    //  Every prefix of a good file is refused or read without a crash
    len = s_slim (file, 3600, "CET-1CEST,M3.5.0,M10.5.0/3");
    for (size_t cut = 0; cut < len; cut++)
        dt_tzdb_add (db, "Cut/Zone", file, cut, err, sizeof err);
    CHECK_INT (dt_days_from_civil (1970, 1, 1), 0);
    CHECK_INT (dt_days_from_civil (2026, 5, 4), 20577);
    CHECK_INT (dt_days_from_civil (1969, 12, 31), -1);
    dt_tzdb_destroy (&db);
}

int
main (void)
{
    s_test_against_libc ();
    s_test_footer ();
    return TESTING_DONE ();
}
