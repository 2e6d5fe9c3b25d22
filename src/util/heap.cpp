#include "util/heap.h"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace genolm {

void keep_freed_memory_in_heap() {
#if defined(__GLIBC__)
  // Large blocks from the heap rather than from their own mappings, which free() unmaps at once.
  mallopt(M_MMAP_MAX, 0);
  // Give the heap's free top back to the system only past 2 GiB (mallopt takes an int).
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

}  // namespace genolm
