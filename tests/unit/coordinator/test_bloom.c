/*  test_bloom.c - the coordinator's Bloom filter (services/coordinator/
    bloom.c): whatever was added is found, what was not mostly is not, and
    destroy is safe twice.
*/
#include "coordinator/bloom.h"
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
    dt_bloom_t *bloom = dt_bloom_new (20);
    CHECK (bloom != NULL);
    CHECK (!dt_bloom_has (bloom, s_key (1)));
    int added = 20000, missing = 0, false_positives = 0;
    for (int i = 0; i < added; i++)
        dt_bloom_add (bloom, s_key ((uint64_t) i));
    for (int i = 0; i < added; i++)
        missing += !dt_bloom_has (bloom, s_key ((uint64_t) i));
    CHECK_INT (missing, 0);
    //  20,000 keys in 2^20 bits, 3 positions each: about 0.02% false positives
    for (int i = added; i < 2 * added + 100000; i++)
        false_positives += dt_bloom_has (bloom, s_key ((uint64_t) i));
    CHECK (false_positives < 100);
    dt_bloom_destroy (&bloom);
    CHECK (bloom == NULL);
    dt_bloom_destroy (&bloom);

    //  The smallest filter still holds what it was given
    bloom = dt_bloom_new (1);
    dt_bloom_add (bloom, 12345);
    CHECK (dt_bloom_has (bloom, 12345));
    dt_bloom_destroy (&bloom);
    return TESTING_DONE ();
}
