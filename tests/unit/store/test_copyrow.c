/*  test_copyrow.c - the bytes the coordinator sends to PostgreSQL's COPY
    (services/store/copyrow.c): text escaping, timestamps from ms and
    µs (negative and sub-second included), JSON of msgpack values (quotes,
    backslashes, control characters, non-ASCII text, numbers), and whole
    touchpoint and reject rows compared byte for byte.

    Events are built as msgpack, unpacked and decoded with the real codec,
    as the coordinator gets them from a link item.
*/
#include "store/copyrow.h"
#include "unit/testing.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static dt_stageset_t stages;

//  --------------------------------------------------------------------------
//  Helpers

//  The buffer as a C string (the buffer keeps its size)
static const char *
text_of (dt_buf_t *buf)
{
    dt_buf_reserve (buf, 1);
    buf->data [buf->size] = 0;
    return buf->data;
}

//  got[0..len) must be want, byte for byte; on failure both are printed with
//  tabs, newlines and other control bytes made visible
static void
show (const char *what, const char *s, size_t len)
{
    fprintf (stderr, "    %s: \"", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c == '\t') fputs ("<TAB>", stderr);
        else if (c == '\n') fputs ("<LF>", stderr);
        else if (c < 0x20 || c == 0x7f) fprintf (stderr, "<%02x>", c);
        else fputc (c, stderr);
    }
    fputs ("\"\n", stderr);
}

static void
check_bytes_at (int line, const char *got, size_t len, const char *want)
{
    size_t want_len = strlen (want);
    if (len == want_len && memcmp (got, want, len) == 0)
        testing_passed++;
    else {
        testing_failed++;
        fprintf (stderr, "FAIL %s:%d: bytes differ\n", __FILE__, line);
        show ("got ", got, len);
        show ("want", want, want_len);
    }
}

#define CHECK_BUF(buf, want) check_bytes_at (__LINE__, (buf)->data? (buf)->data: "", (buf)->size, (want))

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;
} mp_t;

static void
mp_init (mp_t *m)
{
    msgpack_sbuffer_init (&m->sb);
    msgpack_packer_init (&m->pk, &m->sb, msgpack_sbuffer_write);
    msgpack_unpacked_init (&m->up);
}

static void
mp_free (mp_t *m)
{
    msgpack_unpacked_destroy (&m->up);
    msgpack_sbuffer_destroy (&m->sb);
}

static void
mp_reset (mp_t *m)
{
    msgpack_sbuffer_clear (&m->sb);
}

static const msgpack_object *
mp_unpack (mp_t *m)
{
    msgpack_unpacked_destroy (&m->up);
    msgpack_unpacked_init (&m->up);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&m->up, m->sb.data, m->sb.size, &offset);
    assert (rc == MSGPACK_UNPACK_SUCCESS && offset == m->sb.size);
    (void) rc;
    return &m->up.data;
}

