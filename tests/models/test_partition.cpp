// Territory-partitioned runs (models/socialcare/partition.hpp) with threads standing in for the
// processes: every output file must be byte-identical to that of one process running the same
// scenario and seed without client records, for every built-in scenario and variant, at 2 and 3
// processes. (The same under mpirun: test_distributed.cpp.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/parallel.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/outputs.hpp"
#include "models/socialcare/partition.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "tests/support/outputs.hpp"
#include "tests/support/scenarios.hpp"

namespace cm::care {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  // Per process: two test runs at once (a sanitizer build beside a release one) must not share.
  const fs::path dir =
      fs::temp_directory_path() / ("cm_partition_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

using cm::test::read_dir;
using cm::test::write_partitioned;
using cm::test::write_single;

void expect_same_dirs(const fs::path& a, const fs::path& b, const std::string& what) {
  const auto x = read_dir(a), y = read_dir(b);
  ASSERT_EQ(x.size(), y.size()) << what;
  for (const auto& [name, text] : x) {
    ASSERT_TRUE(y.count(name)) << what << ": " << name << " missing";
    if (text == y.at(name)) continue;
    std::istringstream a(text), b(y.at(name));
    std::string la, lb;
    while (std::getline(a, la) && std::getline(b, lb) && la == lb) {
    }
    ADD_FAILURE() << what << ": " << name << " differs, first at\n  " << la << "\n  " << lb;
  }
}

// Shorter horizons keep the test quick; the cohort rules still hold (warm-up and follow-up).
LoadOptions short_run(const std::string& variant, int days) {
  LoadOptions opt;
  opt.variant = variant;
  opt.sets.push_back(parse_override("horizon_days=" + std::to_string(days)));
  return opt;
}

TEST(Partition, EveryScenarioAndVariantGivesTheOutputsOfOneProcess) {
  for (const std::string& file : cm::test::scenario_files()) {
    if (file.ends_with("poland.yaml")) continue;  // below, smaller
    std::vector<std::string> variants = {""};
    for (const std::string& v : scenario_variants(file))
      if (!v.empty() && v != "baseline") variants.push_back(v);
    for (const std::string& v : variants) {
      LoadOptions full;
      full.variant = v;
      const Scenario whole = load_scenario(file, full);
      const bool shorten = whole.warmup_days + whole.follow_up_days + 30 < 240;
      const Scenario sc = shorten ? load_scenario(file, short_run(v, 240)) : whole;
      const std::string what = fs::path(file).stem().string() + (v.empty() ? "" : "/" + v);
      const fs::path one = fresh_dir("one");
      write_single(sc, 7, 2, one);
      for (int ranks : {2, 3}) {
        const fs::path split = fresh_dir("split");
        write_partitioned(sc, 7, ranks, split);
        expect_same_dirs(one, split, what + " at " + std::to_string(ranks) + " processes");
      }
    }
  }
}

// A small generated country: regions are clusters of their own, so nothing crosses between
// processes but the day's counts.
TEST(Partition, ACountrySplitsByRegionAndGivesTheOutputsOfOneProcess) {
  LoadOptions opt = short_run("", 200);
  for (const char* set :
       {"country.population=2400000", "country.regions=4", "country.counties=24",
        "country.municipalities=120", "country.cities.count=4", "country.cities.largest=400000"})
    opt.sets.push_back(parse_override(set));
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/poland.yaml", opt);
  const fs::path one = fresh_dir("country_one");
  write_single(sc, 3, 1, one);
  const fs::path split = fresh_dir("country_split");
  std::vector<std::int64_t> sent;
  const Partition part = write_partitioned(sc, 3, 2, split, &sent);
  expect_same_dirs(one, split, "country at 2 processes");
  EXPECT_EQ(part.clusters, 4);
  EXPECT_EQ(part.split_clusters, 0);
  // Each process owns whole regions: districts and their organizations on the same process.
  for (std::size_t o = 0; o < sc.organizations.size(); ++o)
    for (int d : sc.organizations[o].serves) ASSERT_EQ(part.org_rank[o], part.district_rank[d]);
  EXPECT_NE(std::count(part.district_rank.begin(), part.district_rank.end(), 0), 0);
  EXPECT_NE(std::count(part.district_rank.begin(), part.district_rank.end(), 1), 0);
}

TEST(Partition, OneClusterKeepsItsOrganizationsTogetherAndSpreadsItsDistricts) {
  const Scenario sc =
      load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/warsaw.yaml", short_run("", 200));
  std::vector<std::pair<std::int32_t, std::int32_t>> ties;
  TieTable table;
  table.build(sc);
  for (const Tie& t : table.all()) ties.emplace_back(t.a, t.b);
  const Partition p = partition_territory(sc, ties, 2);
  EXPECT_EQ(p.clusters, 1);
  EXPECT_EQ(p.split_clusters, 1);
  for (std::int32_t r : p.org_rank) EXPECT_EQ(r, p.org_rank[0]);
  double pop[2] = {0, 0};
  for (std::size_t d = 0; d < sc.districts.size(); ++d)
    pop[p.district_rank[d]] += static_cast<double>(sc.districts[d].population);
  EXPECT_GT(pop[0], 0.3 * (pop[0] + pop[1]));
  EXPECT_GT(pop[1], 0.3 * (pop[0] + pop[1]));
}

TEST(Partition, ARunWithClientRecordsCannotBePartitioned) {
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml");
  auto comms = ThreadPartitionComm::make(1);
  EXPECT_THROW(Simulation(sc, 1, SimOptions{true, 0, comms[0].get()}), std::invalid_argument);
}

}  // namespace
}  // namespace cm::care
