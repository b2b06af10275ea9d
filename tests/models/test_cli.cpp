// The caremesh command line, run as a subprocess: help texts, the scenario list, validate, and
// run's output files, refusal to overwrite, --force, replay of the effective scenario and the
// determinism guarantee (same seed → byte-identical files, at any thread count).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "caremesh_version.hpp"
#include "tests/support/cli.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kScenarios = CAREMESH_SCENARIO_DIR;
const std::string kTraining = kScenarios + "/training-small.yaml";
const char* const kResultFiles[] = {"summary.json", "timeseries.csv", "network.csv",
                                    "organizations.csv", "clients.csv"};

using cm::test::CliResult;
using cm::test::lines_of;
using cm::test::read_text;
using cm::test::run_cli;
using cm::test::write_text;

// A fresh directory per test, removed afterwards.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    tmp_ = fs::temp_directory_path() /
           ("caremesh_cli_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  std::string dir(const std::string& name) const { return (tmp_ / name).string(); }

  // `caremesh run` into tmp/name with extra arguments; fails the test unless it exits 0.
  fs::path run(const std::string& name, std::vector<std::string> extra,
               const std::string& scenario = kTraining) {
    std::vector<std::string> args = {"run", scenario, "--out", dir(name), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "") << "--quiet prints nothing";
    return tmp_ / name;
  }

  // Every file of a directory: name → content.
  static std::map<std::string, std::string> files_of(const fs::path& d) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(d))
      files[e.path().filename().string()] = read_text(e.path());
    return files;
  }

  static nlohmann::json summary(const fs::path& d) {
    return nlohmann::json::parse(read_text(d / "summary.json"));
  }

  // The same files in a and b (at least the five result files), byte for byte.
  static void expect_identical(const fs::path& a, const fs::path& b) {
    const auto fa = files_of(a), fb = files_of(b);
    for (const char* f : kResultFiles) EXPECT_TRUE(fa.count(f)) << a / f;
    for (const auto& [name, text] : fa) {
      ASSERT_TRUE(fb.count(name)) << b / name;
      EXPECT_TRUE(text == fb.at(name)) << name << " differs between " << a << " and " << b;
    }
    EXPECT_EQ(fa.size(), fb.size());
  }

  fs::path tmp_;
};

// ---- help -----------------------------------------------------------------------------------

// The subcommands listed under "Subcommands:" in the top-level help.
std::vector<std::string> subcommands(const std::string& help) {
  std::vector<std::string> names;
  bool in = false;
  for (const auto& line : lines_of(help)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in = true;
    } else if (in && line.rfind("  ", 0) == 0) {
      std::istringstream words(line);
      std::string name;
      words >> name;
      names.push_back(name);
    } else if (in && !line.empty()) {
      in = false;
    }
  }
  return names;
}

void expect_mentions(const std::string& text, const std::vector<std::string>& words,
                     const std::string& what) {
  for (const auto& w : words) EXPECT_NE(text.find(w), std::string::npos) << what << ": " << w;
}