static void
pk_strn (msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

static void
pk_str (msgpack_packer *pk, const char *s)
{
    pk_strn (pk, s, strlen (s));
}

static void
pk_kv (msgpack_packer *pk, const char *key, const char *value)
{
    pk_str (pk, key);
    pk_str (pk, value);
}

static bool
isolated (int (*fn) (void))
{
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int rc = fn ();
        fflush (NULL);
        _exit (rc);
    }
    int status = 0;
    waitpid (pid, &status, 0);
    if (WIFSIGNALED (status))
        fprintf (stderr, "  (child killed by signal %d)\n", WTERMSIG (status));
    return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static int
count_byte (const dt_buf_t *buf, char c)
{
    int n = 0;
    for (size_t i = 0; i < buf->size; i++)
        n += buf->data [i] == c;
    return n;
}

//  --------------------------------------------------------------------------
//  COPY text

static void
test_copy_text (void)
{
    dt_buf_t buf = { 0 };
    struct { const char *in; const char *out; } cases [] = {
        { "plain text", "plain text" },
        { "a\\b", "a\\\\b" },
        { "line1\nline2", "line1\\nline2" },
        { "cr\rlf\ntab\t", "cr\\rlf\\ntab\\t" },
        { "\t\t", "\\t\\t" },
        { "\\N", "\\\\N" },                     //  text that looks like NULL stays text
        { "\\.", "\\\\." },                     //  and the end-of-data marker too
        { "\\", "\\\\" },
        { "\\\\", "\\\\\\\\" },
        { "\x01\x1f\x7f", "\x01\x1f\x7f" },     //  other control bytes pass
        { "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80", "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80" },
        { "\"quoted\" 'single' ,;|", "\"quoted\" 'single' ,;|" },
        { "end\n", "end\\n" },
        { "\nstart", "\\nstart" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        dt_buf_reset (&buf);
        dt_copy_text (&buf, cases [i].in, strlen (cases [i].in));
        CHECK_BUF (&buf, cases [i].out);
    }
    //  NULL is \N; an empty string is empty
    dt_buf_reset (&buf);
    dt_copy_text (&buf, NULL, 0);
    CHECK_BUF (&buf, "\\N");
    dt_buf_reset (&buf);
    dt_copy_text (&buf, NULL, 5);
    CHECK_BUF (&buf, "\\N");
    dt_buf_reset (&buf);
    dt_copy_text (&buf, "x", 1);
    dt_copy_text (&buf, "", 0);
    dt_copy_text (&buf, "\t", 1);
    CHECK_BUF (&buf, "x\\t");
    //  The length is respected, not the NUL
    dt_buf_reset (&buf);
    dt_copy_text (&buf, "ab\ncd", 3);
    CHECK_BUF (&buf, "ab\\n");

    //  Many escapes: the buffer grows past its first reservation
    dt_buf_reset (&buf);
    static char tabs [10000];
    memset (tabs, '\t', sizeof tabs);
    dt_copy_text (&buf, tabs, sizeof tabs);
    CHECK_INT (buf.size, 2 * sizeof tabs);
    bool all = buf.size == 2 * sizeof tabs;
    for (size_t i = 0; all && i < buf.size; i += 2)
        all = buf.data [i] == '\\' && buf.data [i + 1] == 't';
    CHECK (all);
    dt_buf_free (&buf);
}

//  An empty string into a fresh buffer: nothing written, and no undefined
//  behaviour (memcpy from/to NULL)
static int
child_copy_empty_fresh (void)
{
    dt_buf_t buf = { 0 };
    dt_copy_text (&buf, "", 0);
    int rc = buf.size == 0? 0: 1;
    dt_buf_free (&buf);
    return rc;
}

static void
test_copy_text_fresh_buffer (void)
{
    CHECK (isolated (child_copy_empty_fresh));
}

//  --------------------------------------------------------------------------
//  Timestamps

static void
test_time_ms (void)
{
    struct { int64_t ms; const char *text; } cases [] = {
        { 0, "1970-01-01 00:00:00.000000+00" },
        { 1, "1970-01-01 00:00:00.001000+00" },
        { 999, "1970-01-01 00:00:00.999000+00" },
        { 1000, "1970-01-01 00:00:01.000000+00" },
        { 1700000000123LL, "2023-11-14 22:13:20.123000+00" },
        { -1, "1969-12-31 23:59:59.999000+00" },
        { -999, "1969-12-31 23:59:59.001000+00" },
        { -1000, "1969-12-31 23:59:59.000000+00" },
        { -1001, "1969-12-31 23:59:58.999000+00" },
        { -1500, "1969-12-31 23:59:58.500000+00" },
        { -86400000LL, "1969-12-31 00:00:00.000000+00" },
        { -86400001LL, "1969-12-30 23:59:59.999000+00" },
        { DT_OCCURRED_MIN, "2000-01-01 00:00:00.000000+00" },
        { DT_OCCURRED_MIN - 1, "1999-12-31 23:59:59.999000+00" },
        { DT_OCCURRED_MAX, "2100-01-01 00:00:00.000000+00" },
        { DT_OCCURRED_MAX - 1, "2099-12-31 23:59:59.999000+00" },
        { 951782400000LL, "2000-02-29 00:00:00.000000+00" },          //  leap day
        { 4107542399999LL, "2100-02-28 23:59:59.999000+00" },         //  2100 is no leap year
        { 4107542400000LL, "2100-03-01 00:00:00.000000+00" },
        { 253402300799999LL, "9999-12-31 23:59:59.999000+00" },
    };
    dt_buf_t buf = { 0 };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        dt_buf_reset (&buf);
        dt_copy_time_ms (&buf, cases [i].ms);
        CHECK_BUF (&buf, cases [i].text);
    }
    //  Appends to what is there
    dt_buf_reset (&buf);
    dt_buf_putc (&buf, '[');
    dt_copy_time_ms (&buf, 0);
    dt_buf_putc (&buf, ']');
    CHECK_BUF (&buf, "[1970-01-01 00:00:00.000000+00]");
    dt_buf_free (&buf);
}


//  The fast formatter against gmtime_r + snprintf over the whole range a
//  timestamp can take, plus far values (a received_at a client made up)
static void
reference_time_us (char *out, size_t size, int64_t us)
{
    int64_t seconds = us / 1000000, rest = us % 1000000;
    if (rest < 0) {
        seconds--;
        rest += 1000000;
    }
    time_t t = (time_t) seconds;
    struct tm tm;
    gmtime_r (&t, &tm);
    snprintf (out, size, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
              tm.tm_hour, tm.tm_min, tm.tm_sec, (int) rest);
}

static void
test_time_against_libc (void)
{
    dt_buf_t buf = { 0 };
    char want [64];
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    int mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        //  Mostly 1900..2200 in µs, then anything in ±300,000 years
        int64_t us = i % 4 == 3
            ? (int64_t) (state % 18000000000000000000ULL / 1000) - 9000000000000000000LL / 1000
            : (int64_t) (state % 9467280000000000000ULL / 1000) - 2208988800000000LL;
        if (i % 8 == 5)
            us -= us % 86400000000LL;       //  midnights
        dt_buf_reset (&buf);
        dt_copy_time_us (&buf, us);
        reference_time_us (want, sizeof want, us);
        if (buf.size != strlen (want) || memcmp (buf.data, want, buf.size)) {
            if (mismatches++ < 5)
                check_bytes_at (__LINE__, buf.data, buf.size, want);
        }
        dt_buf_reset (&buf);
        int64_t ms = us / 1000;
        dt_copy_time_ms (&buf, ms);
        reference_time_us (want, sizeof want, ms * 1000);
        if (buf.size != strlen (want) || memcmp (buf.data, want, buf.size)) {
            if (mismatches++ < 5)
                check_bytes_at (__LINE__, buf.data, buf.size, want);
        }
    }
    CHECK_INT (mismatches, 0);
    //  The ends of int64 take the slow path and still say something
    int64_t ends [] = { INT64_MAX, INT64_MIN + 1000000, 253402300800000000LL, -62135596801000000LL };
    for (size_t i = 0; i < sizeof ends / sizeof ends [0]; i++) {
        dt_buf_reset (&buf);
        dt_copy_time_us (&buf, ends [i]);
        reference_time_us (want, sizeof want, ends [i]);
        CHECK_BUF (&buf, want);
    }
    dt_buf_free (&buf);
}

