/*  test_journal.c - the track daemon's durable journal: replay, trimming,
    torn writes at every byte, damage, limits, cursors, locking, and kill -9
    in the middle of appends.
*/
#include "journal/journal.h"
#include "base/crc32c.h"
#include "unit/testing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  --------------------------------------------------------------------------
//  Helpers

//  Every record's length and bytes follow from its seq (and a generation, so
//  that a record rewritten after a recovery is told apart from the old one)
static uint32_t
s_len_of (uint64_t seq)
{
    return (uint32_t) ((seq * 7919) % 1500);
}

static void
s_fill (uint8_t *buf, uint64_t seq, uint32_t gen, uint32_t len)
{
    uint64_t x = seq * 0x9E3779B97F4A7C15ull + gen + 1;
    for (uint32_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf [i] = (uint8_t) x;
    }
}

static int
s_append_seq (dt_journal_t *j, uint32_t gen, uint32_t len, uint64_t *seq_p)
{
    static uint8_t buf [2 * 1024 * 1024];
    uint64_t seq = dt_journal_next_seq (j);
    if (len == UINT32_MAX)
        len = s_len_of (seq);
    s_fill (buf, seq, gen, len);
    return dt_journal_append (j, buf, len, seq_p);
}

//  Appends count records of len bytes (generation 0), then one sync
static void
s_append_synced (dt_journal_t *j, int count, uint32_t len)
{
    for (int i = 0; i < count; i++)
        CHECK_INT (s_append_seq (j, 0, len, NULL), 0);
    CHECK_INT (dt_journal_sync (j), 0);
}

//  Reads from..to with a new cursor and checks each record; returns how many
//  records were read that matched
static uint64_t
s_verify (dt_journal_t *j, uint64_t from, uint64_t to, uint32_t gen, int fixed_len)
{
    static uint8_t want [2 * 1024 * 1024];
    dt_journal_cursor_t *cur = dt_journal_cursor_new (j, from);
    uint64_t good = 0, expect = from;
    const void *data;
    uint32_t len;
    uint64_t seq;
    while (expect <= to && dt_journal_cursor_next (cur, &data, &len, &seq) == 1) {
        uint32_t want_len = fixed_len >= 0 ? (uint32_t) fixed_len : s_len_of (seq);
        s_fill (want, seq, gen, want_len);
        if (seq != expect || len != want_len || memcmp (data, want, len)) {
            fprintf (stderr, "record %" PRIu64 " (want %" PRIu64 ") len %u is wrong\n",
                     seq, expect, len);
            break;
        }
        good++;
        expect++;
    }
    dt_journal_cursor_destroy (&cur);
    return good;
}

static char *
s_tmpdir (void)
{
    char path [] = "/tmp/dt-journal-XXXXXX";
    char *dir = mkdtemp (path);
    return dir ? strdup (dir) : NULL;
}

static void
s_rmrf (const char *path)
{
    DIR *dir = opendir (path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir (dir))) {
            if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
                continue;
            char child [512];
            snprintf (child, sizeof child, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat (child, &st) == 0 && S_ISDIR (st.st_mode))
                s_rmrf (child);
            else
                unlink (child);
        }
        closedir (dir);
    }
    rmdir (path);
}

static int
s_count_files (const char *path, const char *suffix)
{
    DIR *dir = opendir (path);
    int count = 0;
    struct dirent *e;
    while (dir && (e = readdir (dir))) {
        size_t n = strlen (e->d_name), m = strlen (suffix);
        if (n >= m && !strcmp (e->d_name + n - m, suffix))
            count++;
    }
    if (dir)
        closedir (dir);
    return count;
}

static char *
s_seg_path (const char *dir, uint64_t first)
{
    static char path [512];
    snprintf (path, sizeof path, "%s/%020" PRIu64 ".seg", dir, first);
    return path;
}

static uint8_t *
s_slurp (const char *path, size_t *size)
{
    int fd = open (path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat (fd, &st)) {
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    uint8_t *buf = (uint8_t *) malloc ((size_t) st.st_size + 1);
    ssize_t n = read (fd, buf, (size_t) st.st_size);
    close (fd);
    *size = n > 0 ? (size_t) n : 0;
    return buf;
}

static void
s_spit (const char *path, const uint8_t *data, size_t size)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write (fd, data, size) != (ssize_t) size)
            fprintf (stderr, "short write to %s\n", path);
        close (fd);
    }
}

static off_t
s_file_size (const char *path)
{
    struct stat st;
    return stat (path, &st) ? -1 : st.st_size;
}


//  --------------------------------------------------------------------------
//  Tests

