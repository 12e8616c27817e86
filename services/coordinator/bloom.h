/*  bloom.h - a Bloom filter of 64-bit hashes: "certainly never added" or
    "maybe added". The coordinator keeps the accounts ever stored in one, so
    the coordinator asks the store only about missing accounts that may
    have history. The caller hashes its keys (dt_hash); the filter owns
    only its bits.
*/
#ifndef DT_BLOOM_H
#define DT_BLOOM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct _dt_bloom_t dt_bloom_t;

//  A filter of 2^bits_log2 bits (1..32), all clear; NULL if out of memory
dt_bloom_t *dt_bloom_new (int bits_log2);

//  Free the filter and set *self_p to NULL; safe on NULL
void dt_bloom_destroy (dt_bloom_t **self_p);

void dt_bloom_add (dt_bloom_t *self, uint64_t hash);

//  false: hash was never added; true: it probably was
bool dt_bloom_has (const dt_bloom_t *self, uint64_t hash);

#endif
