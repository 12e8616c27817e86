/*  test_bloom.c - the Bloom filter (services/base/bloom.c): whatever was
    added is found, what was not mostly is not, at the sizes its users
    pick, and destroy is safe twice.
*/
#include "base/bloom.h"
#include "unit/testing.h"

//  Distinct, well-mixed 64-bit values (splitmix64)
static uint64_t
s_key (uint64_t n)
{
    uint64_t z = n * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int
main (void)
{
    dt_bloom_t *bloom = dt_bloom_new ((size_t) 1 << 20);
    CHECK (bloom != NULL);
    CHECK (!dt_bloom_has (bloom, s_key (1)));
    int added = 20000, missing = 0, false_positives = 0;
    for (int i = 0; i < added; i++)
        dt_bloom_add (bloom, s_key ((uint64_t) i));
    for (int i = 0; i < added; i++)
        missing += !dt_bloom_has (bloom, s_key ((uint64_t) i));
    CHECK_INT (missing, 0);
    //  20,000 keys in 2^20 bits, a word each: about one in a million false
    for (int i = added; i < 2 * added + 100000; i++)
        false_positives += dt_bloom_has (bloom, s_key ((uint64_t) i));
    CHECK (false_positives < 100);
    dt_bloom_destroy (&bloom);
    CHECK (bloom == NULL);
    dt_bloom_destroy (&bloom);

    //  12 bits a key (the alias maps), a number of words no power of two:
    //  about 1% false positives, and every key found
    bloom = dt_bloom_new (30011 * 12);
    CHECK_INT ((int) dt_bloom_bytes (bloom), (int) (sizeof (size_t) + sizeof (uint64_t *)
                                                     + (30011 * 12 + 63) / 64 * 8));
    missing = false_positives = 0;
    for (int i = 0; i < 30011; i++)
        dt_bloom_add (bloom, s_key ((uint64_t) i << 20));
    for (int i = 0; i < 30011; i++)
        missing += !dt_bloom_has (bloom, s_key ((uint64_t) i << 20));
    CHECK_INT (missing, 0);
    for (int i = 0; i < 100000; i++)
        false_positives += dt_bloom_has (bloom, s_key (((uint64_t) i << 20) + 7));
    printf ("bloom: 12 bits a key, %d false positives in 100000\n", false_positives);
    CHECK (false_positives > 0 && false_positives < 2500);
    dt_bloom_destroy (&bloom);

    //  The smallest filter still holds what it was given
    bloom = dt_bloom_new (0);
    dt_bloom_add (bloom, 12345);
    CHECK (dt_bloom_has (bloom, 12345));
    dt_bloom_destroy (&bloom);
    return TESTING_DONE ();
}
