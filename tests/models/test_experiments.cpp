// Experiments (compare, sweep, export): common random numbers make identical variants differ by
// exactly zero and pair better than independent runs; results do not depend on the thread
// count; an interrupted experiment resumes to the same store content as one run straight
// through; malformed designs and overrides get located errors; every sweep method yields its
// indices; export writes one row per run and metric. Most tests run the caremesh binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/results_store.hpp"
#include "models/socialcare/experiments/experiments.hpp"
#include "tests/support/cli.hpp"

namespace cm::care {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kTraining = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";
const fs::path kDesigns = fs::path(CAREMESH_TEST_DATA) / "designs";

using cm::test::CliResult;
using cm::test::read_text;
using cm::test::wait_status;
using cm::test::write_text;

// Starts the caremesh binary with stdout and stderr redirected to files; returns its pid.
pid_t spawn_cli(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = cm::test::spawn_cli(args, o, e);
  if (o >= 0) ::close(o);
  if (e >= 0) ::close(e);
  return pid;
}

class ExperimentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("caremesh_experiments_" + std::to_string(::getpid()) + "_" + t->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  CliResult cli(const std::vector<std::string>& args) {
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    CliResult r;
    r.status = wait_status(spawn_cli(args, out, err));
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
  }

  static Json json_file(const fs::path& file) { return Json::parse(read_text(file)); }

  static std::string digest(const fs::path& out) {
    return ResultsStore::open_read_only(out / ResultsStore::kFileName).content_digest(false);
  }

  fs::path dir_;
};

// training-small with two variants that set the same thing in different words.
std::string identical_variants_scenario() {
  std::string text = read_text(kTraining);
  text = text.substr(0, text.find("\nvariants:"));
  text += R"(
variants:
  - name: same_a
  - name: same_b
    description: sets what the file already says
    set:
      tie_policy.max_level: 2
)";
  return text;
}

// ---------------------------------------------------------------------------------------------
// Library functions.

TEST(ExperimentsUnit, ReplicationSeedIsBasePlusReplication) {
  EXPECT_EQ(replication_seed(7, 0), 7u);
  EXPECT_EQ(replication_seed(7, 12), 19u);
  EXPECT_EQ(replication_seed(~std::uint64_t{0}, 1), 0u);  // wraps modulo 2^64
}

TEST(ExperimentsUnit, FactorValuesKeepIntegersIntegral) {
  EXPECT_EQ(format_factor_value(4.0, true), "4");
  EXPECT_EQ(format_factor_value(3.6, true), "4");
  EXPECT_EQ(format_factor_value(2.0, false), "2");
  EXPECT_EQ(format_factor_value(0.35, false), "0.35");
  EXPECT_EQ(format_factor_value(0.1 + 0.2, false), "0.30000000000000004");
}

TEST(ExperimentsUnit, ParsePrecision) {
  EXPECT_EQ(parse_precision("complete_package_share=0.01"),
            std::make_pair(std::string("complete_package_share"), 0.01));
  for (const char* bad : {"complete_package_share", "=0.1", "x=0", "x=-1", "x=abc", "x=0.1y"})
    EXPECT_THROW(parse_precision(bad), std::invalid_argument) << bad;
}

TEST(ExperimentsUnit, MetricRoles) {
  EXPECT_EQ(metric_role("complete_package_share"), MetricRole::outcome);
  EXPECT_EQ(metric_role("dropout_share"), MetricRole::outcome);
  EXPECT_EQ(metric_role("mean_tie_level"), MetricRole::network);
  EXPECT_EQ(metric_role("density_level_5"), MetricRole::network);
  EXPECT_EQ(metric_role("case_conferences"), MetricRole::network);
  EXPECT_EQ(metric_role("collaboration_hours_share"), MetricRole::network);
  EXPECT_EQ(metric_role("cost_per_resolved_need"), MetricRole::efficiency);
  EXPECT_EQ(metric_role("clients"), MetricRole::context);
}

