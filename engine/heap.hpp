// Giving freed heap memory back to the system.
//
// glibc keeps freed pages in its heap; malloc_trim returns them. Under AddressSanitizer or
// ThreadSanitizer the sanitizer's allocator replaces malloc, glibc's heap is never set up, and
// its malloc_trim walks an arena that was never initialised (a SEGV in mtrim, seen in CI when
// two experiment threads constructed simulations at once). There, and off glibc, this is a
// no-op: the sanitizer's allocator keeps its own books.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CAREMESH_SANITIZED_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CAREMESH_SANITIZED_HEAP 1
#endif
#endif

namespace cm {

inline void return_free_heap() {
#if defined(__GLIBC__) && !defined(CAREMESH_SANITIZED_HEAP)
  malloc_trim(0);
#endif
}

}  // namespace cm
