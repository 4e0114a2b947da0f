// The capacity limit of one loop: at most `limit` requests generating at once (0: no limit);
// the rest wait in FIFO order (intrusive list: no allocation) or are refused by the caller.
// With --threads N the server's --max-streams is split across loops (the first loops take the
// remainder), each loop's gate being independent.
#pragma once

namespace llmload::mock {

class CapacityGate {
 public:
  struct Waiter {
    Waiter* q_prev = nullptr;
    Waiter* q_next = nullptr;
    bool queued = false;
    bool holds_slot = false;
  };

  explicit CapacityGate(int limit = 0) : limit_(limit) {}
  int limit() const { return limit_; }
  int active() const { return active_; }
  int queued() const { return queued_; }
  int peak_active() const { return peak_; }

  // Takes a slot if one is free.
  bool try_acquire(Waiter* w) {
    if (limit_ > 0 && active_ >= limit_) return false;
    take(w);
    return true;
  }
  void enqueue(Waiter* w) {
    w->queued = true;
    w->q_prev = tail_;
    w->q_next = nullptr;
    if (tail_)
      tail_->q_next = w;
    else
      head_ = w;
    tail_ = w;
    ++queued_;
  }
  // Leaves the queue and gives back the slot, whichever it has (safe to call for neither).
  // Returns the waiter that now holds the freed slot (the caller starts it), or nullptr.
  Waiter* leave(Waiter* w) {
    if (w->queued) {
      unlink(w);
      return nullptr;
    }
    if (!w->holds_slot) return nullptr;
    w->holds_slot = false;
    --active_;
    if (!head_ || (limit_ > 0 && active_ >= limit_)) return nullptr;
    Waiter* next = head_;
    unlink(next);
    take(next);
    return next;
  }

 private:
  void take(Waiter* w) {
    w->holds_slot = true;
    if (++active_ > peak_) peak_ = active_;
  }
  void unlink(Waiter* w) {
    if (w->q_prev)
      w->q_prev->q_next = w->q_next;
    else
      head_ = w->q_next;
    if (w->q_next)
      w->q_next->q_prev = w->q_prev;
    else
      tail_ = w->q_prev;
    w->q_prev = w->q_next = nullptr;
    w->queued = false;
    --queued_;
  }
  int limit_;
  int active_ = 0;
  int queued_ = 0;
  int peak_ = 0;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

}  // namespace llmload::mock