// The paired difference of two samples that differ by a constant is that constant with a zero
// interval; the unpaired interval is wide; S(Y) is the difference for outcomes.
TEST(ExperimentsUnit, StatisticsOfAConstantShift) {
  std::map<std::string, std::map<std::string, std::vector<double>>> v;
  v["base"]["complete_package_share"] = {0.2, 0.5, 0.3, 0.6};
  v["net"]["complete_package_share"] = {0.3, 0.6, 0.4, 0.7};
  v["base"]["mean_tie_level"] = {1, 1, 1, 1};
  v["net"]["mean_tie_level"] = {3, 4, 3, 4};
  const auto s = compare_statistics({"base", "net"}, v, {"complete_package_share"});
  const auto& d = s["complete_package_share"]["differences"]["net"];
  EXPECT_NEAR(d["mean"].get<double>(), 0.1, 1e-12);
  EXPECT_NEAR(d["ci_low"].get<double>(), 0.1, 1e-12);
  EXPECT_NEAR(d["ci_high"].get<double>(), 0.1, 1e-12);
  EXPECT_GT(d["unpaired_ci_high"].get<double>() - d["unpaired_ci_low"].get<double>(), 0.3);
  EXPECT_TRUE(d["replications_needed_unpaired"].is_null());  // no finite design matches 0
  EXPECT_EQ(s.begin().key(), "complete_package_share");      // metric_order first
  const auto av = added_value({"base", "net"}, s);
  EXPECT_NEAR(av["net"]["outcomes"]["complete_package_share"]["S"].get<double>(), 0.1, 1e-12);
  EXPECT_NEAR(av["net"]["outcomes"]["complete_package_share"]["X"].get<double>(), 0.4, 1e-12);
  EXPECT_NEAR(av["net"]["network"]["mean_tie_level"]["variant"].get<double>(), 3.5, 1e-12);
  EXPECT_FALSE(av["net"]["outcomes"].contains("mean_tie_level"));
}

TEST(ExperimentsUnit, DesignErrorsAreLocated) {
  try {
    load_design_text("method: lhs\nsamples: 1\nmetrics: []\nfactors:\n  - {path: a, low: 1}\n",
                     "d.yaml");
    FAIL() << "expected a InputError";
  } catch (const InputError& e) {
    const std::string r = e.diagnostics().report();
    EXPECT_NE(r.find("d.yaml:2:"), std::string::npos) << r;  // samples below 2
    EXPECT_NE(r.find("d.yaml:3:"), std::string::npos) << r;  // no metric
    EXPECT_NE(r.find("d.yaml:5:"), std::string::npos) << r;  // high missing
    EXPECT_NE(r.find("high"), std::string::npos) << r;
  }
}

TEST(ExperimentsUnit, PlansShareIdenticalRows) {
  const SweepDesign d = load_design((kDesigns / "grid.yaml").string());
  const DesignPlan plan = plan_design(d, 1);
  ASSERT_EQ(plan.values.rows(), 6);  // levels 2 of an integer range x 3 explicit levels
  EXPECT_EQ(plan.point_row.size(), 6u);
  EXPECT_EQ(plan.values(0, 0), 4.0);
  EXPECT_EQ(plan.values(5, 0), 7.0);
  // Sobol rows AB_i equal A when B's column i rounds to A's: identical rows share a point.
  const SweepDesign s = load_design((kDesigns / "sobol.yaml").string());
  const DesignPlan sp = plan_design(s, 13);
  EXPECT_EQ(sp.row_point.size(), 16u);
  std::set<std::size_t> distinct(sp.row_point.begin(), sp.row_point.end());
  EXPECT_EQ(distinct.size(), sp.point_row.size());
  for (std::size_t r = 0; r < sp.row_point.size(); ++r)
    EXPECT_EQ(sp.values.row(static_cast<Eigen::Index>(r)),
              sp.values.row(static_cast<Eigen::Index>(sp.point_row[sp.row_point[r]])));
}

