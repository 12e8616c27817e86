/*  hugemem.c - see hugemem.h */
#include "base/hugemem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *
dt_huge_alloc (size_t size, bool zero)
{
    if (size < DT_HUGE_PAGE)
        return zero? calloc (1, size? size: 1): malloc (size? size: 1);
    void *data = NULL;
    if (posix_memalign (&data, DT_HUGE_PAGE, size))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise (data, size & ~(DT_HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
    if (zero)
        memset (data, 0, size);
    return data;
}
