// Determinism: for every scenario in scenarios/ (and each of its variants), a hash of the full
// state after N ticks is the same at 1, 2 and 4 threads (every day stepped in parallel) and at 2
// threads with the default threshold for parallel days; another seed gives another state.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/parallel.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "tests/support/scenarios.hpp"

namespace cm::care {
namespace {

std::int64_t residents(const Scenario& sc) {
  std::int64_t n = 0;
  for (const District& d : sc.districts) n += d.population;
  return n;
}

// At more than one thread every day is stepped in parallel (parallel_min_active 0), however few
// clients are active: a small scenario's days would otherwise run on one thread (SimOptions).
std::uint64_t hash_after(const Scenario& sc, std::uint64_t seed, int threads, int ticks) {
  SimOptions options;
  if (threads > 1) options.parallel_min_active = 0;
  Simulation sim(sc, seed, options);
  with_threads(threads, [&] { sim.run(ticks); });
  return sim.state_hash();
}

using cm::test::scenario_files;

TEST(Determinism, SameStateAtOneTwoAndFourThreadsForEveryScenario) {
  const auto files = scenario_files();
  ASSERT_GE(files.size(), 3u);
  for (const auto& file : files) {
    std::vector<std::string> variants = scenario_variants(file);
    if (variants.empty()) variants.push_back("");
    for (const auto& v : variants) {
      const Scenario sc = load_scenario(file, {v, {}});
      // A country-scale scenario (scenarios/poland.yaml, 37.5 million residents) runs 10 days
      // here, enough for every phase, so that the test stays within seconds.
      const int ticks = std::min(sc.horizon_days, residents(sc) > 10'000'000 ? 10 : 120);
      const std::uint64_t one = hash_after(sc, 42, 1, ticks);
      EXPECT_EQ(one, hash_after(sc, 42, 2, ticks)) << file << " [" << v << "] at 2 threads";
      EXPECT_EQ(one, hash_after(sc, 42, 4, ticks)) << file << " [" << v << "] at 4 threads";
      {
        Simulation sim(sc, 42);  // the default threshold: small days on one thread
        with_threads(2, [&] { sim.run(ticks); });
        EXPECT_EQ(one, sim.state_hash()) << file << " [" << v << "] at 2 threads, default";
      }
      EXPECT_NE(one, hash_after(sc, 43, 2, ticks)) << file << " [" << v << "] other seed";
    }
  }
}

TEST(Determinism, VariantsShareExogenousRandomness) {
  // Common random numbers: the same residents arrive with the same needs in every variant.
  const std::string file = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";
  Simulation frag(load_scenario(file, {"fragmented", {}}), 8);
  Simulation net(load_scenario(file, {"networked", {}}), 8);
  frag.run(200);
  net.run(200);
  ASSERT_EQ(frag.clients().size(), net.clients().size());
  for (std::size_t i = 0; i < frag.clients().size(); ++i) {
    const Client& a = frag.clients()[i];
    const Client& b = net.clients()[i];
    ASSERT_EQ(a.arrival, b.arrival);
    ASSERT_EQ(a.kind, b.kind);
    ASSERT_EQ(a.n_needs, b.n_needs);
    for (int k = 0; k < a.n_needs; ++k)
      ASSERT_EQ(frag.needs(a)[k].service, net.needs(b)[k].service);
    ASSERT_EQ(a.self_help, b.self_help);
  }
}

}  // namespace
}  // namespace cm::care
