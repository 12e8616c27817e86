/*  clock.h - the daemons' two clocks. The wall clock stamps what is stored
    and compared across machines (received_at, occurred_at's "now"); the
    monotonic clock measures timeouts, deadlines and durations, which a wall
    clock step (NTP, a VM resumed) must not stretch or cut.
*/
#ifndef DT_CLOCK_H
#define DT_CLOCK_H

#include <stdint.h>

//  Wall clock: ms and µs since the Unix epoch
int64_t dt_now_ms (void);
int64_t dt_now_us (void);

//  Monotonic clock, from an arbitrary start: for timeouts and durations
int64_t dt_mono_ms (void);
int64_t dt_mono_us (void);

#endif
