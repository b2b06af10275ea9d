// ThreadSanitizer and the oneTBB of Debian, which is not instrumented.
//
// TBB hands a loop's body to its worker threads, and tells the waiting thread that the loop is
// done, through code inside libtbb that ThreadSanitizer cannot see. Without help it would
// report every hand-over as a race (the data a thread prepares before a loop, the results a
// worker leaves for after it), and suppressing those reports by library would hide every real
// race inside a parallel loop as well, since each worker's stack passes through libtbb.
//
// So in a ThreadSanitizer build (scripts/sanitizers.sh tsan) every body given to TBB is wrapped
// with ForkJoin, which tells ThreadSanitizer exactly the two orderings TBB guarantees: what the
// thread did before handing over the body happens before every call of it (and of every copy
// TBB makes), and every call happens before the thread that waits for the loop goes on. Calls
// of the body remain unordered among themselves, so races between them are still reported.
// In every other build the wrapper is the body itself.
#pragma once

#include <utility>

#if defined(__SANITIZE_THREAD__)
#define CAREMESH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CAREMESH_TSAN 1
#endif
#endif

#ifdef CAREMESH_TSAN
#include <sanitizer/tsan_interface.h>

#include <type_traits>
#endif

namespace cm {

#ifdef CAREMESH_TSAN

namespace tsan {
inline void release(const void* token) {
  __tsan_release(const_cast<void*>(token));
}
inline void acquire(const void* token) {
  __tsan_acquire(const_cast<void*>(token));
}
}  // namespace tsan

// A body handed to TBB. Each copy is announced by the thread that made it and received by the
// thread that calls it, before any of its members is read; a call announces its end on the
// loop's join token.
template <class F>
class ForkedBody {
 public:
  ForkedBody(F f, const void* join) : f_(std::move(f)), join_(join) { tsan::release(this); }
  ForkedBody(const ForkedBody& o) : f_((tsan::acquire(&o), o.f_)), join_(o.join_) {
    tsan::release(this);
  }
  ForkedBody& operator=(const ForkedBody&) = delete;

  template <class... A>
  decltype(auto) operator()(A&&... a) const {
    tsan::acquire(this);
    const Joined joined{join_};
    return f_(std::forward<A>(a)...);
  }

 private:
  struct Joined {
    const void* token;
    ~Joined() { tsan::release(token); }
  };
  F f_;
  const void* join_;
};

class ForkJoin {
 public:
  ForkJoin() = default;
  ForkJoin(const ForkJoin&) = delete;
  ForkJoin& operator=(const ForkJoin&) = delete;
  // Every call of the body has returned when the TBB algorithm returns.
  ~ForkJoin() { tsan::acquire(&token_); }

  template <class F>
  ForkedBody<std::decay_t<F>> operator()(F&& f) const {
    return {std::forward<F>(f), &token_};
  }

 private:
  char token_ = 0;
};

#else

class ForkJoin {
 public:
  template <class F>
  F&& operator()(F&& f) const {
    return std::forward<F>(f);
  }
};

#endif

}  // namespace cm
