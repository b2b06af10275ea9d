// The recorded baseline (issue 18): the state hash and the SHA-256 of every output file of every
// built-in scenario and variant at a fixed seed, run in one process at 1 and 2 threads and
// territory-partitioned on 2 processes, against tests/data/baseline.txt. A change that alters
// any of them fails here; a change meant to alter them (a model fix, new draws) records the new
// baseline and says which change and why in its commit:
//   CAREMESH_UPDATE_BASELINE=1 build/tests/caremesh_tests --gtest_filter='Baseline.*'
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "engine/results_store.hpp"
#include "models/socialcare/outputs.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "tests/support/outputs.hpp"
#include "tests/support/scenarios.hpp"
#include "tests/support/temp_dir.hpp"

namespace cm::care {
namespace {

namespace fs = std::filesystem;

const fs::path kFixture = fs::path(CAREMESH_TEST_DATA) / "baseline.txt";
constexpr std::uint64_t kSeed = 7;

using Record = std::map<std::string, std::string>;  // "scenario/variant item" → value

Record read_fixture() {
  Record r;
  std::ifstream in(kFixture);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    r[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return r;
}

void write_fixture(const Record& r) {
  std::ofstream out(kFixture);
  out << "# The recorded baseline of tests/models/test_baseline.cpp: per scenario/variant, the\n"
         "# state hash at the end and the SHA-256 of each output file (seed 7). Regenerate with\n"
         "#   CAREMESH_UPDATE_BASELINE=1 build/tests/caremesh_tests --gtest_filter='Baseline.*'\n"
         "# and say in the commit which change altered it and why.\n";
  for (const auto& [k, v] : r) out << k << ' ' << v << '\n';
}

// The scenario as the baseline runs it: long horizons shortened to 240 days (the cohort's
// warm-up and follow-up still hold), as the partition tests do.
// Each is recorded twice: with event-driven clients (the default, keys prefixed "events:") and
// stepped daily (the reference process). The stepping is set on the loaded scenario, not in its
// text, so that a run's outputs (which carry the scenario's text) are those of the plain
// scenario: when event-driven stepping came, the daily entries stayed exactly as recorded
// before it.
Scenario baseline_scenario(const std::string& file, const std::string& variant,
                           ClientStepping stepping) {
  LoadOptions opt;
  opt.variant = variant;
  Scenario whole = load_scenario(file, opt);
  if (whole.warmup_days + whole.follow_up_days + 30 < 240) {
    opt.sets.push_back(parse_override("horizon_days=240"));
    whole = load_scenario(file, opt);
  }
  whole.client_stepping = stepping;
  return whole;
}

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::map<std::string, std::string> digests(const fs::path& dir) {
  std::map<std::string, std::string> d;
  for (const auto& [name, text] : cm::test::read_dir(dir)) {
    d[name] = ResultsStore::sha256_hex(text);
  }
  return d;
}

TEST(Baseline, EveryScenarioAndVariantGivesTheRecordedStateAndOutputs) {
  const bool update = std::getenv("CAREMESH_UPDATE_BASELINE") != nullptr;
  const Record fixture = read_fixture();
  if (!update) {
    ASSERT_FALSE(fixture.empty()) << kFixture << " is missing or empty";
  }
  Record now;
  for (const std::string& file : cm::test::scenario_files()) {
    std::vector<std::string> variants = {""};
    for (const std::string& v : scenario_variants(file))
      if (!v.empty() && v != "baseline") variants.push_back(v);
    for (const std::string& v : variants)
      for (const ClientStepping stepping : {ClientStepping::daily, ClientStepping::events}) {
        const std::string what = std::string(stepping == ClientStepping::events ? "events:" : "") +
                                 fs::path(file).stem().string() + "/" + (v.empty() ? "-" : v);
        if (file.ends_with("poland.yaml")) {
          // 37.5 million residents: the state after 10 days, enough for every phase.
          Scenario sc = load_scenario(file, {v, {}});
          sc.client_stepping = stepping;
          for (int threads : {1, 2}) {
            Simulation sim(sc, kSeed);
            with_threads(threads, [&] { sim.run(10); });
            now[what + " state@10/" + std::to_string(threads)] = hex(sim.state_hash());
          }
          continue;
        }
        const Scenario sc = baseline_scenario(file, v, stepping);
        for (int threads : {1, 2}) {
          cm::test::TempDir dir("cm_baseline_" + std::to_string(threads));
          const std::uint64_t h = cm::test::write_single(sc, kSeed, threads, dir.path, true);
          now[what + " state/" + std::to_string(threads)] = hex(h);
          for (const auto& [name, d] : digests(dir.path))
            now[what + " " + name + "/" + std::to_string(threads)] = d;
        }
        cm::test::TempDir dir("cm_baseline_p2");
        cm::test::write_partitioned(sc, kSeed, 2, dir.path);
        for (const auto& [name, d] : digests(dir.path)) now[what + " " + name + "/p2"] = d;
      }
  }
  if (update) {
    write_fixture(now);
    GTEST_SKIP() << "recorded " << now.size() << " entries in " << kFixture;
  }
  for (const auto& [k, v] : now) {
    const auto it = fixture.find(k);
    if (it == fixture.end())
      ADD_FAILURE() << k << ": not in the baseline (a new scenario, variant or output file?)";
    else if (it->second != v)
      ADD_FAILURE() << k << ": " << v << " differs from the baseline " << it->second;
  }
  for (const auto& [k, v] : fixture)
    if (!now.count(k)) ADD_FAILURE() << k << ": in the baseline but no longer produced";
}

}  // namespace
}  // namespace cm::care
