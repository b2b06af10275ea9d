// bench_dispatch: when a day's loop is worth handing to a second thread (issue 20).
//
//   build/bench/bench_dispatch [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
//
// A phase's loop over n agents, each item `draws` counter-based random draws (one Philox block
// is about a tie's or a helper's daily draw; eight about a client's step), run three ways:
//   serial    the loop on the calling thread (what engine/parallel.hpp does for one chunk and in
//             a one-thread arena);
//   tbb/2     tbb::parallel_for over fixed chunks of 256 in an arena of two threads, back to back
//             (the workers stay awake between loops: the best case for dispatch);
//   tbb/2gap  the same with 50 us of serial work between loops (as between a day's phases: the
//             workers may have gone to sleep and must be woken).
// The item count where tbb/2 and tbb/2gap beat serial is the threshold engine/parallel.hpp uses
// (kMinParallelItems); docs/performance.md has the figures measured on the development machine.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "engine/rng.hpp"

namespace {

constexpr std::size_t kChunk = 256;

// One item's work: `draws` Philox blocks of the item's own stream, summed into its slot.
inline void item(std::vector<std::uint32_t>& out, std::size_t i, int draws, std::uint32_t day) {
  cm::Stream rng(7, 11, i, day);
  std::uint32_t acc = 0;
  for (int d = 0; d < 4 * draws; ++d) acc += rng();
  out[i] = acc;
}

void spin_for(std::chrono::microseconds us) {
  const auto until = std::chrono::steady_clock::now() + us;
  while (std::chrono::steady_clock::now() < until) {
  }
}

enum Mode { kSerial = 0, kTbb = 1, kTbbGap = 2 };

void BM_Loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int draws = static_cast<int>(state.range(1));
  const auto mode = static_cast<Mode>(state.range(2));
  std::vector<std::uint32_t> out(n);
  tbb::task_arena arena(mode == kSerial ? 1 : 2);
  std::uint32_t day = 0;
  double loop_seconds = 0;
  arena.execute([&] {
    for (auto _ : state) {
      if (mode == kTbbGap) {
        state.PauseTiming();
        spin_for(std::chrono::microseconds(50));
        state.ResumeTiming();
      }
      const auto t0 = std::chrono::steady_clock::now();
      if (mode == kSerial) {
        for (std::size_t i = 0; i < n; ++i) item(out, i, draws, day);
      } else {
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, n, kChunk),
            [&](const tbb::blocked_range<std::size_t>& r) {
              for (std::size_t i = r.begin(); i != r.end(); ++i) item(out, i, draws, day);
            },
            tbb::simple_partitioner());
      }
      loop_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      benchmark::DoNotOptimize(out.data());
      ++day;
    }
  });
  state.counters["ns/item"] = benchmark::Counter(loop_seconds * 1e9 / static_cast<double>(n) /
                                                 static_cast<double>(state.iterations()));
}

void Args(benchmark::internal::Benchmark* b) {
  for (int mode : {kSerial, kTbb, kTbbGap})
    for (int draws : {1, 8})
      for (int n : {128, 256, 512, 1024, 2048, 4096, 16384, 65536}) b->Args({n, draws, mode});
}

}  // namespace

BENCHMARK(BM_Loop)->Apply(Args)->ArgNames({"n", "draws", "mode"})->UseRealTime();

BENCHMARK_MAIN();
