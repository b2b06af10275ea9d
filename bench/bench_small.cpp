// bench_small: whole runs of small scenarios in process, at one thread, where the fixed cost of
// a day (not the clients) decides the time (issue 20's "small runs without fixed overhead"),
// and training-small ×16 (every district's residents and every organization's helpers × 16:
// 320,000 residents) over ten years, issue 20's ns-per-client-day figure. Each runs with
// event-driven clients (the default) and stepped daily (the reference process), side by side.
// training_small_xN and training_small_xN_t2 run the town scaled by N (one year) at one and at
// two threads: where the second thread starts to pay is the threshold for parallel days
// (SimOptions::parallel_min_active; docs/performance.md).
//
//   build-bench/bench/bench_small [--benchmark_filter=...] [--benchmark_repetitions=N]
//
// Each benchmark loads its scenario once, untimed, then per iteration constructs the
// simulation, runs it to its horizon as the experiment executor does (no client records; the
// default threshold for parallel days) and
// computes the measures. Counters: days simulated, client-days (active clients summed over the
// days), ns per client-day and µs per day (wall time over each).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "engine/parallel.hpp"
#include "engine/run_driver.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace {

using cm::care::Scenario;
using cm::care::Simulation;

const Scenario& scenario(const std::string& name) {
  static std::map<std::string, Scenario> cache;
  auto it = cache.find(name);
  if (it == cache.end())
    it = cache
             .emplace(name, cm::care::load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/" +
                                                    name + ".yaml"))
             .first;
  return it->second;
}

// The scenario as a benchmark runs it: scaled (residents and helpers × scale, horizon in
// years) and with the given client stepping.
Scenario variant_of(const std::string& name, int scale, int years, cm::care::ClientStepping how) {
  Scenario sc = scenario(name);
  for (auto& d : sc.districts) d.population *= scale;
  for (auto& o : sc.organizations) o.helpers *= scale;
  if (years > 0) sc.horizon_days = 365 * years;
  sc.client_stepping = how;
  return sc;
}

void run_small(benchmark::State& state, const std::string& name, int scale, int years,
               cm::care::ClientStepping how, int threads) {
  const Scenario sc = variant_of(name, scale, years, how);
  const int days = sc.horizon_days;
  double seconds = 0, client_days = 0, metric_sum = 0;
  std::int64_t runs = 0;
  cm::with_threads(threads, [&] {
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      Simulation sim(sc, sc.seed, cm::care::SimOptions{false, days});
      cm::RunControl control;
      control.target_ticks = days;
      cm::drive(sim, control);
      const auto m = cm::care::scalar_metrics(cm::care::compute_metrics(sim));
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (const auto& rec : sim.timeseries()) client_days += static_cast<double>(rec.active);
      metric_sum += m.empty() ? 0.0 : m.front().second;
      ++runs;
    }
  });
  benchmark::DoNotOptimize(metric_sum);
  const double per_run = client_days / static_cast<double>(std::max<std::int64_t>(runs, 1));
  state.counters["days"] = days;
  state.counters["client_days"] = per_run;
  state.counters["ns/client-day"] = client_days > 0 ? seconds * 1e9 / client_days : 0.0;
  state.counters["us/day"] =
      runs > 0 ? seconds * 1e6 / (static_cast<double>(runs) * static_cast<double>(days)) : 0.0;
}

constexpr auto kEvents = cm::care::ClientStepping::events;
constexpr auto kDaily = cm::care::ClientStepping::daily;

struct Case {
  const char* label;
  const char* scenario;
  int scale, years;
  cm::care::ClientStepping how;
  int threads;
  bool once;  // one iteration per repetition (a long run)
};
// training_small_xN_t2: the same town scaled, at two threads, for the size from which a day's
// loops are worth handing to a second thread (docs/performance.md).
constexpr Case kCases[] = {
    {"queue_check", "queue-check", 1, 0, kEvents, 1, false},
    {"queue_check_daily", "queue-check", 1, 0, kDaily, 1, false},
    {"training_small", "training-small", 1, 0, kEvents, 1, false},
    {"training_small_daily", "training-small", 1, 0, kDaily, 1, false},
    {"training_small_x16_10y", "training-small", 16, 10, kEvents, 1, true},
    {"training_small_x16_10y_daily", "training-small", 16, 10, kDaily, 1, true},
    {"training_small_t2", "training-small", 1, 0, kEvents, 2, false},
    {"training_small_x4", "training-small", 4, 0, kEvents, 1, false},
    {"training_small_x4_t2", "training-small", 4, 0, kEvents, 2, false},
    {"training_small_x16", "training-small", 16, 0, kEvents, 1, false},
    {"training_small_x16_t2", "training-small", 16, 0, kEvents, 2, false},
    {"training_small_x64", "training-small", 64, 0, kEvents, 1, true},
    {"training_small_x64_t2", "training-small", 64, 0, kEvents, 2, true},
    {"training_small_x256", "training-small", 256, 0, kEvents, 1, true},
    {"training_small_x256_t2", "training-small", 256, 0, kEvents, 2, true},
};

const bool registered = [] {
  for (const Case& c : kCases) {
    auto* b = benchmark::RegisterBenchmark(
        (std::string("run_small/") + c.label).c_str(), [c](benchmark::State& state) {
          run_small(state, c.scenario, c.scale, c.years, c.how, c.threads);
        });
    b->Unit(benchmark::kMillisecond)->UseRealTime();
    if (c.once) b->Iterations(1);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