// The experiments record finished runs in groups: one transaction for several runs, all or
// nothing, skipping runs already done (ResultsStore::record_runs).
TEST(ExperimentsUnit, StoreRecordsGroupsOfRunsAtomically) {
  const fs::path dir =
      fs::temp_directory_path() / ("caremesh_experiments_" + std::to_string(::getpid()) + "_batch");
  fs::remove_all(dir);
  ExperimentInfo info;
  info.kind = "compare";
  auto store = ResultsStore::open(dir / ResultsStore::kFileName, info);
  store.define_point("a", "{}");
  auto run = [](const std::string& point, int rep) {
    RunRecord r;
    r.point = point;
    r.replication = rep;
    r.seed = 7 + static_cast<std::uint64_t>(rep);
    r.metrics = {{"m", rep * 1.5}};
    return r;
  };
  EXPECT_EQ(store.record_runs(std::vector<RunRecord>{run("a", 0), run("a", 1)}), 2u);
  EXPECT_EQ(store.record_runs(std::vector<RunRecord>{run("a", 1), run("a", 2)}), 1u);
  EXPECT_THROW(store.record_runs(std::vector<RunRecord>{run("a", 3), run("undefined", 0)}),
               std::runtime_error);
  EXPECT_FALSE(store.has_run("a", 3));  // the whole group was rolled back
  EXPECT_EQ(store.runs().size(), 3u);
  EXPECT_EQ(store.run_metrics("a", 2), (std::vector<std::pair<std::string, double>>{{"m", 3.0}}));
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// compare.

TEST_F(ExperimentsTest, IdenticalVariantsDifferByExactlyZero) {
  const fs::path scenario = dir_ / "same.yaml";
  write_text(scenario, identical_variants_scenario());
  const auto r = cli({"compare", scenario.string(), "-n", "3", "--ticks", "200", "--out",
                      (dir_ / "out").string(), "--quiet"});
  ASSERT_EQ(r.status, 0) << r.err;
  const Json j = json_file(dir_ / "out" / "comparison.json");
  EXPECT_EQ(j["baseline"], "same_a");
  EXPECT_EQ(j["replications"], 3);
  EXPECT_EQ(j["complete"], true);
  std::size_t checked = 0;
  for (const auto& [metric, m] : j["metrics"].items()) {
    for (const char* k : {"mean", "sd", "ci_low", "ci_high"})
      EXPECT_TRUE(m["variants"]["same_a"].contains(k)) << metric << " " << k;
    const Json& d = m["differences"]["same_b"];
    for (const char* k : {"mean", "ci_low", "ci_high", "unpaired_ci_low", "unpaired_ci_high",
                          "replications_needed_unpaired"})
      EXPECT_TRUE(d.contains(k)) << metric << " " << k;
    if (d["mean"].is_null()) continue;  // undefined in these runs (e.g. no resolved client)
    EXPECT_EQ(d["mean"].get<double>(), 0.0) << metric;
    EXPECT_EQ(d["ci_low"].get<double>(), 0.0) << metric;
    EXPECT_EQ(d["ci_high"].get<double>(), 0.0) << metric;
    ++checked;
  }
  EXPECT_GT(checked, 30u);
  const Json& s = j["added_value"]["same_b"]["outcomes"]["complete_package_share"];
  EXPECT_EQ(s["S"].get<double>(), 0.0);
  EXPECT_GT(s["X"].get<double>(), 0.0);
}

TEST_F(ExperimentsTest, PairingNarrowsTheNetworkEffectInterval) {
  const auto r = cli({"compare", kTraining, "--variants", "fragmented,networked", "-n", "8",
                      "--out", (dir_ / "out").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const Json j = json_file(dir_ / "out" / "comparison.json");
  const Json& d = j["metrics"]["complete_package_share"]["differences"]["networked"];
  const double paired = d["ci_high"].get<double>() - d["ci_low"].get<double>();
  const double unpaired = d["unpaired_ci_high"].get<double>() - d["unpaired_ci_low"].get<double>();
  EXPECT_GT(paired, 0.0);
  EXPECT_LT(paired, unpaired);
  EXPECT_GT(d["replications_needed_unpaired"].get<int>(), 8);
  // S(Y) is reported beside the network measures that make up Y.
  const Json& av = j["added_value"]["networked"];
  EXPECT_EQ(av["outcomes"]["complete_package_share"]["S"], d["mean"]);
  EXPECT_GT(av["network"]["mean_tie_level"]["difference"].get<double>(), 0.0);
  EXPECT_TRUE(av["network"].contains("case_conferences"));
  EXPECT_TRUE(av["network"].contains("collaboration_hours_share"));
  // The terminal table names the metrics and both variants.
  EXPECT_NE(r.out.find("complete_package_share"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("networked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("±"), std::string::npos) << r.out;
}

TEST_F(ExperimentsTest, ResultsDoNotDependOnTheThreadCount) {
  std::vector<std::string> args = {"compare", kTraining, "--variants", "fragmented,networked",
                                   "-n",      "4",       "--ticks",    "200",
                                   "--quiet"};
  auto one = args, two = args;
  one.insert(one.end(), {"--threads", "1", "--out", (dir_ / "t1").string()});
  two.insert(two.end(), {"--threads", "2", "--out", (dir_ / "t2").string()});
  ASSERT_EQ(cli(one).status, 0);
  ASSERT_EQ(cli(two).status, 0);
  std::string a = read_text(dir_ / "t1" / "comparison.json");
  std::string b = read_text(dir_ / "t2" / "comparison.json");
  EXPECT_FALSE(a.empty());
  // The outputs name their directory nowhere, so they are byte-identical.
  EXPECT_EQ(a, b);
  EXPECT_EQ(digest(dir_ / "t1").size(), 64u);
}

TEST_F(ExperimentsTest, InterruptedExperimentResumesToTheSameContent) {
  // The same command (the store records it, output directory included) run straight through,
  // then again after removing its results, interrupted and resumed.
  const fs::path out = dir_ / "out";
  const std::vector<std::string> args = {"compare", kTraining, "--variants", "fragmented,networked",
                                         "-n",      "4",       "--ticks",    "200",
                                         "--quiet", "--out",   out.string()};
  ASSERT_EQ(cli(args).status, 0);
  const std::string straight_digest = digest(out);
  const std::string straight_json = read_text(out / "comparison.json");
  fs::remove_all(out);

  auto stopped = args;
  stopped.insert(stopped.end(), {"--threads", "2", "--stop-after", "3"});
  const auto first = cli(stopped);
  EXPECT_EQ(first.status, 130) << first.err;
  EXPECT_NE(first.err.find("same command"), std::string::npos) << first.err;
  EXPECT_FALSE(fs::exists(out / "comparison.json"));
  {
    const auto store = ResultsStore::open_read_only(out / ResultsStore::kFileName);
    EXPECT_GE(store.runs().size(), 1u);
    EXPECT_LE(store.runs().size(), 3u);
  }
  // The same command resumes (here on one thread): only the missing runs are run.
  auto resume = args;
  resume.insert(resume.end(), {"--threads", "1"});
  const auto second = cli(resume);
  ASSERT_EQ(second.status, 0) << second.err;
  {
    const auto store = ResultsStore::open_read_only(out / ResultsStore::kFileName);
    EXPECT_EQ(store.runs().size(), 8u);
    EXPECT_EQ(store.content_digest(false), straight_digest);
  }
  EXPECT_EQ(read_text(out / "comparison.json"), straight_json);
  // Rerunning a finished experiment runs nothing and changes nothing.
  ASSERT_EQ(cli(resume).status, 0);
  EXPECT_EQ(digest(out), straight_digest);
}

TEST_F(ExperimentsTest, SigintStopsLaunchingAndKeepsFinishedRuns) {
  const fs::path out = dir_ / "out";
  const std::vector<std::string> args = {
      "compare",   kTraining, "--variants", "fragmented,networked",
      "-n",        "300",     "--ticks",    "120",
      "--threads", "2",       "--quiet",    "--out",
      out.string()};
  const pid_t pid = spawn_cli(args, dir_ / "o.txt", dir_ / "e.txt");
  ASSERT_GT(pid, 0);
  // Wait until some runs are recorded, then interrupt.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::size_t seen = 0;
  while (seen == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    try {
      seen = ResultsStore::open_read_only(out / ResultsStore::kFileName).runs().size();
    } catch (const std::exception&) {  // not created yet
    }
  }
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_status(pid), 130) << read_text(dir_ / "e.txt");
  EXPECT_NE(read_text(dir_ / "e.txt").find("resume"), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "comparison.json"));
  const auto store = ResultsStore::open_read_only(out / ResultsStore::kFileName);
  const auto runs = store.runs();
  EXPECT_GE(runs.size(), seen);
  EXPECT_LT(runs.size(), 600u);
  // Every recorded run is whole.
  const std::size_t metrics = store.run_metrics(runs[0].point, runs[0].replication).size();
  EXPECT_GT(metrics, 30u);
  for (const auto& run : runs) {
    EXPECT_EQ(run.status, RunStatus::done);
    EXPECT_EQ(store.run_metrics(run.point, run.replication).size(), metrics);
  }
}

TEST_F(ExperimentsTest, PrecisionTargetStopsSequentially) {
  const std::vector<std::string> base = {"compare", kTraining, "--variants", "fragmented,networked",
                                         "-n",      "3",       "--ticks",    "200",
                                         "--quiet"};
  auto loose = base, tight = base;
  loose.insert(loose.end(),
               {"--precision", "complete_package_share=1", "--out", (dir_ / "loose").string()});
  tight.insert(tight.end(), {"--precision", "complete_package_share=1e-9", "--max-replications",
                             "7", "--out", (dir_ / "tight").string()});
  ASSERT_EQ(cli(loose).status, 0);
  ASSERT_EQ(cli(tight).status, 0);
  const Json l = json_file(dir_ / "loose" / "comparison.json");
  EXPECT_EQ(l["replications"], 3);
  EXPECT_EQ(l["precision"]["reached"], true);
  EXPECT_LE(l["precision"]["achieved_half_width"].get<double>(), 1.0);
  const Json t = json_file(dir_ / "tight" / "comparison.json");
  EXPECT_EQ(t["replications"], 7);  // 3, then 6, then capped at 7
  EXPECT_EQ(t["precision"]["reached"], false);
  const double h = t["metrics"]["complete_package_share"]["differences"]["networked"]["half_width"]
                       .get<double>();
  EXPECT_EQ(t["precision"]["achieved_half_width"].get<double>(), h);
}

TEST_F(ExperimentsTest, BadOverridesVariantsAndOptionsExitTwo) {
  const std::string out = (dir_ / "out").string();
  auto r = cli({"compare", kTraining, "--set", "tie_policy.max_lvl=3", "-n", "2", "--out", out});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("tie_policy.max_lvl"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":1:1:"), std::string::npos) << r.err;  // located at the override
  r = cli({"compare", kTraining, "--set", "tie_policy.max_level=99", "-n", "2", "--out", out});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("max_level"), std::string::npos) << r.err;
  r = cli({"compare", kTraining, "--variants", "fragmented,netwroked", "-n", "2", "--out", out});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("netwroked"), std::string::npos) << r.err;
  r = cli({"compare", kTraining, "--variants", "fragmented,fragmented", "-n", "2", "--out", out});
  EXPECT_EQ(r.status, 2);
  r = cli(
      {"compare", kTraining, "--precision", "complete_package_shar=0.1", "-n", "2", "--out", out});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("did you mean \"complete_package_share\""), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fs::path(out) / ResultsStore::kFileName));  // nothing written
}

