/*  bloom.c - see bloom.h. A key sets PROBES bits of one word: the hash is
    mixed once; its high half picks the word (a multiply, not a modulo, so
    any number of words will do), six-bit slices of its low half the bits.
*/
#include "base/bloom.h"

#include <assert.h>
#include <stdlib.h>

#define PROBES  6

struct _dt_bloom_t {
    size_t word_count;
    uint64_t *words;
};

dt_bloom_t *
dt_bloom_new (size_t bits)
{
    dt_bloom_t *self = (dt_bloom_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->word_count = bits / 64 + (bits % 64 != 0) + (bits == 0);
    self->words = (uint64_t *) calloc (self->word_count, sizeof (uint64_t));
    if (!self->words)
        dt_bloom_destroy (&self);
    return self;
}

void
dt_bloom_destroy (dt_bloom_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->words);
        free (*self_p);
        *self_p = NULL;
    }
}

//  The word a hash's bits sit in, and those bits
static inline size_t
s_word (const dt_bloom_t *self, uint64_t hash, uint64_t *bits)
{
    uint64_t mixed = (hash ^ (hash >> 31)) * 0x9E3779B97F4A7C15ULL;
    *bits = 0;
    for (int probe = 0; probe < PROBES; probe++)
        *bits |= 1ULL << ((mixed >> (6 * probe)) & 63);
    return (size_t) (((mixed >> 32) * self->word_count) >> 32);
}

void
dt_bloom_add (dt_bloom_t *self, uint64_t hash)
{
    uint64_t bits;
    size_t word = s_word (self, hash, &bits);
    self->words [word] |= bits;
}

bool
dt_bloom_has (const dt_bloom_t *self, uint64_t hash)
{
    uint64_t bits;
    size_t word = s_word (self, hash, &bits);
    return (self->words [word] & bits) == bits;
}

void
dt_bloom_prefetch (const dt_bloom_t *self, uint64_t hash)
{
    uint64_t bits;
    __builtin_prefetch (&self->words [s_word (self, hash, &bits)]);
}

size_t
dt_bloom_bytes (const dt_bloom_t *self)
{
    return self? sizeof *self + self->word_count * sizeof (uint64_t): 0;
}