TEST(CliHelp, TopLevelHelpListsSubcommandsAndOptions) {
  const CliResult r = run_cli({"--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  expect_mentions(r.out, {"Usage:", "--help", "--version", "run", "validate", "scenarios"},
                  "caremesh --help");
  const auto names = subcommands(r.out);
  for (const char* s : {"run", "validate", "scenarios"})
    EXPECT_NE(std::find(names.begin(), names.end(), s), names.end()) << s;
}

TEST(CliHelp, EverySubcommandHasHelp) {
  const auto names = subcommands(run_cli({"--help"}).out);
  ASSERT_GE(names.size(), 3u);
  for (const auto& name : names) {
    const CliResult r = run_cli({name, "--help"});
    EXPECT_EQ(r.status, 0) << name << ": " << r.err;
    expect_mentions(r.out, {"Usage:", name, "--help"}, name + " --help");
  }
}

TEST(CliHelp, SubcommandHelpMentionsEveryOption) {
  const std::map<std::string, std::vector<std::string>> options = {
      {"run",
       {"scenario", "--out", "-o", "--seed", "--threads", "--ticks", "--variant", "--set",
        "--no-client-records", "--force", "--quiet", "-q", "--help"}},
      {"validate", {"scenario", "--variant", "--set", "--help"}},
      {"scenarios", {"--help"}},
  };
  for (const auto& [command, words] : options) {
    const CliResult r = run_cli({command, "--help"});
    EXPECT_EQ(r.status, 0) << command;
    expect_mentions(r.out, words, command + " --help");
  }
}

TEST(CliHelp, VersionIsTheProjectVersion) {
  const CliResult r = run_cli({"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find(cm::kVersion), std::string::npos) << r.out;
}

// ---- scenarios and validate -----------------------------------------------------------------

TEST(CliScenarios, ListsTheBuiltInScenariosAllValid) {
  const CliResult r = run_cli({"scenarios"});
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& line : lines_of(r.out)) {
    names.push_back(line.substr(0, line.find('\t')));
    EXPECT_EQ(line.find("(invalid"), std::string::npos) << line;
  }
  for (const char* s : {"training-small", "queue-check"})
    EXPECT_NE(std::find(names.begin(), names.end(), s), names.end()) << s << " in\n" << r.out;
  // training-small names its variants
  for (const auto& line : lines_of(r.out))
    if (line.rfind("training-small\t", 0) == 0)
      expect_mentions(line, {"fragmented", "networked"}, "training-small's line");
}

TEST(CliValidate, TrainingSmallIsValid) {
  CliResult r = run_cli({"validate", kTraining});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("ok"), std::string::npos) << r.out;
  r = run_cli({"validate", "training-small"});  // a built-in scenario by name
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_cli({"validate", kTraining, "--variant", "networked", "--set", "seed=9"});
  EXPECT_EQ(r.status, 0) << r.err;
}

// Without --variant every declared variant is checked too: a variant's overrides can break a
// valid baseline, and the error names the variant and the place.
TEST_F(Cli, ValidateChecksEveryVariant) {
  const fs::path file = tmp_ / "broken-variant.yaml";
  write_text(file, read_text(kTraining) +
                       "  - name: too_high\n"
                       "    description: a level beyond the continuum\n"
                       "    set:\n"
                       "      tie_policy: {max_level: 9}\n");
  CliResult r = run_cli({"validate", file.string()});
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("variant too_high"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("max_level"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file.string() + ":"), std::string::npos) << r.err;
  r = run_cli({"validate", file.string(), "--variant", "networked"});  // only that one
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_cli({"validate", kTraining});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("variants checked"), std::string::npos) << r.out;
}

// --ticks cannot silently stop at the horizon: asking for more days is refused before anything
// is written, with the way to run longer.
TEST_F(Cli, TicksBeyondTheHorizonAreRefused) {
  const CliResult r = run_cli({"run", kTraining, "--ticks", "36500", "--out", dir("long")});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("horizon_days"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "long"));
}

// ---- run ------------------------------------------------------------------------------------

TEST_F(Cli, RunWritesTheResultFilesAndSummary) {
  const CliResult r = run_cli({"run", kTraining, "--out", dir("a")});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("complete_package_share"), std::string::npos) << r.out;
  const fs::path a = tmp_ / "a";
  for (const char* f : kResultFiles) {
    EXPECT_TRUE(fs::is_regular_file(a / f)) << f;
    EXPECT_GT(fs::file_size(a / f), 0u) << f;
  }
  for (const auto& e : fs::directory_iterator(a))  // no temporary files left behind
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();

  const auto s = summary(a);
  EXPECT_EQ(s.at("caremesh_version"), cm::kVersion);
  EXPECT_EQ(s.at("seed"), 7);  // the scenario's seed
  ASSERT_TRUE(s.at("effective_scenario").is_string());
  EXPECT_NE(s.at("effective_scenario").get<std::string>().find("name: training-small"),
            std::string::npos);
  const auto& m = s.at("metrics");
  for (const char* k : {"complete_package_share", "needs_met_share", "dropout_share", "unmet_share",
                        "mean_days_to_first_service", "mean_doors_per_client",
                        "repeat_assessment_share", "referral_completion_share",
                        "collaboration_hours_share", "mean_tie_level", "network_density"}) {
    ASSERT_TRUE(m.contains(k)) << k;
    EXPECT_TRUE(m.at(k).is_number()) << k << " = " << m.at(k);
  }
  for (const char* k :
       {"complete_package_share", "needs_met_share", "dropout_share", "unmet_share",
        "referral_completion_share", "collaboration_hours_share", "network_density"}) {
    EXPECT_GE(m.at(k).get<double>(), 0.0) << k;
    EXPECT_LE(m.at(k).get<double>(), 1.0) << k;
  }
  ASSERT_TRUE(m.contains("by_district"));
  ASSERT_TRUE(m.at("by_district").is_object());
  for (const char* d : {"Centre", "North", "South"})
    EXPECT_TRUE(m.at("by_district").contains(d)) << d;
  ASSERT_TRUE(m.contains("by_kind"));
  ASSERT_TRUE(m.at("by_kind").is_object());
  for (const char* k : {"person", "family", "community"})
    EXPECT_TRUE(m.at("by_kind").contains(k)) << k;

  // the CSV files have a header and rows
  EXPECT_EQ(lines_of(read_text(a / "timeseries.csv")).size(), 366u);    // header + 365 days
  EXPECT_EQ(lines_of(read_text(a / "organizations.csv")).size(), 13u);  // header + 12 orgs
  EXPECT_GT(lines_of(read_text(a / "clients.csv")).size(), 100u);
  EXPECT_GE(lines_of(read_text(a / "network.csv")).size(), 1u);
}