static void
test_put_int (void)
{
    dt_buf_t buf = { 0 };
    struct { int64_t value; const char *text; } cases [] = {
        { 0, "0" }, { 7, "7" }, { -7, "-7" }, { 10, "10" }, { -10, "-10" },
        { INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        dt_buf_reset (&buf);
        dt_buf_put_int (&buf, cases [i].value);
        CHECK_BUF (&buf, cases [i].text);
    }
    dt_buf_reset (&buf);
    dt_buf_put_uint (&buf, UINT64_MAX);
    CHECK_BUF (&buf, "18446744073709551615");
    dt_buf_reset (&buf);
    dt_buf_puts (&buf, "a\tb");
    dt_buf_put_uint (&buf, 42);
    CHECK_BUF (&buf, "a\tb42");
    dt_buf_free (&buf);
}

static void
test_time_us (void)
{
    struct { int64_t us; const char *text; } cases [] = {
        { 0, "1970-01-01 00:00:00.000000+00" },
        { 1, "1970-01-01 00:00:00.000001+00" },
        { 999999, "1970-01-01 00:00:00.999999+00" },
        { 1000000, "1970-01-01 00:00:01.000000+00" },
        { 1700000000123456LL, "2023-11-14 22:13:20.123456+00" },
        { 1700000000000001LL, "2023-11-14 22:13:20.000001+00" },
        { -1, "1969-12-31 23:59:59.999999+00" },
        { -999999, "1969-12-31 23:59:59.000001+00" },
        { -1000000, "1969-12-31 23:59:59.000000+00" },
        { -1000001, "1969-12-31 23:59:58.999999+00" },
        { -1500000, "1969-12-31 23:59:58.500000+00" },
        { 946684800000000LL, "2000-01-01 00:00:00.000000+00" },
        { 4102444799999999LL, "2099-12-31 23:59:59.999999+00" },
    };
    dt_buf_t buf = { 0 };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        dt_buf_reset (&buf);
        dt_copy_time_us (&buf, cases [i].us);
        CHECK_BUF (&buf, cases [i].text);
    }
    dt_buf_free (&buf);
}

//  --------------------------------------------------------------------------
//  JSON of msgpack

static void
json_of (mp_t *m, dt_buf_t *buf)
{
    dt_buf_reset (buf);
    dt_json_of_msgpack (buf, mp_unpack (m));
}

