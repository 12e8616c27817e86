/*  heap.h - how the daemons' heap behaves under a steady stream.

    glibc gives freed memory back to the kernel (trim, munmap of large
    blocks) and the next writeset or batch faults it in again page by page:
    in a profile of the coordinator that was a tenth of its CPU. The daemons
    keep freed memory for reuse instead; their peak RSS is bounded by
    credit and batch sizes, not by this.
*/
#ifndef DT_HEAP_H
#define DT_HEAP_H

//  Call once at start, before threads
void dt_heap_keep_freed_memory (void);

#endif
