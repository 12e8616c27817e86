/*  tagclash.h - two ids whose dt_hash agree in the top 32 bits (an alias
    index's tag) and the low 4 (the first slot of an index of 16): the
    alias lookups' rarest path, for the identity, engine and budget tests.
    About one pair in 600,000 ids of the form prefix + a number. And an
    account map in which the second id, no alias, passes the filter and so
    reads the first's slot.
*/
#ifndef DT_TEST_TAGCLASH_H
#define DT_TEST_TAGCLASH_H

#include "base/hash.h"
#include "rules/identity.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    uint64_t bits;
    uint32_t n;
} tagclash_pick_t;

static inline int
tagclash_cmp (const void *a, const void *b)
{
    const tagclash_pick_t *x = (const tagclash_pick_t *) a, *y = (const tagclash_pick_t *) b;
    return (x->bits > y->bits) - (x->bits < y->bits);
}

//  Writes the two ids (prefix and a number) to first and second (32 bytes
//  each); false if 600,000 numbers held no such pair
static inline bool
tagclash_find (const char *prefix, char *first, char *second)
{
    enum { IDS = 600000 };
    tagclash_pick_t *picks = (tagclash_pick_t *) malloc (IDS * sizeof (tagclash_pick_t));
    if (!picks)
        return false;
    char name [32];
    for (uint32_t n = 0; n < IDS; n++) {
        int len = snprintf (name, sizeof name, "%s%u", prefix, n);
        uint64_t hash = dt_hash (name, (size_t) len, 0);
        picks [n].bits = (hash >> 32) << 4 | (hash & 15);
        picks [n].n = n;
    }
    qsort (picks, IDS, sizeof (tagclash_pick_t), tagclash_cmp);
    bool found = false;
    for (uint32_t i = 1; i < IDS && !found; i++)
        if (picks [i].bits == picks [i - 1].bits) {
            snprintf (first, 32, "%s%u", prefix, picks [i - 1].n);
            snprintf (second, 32, "%s%u", prefix, picks [i].n);
            found = true;
        }
    free (picks);
    return found;
}

//  A valid account map with alias -> canonical and seven other aliases,
//  chosen so that plain (no alias, sharing alias's tag and first slot)
//  passes the map's filter: its lookup then reads alias's slot and
//  guesses canonical's hash. About one set of fillers in a hundred does;
//  NULL if none of 20,000 did.
static inline dt_identity_t *
tagclash_map (const char *alias, const char *plain, const char *canonical)
{
    char filler [48], err [256];
    dt_str_t plain_id = { plain, (uint32_t) strlen (plain) };
    for (int set = 0; set < 20000; set++) {
        dt_identity_t *map = dt_identity_new ();
        dt_identity_add (map, DT_ID_ACCOUNT, alias, canonical, NULL, err, sizeof err);
        for (int k = 0; k < 7; k++) {
            snprintf (filler, sizeof filler, "filler-%d-%d", set, k);
            dt_identity_add (map, DT_ID_ACCOUNT, filler, "initech.com", NULL, err, sizeof err);
        }
        if (dt_identity_validate (map, err, sizeof err) == 0) {
            dt_identity_lookup_t lookup;
            dt_identity_start (map, DT_ID_ACCOUNT, plain_id, &lookup);
            if (dt_identity_step (map, &lookup) != lookup.hash)
                return map;
        }
        dt_identity_destroy (&map);
    }
    return NULL;
}

#endif
