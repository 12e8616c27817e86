/*  mpscan.h - a pre-scanner that checks a frame of msgpack bytes against hard
    limits before anything is unpacked.

    msgpack-c's msgpack_unpack_next allocates every array and map up-front
    from its declared count, so a 5-byte frame declaring 100,000,000 items
    makes it ask for gigabytes. dt_msgpack_scan walks the bytes once, without
    allocating and without recursion, and refuses a frame that:

    - is empty, ends inside a value, or uses the reserved byte 0xc1;
    - declares more values than the bytes left can hold (every value takes at
      least one byte, so a map entry takes two): the sum over all containers
      still open is checked, not each count alone, so what msgpack_unpack_next
      allocates afterwards stays proportional to the frame size;
    - declares a str, bin or ext body that runs past the end of the frame;
    - nests containers deeper than limits->depth (the outermost container is
      level 1; empty containers count);
    - holds more than limits->objects values in all (keys and values of maps,
      items of arrays and the containers themselves each count one);
    - holds bytes after the first value.

    A frame it accepts unpacks with msgpack_unpack_next to MSGPACK_UNPACK_SUCCESS
    and consumes every byte (tests/unit/test_mpscan.c and tests/fuzz check it).
    It is pure: no I/O, no allocation, O(size) time.
*/
#ifndef DT_MPSCAN_H
#define DT_MPSCAN_H

#include "proto/event.h"

#include <stddef.h>
#include <stdint.h>

//  msgpack-c refuses nesting past its own fixed stack of 32 containers; a
//  larger limits->depth is treated as this.
#define DT_SCAN_DEPTH_MAX       32
#define DT_SCAN_DEPTH_DEFAULT   16
#define DT_SCAN_OBJECTS_DEFAULT 1000000

typedef struct {
    uint32_t depth;             //  containers nested at most this deep
    uint64_t objects;           //  values in the whole frame, at most
} dt_scan_limits_t;

#define DT_SCAN_LIMITS_DEFAULT { DT_SCAN_DEPTH_DEFAULT, DT_SCAN_OBJECTS_DEFAULT }

//  The default limits (same as DT_SCAN_LIMITS_DEFAULT)
dt_scan_limits_t dt_scan_limits_default (void);

//  Check that data/size holds exactly one msgpack value within limits (NULL
//  for the defaults). Returns 0, or -1 with err->code "bad_request", an empty
//  field and a message naming what was refused, e.g. "frame is not msgpack:
//  an array declares 100000000 items in 5 bytes" or "nesting deeper than 16
//  levels".
int dt_msgpack_scan (const char *data, size_t size, const dt_scan_limits_t *limits,
                     dt_error_t *err);

#endif