TEST_F(ExperimentsTest, StoreOfAnotherExperimentIsRefused) {
  const std::string out = (dir_ / "out").string();
  ASSERT_EQ(cli({"compare", kTraining, "--variants", "fragmented", "-n", "2", "--ticks", "150",
                 "--quiet", "--out", out})
                .status,
            0);
  const auto r = cli({"compare", kTraining, "--variants", "fragmented", "-n", "2", "--ticks", "160",
                      "--quiet", "--out", out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("different experiment"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------------------------------------
// sweep.

TEST_F(ExperimentsTest, MalformedDesignsGetLocatedErrors) {
  struct Case {
    const char* file;
    const char* where;  // ":LINE:COL:" (or ":LINE:")
    const char* text;
  };
  const Case cases[] = {
      {"bad-method.yaml", ":1:", "did you mean \"grid\""},
      {"bad-unknown-key.yaml", ":3:1:", "replication"},
      {"bad-factor-path.yaml", ":6:", "population.annual_incidense"},
      {"bad-factor-value.yaml", ":6:", "max_level=9"},
      {"bad-low-high.yaml", ":5:", "high > low"},
      {"bad-morris-levels.yaml", ":3:", "even"},
      {"bad-metric.yaml", ":5:", "did you mean \"dropout_share\""},
      {"bad-missing-samples.yaml", ":1:", "samples"},
      {"bad-levels-and-range.yaml", ":5:", "not both"},
      {"bad-variant.yaml", ":6:", "netwroked"},
      {"bad-syntax.yaml", ":", "bad-syntax.yaml"},
      {"bad-non-integer-value.yaml", ":5:", "integer: true"},
  };
  for (const auto& c : cases) {
    const fs::path design = kDesigns / c.file;
    const fs::path out = dir_ / (std::string("out-") + c.file);
    const auto r = cli({"sweep", kTraining, "--design", design.string(), "--ticks", "120",
                        "--quiet", "--out", out.string()});
    EXPECT_EQ(r.status, 2) << c.file << "\n" << r.err;
    EXPECT_NE(r.err.find(design.string() + c.where), std::string::npos) << c.file << "\n" << r.err;
    EXPECT_NE(r.err.find(c.text), std::string::npos) << c.file << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out / ResultsStore::kFileName)) << c.file;
  }
}

class SweepTest : public ExperimentsTest {
 protected:
  Json sweep(const std::string& design, const fs::path& out) {
    const auto r = cli({"sweep", kTraining, "--design", (kDesigns / design).string(), "--ticks",
                        "150", "--quiet", "--out", out.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::exists(out / "points.csv"));
    return json_file(out / "sweep.json");
  }
  // points.csv has a header and one row per point.
  static std::size_t csv_rows(const fs::path& file) {
    std::istringstream in(read_text(file));
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) n += !line.empty();
    return n - 1;
  }
};

TEST_F(SweepTest, GridGivesMainEffectsAndIntegralSettings) {
  const Json j = sweep("grid.yaml", dir_ / "out");
  // S against Y: each outcome's rank correlation with each network_evaluation measure.
  const Json& rel = j["collaboration_relation"]["complete_package_share"];
  ASSERT_TRUE(rel.is_object());
  EXPECT_TRUE(rel.contains("mean_trust"));
  EXPECT_TRUE(rel.contains("mean_degree_centralization"));
  for (const auto& [y, v] : rel.items())
    if (v.is_number()) {
      EXPECT_GE(v.get<double>(), -1.0) << y;
      EXPECT_LE(v.get<double>(), 1.0) << y;
    }
  EXPECT_EQ(j["method"], "grid");
  EXPECT_EQ(j["points"], 6);
  EXPECT_EQ(csv_rows(dir_ / "out" / "points.csv"), 6u);
  for (const char* m : {"complete_package_share", "dropout_share"}) {
    const Json& e = j["analysis"][m]["main_effects"];
    EXPECT_EQ(e["tie_policy.max_level"]["levels"], Json({4.0, 7.0})) << m;
    EXPECT_EQ(e["tie_policy.max_level"]["count"], Json({3, 3})) << m;
    EXPECT_EQ(e["tie_policy.initial_level_members"]["levels"].size(), 3u) << m;
    EXPECT_TRUE(e["tie_policy.max_level"]["range"].is_number()) << m;
  }
  const auto store = ResultsStore::open_read_only(dir_ / "out" / ResultsStore::kFileName);
  const auto points = store.points();
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0].name, "p0000");
  for (const auto& p : points) {
    const Json s = Json::parse(p.settings_json);
    EXPECT_TRUE(s["tie_policy.max_level"].is_number_integer()) << p.settings_json;
    EXPECT_EQ(p.settings_json.find(".0"), std::string::npos) << p.settings_json;
  }
  EXPECT_EQ(store.runs().size(), 6u);
}

