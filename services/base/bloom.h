/*  bloom.h - a Bloom filter of 64-bit hashes: "certainly never added" or
    "maybe added". The caller hashes its keys (dt_hash); the filter owns
    only its bits. Blocked: a key's bits all sit in one 64-bit word, so
    asking reads one cache line, which dt_bloom_prefetch can ask for ahead.

    The coordinator keeps the accounts ever stored in one (it asks the store
    only about missing accounts that may have history); the alias maps keep
    their keys in one per kind (an id that is no alias is told so without
    reading the index).
*/
#ifndef DT_BLOOM_H
#define DT_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _dt_bloom_t dt_bloom_t;

//  A filter of bits bits, rounded up to whole 64-bit words (at least one),
//  all clear; NULL if out of memory. Sizing: 12 bits a key gives about 1%
//  false positives.
dt_bloom_t *dt_bloom_new (size_t bits);

//  Free the filter and set *self_p to NULL; safe on NULL
void dt_bloom_destroy (dt_bloom_t **self_p);

void dt_bloom_add (dt_bloom_t *self, uint64_t hash);

//  false: hash was never added; true: it probably was
bool dt_bloom_has (const dt_bloom_t *self, uint64_t hash);

//  Ask for the line dt_bloom_has (hash) will read
void dt_bloom_prefetch (const dt_bloom_t *self, uint64_t hash);

size_t dt_bloom_bytes (const dt_bloom_t *self);

#endif
