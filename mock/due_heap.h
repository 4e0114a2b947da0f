// The loop's time-ordered queue of streams: an intrusive binary min-heap on due time. Each item
// knows its own slot, so removing a closed stream is O(log n) and nothing is allocated per
// token (the vector only grows to the peak number of scheduled streams).
#pragma once

#include <cstdint>
#include <vector>

namespace llmload::mock {

class DueHeap {
 public:
  struct Item {
    int64_t due_ns = 0;
    int heap_index = -1;  // -1: not scheduled
  };

  DueHeap() { items_.reserve(1024); }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  Item* top() const { return items_.empty() ? nullptr : items_.front(); }

  // Inserts, or moves an item already in the heap to its new due time.
  void schedule(Item* it, int64_t due_ns) {
    if (it->heap_index >= 0) {
      int64_t old = it->due_ns;
      it->due_ns = due_ns;
      if (due_ns < old)
        up(it->heap_index);
      else
        down(it->heap_index);
      return;
    }
    it->due_ns = due_ns;
    it->heap_index = int(items_.size());
    items_.push_back(it);
    up(it->heap_index);
  }
  void remove(Item* it) {
    int i = it->heap_index;
    if (i < 0) return;
    it->heap_index = -1;
    Item* last = items_.back();
    items_.pop_back();
    if (last == it) return;
    items_[size_t(i)] = last;
    last->heap_index = i;
    up(i);
    down(last->heap_index);
  }
  Item* pop() {
    Item* it = top();
    if (it) remove(it);
    return it;
  }

 private:
  void swap_at(int a, int b) {
    Item* x = items_[size_t(a)];
    items_[size_t(a)] = items_[size_t(b)];
    items_[size_t(b)] = x;
    items_[size_t(a)]->heap_index = a;
    items_[size_t(b)]->heap_index = b;
  }
  void up(int i) {
    while (i > 0) {
      int p = (i - 1) / 2;
      if (items_[size_t(p)]->due_ns <= items_[size_t(i)]->due_ns) break;
      swap_at(i, p);
      i = p;
    }
  }
  void down(int i) {
    int n = int(items_.size());
    while (true) {
      int l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && items_[size_t(l)]->due_ns < items_[size_t(m)]->due_ns) m = l;
      if (r < n && items_[size_t(r)]->due_ns < items_[size_t(m)]->due_ns) m = r;
      if (m == i) return;
      swap_at(i, m);
      i = m;
    }
  }
  std::vector<Item*> items_;
};

}  // namespace llmload::mock