TEST_F(SweepTest, LatinHypercubeGivesRegressionIndices) {
  const Json j = sweep("lhs.yaml", dir_ / "out");
  EXPECT_EQ(j["points"], 6);
  const Json& a = j["analysis"]["complete_package_share"]["regression"];
  EXPECT_TRUE(a["r_squared"].is_number());
  for (const char* f : {"population.annual_incidence", "tie_policy.max_level"}) {
    const Json& e = a["factors"][f];
    ASSERT_TRUE(e["src"].is_number()) << f;
    EXPECT_LE(e["src_ci_low"].get<double>(), e["src_ci_high"].get<double>()) << f;
    EXPECT_LE(std::abs(e["correlation"].get<double>()), 1.0 + 1e-12) << f;
  }
}

TEST_F(SweepTest, MorrisGivesMuStarWithIntervals) {
  const Json j = sweep("morris.yaml", dir_ / "out");
  EXPECT_EQ(j["design_rows"], 9);  // r (k + 1)
  for (const char* m : {"complete_package_share", "mean_tie_level"}) {
    const Json& a = j["analysis"][m];
    ASSERT_TRUE(a.contains("morris")) << a.dump();
    for (const char* f : {"population.annual_incidence", "tie_policy.max_level"}) {
      const Json& mu = a["morris"][f]["mu_star"];
      ASSERT_TRUE(mu["value"].is_number()) << m << " " << f;
      EXPECT_GE(mu["value"].get<double>(), 0.0);
      EXPECT_LE(mu["ci_low"].get<double>(), mu["ci_high"].get<double>());
    }
    EXPECT_EQ(a["ranking"].size(), 2u);
  }
  // mu* = mean |EE| >= |mean EE| = |mu|.
  for (const auto& [metric, a] : j["analysis"].items())
    for (const auto& [factor, e] : a["morris"].items())
      EXPECT_GE(e["mu_star"]["value"].get<double>() + 1e-12, std::abs(e["mu"].get<double>()))
          << metric << " " << factor;
}