static void
test_json_scalars (void)
{
    mp_t m;
    mp_init (&m);
    dt_buf_t buf = { 0 };

    mp_reset (&m); msgpack_pack_nil (&m.pk); json_of (&m, &buf);
    CHECK_BUF (&buf, "null");
    mp_reset (&m); msgpack_pack_true (&m.pk); json_of (&m, &buf);
    CHECK_BUF (&buf, "true");
    mp_reset (&m); msgpack_pack_false (&m.pk); json_of (&m, &buf);
    CHECK_BUF (&buf, "false");

    struct { int64_t v; const char *text; } ints [] = {
        { 0, "0" }, { 1, "1" }, { 127, "127" }, { 128, "128" }, { 65536, "65536" },
        { -1, "-1" }, { -32, "-32" }, { -33, "-33" }, { -129, "-129" },
        { INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints [0]; i++) {
        mp_reset (&m);
        msgpack_pack_int64 (&m.pk, ints [i].v);
        json_of (&m, &buf);
        CHECK_BUF (&buf, ints [i].text);
    }
    mp_reset (&m);
    msgpack_pack_uint64 (&m.pk, UINT64_MAX);
    json_of (&m, &buf);
    CHECK_BUF (&buf, "18446744073709551615");

    //  Floats: exact decimals print as written, and every float prints as
    //  the shortest text that reads back as the same double, so that a
    //  publisher's 0.1 is stored in jsonb as 0.1 (jsonb keeps numerics
    //  exactly: 0.10000000000000001 is a different value)
    struct { double v; const char *text; } floats [] = {
        { 0.5, "0.5" }, { 2.5, "2.5" }, { -0.25, "-0.25" }, { 100.0, "100" },
        { 0.1, "0.1" }, { 1.1, "1.1" }, { 3.14159, "3.14159" }, { -7.3, "-7.3" },
    };
    for (size_t i = 0; i < sizeof floats / sizeof floats [0]; i++) {
        mp_reset (&m);
        msgpack_pack_double (&m.pk, floats [i].v);
        json_of (&m, &buf);
        CHECK_BUF (&buf, floats [i].text);
    }
    double hard [] = { 1e300, -1e-300, 1.0 / 3.0, 123456789.123456789, 5e-324, 1.7976931348623157e308 };
    for (size_t i = 0; i < sizeof hard / sizeof hard [0]; i++) {
        mp_reset (&m);
        msgpack_pack_double (&m.pk, hard [i]);
        json_of (&m, &buf);
        const char *text = text_of (&buf);
        char *end = NULL;
        CHECK (strtod (text, &end) == hard [i] && end && *end == 0);
        if (strtod (text, NULL) != hard [i])
            fprintf (stderr, "  ^ %s does not read back\n", text);
    }
    mp_reset (&m);
    msgpack_pack_float (&m.pk, 0.25f);
    json_of (&m, &buf);
    CHECK_BUF (&buf, "0.25");
    mp_reset (&m);
    msgpack_pack_float (&m.pk, -3.5f);
    json_of (&m, &buf);
    CHECK_BUF (&buf, "-3.5");

    //  bin and ext have no JSON form (the codec refuses them before)
    mp_reset (&m);
    msgpack_pack_bin (&m.pk, 2);
    msgpack_pack_bin_body (&m.pk, "ab", 2);
    json_of (&m, &buf);
    CHECK_BUF (&buf, "null");
    mp_reset (&m);
    msgpack_pack_ext (&m.pk, 1, 3);
    msgpack_pack_ext_body (&m.pk, "a", 1);
    json_of (&m, &buf);
    CHECK_BUF (&buf, "null");

    dt_buf_free (&buf);
    mp_free (&m);
}

static void
test_json_strings (void)
{
    mp_t m;
    mp_init (&m);
    dt_buf_t buf = { 0 };
    struct { const char *in; size_t len; const char *out; } cases [] = {
        { "plain", 5, "\"plain\"" },
        { "say \"hi\"", 8, "\"say \\\"hi\\\"\"" },
        { "back\\slash", 10, "\"back\\\\slash\"" },
        { "\\\"", 2, "\"\\\\\\\"\"" },
        { "a\nb", 3, "\"a\\u000ab\"" },
        { "\t\r\b\f", 4, "\"\\u0009\\u000d\\u0008\\u000c\"" },
        { "\x01\x1f", 2, "\"\\u0001\\u001f\"" },
        { "nul\0x", 5, "\"nul\\u0000x\"" },
        { " \x7f~/", 4, "\" \x7f~/\"" },                  //  DEL and / need no escape
        { "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad", 17,
          "\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\"" },
        { "\xe2\x80\xa8", 3, "\"\xe2\x80\xa8\"" },          //  U+2028 is valid in JSON
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        mp_reset (&m);
        pk_strn (&m.pk, cases [i].in, cases [i].len);
        json_of (&m, &buf);
        CHECK_BUF (&buf, cases [i].out);
    }
    //  Every control character is \u00XX
    for (int c = 0; c < 0x20; c++) {
        char in = (char) c, want [16];
        snprintf (want, sizeof want, "\"\\u%04x\"", c);
        mp_reset (&m);
        pk_strn (&m.pk, &in, 1);
        json_of (&m, &buf);
        CHECK_BUF (&buf, want);
    }
    dt_buf_free (&buf);
    mp_free (&m);
}

//  An empty msgpack string (msgpack-c unpacks it with a NULL pointer) is
//  "" in JSON, without undefined behaviour on the way
static int
child_json_empty_string (void)
{
    mp_t m;
    mp_init (&m);
    dt_buf_t buf = { 0 };
    dt_buf_putc (&buf, '=');
    pk_str (&m.pk, "");
    dt_json_of_msgpack (&buf, mp_unpack (&m));
    int rc = buf.size == 3 && memcmp (buf.data, "=\"\"", 3) == 0? 0: 1;
    dt_buf_free (&buf);
    mp_free (&m);
    return rc;
}

static void
test_json_empty_string (void)
{
    CHECK (isolated (child_json_empty_string));
}

static void
test_json_containers (void)
{
    mp_t m;
    mp_init (&m);
    dt_buf_t buf = { 0 };

    mp_reset (&m); msgpack_pack_array (&m.pk, 0); json_of (&m, &buf);
    CHECK_BUF (&buf, "[]");
    mp_reset (&m); msgpack_pack_map (&m.pk, 0); json_of (&m, &buf);
    CHECK_BUF (&buf, "{}");

    mp_reset (&m);
    msgpack_pack_array (&m.pk, 4);
    msgpack_pack_array (&m.pk, 0);
    msgpack_pack_map (&m.pk, 0);
    msgpack_pack_int (&m.pk, 1);
    pk_str (&m.pk, "x\ty");
    json_of (&m, &buf);
    CHECK_BUF (&buf, "[[],{},1,\"x\\u0009y\"]");

    //  Map keys keep their order and are escaped like values
    mp_reset (&m);
    msgpack_pack_map (&m.pk, 3);
    pk_str (&m.pk, "z\"key");
    msgpack_pack_array (&m.pk, 2);
    msgpack_pack_int (&m.pk, 1);
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "b");
    msgpack_pack_nil (&m.pk);
    pk_str (&m.pk, "a");
    msgpack_pack_true (&m.pk);
    pk_str (&m.pk, "n\\");
    msgpack_pack_int (&m.pk, -5);
    json_of (&m, &buf);
    CHECK_BUF (&buf, "{\"z\\\"key\":[1,{\"b\":null}],\"a\":true,\"n\\\\\":-5}");

    //  Deep nesting
    mp_reset (&m);
    for (int i = 0; i < 8; i++) {
        msgpack_pack_map (&m.pk, 1);
        pk_str (&m.pk, "a");
    }
    msgpack_pack_array (&m.pk, 1);
    msgpack_pack_int (&m.pk, 0);
    json_of (&m, &buf);
    CHECK_BUF (&buf, "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":[0]}}}}}}}}");

    //  Appends after what is in the buffer
    dt_buf_reset (&buf);
    dt_buf_append (&buf, "x=", 2);
    mp_reset (&m);
    pk_str (&m.pk, "v");
    dt_json_of_msgpack (&buf, mp_unpack (&m));
    CHECK_BUF (&buf, "x=\"v\"");

    dt_buf_free (&buf);
    mp_free (&m);
}

