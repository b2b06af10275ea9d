// A STREAM-like probe of main-memory bandwidth on this machine, at a given thread count.
//
// Three arrays of doubles, each far larger than the last-level cache (default 128 MiB each;
// the machine's L3 is 32 MiB), are first touched by the threads that use them. Each kernel
// runs `repetitions` times and the best time is kept (STREAM's convention):
//   read   s += a[i]               8 bytes moved per element
//   copy   c[i] = a[i]             16 bytes (24 with the write-allocate read, not counted)
//   triad  a[i] = b[i] + q * c[i]  24 bytes (32 with write-allocate, not counted)
// Each thread works on a contiguous slice. Rates are bytes the kernel names per second,
// decimal GB/s, as STREAM reports them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace bench {

struct Bandwidth {
  int threads = 1;
  double read_gbs = 0, copy_gbs = 0, triad_gbs = 0;
};

namespace detail {

template <class F>
double timed_parallel(int threads, std::size_t n, F&& kernel) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const std::size_t lo = n * static_cast<std::size_t>(t) / static_cast<std::size_t>(threads);
    const std::size_t hi = n * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(threads);
    pool.emplace_back([&kernel, t, lo, hi] { kernel(t, lo, hi); });
  }
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace detail

inline Bandwidth measure_bandwidth(int threads, std::size_t bytes_per_array = 128u << 20,
                                   int repetitions = 5) {
  threads = std::max(threads, 1);
  const std::size_t n = bytes_per_array / sizeof(double);
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
  detail::timed_parallel(threads, n, [&](int, std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      a[i] = 1.0;
      b[i] = 2.0;
      c[i] = 0.5;
    }
  });
  std::vector<double> partial(static_cast<std::size_t>(threads) * 8, 0.0);  // padded slots
  double best_read = 1e30, best_copy = 1e30, best_triad = 1e30;
  for (int r = 0; r < repetitions; ++r) {
    best_read = std::min(
        best_read, detail::timed_parallel(threads, n, [&](int t, std::size_t lo, std::size_t hi) {
          double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          std::size_t i = lo;
          for (; i + 4 <= hi; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
          }
          for (; i < hi; ++i) s0 += a[i];
          partial[static_cast<std::size_t>(t) * 8] += s0 + s1 + s2 + s3;
        }));
    best_copy = std::min(
        best_copy, detail::timed_parallel(threads, n, [&](int, std::size_t lo, std::size_t hi) {
          for (std::size_t i = lo; i < hi; ++i) c[i] = a[i];
        }));
    best_triad = std::min(
        best_triad, detail::timed_parallel(threads, n, [&](int, std::size_t lo, std::size_t hi) {
          for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + 3.0 * c[i];
        }));
  }
  // Keep the read kernel's sums observable so that it is not optimized away.
  volatile double sink = 0;
  for (double p : partial) sink = sink + p;
  const double elems = static_cast<double>(n);
  return {threads, 8.0 * elems / best_read / 1e9, 16.0 * elems / best_copy / 1e9,
          24.0 * elems / best_triad / 1e9};
}

}  // namespace bench