static void
test_replay (void)
{
    char *root = s_tmpdir ();
    char dir [256];
    snprintf (dir, sizeof dir, "%s/a/b/journal", root);     //  created with parents
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, NULL, &report);
    CHECK (j);
    CHECK_INT (report.records, 0);
    CHECK_INT (report.next_seq, 1);
    CHECK_INT (dt_journal_next_seq (j), 1);

    uint64_t seq = 0;
    for (int i = 0; i < 100; i++)
        CHECK_INT (s_append_seq (j, 0, UINT32_MAX, &seq), 0);
    CHECK_INT (seq, 100);
    CHECK_INT (dt_journal_depth (j), 100);
    CHECK_INT (dt_journal_synced (j), 0);
    //  Nothing is forwarded before it is durable
    CHECK_INT (s_verify (j, 1, 100, 0, -1), 0);
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (dt_journal_synced (j), 100);
    CHECK_INT (s_verify (j, 1, 100, 0, -1), 100);
    CHECK_INT (s_verify (j, 50, 100, 0, -1), 51);
    //  Zero-length record
    CHECK_INT (dt_journal_append (j, NULL, 0, &seq), 0);
    CHECK_INT (seq, 101);
    dt_journal_destroy (&j);
    CHECK (j == NULL);
    dt_journal_destroy (&j);                    //  safe twice

    j = dt_journal_new (dir, NULL, &report);
    CHECK (j);
    CHECK_INT (report.records, 101);
    CHECK_INT (report.first_seq, 1);
    CHECK_INT (report.next_seq, 102);
    CHECK_INT (report.confirmed, 0);
    CHECK_INT (report.dropped_bytes, 0);
    CHECK (strstr (report.message, "101 records, 101 to replay"));
    CHECK_INT (dt_journal_synced (j), 101);     //  recovered = durable
    CHECK_INT (s_verify (j, 1, 100, 0, -1), 100);
    CHECK_INT (s_append_seq (j, 0, UINT32_MAX, &seq), 0);
    CHECK_INT (seq, 102);
    dt_journal_destroy (&j);
    s_rmrf (root);
    free (root);
}

static void
test_confirm (void)
{
    char *dir = s_tmpdir ();
    dt_journal_opts_t opts = { .segment_bytes = 4096 };
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    s_append_synced (j, 200, 100);
    int segments = s_count_files (dir, ".seg");
    CHECK (segments >= 5);                      //  35 records of 116 B each
    CHECK_INT (dt_journal_bytes (j), 200 * 116);

    CHECK_INT (dt_journal_confirm (j, 150), 0);
    CHECK_INT (dt_journal_confirmed (j), 150);
    CHECK_INT (dt_journal_depth (j), 50);
    CHECK (s_count_files (dir, ".seg") < segments);
    CHECK (dt_journal_first_seq (j) <= 151);
    CHECK (dt_journal_first_seq (j) > 100);
    uint64_t bytes = dt_journal_bytes (j);
    CHECK (bytes >= 50 * 116 && bytes <= 51 * 116);
    //  Never backwards, never past what exists
    CHECK_INT (dt_journal_confirm (j, 10), 0);
    CHECK_INT (dt_journal_confirmed (j), 150);
    errno = 0;
    CHECK_INT (dt_journal_confirm (j, 201), -1);
    CHECK_INT (errno, EINVAL);
    CHECK_INT (dt_journal_confirmed (j), 150);
    dt_journal_destroy (&j);

    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.confirmed, 150);
    CHECK_INT (report.next_seq, 201);
    CHECK_INT (s_verify (j, dt_journal_confirmed (j) + 1, 200, 0, 100), 50);
    //  A cursor from 0 starts at the first record left on disk
    dt_journal_cursor_t *cur = dt_journal_cursor_new (j, 0);
    uint64_t seq = 0;
    CHECK_INT (dt_journal_cursor_next (cur, NULL, NULL, &seq), 1);
    CHECK_INT (seq, dt_journal_first_seq (j));
    dt_journal_cursor_destroy (&cur);

    //  Everything confirmed: one (newest) segment left, seqs go on
    CHECK_INT (dt_journal_confirm (j, 200), 0);
    CHECK_INT (dt_journal_depth (j), 0);
    CHECK_INT (dt_journal_bytes (j), 0);
    CHECK_INT (s_count_files (dir, ".seg"), 1);
    dt_journal_destroy (&j);
    j = dt_journal_new (dir, &opts, &report);
    CHECK_INT (report.next_seq, 201);
    CHECK_INT (report.confirmed, 200);
    CHECK_INT (s_append_seq (j, 0, 100, &seq), 0);
    CHECK_INT (seq, 201);
    CHECK_INT (dt_journal_sync (j), 0);
    for (int i = 0; i < 100; i++)
        CHECK_INT (s_append_seq (j, 0, 100, NULL), 0);
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (dt_journal_confirm (j, 301), 0);
    dt_journal_destroy (&j);

    //  The mark file lost (a power loss may do that): the oldest segment's
    //  name bounds it, lower but never past what was confirmed
    char path [512];
    snprintf (path, sizeof path, "%s/confirmed", dir);
    CHECK_INT (unlink (path), 0);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.next_seq, 302);
    CHECK (report.confirmed <= 301);
    CHECK_INT (report.confirmed, dt_journal_first_seq (j) - 1);
    CHECK_INT (s_append_seq (j, 0, 100, &seq), 0);
    CHECK_INT (seq, 302);
    dt_journal_destroy (&j);

    //  A garbled mark is ignored the same way
    s_spit (path, (const uint8_t *) "confirmed 99999999999999999999 00000000\n", 40);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK (strstr (report.message, "unreadable"));
    CHECK_INT (report.confirmed, dt_journal_first_seq (j) - 1);
    dt_journal_destroy (&j);

    //  A valid mark past the data (records forwarded, then lost on disk):
    //  seqs continue past it, never reusing one seen downstream
    char digits [21], line [64];
    snprintf (digits, sizeof digits, "%020d", 1000);
    snprintf (line, sizeof line, "confirmed %s %08x\n", digits, dt_crc32c (0, digits, 20));
    s_spit (path, (const uint8_t *) line, strlen (line));
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.next_seq, 1001);
    CHECK_INT (report.confirmed, 1000);
    CHECK_INT (dt_journal_depth (j), 0);
    CHECK_INT (s_append_seq (j, 0, 100, &seq), 0);
    CHECK_INT (seq, 1001);
    CHECK_INT (dt_journal_sync (j), 0);
    dt_journal_destroy (&j);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.next_seq, 1002);
    CHECK_INT (s_verify (j, 1001, 1001, 0, 100), 1);
    dt_journal_destroy (&j);
    s_rmrf (dir);
    free (dir);
}