//  --------------------------------------------------------------------------
//  Touchpoint rows

//  Decode m as a stamped event (as the coordinator does)
static int
decode_stamped (mp_t *m, dt_event_t *ev)
{
    dt_error_t err;
    memset (&err, 0, sizeof err);
    int rc = dt_event_decode (mp_unpack (m), &stages, DT_FORM_STAMPED, DT_TRACK_NONE, ev, &err);
    if (rc)
        fprintf (stderr, "  decode: %s %s: %s\n", err.code, err.field, err.message);
    return rc;
}

static void
test_touchpoint_full (void)
{
    mp_t m;
    mp_init (&m);
    msgpack_packer *pk = &m.pk;
    msgpack_pack_map (pk, 19);
    pk_kv (pk, "id", "ev-1");
    pk_kv (pk, "source", "crm");
    pk_kv (pk, "account", "acme");
    pk_kv (pk, "contact", "jane@acme.example");
    pk_kv (pk, "stage", "intent");
    pk_kv (pk, "channel", "meeting");
    pk_kv (pk, "kind", "demo");
    pk_str (pk, "occurred_at");
    msgpack_pack_int64 (pk, 1700000000123LL);
    pk_kv (pk, "actor", "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m");
    pk_kv (pk, "lead", "sales");
    pk_str (pk, "advisors");
    msgpack_pack_array (pk, 1);
    pk_str (pk, "marketing");
    pk_kv (pk, "project", "KP-7");
    pk_kv (pk, "theme", "one\tvoice");
    pk_str (pk, "claims");
    msgpack_pack_map (pk, 2);
    pk_kv (pk, "price", "12,000 \"CNY\"");
    pk_kv (pk, "note", "a\\b\nc");
    pk_kv (pk, "body", "line1\nline2\r\n\ttabbed \\ end");
    pk_str (pk, "attrs");
    msgpack_pack_map (pk, 5);
    pk_kv (pk, "campaign", "q3");
    pk_str (pk, "score");
    msgpack_pack_int (pk, 42);
    pk_str (pk, "vip");
    msgpack_pack_true (pk);
    pk_str (pk, "list");
    msgpack_pack_array (pk, 3);
    msgpack_pack_int (pk, 1);
    msgpack_pack_double (pk, 2.5);
    pk_str (pk, "x\ty");
    pk_str (pk, "nested");
    msgpack_pack_map (pk, 1);
    pk_str (pk, "none");
    msgpack_pack_nil (pk);
    pk_kv (pk, "category", "transactional");
    pk_kv (pk, "track", "marketing");
    pk_str (pk, "received_at");
    msgpack_pack_int64 (pk, 1700000000654321LL);

    const char *want =
        "ev-1\t"
        "marketing\t"
        "crm\t"
        "acme\t"
        "jane@acme.example\t"
        "intent\t"
        "meeting\t"
        "demo\t"
        "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m\t"
        "2023-11-14 22:13:20.123000+00\t"
        "2023-11-14 22:13:20.654321+00\t"
        "sales\t"
        "{marketing}\t"
        "KP-7\t"
        "one\\tvoice\t"
        //  claims: JSON {"price":"12,000 \"CNY\"","note":"a\\b\u000ac"}, then
        //  COPY doubles every backslash
        "{\"price\":\"12,000 \\\\\"CNY\\\\\"\",\"note\":\"a\\\\\\\\b\\\\u000ac\"}\t"
        "line1\\nline2\\r\\n\\ttabbed \\\\ end\t"
        //  attrs: JSON {...,"list":[1,2.5,"x\u0009y"],...}, COPY-escaped
        "{\"campaign\":\"q3\",\"score\":42,\"vip\":true,\"list\":[1,2.5,\"x\\\\u0009y\"],"
        "\"nested\":{\"none\":null}}\t"
        "transactional\t\\N\n";

    dt_event_t ev;
    dt_buf_t buf = { 0 }, scratch = { 0 };
    if (decode_stamped (&m, &ev) == 0) {
        dt_copy_touchpoint (&buf, &scratch, &ev);
        CHECK_BUF (&buf, want);
        CHECK_INT (count_byte (&buf, '\t'), 19);        //  20 columns
        CHECK_INT (count_byte (&buf, '\n'), 1);
        //  A second row appends, and reuses scratch
        dt_copy_touchpoint (&buf, &scratch, &ev);
        CHECK (buf.size == 2 * strlen (want)
               && memcmp (buf.data + strlen (want), want, strlen (want)) == 0);
    }
    else
        CHECK (0);

    //  Through a link item: the same row
    if (decode_stamped (&m, &ev) == 0) {
        mp_t item;
        mp_init (&item);
        dt_item_pack_event (&item.pk, &ev);
        dt_event_t back;
        dt_reject_t reject;
        dt_error_t err;
        CHECK_INT (dt_item_decode (mp_unpack (&item), &stages, &back, &reject, &err), DT_ITEM_EVENT);
        dt_buf_reset (&buf);
        dt_copy_touchpoint (&buf, &scratch, &back);
        CHECK_BUF (&buf, want);
        mp_free (&item);
    }
    //  A publisher the track authenticated: the last column
    if (decode_stamped (&m, &ev) == 0) {
        ev.publisher = dt_str_c ("crm");
        ev.present |= DT_HAS_PUBLISHER;
        mp_t item;
        mp_init (&item);
        dt_item_pack_event (&item.pk, &ev);
        dt_event_t back;
        dt_reject_t reject;
        dt_error_t err;
        CHECK_INT (dt_item_decode (mp_unpack (&item), &stages, &back, &reject, &err), DT_ITEM_EVENT);
        dt_buf_reset (&buf);
        dt_copy_touchpoint (&buf, &scratch, &back);
        CHECK (buf.size > 8 && memcmp (buf.data + buf.size - 8, "nal\tcrm\n", 8) == 0);
        mp_free (&item);
    }
    dt_buf_free (&buf);
    dt_buf_free (&scratch);
    mp_free (&m);
}

