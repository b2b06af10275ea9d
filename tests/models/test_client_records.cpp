// Runs without client records (experiments, the workshop, `run --no-client-records`, the scale
// benchmark) fold a client into the outcome tallies on the day it leaves and reuse its memory.
// They must give the same measures, time series and steering decisions as runs that keep every
// record, at any thread count, across a checkpoint, with memory that follows the active
// clients.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/parallel.hpp"
#include "models/socialcare/checkpoint.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "models/socialcare/synthetic.hpp"
#include "tests/support/scenarios.hpp"

namespace cm::care {
namespace {

using cm::test::scenario_files;

// Everything a run reports besides the client records.
struct Report {
  std::string metrics, series, steering;
};

std::string series_text(const Simulation& sim) {
  std::string out;
  for (const TickRecord& r : sim.timeseries()) {
    out += std::to_string(r.tick) + " " + std::to_string(r.arrivals) + " " +
           std::to_string(r.active) + " " + std::to_string(r.resolved) + " " +
           std::to_string(r.dropped) + " " + std::to_string(r.queue_length) + " " +
           std::to_string(r.intake_length) + " " + std::to_string(r.services_started) + " " +
           std::to_string(r.wait_days_started) + " " + std::to_string(r.referrals) + " " +
           std::to_string(r.assessments) + " " + std::to_string(r.direct_hours_used);
    for (auto n : r.needs) out += " " + std::to_string(n);
    out += "\n";
  }
  return out;
}

std::string steering_text(const Simulation& sim) {
  std::string out;
  for (const SteeringRow& r : sim.steering_rows())
    out += r.authority + " " + std::to_string(r.tick) + " " + r.phase + " " + r.decision + " " +
           r.district + " " + r.subject + " " + std::to_string(r.value) + "\n";
  return out;
}

Report run(const Scenario& sc, std::uint64_t seed, bool records, int threads) {
  Simulation sim(sc, seed, SimOptions{records, sc.horizon_days});
  with_threads(threads, [&] { sim.run(sc.horizon_days); });
  sim.finish();
  return {compute_metrics(sim).dump(), series_text(sim), steering_text(sim)};
}

void expect_same(const Report& a, const Report& b) {
  EXPECT_EQ(a.metrics, b.metrics);
  EXPECT_EQ(a.series, b.series);
  EXPECT_EQ(a.steering, b.steering);
}

// Every built-in scenario and variant, over a horizon long enough for warm-up, cohort and
// follow-up (a country-scale scenario runs 20 days: every phase, seconds not minutes).

// A run without client records (seed, planned days) saved to a checkpoint and read back.
Checkpoint saved_without_records(const Scenario& sc, std::uint64_t seed, int days,
                                 const Simulation& sim, const std::string& name) {
  RunSpec spec;
  spec.scenario_file = sc.source_file;
  spec.effective_yaml = sc.effective_yaml;
  spec.seed = seed;
  spec.target_ticks = days;
  spec.client_records = false;
  return Checkpoint::decode(Checkpoint::encode(spec, sim), name);
}

TEST(ClientRecords, FoldedRunsReportWhatFullRecordsReportForEveryScenario) {
  for (const auto& file : scenario_files()) {
    std::vector<std::string> variants = scenario_variants(file);
    if (variants.empty()) variants.push_back("");
    for (const auto& v : variants) {
      SCOPED_TRACE(file + " [" + v + "]");
      const Scenario base = load_scenario(file, {v, {}});
      std::int64_t residents = 0;
      for (const District& d : base.districts) residents += d.population;
      const int days = residents > 5'000'000 ? 20 : std::min(base.horizon_days, 400);
      const Scenario sc = load_scenario(file, {v,
                                               {{"horizon_days", std::to_string(days)},
                                                {"warmup_days", std::to_string(days / 8)},
                                                {"follow_up_days", std::to_string(days / 4)}}});
      const Report full = run(sc, 7, true, 2);
      const Report folded = run(sc, 7, false, 2);
      expect_same(full, folded);
      EXPECT_NE(full.metrics.find("\"clients\""), std::string::npos);
    }
  }
}

TEST(ClientRecords, FoldedRunsAreTheSameAtOneAndTwoThreads) {
  const Scenario sc = make_synthetic_city(300'000, {.networked = true, .horizon_days = 200});
  expect_same(run(sc, 3, false, 1), run(sc, 3, false, 2));
}

// The record array holds the active clients and, at most, a sixteenth as many records of
// clients who left (or 1,024 of them) before they are squeezed out: memory follows the active
// clients, not every client ever seen.
TEST(ClientRecords, MemoryFollowsTheActiveClients) {
  const Scenario sc = make_synthetic_city(200'000, {.networked = true, .horizon_days = 730});
  Simulation sim(sc, 1, SimOptions{false, sc.horizon_days});
  std::size_t most = 0;
  for (int t = 0; t < sc.horizon_days; ++t) {
    sim.step();
    const std::size_t n = sim.active_clients();
    ASSERT_LE(sim.client_slots(), n + std::max<std::size_t>(n / 16, 1024)) << "day " << t;
    most = std::max(most, sim.client_slots());
  }
  EXPECT_GT(most, 1024u);
  EXPECT_LT(static_cast<double>(most), 0.3 * static_cast<double>(sim.clients_created()));
  EXPECT_THROW(static_cast<void>(sim.clients()), std::logic_error);

  Simulation full(sc, 1);
  full.run(sc.horizon_days);
  EXPECT_EQ(full.clients().size(), sim.clients_created());
  EXPECT_EQ(full.client_slots(), full.clients_created());
}

TEST(ClientRecords, MeasuresOfAFoldedRunOnlyAtItsPlannedEnd) {
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml");
  Simulation sim(sc, 1, SimOptions{false, 100});
  sim.run(50);
  EXPECT_THROW(compute_metrics(sim), std::logic_error);
  EXPECT_THROW(sim.finish(), std::logic_error);
  sim.run(50);
  EXPECT_EQ(sim.tick(), 100);
  sim.finish();
  EXPECT_NO_THROW(compute_metrics(sim));
}

// A city large enough that the records of clients who left are squeezed out many times (and
// intake lists, queues and conference requests renumbered): the same report as with every
// record, and a checkpoint taken after squeezes resumes exactly.
TEST(ClientRecords, SqueezedRunsReportWhatFullRecordsReportAndResumeExactly) {
  const Scenario sc = make_synthetic_city(
      1'000'000, {.networked = true, .horizon_days = 240, .annual_incidence = 0.034, .seed = 4});
  expect_same(run(sc, 5, true, 2), run(sc, 5, false, 2));

  const int days = sc.horizon_days;
  Simulation whole(sc, 5, SimOptions{false, days});
  whole.run(days);
  whole.finish();
  Simulation first(sc, 5, SimOptions{false, days});
  first.run(150);
  ASSERT_LT(first.client_slots() + 4096, first.clients_created());  // records squeezed out
  const Checkpoint cp = saved_without_records(sc, 5, days, first, "squeezed.bin");
  Simulation second(cp.scenario(), 5, SimOptions{false, days});
  cp.restore(second);
  second.run(days - 150);
  second.finish();
  EXPECT_EQ(second.state_hash(), whole.state_hash());
  EXPECT_EQ(compute_metrics(second).dump(), compute_metrics(whole).dump());
}

// A folded run saved mid-way and restored continues exactly as the uninterrupted run.
TEST(ClientRecords, FoldedRunResumesFromACheckpointExactly) {
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/training-steering.yaml");
  const int days = sc.horizon_days;
  Simulation whole(sc, 9, SimOptions{false, days});
  whole.run(days);
  whole.finish();

  Simulation first(sc, 9, SimOptions{false, days});
  first.run(days / 3);
  const Checkpoint cp = saved_without_records(sc, 9, days, first, "folded.bin");
  Simulation second(cp.scenario(), 9, SimOptions{cp.spec().client_records, cp.spec().target_ticks});
  cp.restore(second);
  EXPECT_EQ(second.state_hash(), first.state_hash());
  second.run(days - days / 3);
  second.finish();
  EXPECT_EQ(second.state_hash(), whole.state_hash());
  EXPECT_EQ(compute_metrics(second).dump(), compute_metrics(whole).dump());
  EXPECT_EQ(steering_text(second), steering_text(whole));
}

}  // namespace
}  // namespace cm::care