//  Names of the .seg files, sorted; returns how many (at most max)
static int
s_list_segs (const char *path, uint64_t *firsts, int max)
{
    DIR *dir = opendir (path);
    int count = 0;
    struct dirent *e;
    while (dir && (e = readdir (dir))) {
        size_t n = strlen (e->d_name);
        if (n == 24 && !strcmp (e->d_name + 20, ".seg") && count < max)
            firsts [count++] = strtoull (e->d_name, NULL, 10);
    }
    if (dir)
        closedir (dir);
    for (int a = 0; a < count; a++)
        for (int b = a + 1; b < count; b++)
            if (firsts [b] < firsts [a]) {
                uint64_t t = firsts [a]; firsts [a] = firsts [b]; firsts [b] = t;
            }
    return count;
}

//  Confirmed segments wait as spares and become the next segments: stale
//  bytes after the records, an end mark between, and recovery that stops
//  there without calling it damage
static void
test_recycle (void)
{
    char *dir = s_tmpdir ();
    dt_journal_opts_t opts = { .segment_bytes = 4096 };
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    s_append_synced (j, 200, 100);              //  35 records of 116 B per segment
    CHECK_INT (s_count_files (dir, ".seg"), 6);
    CHECK_INT (s_count_files (dir, ".spare"), 0);
    CHECK_INT (dt_journal_confirm (j, 150), 0);
    //  Four segments confirmed: two kept as spares, two deleted
    CHECK_INT (s_count_files (dir, ".seg"), 2);
    CHECK_INT (s_count_files (dir, ".spare"), 2);

    //  The next two segments are the spares renamed: their files are
    //  already full size while their records are few
    s_append_synced (j, 40, 100);
    CHECK_INT (s_count_files (dir, ".spare"), 1);
    uint64_t segs [16];
    int n = s_list_segs (dir, segs, 16);
    CHECK_INT (n, 3);
    uint64_t newest = segs [n - 1];
    uint64_t records = dt_journal_next_seq (j) - newest;
    CHECK (records > 0 && records < 35);
    CHECK (s_file_size (s_seg_path (dir, newest)) > (off_t) (records * 116 + 16));
    CHECK_INT (s_verify (j, 151, 240, 0, 100), 90);
    dt_journal_destroy (&j);

    //  Reopened: every record, nothing called torn or damaged
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.next_seq, 241);
    CHECK_INT (report.confirmed, 150);
    CHECK_INT (report.dropped_bytes, 0);
    CHECK_INT (report.damaged_segments, 0);
    CHECK (strstr (report.message, "torn") == NULL);
    CHECK_INT (s_verify (j, 151, 240, 0, 100), 90);
    //  Appends go on after the recovered records, over the end mark
    uint64_t seq = 0;
    CHECK_INT (s_append_seq (j, 1, 100, &seq), 0);
    CHECK_INT (seq, 241);
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (s_verify (j, 241, 241, 1, 100), 1);
    dt_journal_destroy (&j);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.next_seq, 242);
    CHECK_INT (report.dropped_bytes, 0);
    CHECK_INT (s_verify (j, 151, 240, 0, 100), 90);
    CHECK_INT (s_verify (j, 241, 241, 1, 100), 1);
    //  Many rolls later the directory holds no more than it needs
    for (int round = 0; round < 20; round++) {
        s_append_synced (j, 50, 100);
        CHECK_INT (dt_journal_confirm (j, dt_journal_synced (j) - 10), 0);
    }
    CHECK (s_count_files (dir, ".seg") <= 2);
    CHECK (s_count_files (dir, ".spare") <= 2);
    uint64_t next = dt_journal_next_seq (j), confirmed = dt_journal_confirmed (j);
    dt_journal_destroy (&j);

    //  A torn last record of a recycled segment: cut off, the stale bytes
    //  after it not taken for anything
    n = s_list_segs (dir, segs, 16);
    newest = segs [n - 1];
    size_t size = 0;
    uint8_t *pristine = s_slurp (s_seg_path (dir, newest), &size);
    uint64_t in_newest = next - newest;
    CHECK (in_newest >= 2);
    size_t end = (size_t) in_newest * 116;
    CHECK (size > end + 16);
    CHECK (memcmp (pristine + end, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
    char path [512];
    snprintf (path, sizeof path, "%s", s_seg_path (dir, newest));
    pristine [end - 50] ^= 0x40;
    s_spit (path, pristine, size);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.next_seq, next - 1);
    CHECK (report.dropped_bytes > 0);
    CHECK (strstr (report.message, "torn tail") != NULL);
    CHECK_INT (s_verify (j, confirmed + 1, next - 2, 0, 100), next - 2 - confirmed);
    dt_journal_destroy (&j);
    pristine [end - 50] ^= 0x40;

    //  An end mark in the middle of the last segment, intact records after
    //  it: damage, not an end
    memset (pristine + 116, 0, 16);
    s_spit (path, pristine, size);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j == NULL);
    CHECK (strstr (report.message, "end mark") != NULL);
    CHECK (strstr (report.message, "salvage") != NULL);
    dt_journal_destroy (&j);
    free (pristine);

    //  A spare never replaces a file already named like the next segment:
    //  the roll fails as creating that segment would, the file untouched
    s_rmrf (dir);
    CHECK_INT (mkdir (dir, 0755), 0);
    j = dt_journal_new (dir, &opts, &report);
    s_append_synced (j, 200, 100);
    CHECK_INT (dt_journal_confirm (j, 150), 0);
    CHECK_INT (s_count_files (dir, ".spare"), 2);
    n = s_list_segs (dir, segs, 16);
    newest = segs [n - 1];
    s_append_synced (j, (int) (35 - (dt_journal_next_seq (j) - newest)), 100);
    uint64_t roll_seq = dt_journal_next_seq (j);
    snprintf (path, sizeof path, "%s", s_seg_path (dir, roll_seq));
    s_spit (path, (const uint8_t *) "stray", 5);
    errno = 0;
    CHECK_INT (s_append_seq (j, 0, 100, NULL), -1);
    CHECK_INT (errno, EEXIST);
    CHECK_INT (s_file_size (path), 5);
    CHECK_INT (s_count_files (dir, ".spare"), 2);
    CHECK_INT (unlink (path), 0);
    CHECK_INT (s_append_seq (j, 0, 100, &seq), 0);
    CHECK_INT (seq, roll_seq);
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (s_count_files (dir, ".spare"), 1);
    CHECK_INT (s_verify (j, 151, roll_seq, 0, 100), roll_seq - 150);
    dt_journal_destroy (&j);

    //  In a segment before the last, records cut short by a zeroed header
    //  are damage too (its records must reach the next segment's name)
    s_rmrf (dir);
    CHECK_INT (mkdir (dir, 0755), 0);
    j = dt_journal_new (dir, &opts, &report);
    s_append_synced (j, 100, 100);
    dt_journal_destroy (&j);
    pristine = s_slurp (s_seg_path (dir, 1), &size);
    CHECK_INT (size, 35 * 116);
    memset (pristine + 10 * 116, 0, 16);
    snprintf (path, sizeof path, "%s", s_seg_path (dir, 1));
    s_spit (path, pristine, size);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j == NULL);
    CHECK (strstr (report.message, "end mark before") != NULL);
    CHECK (strstr (report.message, "offset 1160") != NULL);
    free (pristine);
    s_rmrf (dir);
    free (dir);
}

