/*  test_hash.c - the project's string hash (services/base/hash.h): its
    tail read in whole words gives what the byte-wise definition gives, for
    every length and alignment, and its steps compose to dt_hash.
*/
#include "base/hash.h"
#include "unit/testing.h"

#include <stdlib.h>

//  dt_hash as first written: the tail copied byte by byte into a zeroed
//  word (little-endian, as on every machine we build for)
static uint64_t
s_reference (const uint8_t *bytes, size_t len, uint64_t seed)
{
    uint64_t hash = seed ^ (len * DT_HASH_K1);
    while (len >= 8) {
        uint64_t word = 0;
        for (int i = 7; i >= 0; i--)
            word = (word << 8) | bytes [i];
        hash = dt_hash_word (hash, word);
        bytes += 8;
        len -= 8;
    }
    if (len) {
        uint64_t word = 0;
        for (size_t i = len; i-- > 0;)
            word = (word << 8) | bytes [i];
        hash = dt_hash_tail (hash, word);
    }
    return dt_hash_end (hash);
}

int
main (void)
{
    //  Every length up to 64 at every alignment of 8, bytes of all values
    uint8_t buffer [96];
    uint64_t state = 0x2545F4914F6CDD1DULL;
    int wrong = 0;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof buffer; i++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            buffer [i] = (uint8_t) state;
        }
        for (size_t offset = 0; offset < 8; offset++)
            for (size_t len = 0; len <= 64; len++)
                wrong += dt_hash (buffer + offset, len, (uint64_t) round)
                      != s_reference (buffer + offset, len, (uint64_t) round);
    }
    CHECK_INT (wrong, 0);

    //  A string that ends at the end of its allocation: the short tail is
    //  read in pieces, never past it (AddressSanitizer would say so)
    for (size_t len = 1; len < 8; len++) {
        uint8_t *exact = (uint8_t *) malloc (len);
        memset (exact, 'a' + (int) len, len);
        CHECK (dt_hash (exact, len, 0) == s_reference (exact, len, 0));
        free (exact);
    }

    //  Values pinned (those of the byte-wise tail): tables are built and
    //  probed by one build, but a change of values should be a decision
    CHECK (dt_hash ("a", 1, 0) == 0x25859f31cad5a2e0ULL);
    CHECK (dt_hash ("acct-0000001", 12, 0) == 0xbe4347f28b5be84aULL);
    CHECK (dt_hash ("bob@acme.com", 12, 0) == 0x96a3baa42591dda5ULL);
    CHECK (dt_hash ("003Dn00000Xk2", 13, 0) == 0x2ea10617e7fa6f6bULL);
    return TESTING_DONE ();
}
