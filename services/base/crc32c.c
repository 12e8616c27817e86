/*  crc32c.c - CRC-32C (see crc32c.h)
*/
#include "base/crc32c.h"

#include <endian.h>
#include <string.h>

//  CRC-32C, slicing by 8. The tables are filled once before main() and are
//  read-only after that: constant data, not shared mutable state.

static uint32_t s_crc[8][256];

static void __attribute__ ((constructor))
s_crc_init (void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        s_crc[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = s_crc[0][n];
        for (int k = 1; k < 8; k++) {
            c = s_crc[0][c & 0xff] ^ (c >> 8);
            s_crc[k][n] = c;
        }
    }
}

static uint32_t
s_crc32c_table (uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *) data;
    crc = ~crc;
    while (len >= 8) {
        uint64_t w;
        memcpy (&w, p, 8);
        w = le64toh (w) ^ crc;
        crc = s_crc[7][w & 0xff]         ^ s_crc[6][(w >> 8) & 0xff]
            ^ s_crc[5][(w >> 16) & 0xff] ^ s_crc[4][(w >> 24) & 0xff]
            ^ s_crc[3][(w >> 32) & 0xff] ^ s_crc[2][(w >> 40) & 0xff]
            ^ s_crc[1][(w >> 48) & 0xff] ^ s_crc[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = s_crc[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined (__x86_64__) && (defined (__GNUC__) || defined (__clang__))
//  SSE 4.2 has CRC-32C as an instruction: several times the table's speed,
//  and every record is summed once written and again when read back
__attribute__ ((target ("sse4.2")))
static uint32_t
s_crc32c_sse42 (uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *) data;
    uint64_t c = ~crc & 0xffffffffu;
    while (len >= 8) {
        uint64_t word;
        memcpy (&word, p, 8);
        c = __builtin_ia32_crc32di (c, word);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t) c;
    while (len--)
        c32 = __builtin_ia32_crc32qi (c32, *p++);
    return ~c32;
}
#endif

uint32_t
dt_crc32c (uint32_t crc, const void *data, size_t len)
{
#if defined (__x86_64__) && (defined (__GNUC__) || defined (__clang__))
    if (__builtin_cpu_supports ("sse4.2"))
        return s_crc32c_sse42 (crc, data, len);
#endif
    return s_crc32c_table (crc, data, len);
}

uint32_t
dt_crc32c_portable (uint32_t crc, const void *data, size_t len)
{
    return s_crc32c_table (crc, data, len);
}