//  Cut the last record at every byte, and flip every byte of it
static void
test_torn (void)
{
    char *dir = s_tmpdir ();
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, NULL, &report);
    for (int i = 0; i < 5; i++)
        CHECK_INT (s_append_seq (j, 0, 200, NULL), 0);
    CHECK_INT (dt_journal_sync (j), 0);
    dt_journal_destroy (&j);

    size_t size = 0;
    uint8_t *pristine = s_slurp (s_seg_path (dir, 1), &size);
    CHECK_INT (size, 5 * 216);
    size_t start = 4 * 216;
    int bad = 0;
    //  cut == start: the last record is gone entirely, nothing is torn
    for (int pass = 0; pass < 2; pass++) {
        size_t count = pass == 0 ? size - start : 216;
        for (size_t k = 0; k < count; k++) {
            int failed_before = testing_failed;
            char path [512];
            snprintf (path, sizeof path, "%s", s_seg_path (dir, 1));
            if (pass == 0)
                s_spit (path, pristine, start + k);         //  cut at start + k
            else {
                pristine [start + k] ^= 0x40;               //  flip one bit
                s_spit (path, pristine, size);
                pristine [start + k] ^= 0x40;
            }
            j = dt_journal_new (dir, NULL, &report);
            CHECK (j);
            if (!j)
                break;
            CHECK_INT (report.records, 4);
            CHECK_INT (report.next_seq, 5);
            CHECK_INT (report.dropped_bytes, pass == 0 ? k : 216);
            if (pass == 1 || k > 0)
                CHECK (strstr (report.message, "torn tail") != NULL);
            CHECK_INT (s_verify (j, 1, 4, 0, 200), 4);
            uint64_t seq;
            CHECK_INT (s_append_seq (j, 1, 200, &seq), 0);
            CHECK_INT (seq, 5);
            CHECK_INT (dt_journal_sync (j), 0);
            CHECK_INT (s_verify (j, 5, 5, 1, 200), 1);
            dt_journal_destroy (&j);
            if (testing_failed != failed_before && bad++ == 0)
                fprintf (stderr, "torn test failed at pass %d byte %zu: %s\n",
                         pass, k, report.message);
        }
    }
    //  Recovered file is exactly the 4 records plus the new one
    CHECK_INT (s_file_size (s_seg_path (dir, 1)), 5 * 216);
    free (pristine);
    s_rmrf (dir);
    free (dir);
}

