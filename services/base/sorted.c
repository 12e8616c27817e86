/*  sorted.c - see sorted.h
*/
#include "base/sorted.h"

#include <stdlib.h>

const void **
dt_sorted (const void *items, size_t count, size_t size,
           int (*compare) (const void *, const void *), bool *failed)
{
    if (!count)
        return NULL;
    const void **view = (const void **) malloc (count * sizeof *view);
    if (!view) {
        *failed = true;
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        view [i] = (const char *) items + i * size;
    qsort (view, count, sizeof *view, compare);
    return view;
}
