/*  test_clock.c - the two clocks (services/base/clock.c): each unit agrees
    with the other, the wall clock with time(), the monotonic one never goes
    back.
*/
#include "base/clock.h"
#include "unit/testing.h"

#include <time.h>
#include <unistd.h>

int
main (void)
{
    int64_t wall_s = (int64_t) time (NULL);
    int64_t now_ms = dt_now_ms ();
    int64_t now_us = dt_now_us ();
    CHECK (now_ms / 1000 >= wall_s && now_ms / 1000 <= wall_s + 1);
    CHECK (now_us / 1000 >= now_ms && now_us / 1000 - now_ms < 1000);

    int64_t mono_ms = dt_mono_ms ();
    int64_t mono_us = dt_mono_us ();
    CHECK (mono_us / 1000 >= mono_ms && mono_us / 1000 - mono_ms < 1000);
    usleep (20000);
    CHECK (dt_mono_us () - mono_us >= 20000);
    CHECK (dt_mono_ms () - mono_ms >= 19);
    int64_t last = dt_mono_us (), back = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t t = dt_mono_us ();
        back += t < last;
        last = t;
    }
    CHECK_INT (back, 0);
    return TESTING_DONE ();
}
