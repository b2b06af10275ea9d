// Parallel execution with results independent of the thread count.
//
// Work over [0, n) is cut into chunks of a fixed grain (simple_partitioner), so the chunk
// boundaries never depend on scheduling. Anything a chunk produces is kept per chunk and
// concatenated in chunk order, which is index order; floating-point reductions use
// tbb::parallel_deterministic_reduce with the same fixed grain.
//
// Work of one chunk (n <= grain), all work in a one-thread arena and all work under a
// SerialScope runs on the calling thread with no dispatch to TBB at all: a small model's day,
// a run beside other runs, or a one-thread run then pays nothing for parallelism (issue 20;
// docs/performance.md, "When a loop is handed to a second thread"). The chunk boundaries, and so
// the results, are the same either way. (deterministic_sum keeps TBB's reduction tree beyond one
// chunk: its order of additions is what makes the sum the same at any thread count.)
#pragma once

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "engine/tsan.hpp"

namespace cm {

inline constexpr std::size_t kDefaultGrain = 256;

namespace detail {
inline thread_local int serial_scopes = 0;
}

// While one lives on a thread, the loops that thread starts run their chunks in order on it,
// without handing them to TBB (same chunks, so the same results): for work whose parallelism
// is elsewhere (an experiment's replications run side by side, each on one thread) or too
// small to pay for a hand-over (a small model's day: Simulation::step; docs/performance.md,
// "When a loop is handed to a second thread").
class SerialScope {
 public:
  SerialScope() { ++detail::serial_scopes; }
  ~SerialScope() { --detail::serial_scopes; }
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;
};

// True when the calling thread's loops run serially: its arena has one thread
// (with_threads(1, ...)) or a SerialScope lives on it.
inline bool serial_arena() {
  return detail::serial_scopes > 0 || tbb::this_task_arena::max_concurrency() == 1;
}

// Calls f(i) for every i in [0, n), in parallel.
template <class F>
void parallel_for_each(std::size_t n, F&& f, std::size_t grain = kDefaultGrain) {
  if (n == 0) return;
  if (n <= grain || serial_arena()) {  // no dispatch: the same calls, in index order
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  const ForkJoin fork_join;
  const auto body = fork_join([&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) f(i);
  });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain), body, tbb::simple_partitioner());
}

// Calls f(begin, end, out) for every fixed-grain chunk [begin, end) of [0, n), in parallel,
// where out is the chunk's own vector; returns the concatenation of all chunks' outputs in
// index order.
template <class T, class F>
std::vector<T> parallel_collect_chunks(std::size_t n, F&& f, std::size_t grain = kDefaultGrain) {
  std::vector<T> result;
  if (n == 0) return result;
  if (n <= grain) {  // one chunk: its output is the result, with no dispatch and no copy
    f(std::size_t{0}, n, result);
    return result;
  }
  const std::size_t chunks = (n + grain - 1) / grain;
  if (serial_arena()) {  // the same chunks in order on this thread, each appended as it ends
    std::vector<T> part;
    for (std::size_t c = 0; c < chunks; ++c) {
      part.clear();
      f(c * grain, std::min(n, (c + 1) * grain), part);
      result.insert(result.end(), part.begin(), part.end());
    }
    return result;
  }
  std::vector<std::vector<T>> parts(chunks);
  {
    const ForkJoin fork_join;
    const auto body =
        fork_join([&](std::size_t c) { f(c * grain, std::min(n, (c + 1) * grain), parts[c]); });
    tbb::parallel_for(std::size_t{0}, chunks, body, tbb::simple_partitioner());
  }
  std::size_t total = 0;
  for (const auto& p : parts) total += p.size();
  result.reserve(total);
  for (auto& p : parts) result.insert(result.end(), p.begin(), p.end());
  return result;
}

// Calls f(i, out) for every i in [0, n) where out is a chunk-local vector; returns the
// concatenation of all chunks' outputs in index order.
template <class T, class F>
std::vector<T> parallel_collect(std::size_t n, F&& f, std::size_t grain = kDefaultGrain) {
  return parallel_collect_chunks<T>(
      n,
      [&](std::size_t begin, std::size_t end, std::vector<T>& out) {
        for (std::size_t i = begin; i < end; ++i) f(i, out);
      },
      grain);
}

// Sum of f(i) over [0, n), the same bits at any thread count.
template <class F>
double deterministic_sum(std::size_t n, F&& f, std::size_t grain = kDefaultGrain) {
  if (n <= grain) {  // one chunk: the reduction is this loop from 0.0, bit for bit
    double acc = 0.0;
    for (std::size_t i = 0; i < n; ++i) acc += f(i);
    return acc;
  }
  const ForkJoin fork_join;
  return tbb::parallel_deterministic_reduce(
      tbb::blocked_range<std::size_t>(0, n, grain), 0.0,
      fork_join([&](const tbb::blocked_range<std::size_t>& r, double acc) {
        for (std::size_t i = r.begin(); i != r.end(); ++i) acc += f(i);
        return acc;
      }),
      fork_join([](double a, double b) { return a + b; }), tbb::simple_partitioner());
}

// Runs fn inside an arena of the given number of threads (0: all hardware threads).
template <class Fn>
auto with_threads(int threads, Fn&& fn) {
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  const ForkJoin fork_join;
  return arena.execute(fork_join(fn));
}

}  // namespace cm