//  Damage before the tail: refuse by default, salvage on request
static void
test_damage (void)
{
    char *dir = s_tmpdir ();
    dt_journal_opts_t opts = { .segment_bytes = 1000 };
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, &opts, &report);
    for (int i = 0; i < 40; i++)                    //  4 records (864 B) a segment
        CHECK_INT (s_append_seq (j, 0, 200, NULL), 0);
    CHECK_INT (dt_journal_sync (j), 0);
    dt_journal_destroy (&j);
    CHECK_INT (s_count_files (dir, ".seg"), 10);

    //  Flip a payload byte of seq 6, in the second segment (5..8)
    char path [512];
    snprintf (path, sizeof path, "%s", s_seg_path (dir, 5));
    size_t size;
    uint8_t *seg = s_slurp (path, &size);
    seg [216 + 100] ^= 1;
    s_spit (path, seg, size);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j == NULL);
    CHECK (strstr (report.message, "00000000000000000005.seg damaged at offset 216"));
    CHECK (strstr (report.message, "seq 6"));
    CHECK (strstr (report.message, "CRC mismatch"));

    opts.salvage = 1;
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.records, 5);                  //  1..5 kept
    CHECK_INT (dt_journal_depth (j), 5);             //  the gap does not count
    CHECK (report.damaged_segments >= 1);
    CHECK (report.next_seq > 40);                   //  seqs 6..40 are not reused
    CHECK_INT (s_verify (j, 1, 5, 0, 200), 5);
    uint64_t seq, first_new = report.next_seq;
    CHECK_INT (s_append_seq (j, 2, 200, &seq), 0);
    CHECK_INT (seq, first_new);
    CHECK_INT (dt_journal_sync (j), 0);
    dt_journal_destroy (&j);
    CHECK (s_count_files (dir, ".damaged") >= 9);

    //  Reopens without salvage: the gap is explained by the .damaged files
    opts.salvage = 0;
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    if (!j)
        fprintf (stderr, "%s\n", report.message);
    CHECK_INT (report.records, 6);
    CHECK_INT (report.next_seq, first_new + 1);
    CHECK_INT (s_verify (j, 1, 5, 0, 200), 5);
    CHECK_INT (s_verify (j, first_new, first_new, 2, 200), 1);
    dt_journal_cursor_t *cur = dt_journal_cursor_new (j, 6);
    CHECK_INT (dt_journal_cursor_next (cur, NULL, NULL, &seq), 1);
    CHECK_INT (seq, first_new);                     //  steps over the gap
    dt_journal_cursor_destroy (&cur);
    //  Confirming past the gap drops the old segments
    CHECK_INT (dt_journal_confirm (j, first_new), 0);
    CHECK_INT (s_count_files (dir, ".seg"), 1);
    dt_journal_destroy (&j);
    free (seg);
    s_rmrf (dir);

    //  Damage in the middle of the LAST segment, intact records after it:
    //  not a torn write, so not silently cut
    j = dt_journal_new (dir, NULL, &report);
    for (int i = 0; i < 10; i++)
        CHECK_INT (s_append_seq (j, 0, 200, NULL), 0);
    dt_journal_destroy (&j);
    snprintf (path, sizeof path, "%s", s_seg_path (dir, 1));
    seg = s_slurp (path, &size);
    seg [3 * 216 + 20] ^= 0x80;                     //  payload of seq 4
    s_spit (path, seg, size);
    j = dt_journal_new (dir, NULL, &report);
    CHECK (j == NULL);
    CHECK (strstr (report.message, "hold intact records"));
    opts.salvage = 1;
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.records, 3);
    CHECK (report.next_seq > 10);
    CHECK_INT (s_verify (j, 1, 3, 0, 200), 3);
    dt_journal_destroy (&j);
    free (seg);
    s_rmrf (dir);

    //  A middle segment file missing: refused, salvage keeps all the rest
    opts = (dt_journal_opts_t) { .segment_bytes = 1000 };
    j = dt_journal_new (dir, &opts, &report);
    for (int i = 0; i < 12; i++)
        CHECK_INT (s_append_seq (j, 0, 200, NULL), 0);
    dt_journal_destroy (&j);
    CHECK_INT (unlink (s_seg_path (dir, 5)), 0);
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j == NULL);
    CHECK (strstr (report.message, "missing"));
    opts.salvage = 1;
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    CHECK_INT (report.records, 8);
    CHECK_INT (report.next_seq, 13);
    CHECK_INT (s_verify (j, 1, 4, 0, 200), 4);
    CHECK_INT (s_verify (j, 9, 12, 0, 200), 4);
    cur = dt_journal_cursor_new (j, 5);              //  5..8 are gone
    CHECK_INT (dt_journal_cursor_next (cur, NULL, NULL, &seq), 1);
    CHECK_INT (seq, 9);
    dt_journal_cursor_destroy (&cur);
    dt_journal_destroy (&j);
    opts.salvage = 0;
    j = dt_journal_new (dir, &opts, &report);
    CHECK (j);
    dt_journal_destroy (&j);
    s_rmrf (dir);
    free (dir);
}

