/*  heap.c - see heap.h
*/
#include "base/heap.h"

#include <malloc.h>

void
dt_heap_keep_freed_memory (void)
{
    //  Blocks up to 64 MiB come from the heap (not a fresh mmap each time)
    //  and up to 256 MiB of free heap top stays mapped
    mallopt (M_MMAP_THRESHOLD, 64 << 20);
    mallopt (M_TRIM_THRESHOLD, 256 << 20);
}
