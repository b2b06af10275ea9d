// bench_step: the step kernel (Simulation::step) at 1 and 2 threads.
//
//   build-bench/bench/bench_step [--benchmark_filter=...] [--benchmark_repetitions=N]
//
// A networked synthetic city (models/socialcare/synthetic.hpp) of 1,000,000 and of 10,000,000
// residents is built and warmed up for 120 days once per size; every benchmark copies that
// warm state, steps the copy once untimed and then a fixed number of times, so the 1- and
// 2-thread runs do exactly the same work on the same states (the simulation is deterministic
// at any thread count). Wall-clock time per step is reported; counters: active clients (mean
// over the timed steps) and client-ticks/s (active clients stepped per second of wall time).
// docs/performance.md has the figures measured on the development machine.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include "engine/parallel.hpp"
#include "models/socialcare/simulation.hpp"
#include "models/socialcare/synthetic.hpp"

namespace {

using cm::care::Simulation;

constexpr int kWarmupDays = 120;
constexpr int kTimedSteps = 60;

// The warm state of a networked city of `residents`, built on first use.
const Simulation& warm_city(std::int64_t residents) {
  static std::map<std::int64_t, std::unique_ptr<Simulation>> cache;
  auto& sim = cache[residents];
  if (!sim) {
    cm::care::SyntheticOptions opt;
    opt.networked = true;
    // run() stops at the horizon, step() does not: the warm-up and the timed steps of one
    // benchmark (120 + 1 + 60 days) fit in a year, which keeps the loader's memory estimate small
    opt.horizon_days = 365;
    const cm::care::Scenario sc = cm::care::make_synthetic_city(residents, opt);
    sim = std::make_unique<Simulation>(sc, sc.seed);
    cm::with_threads(2, [&] { sim->run(kWarmupDays); });
  }
  return *sim;
}

void BM_Step(benchmark::State& state) {
  const std::int64_t residents = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  Simulation sim(warm_city(residents));  // a copy: every run starts from the same state
  sim.reserve_clients();                 // a copy has no spare room; the original had
  double client_ticks = 0, seconds = 0;
  std::int64_t steps = 0;
  cm::with_threads(threads, [&] {
    // One untimed step: the first step of a copy touches its fresh pages (a one-off cost).
    sim.step();
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      sim.step();
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      client_ticks += static_cast<double>(sim.active_clients());
      ++steps;
    }
  });
  state.counters["active"] = client_ticks / static_cast<double>(std::max<std::int64_t>(steps, 1));
  state.counters["client_ticks/s"] = seconds > 0 ? client_ticks / seconds : 0.0;
  state.counters["threads"] = threads;
}

BENCHMARK(BM_Step)
    ->ArgNames({"residents", "threads"})
    ->Args({1'000'000, 1})
    ->Args({1'000'000, 2})
    ->Args({10'000'000, 1})
    ->Args({10'000'000, 2})
    ->Iterations(kTimedSteps)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