static void
test_empty_segments (void)
{
    char *dir = s_tmpdir ();
    dt_journal_report_t report;
    //  A lone empty segment, as left by a crash right after a roll: its
    //  name is where seqs continue
    s_spit (s_seg_path (dir, 7), NULL, 0);
    dt_journal_t *j = dt_journal_new (dir, NULL, &report);
    CHECK (j);
    CHECK_INT (report.records, 0);
    CHECK_INT (report.next_seq, 7);
    CHECK_INT (report.confirmed, 6);
    uint64_t seq;
    CHECK_INT (s_append_seq (j, 0, UINT32_MAX, &seq), 0);
    CHECK_INT (seq, 7);
    dt_journal_destroy (&j);
    //  An empty last segment after full ones
    s_spit (s_seg_path (dir, 8), NULL, 0);
    j = dt_journal_new (dir, NULL, &report);
    CHECK (j);
    CHECK_INT (report.records, 1);
    CHECK_INT (report.next_seq, 8);
    CHECK_INT (s_verify (j, 7, 7, 0, -1), 1);
    CHECK_INT (s_append_seq (j, 0, UINT32_MAX, &seq), 0);
    CHECK_INT (seq, 8);
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (s_verify (j, 7, 8, 0, -1), 2);
    dt_journal_destroy (&j);
    //  Once more
    s_spit (s_seg_path (dir, 9), NULL, 0);
    j = dt_journal_new (dir, NULL, &report);
    CHECK_INT (s_append_seq (j, 0, UINT32_MAX, &seq), 0);
    CHECK_INT (seq, 9);
    dt_journal_destroy (&j);
    s_spit (s_seg_path (dir, 10), NULL, 0);
    j = dt_journal_new (dir, NULL, &report);
    CHECK (j);
    CHECK_INT (report.next_seq, 10);
    CHECK_INT (s_verify (j, 7, 9, 0, -1), 3);
    dt_journal_destroy (&j);
    s_rmrf (dir);
    free (dir);
}

//  The mark file's two lines: a torn newest one leaves the one before
static void
test_mark (void)
{
    char *dir = s_tmpdir ();
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, NULL, &report);
    for (int i = 0; i < 10; i++)
        CHECK_INT (s_append_seq (j, 0, 10, NULL), 0);
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (dt_journal_confirm (j, 3), 0);
    CHECK_INT (dt_journal_confirm (j, 6), 0);
    CHECK_INT (dt_journal_confirm (j, 7), 0);
    dt_journal_destroy (&j);
    char path [512];
    snprintf (path, sizeof path, "%s/confirmed", dir);
    size_t size;
    uint8_t *text = s_slurp (path, &size);
    CHECK_INT (size, 80);
    text [size] = 0;
    char *newest = strstr ((char *) text, "00000000000000000007 ");
    CHECK (newest && strstr ((char *) text, "00000000000000000006 "));
    if (newest) {
        newest [5] ^= 1;
        s_spit (path, text, size);
    }
    j = dt_journal_new (dir, NULL, &report);
    CHECK_INT (report.confirmed, 6);
    CHECK_INT (dt_journal_confirm (j, 8), 0);   //  goes over the torn line
    dt_journal_destroy (&j);
    j = dt_journal_new (dir, NULL, &report);
    CHECK_INT (report.confirmed, 8);
    dt_journal_destroy (&j);
    memset (text, 'x', size);
    s_spit (path, text, size);
    j = dt_journal_new (dir, NULL, &report);
    CHECK (strstr (report.message, "unreadable"));
    CHECK_INT (report.confirmed, 0);            //  the floor: nothing deleted yet
    CHECK_INT (report.next_seq, 11);
    dt_journal_destroy (&j);
    free (text);
    s_rmrf (dir);
    free (dir);
}

