// A deliberate data race inside a parallel loop, which ThreadSanitizer must report with the
// suppressions of tests/sanitizers/tsan.supp: scripts/sanitizers.sh tsan builds and runs it
// before the tests and fails if it is NOT reported, so that the suppressions (and the ForkJoin
// annotations of engine/tsan.hpp) can never hide a race in caremesh's own parallel code.
// Without an argument the loops are race-free and it must run clean: that checks the
// annotations and the suppressions against false reports. Not part of the test suite.
#include <oneapi/tbb/global_control.h>

#include <cstdio>
#include <vector>

#include "engine/parallel.hpp"

int main(int argc, char**) {
  const tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 4);
  std::vector<long> v(100000);
  double total = 0;
  for (int rep = 0; rep < 20; ++rep) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<long>(i) + rep;
    cm::parallel_for_each(
        v.size(), [&](std::size_t i) { v[i] *= 2; }, 1000);
    total += cm::deterministic_sum(
        v.size(), [&](std::size_t i) { return static_cast<double>(v[i]); }, 1000);
    const auto multiples = cm::parallel_collect<long>(
        v.size(),
        [&](std::size_t i, std::vector<long>& out) {
          if (v[i] % 3 == 0) out.push_back(v[i]);
        },
        1000);
    total += static_cast<double>(multiples.size());
    total += static_cast<double>(cm::with_threads(2, [&] {
      cm::parallel_for_each(
          v.size(), [&](std::size_t i) { v[i] += 1; }, 1000);
      long sum = 0;
      for (const long x : v) sum += x;
      return sum;
    }));
    if (argc > 1) {
      long shared = 0;  // the race: every chunk adds to it unsynchronized
      cm::parallel_for_each(
          v.size(), [&](std::size_t i) { shared += v[i]; }, 1000);
      total += static_cast<double>(shared);
    }
  }
  std::printf("%.0f\n", total);
  return 0;
}
