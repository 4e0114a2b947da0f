// SpscRing: a bounded single-producer single-consumer queue of pointers, lock-free (one atomic
// index per side). The Recorder's hand-off between a loop thread and the control thread: full
// interval buffers go one way, emptied ones come back, so neither side locks or allocates in
// steady state.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>

namespace llmload::worker {

template <class T, std::size_t N>
class SpscRing {
  static_assert(N >= 2 && (N & (N - 1)) == 0, "N must be a power of two");

 public:
  // Producer side. False when full (the item stays with the caller).
  bool push(T* item) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) == N) return false;
    slots_[head & (N - 1)] = item;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  // Consumer side. nullptr when empty.
  T* pop() {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return nullptr;
    T* item = slots_[tail & (N - 1)];
    tail_.store(tail + 1, std::memory_order_release);
    return item;
  }
  bool empty() const {
    return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
  }

 private:
  std::array<T*, N> slots_{};
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace llmload::worker
