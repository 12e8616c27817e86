/*  clock.c - see clock.h
*/
#include "base/clock.h"

#include <time.h>

static int64_t
s_read (clockid_t clock, int64_t per_second)
{
    struct timespec now;
    clock_gettime (clock, &now);
    return (int64_t) now.tv_sec * per_second + now.tv_nsec / (1000000000 / per_second);
}

int64_t
dt_now_ms (void)
{
    return s_read (CLOCK_REALTIME, 1000);
}

int64_t
dt_now_us (void)
{
    return s_read (CLOCK_REALTIME, 1000000);
}

int64_t
dt_mono_ms (void)
{
    return s_read (CLOCK_MONOTONIC, 1000);
}

int64_t
dt_mono_us (void)
{
    return s_read (CLOCK_MONOTONIC, 1000000);
}
