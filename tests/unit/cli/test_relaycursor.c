/*  test_relaycursor.c - the relay's cursor file: each URL's line read
    back as written, the first line the lowest, a file of the first line
    alone (before URLs kept their own), keys of URLs, and lines refused.
*/
#include "cli/relaycursor.h"
#include "unit/testing.h"

#include <stdlib.h>
#include <string.h>

static int
s_parse (const char *text, uint64_t *first, dt_relay_mark_t *marks, int max, int *count, int *line)
{
    return dt_relay_cursor_parse (text, first, marks, max, count, line);
}

int
main (void)
{
    uint64_t a = dt_relay_url_key ("https://crm.example.com/hook?token=s3cret");
    uint64_t b = dt_relay_url_key ("slack:https://hooks.slack.com/services/T0/B0/x");
    uint64_t c = dt_relay_url_key ("https://crm.example.com/hook?token=s3cres");
    CHECK (a != b && a != c && b != c);
    CHECK (a == dt_relay_url_key ("https://crm.example.com/hook?token=s3cret"));
    CHECK (dt_relay_url_key ("") == 14695981039346656037ULL);     //  FNV-1a's basis

    //  Format: the lowest first, then each URL; read back the same
    dt_relay_mark_t marks [3] = {
        { a, 812, "https://crm.example.com" }, { b, 640, "https://hooks.slack.com" }, { c, 0, NULL }
    };
    dt_buf_t text = { 0 };
    dt_relay_cursor_format (&text, marks, 2, 99);
    dt_buf_append (&text, "", 1);
    char want [256];
    snprintf (want, sizeof want, "640\n812 %016llx https://crm.example.com\n640 %016llx https://hooks.slack.com\n",
              (unsigned long long) a, (unsigned long long) b);
    CHECK_STR (text.data, want);
    CHECK (strstr (text.data, "s3cret") == NULL);
    uint64_t first = 0;
    dt_relay_mark_t read [4];
    int count = -1, line = 0;
    CHECK_INT (s_parse (text.data, &first, read, 4, &count, &line), 0);
    CHECK_INT (first, 640);
    CHECK_INT (count, 2);
    CHECK_INT (dt_relay_cursor_find (read, count, a, 7), 812);
    CHECK_INT (dt_relay_cursor_find (read, count, b, 7), 640);
    CHECK_INT (dt_relay_cursor_find (read, count, c, 7), 7);     //  not named: the fallback
    //  Without where, and a URL at seq 0
    dt_buf_reset (&text);
    dt_relay_cursor_format (&text, marks, 3, 99);
    dt_buf_append (&text, "", 1);
    CHECK (strncmp (text.data, "0\n", 2) == 0);
    CHECK_INT (s_parse (text.data, &first, read, 4, &count, &line), 0);
    CHECK_INT (count, 3);
    CHECK_INT (dt_relay_cursor_find (read, count, c, 7), 0);
    //  No URL: the fallback alone
    dt_buf_reset (&text);
    dt_relay_cursor_format (&text, marks, 0, 99);
    dt_buf_append (&text, "", 1);
    CHECK_STR (text.data, "99\n");
    dt_buf_free (&text);
    //  More lines than room: the first max kept
    CHECK_INT (s_parse ("5\n5 0000000000000001 x\n6 0000000000000002 y\n7 0000000000000003\n",
                        &first, read, 2, &count, &line), 0);
    CHECK_INT (count, 2);
    CHECK_INT (read [1].seq, 6);
    CHECK_INT (read [1].key, 2);

    //  A file of before: its one line, with or without a newline
    CHECK_INT (s_parse ("1234\n", &first, read, 4, &count, &line), 0);
    CHECK_INT (first, 1234);
    CHECK_INT (count, 0);
    CHECK_INT (s_parse ("18446744073709551615", &first, read, 4, &count, &line), 0);
    CHECK (first == UINT64_MAX);

    //  Refused, with the line
    const struct { const char *text; int line; } bad [] = {
        { "", 1 }, { "\n", 1 }, { "-1\n", 1 }, { "12x\n", 1 }, { " 12\n", 1 },
        { "18446744073709551616\n", 1 },
        { "12\nabc\n", 2 }, { "12\n12\n", 2 }, { "12\n12 123\n", 2 },
        { "12\n12 00000000000000zz x\n", 2 }, { "12\n12  0000000000000001\n", 2 },
        { "12\n12 0000000000000001 x\n\n", 3 }, { "12\n12 0000000000000001 x\n13 1\n", 3 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        line = 0;
        int rc = s_parse (bad [i].text, &first, read, 4, &count, &line);
        CHECK_INT (rc, -1);
        if (rc != -1 || line != bad [i].line)
            fprintf (stderr, "  text %zu: \"%s\" line %d\n", i, bad [i].text, line);
        CHECK_INT (line, bad [i].line);
    }
    return TESTING_DONE ();
}
