/*  relaypolicy.c - the relay's timing decisions (see relaypolicy.h): pure
    functions of their arguments.
*/
#include "cli/relaypolicy.h"
#include "base/tzdb.h"

#include <stdio.h>
#include <string.h>

int64_t
dt_relay_jitter (int64_t delay_ms, uint64_t draw)
{
    if (delay_ms <= 1)
        return delay_ms < 0? 0: delay_ms;
    int64_t half = delay_ms / 2;
    return half + (int64_t) (draw % (uint64_t) (delay_ms - half + 1));
}

int64_t
dt_relay_double (int64_t delay_ms, int64_t max_ms)
{
    return delay_ms > max_ms / 2? max_ms: delay_ms * 2;
}

bool
dt_relay_honours_retry_after (long status)
{
    return status == 429 || status == 503;
}

int64_t
dt_relay_wait_ms (int64_t backoff_ms, int64_t retry_after_ms)
{
    return retry_after_ms > backoff_ms? retry_after_ms: backoff_ms;
}

static int
s_month (const char *name)
{
    static const char *months [12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    for (int i = 0; i < 12; i++)
        if (strcmp (name, months [i]) == 0)
            return i + 1;
    return 0;
}

static bool
s_weekday (const char *name, bool long_form)
{
    static const char *days [7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    static const char *long_days [7] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday" };
    for (int i = 0; i < 7; i++)
        if (strcmp (name, long_form? long_days [i]: days [i]) == 0)
            return true;
    return false;
}

//  An HTTP-date as Unix seconds; false if it is none of the three forms
static bool
s_http_date (const char *text, int64_t *seconds)
{
    char weekday [12] = "", month [4] = "", zone [4] = "";
    int day = 0, year = 0, hour = -1, minute = -1, second = -1, used = 0;
    size_t len = strlen (text);
    bool parsed = false;
    //  IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    if (sscanf (text, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", weekday, &day, month,
                &year, &hour, &minute, &second, zone, &used) == 8 && (size_t) used == len)
        parsed = s_weekday (weekday, false) && strcmp (zone, "GMT") == 0;
    //  RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (a two-digit year)
    else
    if (sscanf (text, "%11[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%n", weekday, &day, month,
                &year, &hour, &minute, &second, zone, &used) == 8 && (size_t) used == len) {
        parsed = s_weekday (weekday, true) && strcmp (zone, "GMT") == 0;
        year += year < 70? 2000: 1900;
    }
    //  asctime: Sun Nov  6 08:49:37 1994
    else
    if (sscanf (text, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", weekday, month, &day,
                &hour, &minute, &second, &year, &used) == 7 && (size_t) used == len)
        parsed = s_weekday (weekday, false);
    int mon = s_month (month);
    if (!parsed || !mon || day < 1 || day > 31 || year < 1970 || hour < 0 || hour > 23
    ||  minute < 0 || minute > 59 || second < 0 || second > 60)
        return false;
    *seconds = dt_days_from_civil (year, mon, day) * 86400 + hour * 3600 + minute * 60 + second;
    return true;
}

int64_t
dt_relay_retry_after_ms (const char *value, size_t len, int64_t now_s)
{
    while (len && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len && (value [len - 1] == ' ' || value [len - 1] == '\t' || value [len - 1] == '\r'
                   || value [len - 1] == '\n'))
        len--;
    if (len == 0 || len > 64)
        return -1;
    char text [65];
    memcpy (text, value, len);
    text [len] = 0;
    size_t digits = strspn (text, "0123456789");
    if (digits == len) {
        //  delay-seconds; past a week (or too many digits to add up) is a week
        int64_t seconds = 0;
        for (size_t i = 0; i < len && seconds <= DT_RETRY_AFTER_MAX_MS / 1000; i++)
            seconds = seconds * 10 + (text [i] - '0');
        int64_t ms = seconds * 1000;
        return ms > DT_RETRY_AFTER_MAX_MS? DT_RETRY_AFTER_MAX_MS: ms;
    }
    int64_t at;
    if (!s_http_date (text, &at))
        return -1;
    if (at <= now_s)
        return 0;
    int64_t ms = (at - now_s) * 1000;
    return ms > DT_RETRY_AFTER_MAX_MS? DT_RETRY_AFTER_MAX_MS: ms;
}