static void
test_touchpoint_minimal (void)
{
    mp_t m;
    mp_init (&m);
    msgpack_packer *pk = &m.pk;
    msgpack_pack_map (pk, 9);
    pk_kv (pk, "id", "m-1");
    pk_kv (pk, "source", "crm");
    pk_kv (pk, "account", "acme");
    pk_kv (pk, "stage", "awareness");
    pk_kv (pk, "channel", "email");
    pk_kv (pk, "kind", "newsletter");
    pk_str (pk, "occurred_at");
    msgpack_pack_int64 (pk, DT_OCCURRED_MIN);
    pk_kv (pk, "track", "sales");
    pk_str (pk, "received_at");
    msgpack_pack_int64 (pk, 1700000000000001LL);

    dt_event_t ev;
    dt_buf_t buf = { 0 }, scratch = { 0 };
    CHECK_INT (decode_stamped (&m, &ev), 0);
    dt_copy_touchpoint (&buf, &scratch, &ev);
    CHECK_BUF (&buf,
        "m-1\tsales\tcrm\tacme\t\\N\tawareness\temail\tnewsletter\t\\N\t"
        "2000-01-01 00:00:00.000000+00\t2023-11-14 22:13:20.000001+00\t"
        "sales\t{}\t\\N\t\\N\t\\N\t\\N\t\\N\tone_to_one\t\\N\n");
    CHECK_INT (count_byte (&buf, '\t'), 19);

    //  Present but empty: body "", claims {}, attrs {}; lead marketing on
    //  the sales track with sales advising; nil fields absent
    mp_reset (&m);
    msgpack_pack_map (pk, 16);
    pk_kv (pk, "id", "m-2");
    pk_kv (pk, "source", "crm");
    pk_kv (pk, "account", "acme");
    pk_kv (pk, "stage", "consideration");
    pk_kv (pk, "channel", "other");
    pk_kv (pk, "kind", "call");
    pk_str (pk, "occurred_at");
    msgpack_pack_int64 (pk, DT_OCCURRED_MAX);
    pk_kv (pk, "body", "");
    pk_str (pk, "claims");
    msgpack_pack_map (pk, 0);
    pk_str (pk, "attrs");
    msgpack_pack_map (pk, 0);
    pk_kv (pk, "lead", "marketing");
    pk_str (pk, "advisors");
    msgpack_pack_array (pk, 1);
    pk_str (pk, "sales");
    pk_str (pk, "contact");
    msgpack_pack_nil (pk);
    pk_kv (pk, "category", "promotional");
    pk_kv (pk, "track", "sales");
    pk_str (pk, "received_at");
    msgpack_pack_int64 (pk, 0);
    dt_buf_reset (&buf);
    CHECK_INT (decode_stamped (&m, &ev), 0);
    dt_copy_touchpoint (&buf, &scratch, &ev);
    CHECK_BUF (&buf,
        "m-2\tsales\tcrm\tacme\t\\N\tconsideration\tother\tcall\t\\N\t"
        "2100-01-01 00:00:00.000000+00\t1970-01-01 00:00:00.000000+00\t"
        "marketing\t{sales}\t\\N\t\\N\t{}\t\t{}\tpromotional\t\\N\n");

    //  Text that looks like COPY syntax stays data
    mp_reset (&m);
    msgpack_pack_map (pk, 11);
    pk_kv (pk, "id", "\\N");
    pk_kv (pk, "source", "a\tb");
    pk_kv (pk, "account", "\\.");
    pk_kv (pk, "stage", "purchase");
    pk_kv (pk, "channel", "web");
    pk_kv (pk, "kind", "quote\r\n");
    pk_str (pk, "occurred_at");
    msgpack_pack_int64 (pk, 1700000000999LL);
    pk_kv (pk, "theme", "{a,b}");
    pk_kv (pk, "body", "\\\\");
    pk_kv (pk, "track", "marketing");
    pk_str (pk, "received_at");
    msgpack_pack_int64 (pk, 1700000000999999LL);
    dt_buf_reset (&buf);
    CHECK_INT (decode_stamped (&m, &ev), 0);
    dt_copy_touchpoint (&buf, &scratch, &ev);
    CHECK_BUF (&buf,
        "\\\\N\tmarketing\ta\\tb\t\\\\.\t\\N\tpurchase\tweb\tquote\\r\\n\t\\N\t"
        "2023-11-14 22:13:20.999000+00\t2023-11-14 22:13:20.999999+00\t"
        "marketing\t{}\t\\N\t{a,b}\t\\N\t\\\\\\\\\t\\N\tone_to_one\t\\N\n");
    CHECK_INT (count_byte (&buf, '\t'), 19);
    CHECK_INT (count_byte (&buf, '\n'), 1);

    dt_buf_free (&buf);
    dt_buf_free (&scratch);
    mp_free (&m);
}

