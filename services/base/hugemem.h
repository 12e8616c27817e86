/*  hugemem.h - big arrays on 2 MB pages. Judging reads the budget's
    counters and the alias maps at random; over 4 KB pages nearly every such
    read also missed the TLB, and the page walk missed the caches as well. Transparent huge pages are asked for with
    madvise (the machine's setting is "madvise"); where the kernel has none,
    the memory is ordinary.
*/
#ifndef DT_HUGEMEM_H
#define DT_HUGEMEM_H

#include <stdbool.h>
#include <stddef.h>

#define DT_HUGE_PAGE    ((size_t) 2 << 20)

//  size bytes (zeroed if asked), freed with free (); NULL if out of memory.
//  From DT_HUGE_PAGE up on 2 MB pages (the tail past the last whole one
//  stays on small pages); below it plain malloc.
void *dt_huge_alloc (size_t size, bool zero);

#endif