TEST_F(Cli, NoClientRecordsOmitsClientsCsv) {
  const fs::path a = run("a", {"--no-client-records"});
  EXPECT_FALSE(fs::exists(a / "clients.csv"));
  for (const char* f : {"summary.json", "timeseries.csv", "network.csv", "organizations.csv"})
    EXPECT_TRUE(fs::exists(a / f)) << f;
}

TEST_F(Cli, RerunIntoTheSameDirectoryRefusesAndKeepsTheResults) {
  const fs::path a = run("a", {});
  const auto before = files_of(a);
  const CliResult r = run_cli({"run", kTraining, "--out", a.string(), "--seed", "99"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_TRUE(files_of(a) == before) << "the refused run changed the earlier results";
  EXPECT_EQ(summary(a).at("seed"), 7);
}

TEST_F(Cli, ForceReplacesTheResults) {
  const fs::path a = run("a", {});
  run("a", {"--force", "--seed", "99", "--no-client-records"});
  EXPECT_EQ(summary(a).at("seed"), 99);
  // clients.csv of the earlier run must not survive beside a result that did not write one
  EXPECT_FALSE(fs::exists(a / "clients.csv"));
  // nothing of the earlier run is left: the directory holds what a fresh run writes
  const fs::path b = run("b", {"--seed", "99", "--no-client-records"});
  EXPECT_TRUE(files_of(a) == files_of(b));
}

// ---- replay and determinism -----------------------------------------------------------------

TEST_F(Cli, EffectiveScenarioReplaysToTheSameMetrics) {
  for (const std::string variant : {"", "networked"}) {
    SCOPED_TRACE("variant " + variant);
    std::vector<std::string> extra = {"--seed", "123", "--set", "tie_policy.initial_level=2"};
    if (!variant.empty()) extra.insert(extra.end(), {"--variant", variant});
    const fs::path first = run("first" + variant, extra);
    const auto s1 = summary(first);
    const std::string effective = s1.at("effective_scenario").get<std::string>();
    const fs::path file = tmp_ / ("effective" + variant + ".yaml");
    write_text(file, effective);
    ASSERT_EQ(run_cli({"validate", file.string()}).status, 0) << effective;
    const fs::path again = run("again" + variant, {"--seed", "123"}, file.string());
    const auto s2 = summary(again);
    EXPECT_EQ(s1.at("metrics"), s2.at("metrics"));
    EXPECT_EQ(s1.at("state_hash"), s2.at("state_hash"));
    EXPECT_EQ(s1.at("effective_scenario"), s2.at("effective_scenario"));
    for (const char* f : {"timeseries.csv", "network.csv", "organizations.csv", "clients.csv"})
      EXPECT_TRUE(read_text(first / f) == read_text(again / f)) << f;
  }
}

TEST_F(Cli, SameSeedGivesByteIdenticalFiles) {
  expect_identical(run("a", {"--seed", "5"}), run("b", {"--seed", "5"}));
  expect_identical(run("c", {"--variant", "networked"}), run("d", {"--variant", "networked"}));
}

TEST_F(Cli, AnotherSeedGivesOtherResults) {
  const fs::path a = run("a", {"--seed", "5"});
  const fs::path b = run("b", {"--seed", "6"});
  EXPECT_FALSE(read_text(a / "timeseries.csv") == read_text(b / "timeseries.csv"));
  EXPECT_FALSE(read_text(a / "clients.csv") == read_text(b / "clients.csv"));
  EXPECT_NE(summary(a).at("metrics"), summary(b).at("metrics"));
  EXPECT_NE(summary(a).at("state_hash"), summary(b).at("state_hash"));
}

TEST_F(Cli, ThreadCountDoesNotChangeAnyFile) {
  for (const std::string variant : {"fragmented", "networked"}) {
    SCOPED_TRACE(variant);
    const fs::path one = run(variant + "1", {"--variant", variant, "--threads", "1"});
    expect_identical(one, run(variant + "2", {"--variant", variant, "--threads", "2"}));
    expect_identical(one, run(variant + "4", {"--variant", variant, "--threads", "4"}));
  }
}

}  // namespace