//  Empty strings inside claims and attrs (msgpack-c gives them a NULL
//  pointer): "" in the JSON, and no undefined behaviour
static int
child_touchpoint_empty_json_strings (void)
{
    mp_t m;
    mp_init (&m);
    msgpack_packer *pk = &m.pk;
    msgpack_pack_map (pk, 11);
    pk_kv (pk, "id", "e-1");
    pk_kv (pk, "source", "crm");
    pk_kv (pk, "account", "acme");
    pk_kv (pk, "stage", "awareness");
    pk_kv (pk, "channel", "email");
    pk_kv (pk, "kind", "newsletter");
    pk_str (pk, "occurred_at");
    msgpack_pack_int64 (pk, DT_OCCURRED_MIN);
    pk_str (pk, "claims");
    msgpack_pack_map (pk, 1);
    pk_kv (pk, "k", "");
    pk_str (pk, "attrs");
    msgpack_pack_map (pk, 2);
    pk_kv (pk, "e", "");
    pk_str (pk, "f");
    msgpack_pack_array (pk, 1);
    pk_str (pk, "");
    pk_kv (pk, "track", "sales");
    pk_str (pk, "received_at");
    msgpack_pack_int64 (pk, 0);
    dt_event_t ev;
    dt_buf_t buf = { 0 }, scratch = { 0 };
    if (decode_stamped (&m, &ev))
        return 2;
    dt_copy_touchpoint (&buf, &scratch, &ev);
    const char *want =
        "e-1\tsales\tcrm\tacme\t\\N\tawareness\temail\tnewsletter\t\\N\t"
        "2000-01-01 00:00:00.000000+00\t1970-01-01 00:00:00.000000+00\t"
        "sales\t{}\t\\N\t\\N\t{\"k\":\"\"}\t\\N\t{\"e\":\"\",\"f\":[\"\"]}\tone_to_one\t\\N\n";
    int before = testing_failed;
    CHECK_BUF (&buf, want);
    dt_buf_free (&buf);
    dt_buf_free (&scratch);
    mp_free (&m);
    return testing_failed > before? 1: 0;
}

static void
test_touchpoint_empty_json_strings (void)
{
    CHECK (isolated (child_touchpoint_empty_json_strings));
}

//  The column list matches the row: 19 names for 19 fields
static void
test_column_lists (void)
{
    int commas = 0;
    for (const char *c = DT_TOUCHPOINT_COLUMNS; *c; c++)
        commas += *c == ',';
    CHECK_INT (commas + 1, 20);
    CHECK (strncmp (DT_TOUCHPOINT_COLUMNS, "id, track, source", 17) == 0);
    commas = 0;
    for (const char *c = DT_REJECT_COLUMNS; *c; c++)
        commas += *c == ',';
    CHECK_INT (commas + 1, 9);
}

//  --------------------------------------------------------------------------
//  Reject rows

