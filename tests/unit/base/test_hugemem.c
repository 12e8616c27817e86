/*  test_hugemem.c - big arrays (services/base/hugemem.c): zeroed when
    asked, on a 2 MB boundary from 2 MB up (where madvise can give huge
    pages), usable to their last byte, and ordinary below 2 MB.
*/
#include "base/hugemem.h"
#include "unit/testing.h"

#include <stdint.h>
#include <stdlib.h>

static bool
s_all_zero (const unsigned char *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (data [i])
            return false;
    return true;
}

int
main (void)
{
    size_t size = DT_HUGE_PAGE + DT_HUGE_PAGE / 2;    //  a whole page and a tail
    unsigned char *big = (unsigned char *) dt_huge_alloc (size, true);
    CHECK (big != NULL);
    CHECK_INT ((int) ((uintptr_t) big % DT_HUGE_PAGE), 0);
    CHECK (s_all_zero (big, size));
    big [0] = 1;
    big [size - 1] = 2;
    CHECK_INT (big [0] + big [size - 1], 3);
    free (big);

    unsigned char *small = (unsigned char *) dt_huge_alloc (4096, true);
    CHECK (small != NULL);
    CHECK (s_all_zero (small, 4096));
    free (small);
    //  Size 0 is one byte, not NULL: callers treat NULL as out of memory
    void *none = dt_huge_alloc (0, false);
    CHECK (none != NULL);
    free (none);
    return TESTING_DONE ();
}