static void
test_limits (void)
{
    char *dir = s_tmpdir ();
    dt_journal_opts_t opts = { .segment_bytes = 1000, .max_bytes = 10 * 116 };
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, &opts, &report);
    for (int i = 0; i < 10; i++)
        CHECK_INT (s_append_seq (j, 0, 100, NULL), 0);
    CHECK_INT (dt_journal_bytes (j), 1160);
    errno = 0;
    CHECK_INT (s_append_seq (j, 0, 100, NULL), -1);
    CHECK_INT (errno, ENOSPC);
    CHECK_INT (dt_journal_next_seq (j), 11);
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (dt_journal_confirm (j, 5), 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT (s_append_seq (j, 0, 100, NULL), 0);
    CHECK_INT (s_append_seq (j, 0, 100, NULL), -1);
    CHECK_INT (errno, ENOSPC);
    errno = 0;
    static uint8_t byte;
    CHECK_INT (dt_journal_append (j, &byte, DT_JOURNAL_MAX_RECORD + 1, NULL), -1);
    CHECK_INT (errno, EMSGSIZE);
    CHECK_INT (dt_journal_sync (j), 0);
    dt_journal_destroy (&j);
    s_rmrf (dir);

    //  A write error from the filesystem (EFBIG past RLIMIT_FSIZE, the same
    //  path as an I/O error): records are written at sync, so the sync
    //  fails, and the journal with it (as after a failed fdatasync); the
    //  restart that follows cuts the half-written record and goes on from
    //  what was synced before
    j = dt_journal_new (dir, NULL, &report);
    for (int i = 0; i < 10; i++)
        CHECK_INT (s_append_seq (j, 0, 600, NULL), 0);
    char path [512];
    snprintf (path, sizeof path, "%s", s_seg_path (dir, 1));
    CHECK_INT (s_file_size (path), 0);              //  in memory until the sync
    CHECK_INT (dt_journal_sync (j), 0);
    CHECK_INT (s_file_size (path), 6160);
    struct rlimit saved, small;
    getrlimit (RLIMIT_FSIZE, &saved);
    small = saved;
    small.rlim_cur = 6160 + 300;                    //  half a record fits
    signal (SIGXFSZ, SIG_IGN);
    CHECK_INT (setrlimit (RLIMIT_FSIZE, &small), 0);
    CHECK_INT (s_append_seq (j, 0, 600, NULL), 0);
    errno = 0;
    CHECK_INT (dt_journal_sync (j), -1);
    CHECK_INT (errno, EFBIG);
    CHECK_INT (setrlimit (RLIMIT_FSIZE, &saved), 0);
    signal (SIGXFSZ, SIG_DFL);
    CHECK_INT (s_append_seq (j, 0, 600, NULL), -1);  //  failed: a restart must recover
    CHECK_INT (dt_journal_sync (j), -1);
    dt_journal_destroy (&j);
    j = dt_journal_new (dir, NULL, &report);
    CHECK_INT (report.records, 10);
    CHECK_INT (s_file_size (path), 6160);            //  the torn record cut off
    CHECK_INT (dt_journal_next_seq (j), 11);
    uint64_t seq;
    CHECK_INT (s_append_seq (j, 0, 600, &seq), 0);
    CHECK_INT (seq, 11);
    CHECK_INT (dt_journal_sync (j), 0);
    dt_journal_destroy (&j);
    j = dt_journal_new (dir, NULL, &report);
    CHECK_INT (report.dropped_bytes, 0);
    CHECK_INT (report.records, 11);
    CHECK_INT (s_verify (j, 1, 11, 0, 600), 11);
    dt_journal_destroy (&j);
    s_rmrf (dir);
    free (dir);
}

static void
test_cursor (void)
{
    char *dir = s_tmpdir ();
    dt_journal_opts_t opts = { .segment_bytes = 2000 };
    dt_journal_report_t report;
    dt_journal_t *j = dt_journal_new (dir, &opts, &report);
    dt_journal_cursor_t *cur = dt_journal_cursor_new (j, 0);
    const void *data;
    uint32_t len;
    uint64_t seq = 0, got = 0;
    CHECK_INT (dt_journal_cursor_next (cur, &data, &len, &seq), 0);
    //  Follows appends made after it was created, once they are durable (a
    //  roll to the next segment syncs the full one, so some are early)
    uint8_t want1 [1500];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 7; i++)
            CHECK_INT (s_append_seq (j, 0, UINT32_MAX, NULL), 0);
        for (int synced = 0; synced < 2; synced++) {
            if (synced)
                CHECK_INT (dt_journal_sync (j), 0);
            int rc;
            while ((rc = dt_journal_cursor_next (cur, &data, &len, &seq)) == 1) {
                got++;
                s_fill (want1, seq, 0, s_len_of (seq));
                CHECK (seq == got && len == s_len_of (seq) && !memcmp (data, want1, len));
                CHECK (seq <= dt_journal_synced (j));
            }
            CHECK_INT (rc, 0);
            CHECK_INT (got, dt_journal_synced (j));
        }
    }
    CHECK_INT (got, 140);
    CHECK (s_count_files (dir, ".seg") > 10);

    //  Records confirmed and deleted under a cursor: it skips to what is left
    dt_journal_cursor_t *slow = dt_journal_cursor_new (j, 1);
    CHECK_INT (dt_journal_cursor_next (slow, NULL, NULL, &seq), 1);
    CHECK_INT (seq, 1);
    CHECK_INT (dt_journal_confirm (j, 100), 0);
    CHECK_INT (dt_journal_cursor_next (slow, NULL, NULL, &seq), 1);
    CHECK (seq > 1 && seq <= 101);
    CHECK (seq == 2 || seq == dt_journal_first_seq (j));
    while (dt_journal_cursor_next (slow, NULL, NULL, &seq) == 1)
        ;
    CHECK_INT (seq, 140);
    dt_journal_cursor_destroy (&slow);
    dt_journal_cursor_destroy (&slow);      //  safe twice

    //  Big records, larger than the read-ahead window and than a segment
    for (uint32_t size = 70 * 1024; size <= 1024 * 1024 + 7; size = size * 4 + 7)
        CHECK_INT (s_append_seq (j, 9, size, NULL), 0);
    CHECK_INT (dt_journal_sync (j), 0);
    uint32_t size = 70 * 1024;
    uint8_t *want = (uint8_t *) malloc (4 * 1024 * 1024);
    while (dt_journal_cursor_next (cur, &data, &len, &seq) == 1) {
        s_fill (want, seq, 9, size);
        CHECK (len == size && !memcmp (data, want, len));
        size = size * 4 + 7;
    }
    CHECK_INT (seq, 142);
    free (want);
    dt_journal_cursor_destroy (&cur);
    dt_journal_destroy (&j);
    s_rmrf (dir);
    free (dir);
}

