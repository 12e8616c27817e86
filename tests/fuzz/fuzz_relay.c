/*  fuzz_relay.c - what the relay reads from outside: a receiver's
    Retry-After header (network input) and its own cursor file. Retry-After
    is -1 or a wait within [0, a week], digits alone are never refused; a
    cursor file that parses formats back to text that parses to the same
    marks.
*/
#include "fuzz_assert.h"
#include "cli/relaycursor.h"
#include "cli/relaypolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKS 8

int
LLVMFuzzerTestOneInput (const char *data, size_t size)
{
    //  Retry-After, now at a fixed instant (2026-12-07)
    int64_t ms = dt_relay_retry_after_ms (data, size, 1796601600);
    FUZZ_ASSERT (ms == -1 || (ms >= 0 && ms <= DT_RETRY_AFTER_MAX_MS), "%lld", (long long) ms);
    size_t digits = 0;
    while (digits < size && data [digits] >= '0' && data [digits] <= '9')
        digits++;
    if (size > 0 && size <= 64 && digits == size)
        FUZZ_ASSERT (ms >= 0, "digits refused: %lld", (long long) ms);

    //  The cursor file
    char *text = malloc (size + 1);
    memcpy (text, data, size);
    text [size] = 0;
    uint64_t first;
    dt_relay_mark_t marks [MARKS], again [MARKS];
    int count, line;
    if (dt_relay_cursor_parse (text, &first, marks, MARKS, &count, &line) == 0) {
        FUZZ_ASSERT (count >= 0 && count <= MARKS, "count %d", count);
        dt_buf_t out = { 0 };
        dt_relay_cursor_format (&out, marks, count, first);
        dt_buf_append (&out, "", 1);
        uint64_t first_again;
        int count_again;
        FUZZ_ASSERT (dt_relay_cursor_parse (out.data, &first_again, again, MARKS, &count_again, &line) == 0,
                     "its own text refused at line %d", line);
        FUZZ_ASSERT (count_again == count, "%d marks, then %d", count, count_again);
        for (int i = 0; i < count; i++)
            FUZZ_ASSERT (again [i].key == marks [i].key && again [i].seq == marks [i].seq, "mark %d", i);
        dt_buf_free (&out);
    }
    else
        FUZZ_ASSERT (line >= 1, "line %d", line);
    free (text);
    return 0;
}
