/*  test_relaypolicy.c - the relay's timing decisions: equal jitter within
    its bounds, the doubling capped, Retry-After in seconds and in each
    HTTP-date form, and the longer of the backoff and Retry-After.
*/
#include "cli/relaypolicy.h"
#include "unit/testing.h"

#include <stdlib.h>

#define RA(text, now) dt_relay_retry_after_ms ((text), strlen (text), (now))

//  1994-11-06 08:49:37 UTC, the RFC's example date
#define EXAMPLE 784111777LL

int
main (void)
{
    //  Equal jitter: within [delay/2, delay], both ends reachable
    for (int64_t delay = 2; delay < 5000; delay = delay * 3 + 1) {
        int64_t low = delay, high = 0;
        for (uint64_t draw = 0; draw < 20000; draw += 7) {
            int64_t wait = dt_relay_jitter (delay, draw * 2654435761u);
            low = wait < low? wait: low;
            high = wait > high? wait: high;
        }
        CHECK (low >= delay / 2);
        CHECK (high <= delay);
        CHECK_INT (dt_relay_jitter (delay, 0), delay / 2);
        CHECK_INT (dt_relay_jitter (delay, (uint64_t) (delay - delay / 2)), delay);
    }
    srandom (7);
    for (int i = 0; i < 1000; i++) {
        int64_t wait = dt_relay_jitter (200, (uint64_t) random ());
        CHECK (wait >= 100 && wait <= 200);
    }
    CHECK_INT (dt_relay_jitter (1, 12345), 1);
    CHECK_INT (dt_relay_jitter (0, 12345), 0);
    CHECK_INT (dt_relay_jitter (-3, 12345), 0);
    CHECK_INT (dt_relay_jitter (INT64_MAX, UINT64_MAX) >= INT64_MAX / 2, 1);

    //  Doubling, capped, never past the cap
    CHECK_INT (dt_relay_double (200, 10000), 400);
    CHECK_INT (dt_relay_double (6000, 10000), 10000);
    CHECK_INT (dt_relay_double (10000, 10000), 10000);
    CHECK_INT (dt_relay_double (300000, 3600000), 600000);
    CHECK_INT (dt_relay_double (INT64_MAX / 2 + 1, INT64_MAX), INT64_MAX);
    int64_t delay = 200;
    for (int i = 0; i < 100; i++)
        delay = dt_relay_double (delay, 10000);
    CHECK_INT (delay, 10000);

    //  Retry-After: delay-seconds
    CHECK_INT (RA ("120", 0), 120000);
    CHECK_INT (RA ("0", 0), 0);
    CHECK_INT (RA ("  5 \r\n", 0), 5000);
    CHECK_INT (RA ("999999999999999999999999", 0), DT_RETRY_AFTER_MAX_MS);
    CHECK_INT (RA ("604801", 0), DT_RETRY_AFTER_MAX_MS);
    CHECK_INT (RA ("-5", 0), -1);
    CHECK_INT (RA ("5s", 0), -1);
    CHECK_INT (RA ("1.5", 0), -1);
    CHECK_INT (RA ("", 0), -1);
    CHECK_INT (RA ("   ", 0), -1);
    //  HTTP-date: IMF-fixdate, RFC 850, asctime; relative to now
    CHECK_INT (RA ("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE - 30), 30000);
    CHECK_INT (RA ("Sunday, 06-Nov-94 08:49:37 GMT", EXAMPLE - 30), 30000);
    CHECK_INT (RA ("Sun Nov  6 08:49:37 1994", EXAMPLE - 30), 30000);
    CHECK_INT (RA ("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE), 0);
    CHECK_INT (RA ("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE + 3600), 0);    //  past: now
    CHECK_INT (RA ("Mon, 07 Dec 2026 00:00:00 GMT", 1796601600LL - 90), 90000);
    CHECK_INT (RA ("Tue, 29 Feb 2028 12:00:00 GMT", 1835438400LL - 1), 1000);   //  a leap day
    CHECK_INT (RA ("Fri, 01 Jan 2100 00:00:00 GMT", EXAMPLE), DT_RETRY_AFTER_MAX_MS);
    CHECK_INT (RA ("Sun, 06 Nov 1994 08:49:37 UTC", EXAMPLE - 30), -1);     //  only GMT
    CHECK_INT (RA ("Sun, 06 Foo 1994 08:49:37 GMT", EXAMPLE - 30), -1);
    CHECK_INT (RA ("Sun, 32 Nov 1994 08:49:37 GMT", EXAMPLE - 30), -1);
    CHECK_INT (RA ("Sun, 06 Nov 1994 24:49:37 GMT", EXAMPLE - 30), -1);
    CHECK_INT (RA ("Sun, 06 Nov 1994 08:49:37 GMT junk", EXAMPLE - 30), -1);
    CHECK_INT (RA ("Sonntag, 06-Nov-94 08:49:37 GMT", EXAMPLE - 30), -1);
    CHECK_INT (RA ("tomorrow", 0), -1);

    //  Which answers carry one, and the longer wait wins
    CHECK (dt_relay_honours_retry_after (503));
    CHECK (dt_relay_honours_retry_after (429));
    CHECK (!dt_relay_honours_retry_after (500));
    CHECK (!dt_relay_honours_retry_after (0));
    CHECK_INT (dt_relay_wait_ms (150, -1), 150);
    CHECK_INT (dt_relay_wait_ms (150, 0), 150);
    CHECK_INT (dt_relay_wait_ms (150, 2000), 2000);
    CHECK_INT (dt_relay_wait_ms (5000, 2000), 5000);
    return TESTING_DONE ();
}
