/*  relaypolicy.h - the relay's timing decisions, pure (no clock, no I/O,
    no randomness of its own: the caller passes the time and the random
    draw), so they can be tested alone: the backoff between attempts with
    equal jitter, the doubling of a delay up to its maximum (retries, and
    the park period before a parked URL is probed again), and the
    Retry-After header of a 429 or 503 answer (delay-seconds or an
    HTTP-date, RFC 9110 section 10.2.3).
*/
#ifndef DT_CLI_RELAYPOLICY_H
#define DT_CLI_RELAYPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A Retry-After longer than this (ms) is taken as this: a week
#define DT_RETRY_AFTER_MAX_MS (7 * 24 * 3600 * 1000LL)

//  The wait before the next attempt after a delay of delay_ms: equal
//  jitter, half the delay plus a share of the other half chosen by draw
//  (any value from random ()): always within [delay/2, delay]
int64_t
    dt_relay_jitter (int64_t delay_ms, uint64_t draw);

//  The delay after delay_ms: doubled, at most max_ms
int64_t
    dt_relay_double (int64_t delay_ms, int64_t max_ms);

//  A Retry-After header value (len bytes, surrounding blanks allowed) as
//  ms from now (now_s: Unix seconds): delay-seconds, or an HTTP-date in any
//  of its three forms (IMF-fixdate, RFC 850, asctime; a date past is 0).
//  -1 when it is neither; at most DT_RETRY_AFTER_MAX_MS.
int64_t
    dt_relay_retry_after_ms (const char *value, size_t len, int64_t now_s);

//  Whether an HTTP status may carry a Retry-After the relay honours
bool
    dt_relay_honours_retry_after (long status);

//  The wait before the next attempt: the backoff's, or the receiver's
//  Retry-After (retry_after_ms, -1 when none) when that is longer
int64_t
    dt_relay_wait_ms (int64_t backoff_ms, int64_t retry_after_ms);

#endif