static void
test_reject_rows (void)
{
    dt_buf_t buf = { 0 };
    dt_reject_t r;
    memset (&r, 0, sizeof r);
    r.received_at = 1700000000123456LL;
    r.track = DT_TRACK_SALES;
    r.code = dt_str_c ("unknown_field");
    r.field = dt_str_c ("colour");
    r.message = dt_str_c ("colour: unknown field\twith \\ tab\nand newline");
    r.event_id = dt_str_c ("ev-9");
    r.index = 3;
    r.raw = "\x81\xa1\x61\x00\xff\x10";
    r.raw_size = 6;
    dt_copy_reject (&buf, &r);
    CHECK_BUF (&buf,
        "2023-11-14 22:13:20.123456+00\tsales\tunknown_field\tcolour\t"
        "colour: unknown field\\twith \\\\ tab\\nand newline\tev-9\t3\t\\\\x81a16100ff10\t\\N\n");
    CHECK_INT (count_byte (&buf, '\t'), 8);

    //  A frame: no event id (\N), index -1, empty field, empty raw
    dt_buf_reset (&buf);
    memset (&r, 0, sizeof r);
    r.received_at = 0;
    r.track = DT_TRACK_MARKETING;
    r.code = dt_str_c ("bad_request");
    r.field = dt_str_c ("");
    r.message = dt_str_c ("empty frame: send one msgpack map");
    r.event_id = dt_str_c ("");
    r.index = -1;
    r.raw = "";
    r.raw_size = 0;
    dt_copy_reject (&buf, &r);
    CHECK_BUF (&buf,
        "1970-01-01 00:00:00.000000+00\tmarketing\tbad_request\t\t"
        "empty frame: send one msgpack map\t\\N\t-1\t\\\\x\t\\N\n");

    //  All 256 byte values in raw, lower-case hex
    static char all [256];
    for (int i = 0; i < 256; i++)
        all [i] = (char) i;
    r.raw = all;
    r.raw_size = 256;
    dt_buf_reset (&buf);
    dt_copy_reject (&buf, &r);
    const char *text = text_of (&buf);
    const char *hex = strstr (text, "\\\\x");
    CHECK (hex != NULL);
    if (hex) {
        hex += 3;
        bool ok = strlen (hex) == 516 && strcmp (hex + 512, "\t\\N\n") == 0;
        for (int i = 0; ok && i < 256; i++) {
            char pair [3];
            snprintf (pair, sizeof pair, "%02x", i);
            ok = hex [2 * i] == pair [0] && hex [2 * i + 1] == pair [1];
        }
        CHECK (ok);
    }

    //  A reject through a link item gives the same row
    mp_t m;
    mp_init (&m);
    memset (&r, 0, sizeof r);
    r.received_at = 1700000000123456LL;
    r.track = DT_TRACK_SALES;
    r.code = dt_str_c ("bad_value");
    r.field = dt_str_c ("stage");
    r.message = dt_str_c ("stage: 'x' is not a configured funnel stage (awareness, ...)");
    r.event_id = dt_str_c ("ev-\"1\"");
    r.index = 12;
    r.raw = "\x80";
    r.raw_size = 1;
    r.publisher = dt_str_c ("crm\tone");      //  the authenticated sender (migration 017)
    dt_item_pack_reject (&m.pk, &r);
    dt_event_t ev;
    dt_reject_t back;
    dt_error_t err;
    CHECK_INT (dt_item_decode (mp_unpack (&m), &stages, &ev, &back, &err), DT_ITEM_REJECT);
    dt_buf_reset (&buf);
    dt_copy_reject (&buf, &back);
    CHECK_BUF (&buf,
        "2023-11-14 22:13:20.123456+00\tsales\tbad_value\tstage\t"
        "stage: 'x' is not a configured funnel stage (awareness, ...)\tev-\"1\"\t12\t\\\\x80\tcrm\\tone\n");

    //  A frame reject through a link item: field "" stays "" (the column is
    //  NOT NULL), event id absent is \N
    memset (&r, 0, sizeof r);
    r.received_at = 1700000000000000LL;
    r.track = DT_TRACK_MARKETING;
    r.code = dt_str_c ("bad_request");
    r.field = dt_str_c ("");
    r.message = dt_str_c ("frame is not msgpack");
    r.event_id = dt_str_c ("");
    r.index = -1;
    r.raw = "\xc1";
    r.raw_size = 1;
    mp_reset (&m);
    dt_item_pack_reject (&m.pk, &r);
    CHECK_INT (dt_item_decode (mp_unpack (&m), &stages, &ev, &back, &err), DT_ITEM_REJECT);
    dt_buf_reset (&buf);
    dt_copy_reject (&buf, &back);
    CHECK_BUF (&buf,
        "2023-11-14 22:13:20.000000+00\tmarketing\tbad_request\t\t"
        "frame is not msgpack\t\\N\t-1\t\\\\xc1\t\\N\n");
    mp_free (&m);
    dt_buf_free (&buf);
}


//  A finding row: number, rule, severity, a message needing COPY escapes,
//  related ids as a text[] literal with " and \ escaped twice over
static void
test_finding_rows (void)
{
    mp_t m;
    mp_init (&m);
    msgpack_packer *pk = &m.pk;
    msgpack_pack_map (pk, 9);
    pk_kv (pk, "id", "f-1");
    pk_kv (pk, "source", "crm");
    pk_kv (pk, "account", "acme");
    pk_kv (pk, "stage", "awareness");
    pk_kv (pk, "channel", "email");
    pk_kv (pk, "kind", "newsletter");
    pk_str (pk, "occurred_at");
    msgpack_pack_int64 (pk, 1700000000123LL);
    pk_kv (pk, "track", "marketing");
    pk_str (pk, "received_at");
    msgpack_pack_int64 (pk, 1700000000000001LL);
    dt_event_t ev;
    CHECK_INT (decode_stamped (&m, &ev), 0);
    char related [3][DT_ID_MAX + 1] = { "plain", "q\"uote", "back\\slash" };
    dt_buf_t buf = { 0 };
    dt_copy_finding (&buf, &ev, 2, "collision", "warn", "two\tlines\nhere", related, 3,
                     (dt_str_t) { "acme.com", 8 }, 3);
    CHECK_BUF (&buf,
        "f-1\t2\tcollision\twarn\ttwo\\tlines\\nhere\t"
        "{\"plain\",\"q\\\\\"uote\",\"back\\\\\\\\slash\"}\t"
        "acme\tmarketing\t2023-11-14 22:13:20.123000+00\tacme.com\t3\n");
    dt_buf_reset (&buf);
    dt_copy_finding (&buf, &ev, 0, "tone", "violation", "", related, 0, ev.account, 0);
    CHECK_BUF (&buf, "f-1\t0\ttone\tviolation\t\t{}\tacme\tmarketing\t"
               "2023-11-14 22:13:20.123000+00\tacme\t0\n");
    //  Its touchpoint_ids row
    dt_buf_reset (&buf);
    dt_copy_touchpoint_id (&buf, &ev);
    CHECK_BUF (&buf, "f-1\t2023-11-14 22:13:20.123000+00\n");
    mp_free (&m);
    dt_buf_free (&buf);
}

int
main (void)
{
    dt_stageset_default (&stages);
    test_copy_text ();
    test_copy_text_fresh_buffer ();
    test_time_ms ();
    test_time_us ();
    test_time_against_libc ();
    test_put_int ();
    test_json_scalars ();
    test_json_strings ();
    test_json_empty_string ();
    test_json_containers ();
    test_touchpoint_full ();
    test_touchpoint_minimal ();
    test_touchpoint_empty_json_strings ();
    test_column_lists ();
    test_reject_rows ();
    test_finding_rows ();
    return TESTING_DONE ();
}
