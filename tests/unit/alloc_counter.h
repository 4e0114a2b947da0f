// Counts heap allocations made through operator new, so a test can prove a hot path allocates
// nothing once warm: read g_allocs before and after. Replaces the global operator new/delete, so
// include it in exactly one file of a test executable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

inline std::atomic<long> g_allocs{0};

// GCC pairs the free() below with the operator new it inlines into a caller and warns of a
// mismatch (-Wmismatched-new-delete); both sides are this file's malloc/free, so it is not one.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