TEST_F(SweepTest, SobolGivesFirstAndTotalIndices) {
  const Json j = sweep("sobol.yaml", dir_ / "out");
  EXPECT_EQ(j["design_rows"], 16);  // N (k + 2)
  EXPECT_LE(j["points"].get<int>(), 16);
  const Json& a = j["analysis"]["complete_package_share"];
  ASSERT_TRUE(a.contains("sobol")) << a.dump();
  for (const char* f : {"population.annual_incidence", "tie_policy.max_level"})
    for (const char* k : {"first", "total"}) {
      const Json& e = a["sobol"][f][k];
      ASSERT_TRUE(e["value"].is_number()) << f << " " << k;
      EXPECT_LE(e["ci_low"].get<double>(), e["ci_high"].get<double>());
    }
  EXPECT_EQ(csv_rows(dir_ / "out" / "points.csv"), j["points"].get<std::size_t>());
}

TEST_F(SweepTest, InterruptedSweepResumes) {
  const fs::path out = dir_ / "out";
  const std::vector<std::string> args = {
      "sweep",   kTraining, "--design",  (kDesigns / "lhs.yaml").string(), "--ticks", "150",
      "--quiet", "--out",   out.string()};
  ASSERT_EQ(cli(args).status, 0);
  const std::string straight_digest = digest(out);
  const std::string straight_json = read_text(out / "sweep.json");
  fs::remove_all(out);
  auto stopped = args;
  stopped.insert(stopped.end(), {"--stop-after", "2"});
  EXPECT_EQ(cli(stopped).status, 130);
  EXPECT_FALSE(fs::exists(out / "sweep.json"));
  EXPECT_FALSE(fs::exists(out / "points.csv"));
  ASSERT_EQ(cli(args).status, 0);
  EXPECT_EQ(digest(out), straight_digest);
  EXPECT_EQ(read_text(out / "sweep.json"), straight_json);
}

