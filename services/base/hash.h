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

//  The steps of dt_hash, for a caller that reads the words itself (a pass
//  that also checks the bytes, rules/normalise.c): start with the length,
//  mix each whole word and the tail (the last len % 8 bytes, little-endian,
//  zero-padded; none: no call), finish
#define DT_HASH_K1  0x87c37b91114253d5ULL
#define DT_HASH_K2  0x4cf5ad432745937fULL

static inline uint64_t
dt_hash_begin (size_t len, uint64_t seed)
{
    return seed ^ (len * DT_HASH_K1);
}

static inline uint64_t
dt_hash_tail (uint64_t hash, uint64_t word)
{
    word *= DT_HASH_K1;
    word = (word << 31) | (word >> 33);
    word *= DT_HASH_K2;
    return hash ^ word;
}

static inline uint64_t
dt_hash_word (uint64_t hash, uint64_t word)
{
    hash = dt_hash_tail (hash, word);
    return ((hash << 27) | (hash >> 37)) * 5 + 0x52dce729;
}

static inline uint64_t
dt_hash_end (uint64_t hash)
{
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    return hash;
}

//  The last tail (1 to 7) bytes of a string of len bytes ending at end, as
//  one little-endian word, zero-padded. A memcpy of a variable length is a
//  call into the C library and a word stored in pieces then read whole;
//  this reads whole words: the 8 bytes before end when the string has
//  them, else pieces of 4, 2 and 1
static inline uint64_t
dt_hash_last (const uint8_t *end, size_t tail, size_t len)
{
    uint64_t word;
    if (len >= 8) {
        memcpy (&word, end - 8, 8);
        return word >> (8 * (8 - tail));
    }
    const uint8_t *bytes = end - tail;
    uint32_t four = 0;
    uint16_t two = 0;
    word = 0;
    size_t at = 0;
    if (tail & 4) {
        memcpy (&four, bytes, 4);
        word = four;
        at = 4;
    }
    if (tail & 2) {
        memcpy (&two, bytes + at, 2);
        word |= (uint64_t) two << (8 * at);
        at += 2;
    }
    if (tail & 1)
        word |= (uint64_t) bytes [at] << (8 * at);
    return word;
}

//  A fast 64-bit hash (murmur-style mixing), good enough to key hash tables
//  and to stand for a string where a collision costs one missed finding
static inline uint64_t
dt_hash (const void *ptr, size_t len, uint64_t seed)
{
    const uint8_t *bytes = (const uint8_t *) ptr;
    uint64_t hash = dt_hash_begin (len, seed);
    size_t left = len;
    while (left >= 8) {
        uint64_t word;
        memcpy (&word, bytes, 8);
        hash = dt_hash_word (hash, word);
        bytes += 8;
        left -= 8;
    }
    if (left)
        hash = dt_hash_tail (hash, dt_hash_last (bytes + left, left, len));
    return dt_hash_end (hash);
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
