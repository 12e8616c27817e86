/*  sorted.h - a sorted view of an array: pointers to its items in order,
    the array itself untouched. The rule sets that report what a reload
    changed (suppressions, the buyers' zones) pair their old and new rows
    by merging two such views.
*/
#ifndef DT_SORTED_H
#define DT_SORTED_H

#include <stdbool.h>
#include <stddef.h>

//  Pointers to the count items of size bytes at items, sorted by compare
//  (given pointers to two of the pointers, as qsort gives them). The
//  caller frees the array. NULL for no items, or out of memory: *failed
//  set true.
const void **dt_sorted (const void *items, size_t count, size_t size,
                        int (*compare) (const void *, const void *), bool *failed);

#endif
