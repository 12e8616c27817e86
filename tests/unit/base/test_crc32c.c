/*  test_crc32c.c - CRC-32C (services/base/crc32c.c): the standard check
    value, continuation across pieces, and the instruction and the tables
    agreeing on every length and alignment.
*/
#include "base/crc32c.h"
#include "unit/testing.h"

//  Pseudo-random bytes (xorshift), the same each run
static void
s_fill (uint8_t *buf, uint64_t seed, size_t len)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf [i] = (uint8_t) x;
    }
}

int
main (void)
{
    CHECK_INT (dt_crc32c (0, "123456789", 9), 0xE3069283u);
    CHECK_INT (dt_crc32c (0, "", 0), 0);
    uint8_t buf [1000];
    s_fill (buf, 42, sizeof buf);
    uint32_t whole = dt_crc32c (0, buf, sizeof buf);
    CHECK_INT (dt_crc32c (dt_crc32c (0, buf, 333), buf + 333, sizeof buf - 333), whole);
    CHECK_INT (dt_crc32c (dt_crc32c (0, buf, 3), buf + 3, sizeof buf - 3), whole);
    //  The instruction and the tables agree on every length and alignment
    CHECK_INT (dt_crc32c_portable (0, "123456789", 9), 0xE3069283u);
    int differ = 0;
    for (size_t start = 0; start < 9; start++)
        for (size_t len = 0; start + len <= sizeof buf; len += 1 + len / 7)
            if (dt_crc32c (7, buf + start, len) != dt_crc32c_portable (7, buf + start, len))
                differ++;
    CHECK_INT (differ, 0);
    return TESTING_DONE ();
}
