/*  bloom.c - see bloom.h. Three bit positions per hash, each a slice of the
    hash rotated by 21 bits: one hash computed per key, not three.
*/
#include "coordinator/bloom.h"

#include <assert.h>
#include <stdlib.h>

struct _dt_bloom_t {
    uint64_t mask;                  //  bits - 1
    uint64_t *words;
};

dt_bloom_t *
dt_bloom_new (int bits_log2)
{
    assert (bits_log2 >= 1 && bits_log2 <= 32);
    dt_bloom_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    uint64_t bits = 1ull << bits_log2;
    self->mask = bits - 1;
    self->words = calloc ((size_t) ((bits + 63) / 64), sizeof (uint64_t));
    if (!self->words)
        dt_bloom_destroy (&self);
    return self;
}

void
dt_bloom_destroy (dt_bloom_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->words);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_positions (const dt_bloom_t *self, uint64_t hash, uint32_t positions [3])
{
    for (int i = 0; i < 3; i++) {
        positions [i] = (uint32_t) (hash & self->mask);
        hash = (hash >> 21) | (hash << 43);
    }
}

void
dt_bloom_add (dt_bloom_t *self, uint64_t hash)
{
    uint32_t positions [3];
    s_positions (self, hash, positions);
    for (int i = 0; i < 3; i++)
        self->words [positions [i] / 64] |= 1ull << (positions [i] % 64);
}

bool
dt_bloom_has (const dt_bloom_t *self, uint64_t hash)
{
    uint32_t positions [3];
    s_positions (self, hash, positions);
    for (int i = 0; i < 3; i++)
        if (!(self->words [positions [i] / 64] & (1ull << (positions [i] % 64))))
            return false;
    return true;
}