// ---------------------------------------------------------------------------------------------
// export.

TEST_F(ExperimentsTest, ExportWritesOneRowPerRunAndMetric) {
  const fs::path out = dir_ / "out";
  ASSERT_EQ(cli({"compare", kTraining, "--variants", "fragmented,informal", "-n", "2", "--ticks",
                 "150", "--quiet", "--out", out.string()})
                .status,
            0);
  const auto r = cli({"export", out.string(), "--format", "csv"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string csv = read_text(out / "results.csv");
  std::size_t lines = 0;
  for (char c : csv) lines += c == '\n';
  const auto store = ResultsStore::open_read_only(out / ResultsStore::kFileName);
  const std::size_t metrics = store.run_metrics("fragmented", 0).size();
  EXPECT_GT(metrics, 30u);
  EXPECT_EQ(lines, 1 + 4 * metrics);  // header + runs x metrics
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "point,replication,seed,metric,value");
  // Export does not touch the store.
  const std::string before = store.content_digest(true);
  ASSERT_EQ(cli({"export", out.string(), "--out", (dir_ / "x.csv").string()}).status, 0);
  EXPECT_EQ(read_text(dir_ / "x.csv"), csv);
  EXPECT_EQ(ResultsStore::open_read_only(out / ResultsStore::kFileName).content_digest(true),
            before);
  EXPECT_EQ(cli({"export", (dir_ / "none").string()}).status, 2);
  EXPECT_EQ(cli({"export", out.string(), "--format", "parquet"}).status, 2);
}

}  // namespace
}  // namespace cm::care
