/*  hash.h - the one string hash of the project. The rule engine's account
    table and value fingerprints, the tone book's indexes, the store's
    writeset, the identity maps and the coordinator's Bloom filter all key
    on it; it lives in base so none of them has to include the rule engine
    to get it.
*/
#ifndef DT_HASH_H
#define DT_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  A fast 64-bit hash (murmur-style mixing), good enough to key hash tables
//  and to stand for a string where a collision costs one missed finding
static inline uint64_t
dt_hash (const void *ptr, size_t len, uint64_t seed)
{
    const uint8_t *bytes = (const uint8_t *) ptr;
    const uint64_t k1 = 0x87c37b91114253d5ULL, k2 = 0x4cf5ad432745937fULL;
    uint64_t hash = seed ^ (len * k1);
    while (len >= 8) {
        uint64_t word;
        memcpy (&word, bytes, 8);
        word *= k1;
        word = (word << 31) | (word >> 33);
        word *= k2;
        hash ^= word;
        hash = ((hash << 27) | (hash >> 37)) * 5 + 0x52dce729;
        bytes += 8;
        len -= 8;
    }
    if (len) {
        uint64_t word = 0;
        memcpy (&word, bytes, len);
        word *= k1;
        word = (word << 31) | (word >> 33);
        word *= k2;
        hash ^= word;
    }
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    return hash;
}

//  The slots of an open-addressing table for count entries: a power of two,
//  at least 16, so the table is at most half full
static inline size_t
dt_hash_slots (size_t count)
{
    size_t size = 16;
    while (size < count * 2)
        size *= 2;
    return size;
}

#endif
