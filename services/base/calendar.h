/*  calendar.h - the proleptic Gregorian date of a day count since
    1970-01-01 (H. Hinnant's civil_from_days), without gmtime_r, locale or
    printf: the COPY rows' timestamps and the rule messages' dates use it.
*/
#ifndef DT_CALENDAR_H
#define DT_CALENDAR_H

#include <stdint.h>

static inline void
dt_civil_from_days (int64_t days, int64_t *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0? days: days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int) (doy - (153 * mp + 2) / 5 + 1);
    *month = (int) (mp < 10? mp + 3: mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

#endif
