// BlockingQueue<T>: a first-in first-out queue between threads, bounded or not.
//
// push blocks while the queue holds `capacity` items (back-pressure on a producer that runs
// ahead), pop blocks while it is empty, try_pop never blocks. Any number of threads may push and
// pop. What a thread did before push happens before what the thread that pops the item does
// after pop (the mutex orders them), so the item and everything it points to are handed over.
//
// Why not tbb::concurrent_bounded_queue: Debian's libtbb is not instrumented, and the queue's
// pages are allocated, recycled and handed between threads inside it, out of ThreadSanitizer's
// sight; TSan then reports the reuse of a slot by the next push as a race with the pop that
// emptied it (seen in CI under `scripts/sanitizers.sh tsan`, SweepSignals). This queue lives in
// the header, on the standard library's mutex and condition variables, which every sanitizer
// sees.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace cm {

template <class T>
class BlockingQueue {
 public:
  static constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();

  explicit BlockingQueue(std::size_t capacity = kUnbounded) : capacity_(capacity) {
    if (capacity_ == 0) throw std::invalid_argument("BlockingQueue: capacity must be at least 1");
  }
  BlockingQueue(const BlockingQueue&) = delete;
  BlockingQueue& operator=(const BlockingQueue&) = delete;

  // Appends `v`, waiting while the queue is full.
  void push(T v) {
    {
      std::unique_lock lock(mu_);
      not_full_.wait(lock, [&] { return items_.size() < capacity_; });
      items_.push_back(std::move(v));
    }
    not_empty_.notify_one();
  }

  // Removes the oldest item, waiting while the queue is empty.
  T pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    return take(lock);
  }

  // Moves the oldest item into `out` and returns true, or returns false at once if there is none.
  bool try_pop(T& out) {
    std::unique_lock lock(mu_);
    if (items_.empty()) return false;
    out = take(lock);
    return true;
  }

  bool empty() const {
    std::lock_guard lock(mu_);
    return items_.empty();
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

  // Drops every item (a producer waiting for room goes on).
  void clear() {
    {
      std::lock_guard lock(mu_);
      items_.clear();
    }
    not_full_.notify_all();
  }

 private:
  T take(std::unique_lock<std::mutex>& lock) {
    T v = std::move(items_.front());
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return v;
  }

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
};

}  // namespace cm