static void
test_lock (void)
{
    char *dir = s_tmpdir ();
    dt_journal_report_t report;
    dt_journal_t *one = dt_journal_new (dir, NULL, &report);
    CHECK (one);
    dt_journal_t *two = dt_journal_new (dir, NULL, &report);
    CHECK (two == NULL);
    CHECK (strstr (report.message, "in use by another process"));
    char pid [32];
    snprintf (pid, sizeof pid, "pid %ld", (long) getpid ());
    CHECK (strstr (report.message, pid));
    dt_journal_destroy (&one);
    two = dt_journal_new (dir, NULL, &report);
    CHECK (two);
    dt_journal_destroy (&two);
    s_rmrf (dir);
    free (dir);
}

//  A child appends and syncs in a loop, telling the parent each synced seq;
//  the parent kills it at a random moment, reopens, and checks that every
//  seq it was told about is there, intact.
//  Notes the inode of every .seg and .spare file; returns how many .seg
//  files have an inode last seen as a .spare (a recycled segment)
static int
s_note_inodes (const char *path, uint64_t (*inodes) [2], size_t *count)
{
    DIR *dir = opendir (path);
    struct dirent *e;
    int recycled = 0;
    while (dir && (e = readdir (dir))) {
        size_t n = strlen (e->d_name);
        int spare = n == 26 && !strcmp (e->d_name + 20, ".spare");
        if (!spare && !(n == 24 && !strcmp (e->d_name + 20, ".seg")))
            continue;
        size_t at = 0;
        while (at < *count && inodes [at][0] != (uint64_t) e->d_ino)
            at++;
        if (at == *count && *count < 4096)
            inodes [(*count)++][0] = (uint64_t) e->d_ino;
        else
        if (at < *count)
            recycled += !spare && inodes [at][1];
        if (at < *count)
            inodes [at][1] = (uint64_t) spare;
    }
    if (dir)
        closedir (dir);
    return recycled;
}

static void
test_kill9 (void)
{
    char *dir = s_tmpdir ();
    dt_journal_opts_t opts = { .segment_bytes = 64 * 1024 };
    uint64_t told = 0, last_next = 1;
    srand ((unsigned) time (NULL));
    int rounds = 100, torn = 0, reused = 0;
    uint64_t inodes [4096][2];                  //  inode, last seen as a spare
    size_t ninodes = 0;
    for (int round = 0; round < rounds; round++) {
        int fds [2];
        CHECK_INT (pipe (fds), 0);
        pid_t pid = fork ();
        if (pid == 0) {
            close (fds [0]);
            dt_journal_report_t report;
            dt_journal_t *j = dt_journal_new (dir, &opts, &report);
            if (!j)
                _exit (2);
            srand ((unsigned) getpid ());
            while (1) {
                int burst = 1 + rand () % 40;
                for (int i = 0; i < burst; i++)
                    if (s_append_seq (j, 0, UINT32_MAX, NULL))
                        _exit (3);
                if (dt_journal_sync (j))
                    _exit (4);
                uint64_t synced = dt_journal_synced (j);
                if (write (fds [1], &synced, sizeof synced) != sizeof synced)
                    _exit (5);
                if (rand () % 4 == 0 && synced > 300)
                    dt_journal_confirm (j, synced - 300);
            }
        }
        close (fds [1]);
        usleep ((useconds_t) (1000 + rand () % 30000));
        kill (pid, SIGKILL);
        int status = 0;
        waitpid (pid, &status, 0);
        CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
        uint64_t value;
        while (read (fds [0], &value, sizeof value) == sizeof value)
            told = value;
        close (fds [0]);

        dt_journal_report_t report;
        dt_journal_t *j = dt_journal_new (dir, &opts, &report);
        CHECK (j);
        if (!j) {
            fprintf (stderr, "%s\n", report.message);
            break;
        }
        CHECK (report.next_seq > told);
        CHECK (report.next_seq >= last_next);
        torn += report.dropped_bytes > 0;
        CHECK (report.confirmed <= told);
        //  Everything not confirmed is there, told or not
        uint64_t from = report.confirmed + 1;
        CHECK_INT (s_verify (j, from, report.next_seq - 1, 0, -1), report.next_seq - from);
        last_next = report.next_seq;
        reused += s_note_inodes (dir, inodes, &ninodes);
        CHECK (s_count_files (dir, ".spare") <= 2);
        dt_journal_destroy (&j);
    }
    CHECK (told > 100);
    //  Segments were recycled all along, kills in between included
    CHECK (reused > 0);
    printf ("kill -9: %d rounds, %" PRIu64 " records synced, %d torn tails,"
            " %d spares seen again as segments\n", rounds, told, torn, reused);
    s_rmrf (dir);
    free (dir);
}

int
main (void)
{
    test_replay ();
    test_confirm ();
    test_recycle ();
    test_torn ();
    test_damage ();
    test_empty_segments ();
    test_mark ();
    test_limits ();
    test_cursor ();
    test_lock ();
    test_kill9 ();
    return TESTING_DONE ();
}
