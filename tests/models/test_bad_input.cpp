// Malformed scenarios through the real command line: every file of tests/data/bad/ (a copy of
// valid-base.yaml with something broken) and every bad argument must end with exit status 2,
// a located diagnostic "FILE:LINE:COL: yaml.path: message" on stderr and nothing written into
// the output directory. A few cases are also checked in-process through load_scenario_text.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "engine/yaml_reader.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "tests/support/cli.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kBad = std::string(CAREMESH_TEST_DATA) + "/bad";

using cm::test::CliResult;
using cm::test::lines_of;
using cm::test::read_text;
using cm::test::run_cli;

// A fresh directory for one test's output, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    std::replace_if(
        name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
    path_ = fs::temp_directory_path() / ("caremesh_bad_" + std::to_string(getpid()) + "_" + name);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The result files a run writes; none may appear after a failed load.
void expect_no_results(const fs::path& out) {
  EXPECT_FALSE(fs::exists(out / "summary.json")) << out;
  if (!fs::exists(out)) return;
  for (const auto& e : fs::directory_iterator(out)) {
    EXPECT_NE(e.path().extension(), ".csv") << e.path();
    ADD_FAILURE() << "the failed run left " << e.path();
  }
}

// ---- the corpus through the CLI -------------------------------------------------------------

struct BadCase {
  std::string name;               // test name
  std::string file;               // under tests/data/bad (the path given on the command line)
  std::vector<std::string> args;  // after the file
  std::string where;              // "LINE:COL" expected in the first diagnostic
  std::string path;               // its YAML path ("" for none)
  std::string phrase;             // a key phrase of its message
  std::string origin;             // what the diagnostic names instead of the file (a --set), or ""
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) {
  return os << c.name;
}

// One row per corpus file or bad argument: name, file, arguments, LINE:COL, path, phrase, and
// what the diagnostic names instead of the file ("" for the file itself).
const std::vector<BadCase>& bad_cases() {
  // clang-format off
  static const std::vector<BadCase> cases = {
      {"SyntaxError", "syntax-error.yaml", {}, "14:3", "", "YAML syntax error", ""},
      {"UnknownKeyTop", "unknown-key-top.yaml", {}, "5:1", "horizon_dayz",
       "unknown key \"horizon_dayz\" (did you mean \"horizon_days\"?)", ""},
      {"UnknownKeyNested", "unknown-key-nested.yaml", {}, "36:20", "organizations[1].sectr",
       "unknown key \"sectr\" (did you mean \"sector\"?)", ""},
      {"DuplicateKey", "duplicate-key.yaml", {}, "20:3", "population.annual_incidence",
       "duplicate key \"annual_incidence\" (first defined at line 18)", ""},
      {"StringForNumber", "wrong-type-string.yaml", {}, "11:31", "districts[1].population",
       "expected a whole number between 0 and 100000000, got \"many\"", ""},
      {"ListForMapping", "wrong-type-list.yaml", {}, "29:13", "tie_policy",
       "expected a mapping (with key \"initial_level\"), got a sequence", ""},
      {"FractionForInteger", "wrong-type-fraction.yaml", {}, "37:36", "organizations[1].helpers",
       "got \"2.5\" (not a whole number)", ""},
      {"NegativePopulation", "negative-population.yaml", {}, "10:32", "districts[0].population",
       "expected a whole number between 0 and 100000000, got \"-3000\"", ""},
      {"NegativeHelpers", "negative-helpers.yaml", {}, "39:49", "organizations[2].helpers",
       "expected a whole number between 0 and 1000000, got \"-1\"", ""},
      {"ProbabilityAboveOne", "probability-above-one.yaml", {}, "15:82",
       "services[1].urgent_share", "expected a number between 0 and 1, got \"1.5\"", ""},
      {"ProbabilityBelowZero", "probability-below-zero.yaml", {}, "20:20",
       "population.awareness_other", "expected a number between 0 and 1, got \"-0.2\"", ""},
      {"NaN", "nan.yaml", {}, "18:21", "population.annual_incidence",
       "(not-a-number is not allowed)", ""},
      {"Infinity", "infinity.yaml", {}, "14:48", "services[0].mean_days",
       "(infinity is not allowed)", ""},
      {"UndefinedDistrict", "undefined-district.yaml", {}, "36:55", "organizations[1].district",
       "unknown district \"West\"", ""},
      {"UndefinedDistrictServed", "undefined-district-serves.yaml", {}, "38:76",
       "organizations[2].serves[1]", "unknown district \"West\"", ""},
      {"UndefinedService", "undefined-service.yaml", {}, "35:30", "organizations[0].services[1]",
       "unknown service \"counselling\"", ""},
      {"UndefinedNetworkMember", "undefined-org-member.yaml", {}, "42:32",
       "networks[0].members[1]", "unknown organization \"Hospital\"", ""},
      {"UndefinedCoordinator", "undefined-org-coordinator.yaml", {}, "42:85",
       "networks[0].coordinator", "unknown organization \"Agency\"", ""},
      {"UndefinedTieOrganization", "undefined-org-tie.yaml", {}, "46:20", "explicit_ties[0].b",
       "unknown organization \"Fundation\"", ""},
      {"LeadWithoutCoordinator", "lead-without-coordinator.yaml", {}, "42:41",
       "networks[0].governance", "governance \"lead_organization\" needs a \"coordinator\"", ""},
      {"TrustThresholdsDecreasing", "trust-decreasing.yaml", {}, "27:3", "ties.trust_threshold",
       "trust thresholds must not decrease with the level", ""},
      {"InitialLevelAboveMax", "initial-above-max.yaml", {}, "31:3", "tie_policy.max_level",
       "initial levels must not exceed max_level (3)", ""},
      {"WarmupFollowUpCoverHorizon", "warmup-followup-horizon.yaml", {}, "6:1", "warmup_days",
       "warmup_days + follow_up_days must be less than horizon_days", ""},
      {"EmptyFile", "empty.yaml", {}, "1:1", "", "the file is empty", ""},
      {"CommentOnly", "comment-only.yaml", {}, "1:1", "", "the file is empty", ""},
      {"TopLevelList", "top-level-list.yaml", {}, "2:1", "", "expected a mapping", ""},
      {"BadVariantPath", "bad-variant-path.yaml", {"--variant", "informal"}, "52:21",
       "variants[0].set[\"no.such.path\"]",
       "cannot apply override \"no.such.path\": no key \"no\" in the scenario", ""},
      {"MultipleErrors", "multiple-errors.yaml", {}, "5:1", "horizon_dayz", "unknown key", ""},
      // bad command-line input
      {"MissingFile", "no-such-file.yaml", {}, "0:0", "", "cannot open file", ""},
      {"DirectoryAsScenario", "", {}, "0:0", "", "is a directory", ""},
      {"UnknownVariant", "valid-base.yaml", {"--variant", "nosuch"}, "49:1", "variants",
       "no variant named \"nosuch\" in the scenario, expected one of: informal", ""},
      {"SetUnknownPath", "valid-base.yaml", {"--set", "no.such.path=1"}, "1:1", "no.such.path",
       "cannot apply override: no key \"no\" in the scenario", "--set no.such.path=1"},
      {"SetUnknownKey", "valid-base.yaml", {"--set", "tie_policy.max_levl=5"}, "1:1",
       "tie_policy.max_levl", "unknown key \"max_levl\" (did you mean \"max_level\"?)",
       "--set tie_policy.max_levl=5"},
      {"SetWrongType", "valid-base.yaml", {"--set", "tie_policy.max_level=nine"}, "1:1",
       "tie_policy.max_level", "expected a whole number between 0 and 7, got \"nine\"",
       "--set tie_policy.max_level=nine"},
      {"SetNaN", "valid-base.yaml", {"--set", "population.annual_incidence=.nan"}, "1:1",
       "population.annual_incidence", "not-a-number is not allowed",
       "--set population.annual_incidence=.nan"},
      {"SetIndexOutOfRange", "valid-base.yaml", {"--set", "organizations[7].helpers=1"}, "1:1",
       "organizations[7].helpers", "\"organizations\" has 3 items, no [7]",
       "--set organizations[7].helpers=1"},
  };
  // clang-format on
  return cases;
}

class BadInput : public ::testing::TestWithParam<BadCase> {
 protected:
  std::string file() const { return GetParam().file.empty() ? kBad : kBad + "/" + GetParam().file; }
  std::string prefix() const {
    const BadCase& c = GetParam();
    return (c.origin.empty() ? file() : c.origin) + ":" + c.where + ": " +
           (c.path.empty() ? "" : c.path + ": ");
  }
  std::vector<std::string> args(const std::string& command) const {
    std::vector<std::string> a = {command, file()};
    a.insert(a.end(), GetParam().args.begin(), GetParam().args.end());
    return a;
  }
};

TEST_P(BadInput, ValidateExitsTwoWithLocatedDiagnostic) {
  const CliResult r = run_cli(args("validate"));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  const auto lines = lines_of(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front().rfind(prefix(), 0), 0u)
      << "expected the prefix \"" << prefix() << "\" in\n"
      << r.err;
  EXPECT_NE(lines.front().find(GetParam().phrase), std::string::npos)
      << "expected \"" << GetParam().phrase << "\" in\n"
      << r.err;
  // every line is a located diagnostic: "NAME:LINE:COL: ..."
  const std::string origin = GetParam().origin.empty() ? file() : GetParam().origin;
  for (const auto& line : lines) {
    ASSERT_EQ(line.rfind(origin + ":", 0), 0u) << line;
    const std::string rest = line.substr(origin.size() + 1);
    const auto c1 = rest.find(':'), c2 = rest.find(':', c1 + 1);
    ASSERT_NE(c2, std::string::npos) << line;
    EXPECT_TRUE(std::all_of(rest.begin(), rest.begin() + c2, [](char c) {
      return std::isdigit(c) || c == ':';
    })) << line;
    EXPECT_EQ(rest.substr(c2, 2), ": ") << line;
  }
}

TEST_P(BadInput, RunExitsTwoAndWritesNothing) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  auto a = args("run");
  a.insert(a.end(), {"--out", out.string()});
  const CliResult r = run_cli(a);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind(prefix(), 0), 0u) << r.err;
  EXPECT_EQ(r.err, run_cli(args("validate")).err) << "run and validate report alike";
  EXPECT_FALSE(fs::exists(out)) << "the output directory was created";
  expect_no_results(out);
}

TEST_P(BadInput, RunIntoExistingDirectoryLeavesItEmpty) {
  TempDir tmp;
  auto a = args("run");
  a.insert(a.end(), {"--out", tmp.path().string(), "--force"});
  EXPECT_EQ(run_cli(a).status, 2);
  expect_no_results(tmp.path());
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInput, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(BadInputCorpus, MultipleErrorsAreAllReportedInOrder) {
  const std::string f = kBad + "/multiple-errors.yaml";
  const CliResult r = run_cli({"validate", f});
  EXPECT_EQ(r.status, 2);
  const std::vector<std::string> expected = {
      f + ":5:1: horizon_dayz: unknown key \"horizon_dayz\" (did you mean \"horizon_days\"?)",
      f + ":10:32: districts[0].population: expected a whole number between 0 and 100000000, "
          "got \"-3000\"",
      f + ":15:82: services[1].urgent_share: expected a number between 0 and 1, got \"1.5\"",
      f + ":35:30: organizations[0].services[1]: unknown service \"counselling\" (not among "
          "`services:`)",
      f + ":42:85: networks[0].coordinator: unknown organization \"Agency\" (not among the "
          "organizations)",
  };
  EXPECT_EQ(lines_of(r.err), expected) << r.err;
}

TEST(BadInputCorpus, EveryFileHasACaseAndARowInTheReadme) {
  std::set<std::string> covered;
  for (const auto& c : bad_cases()) covered.insert(c.file);
  const std::string readme = read_text(kBad + "/README.md");
  int files = 0;
  for (const auto& e : fs::directory_iterator(kBad)) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    const std::string name = e.path().filename().string();
    EXPECT_NE(readme.find("`" + name + "`"), std::string::npos) << name << " not in README.md";
    if (name != "valid-base.yaml") {
      EXPECT_TRUE(covered.count(name)) << name << " has no case";
    }
  }
  EXPECT_GE(files, 28);
}

// The control: the scenario every corpus file varies is valid and runs, so each failure above
// comes from the variation (and "nothing written" is not vacuous).
TEST(BadInputCorpus, TheBaseScenarioIsValidAndRuns) {
  const std::string f = kBad + "/valid-base.yaml";
  CliResult r = run_cli({"validate", f});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = run_cli({"validate", f, "--variant", "informal"});
  EXPECT_EQ(r.status, 0) << r.err;
  TempDir tmp;
  r = run_cli({"run", f, "--out", tmp.path().string(), "--quiet"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(tmp.path() / "summary.json"));
  EXPECT_TRUE(fs::exists(tmp.path() / "timeseries.csv"));
}

TEST(BadInputCli, MalformedSetIsRejectedWithoutWriting) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const CliResult r = run_cli(
      {"run", kBad + "/valid-base.yaml", "--out", out.string(), "--set", "tie_policy.max_level"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("expected PATH=VALUE"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(BadInputCli, BadArgumentsExitTwo) {
  TempDir tmp;
  const std::string f = kBad + "/valid-base.yaml";
  const fs::path out = tmp.path() / "out";
  EXPECT_EQ(run_cli({}).status, 2);              // no subcommand
  EXPECT_EQ(run_cli({"frobnicate"}).status, 2);  // unknown subcommand
  EXPECT_EQ(run_cli({"run", f}).status, 2);      // no --out
  EXPECT_EQ(run_cli({"run", f, "--out", out.string(), "--seed", "-1"}).status, 2);
  EXPECT_EQ(run_cli({"run", f, "--out", out.string(), "--threads", "x"}).status, 2);
  EXPECT_EQ(run_cli({"run", f, "--out", out.string(), "--bogus"}).status, 2);
  EXPECT_EQ(run_cli({"validate"}).status, 2);  // no scenario
  EXPECT_FALSE(fs::exists(out));
}

// ---- in-process, through load_scenario_text -------------------------------------------------

cm::Diagnostics load_errors(const std::string& text, const cm::care::LoadOptions& opt = {}) {
  try {
    cm::care::load_scenario_text(text, "s.yaml", opt);
  } catch (const cm::InputError& e) {
    return e.diagnostics();
  }
  ADD_FAILURE() << "the scenario loaded without error";
  return {};
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(BadInputText, TheBaseLoads) {
  const auto sc = cm::care::load_scenario_text(read_text(kBad + "/valid-base.yaml"), "s.yaml");
  EXPECT_EQ(sc.name, "bad-base");
  EXPECT_EQ(sc.organizations.size(), 3u);
  ASSERT_EQ(sc.networks.size(), 1u);
  EXPECT_EQ(sc.networks[0].coordinator, 0);
  EXPECT_EQ(sc.tie_policy.max_level, 7);
  const auto informal = cm::care::load_scenario_text(read_text(kBad + "/valid-base.yaml"), "s.yaml",
                                                     {"informal", {}});
  EXPECT_EQ(informal.tie_policy.max_level, 2);
}

TEST(BadInputText, MultipleErrorsGiveOneDiagnosticEach) {
  const auto d = load_errors(read_text(kBad + "/multiple-errors.yaml"));
  ASSERT_EQ(d.size(), 5u) << d.report();
  std::set<std::string> paths;
  for (const auto& item : d.items()) {
    paths.insert(item.path);
    EXPECT_EQ(item.where.file, "s.yaml");
    EXPECT_GT(item.where.line, 0);
    EXPECT_GT(item.where.column, 0);
  }
  EXPECT_EQ(paths, (std::set<std::string>{
                       "horizon_dayz", "districts[0].population", "services[1].urgent_share",
                       "organizations[0].services[1]", "networks[0].coordinator"}));
}

TEST(BadInputText, UnknownNestedKeySuggestsTheClosestKey) {
  const auto d = load_errors(read_text(kBad + "/unknown-key-nested.yaml"));
  ASSERT_EQ(d.size(), 1u) << d.report();
  EXPECT_EQ(d.items()[0].str(),
            "s.yaml:36:20: organizations[1].sectr: unknown key \"sectr\" (did you mean "
            "\"sector\"?)");
}

TEST(BadInputText, EmptyAndCommentOnlyTextAreOneDiagnostic) {
  EXPECT_EQ(load_errors("").size(), 1u);
  EXPECT_EQ(load_errors("# nothing\n").size(), 1u);
  EXPECT_EQ(load_errors("[1, 2]\n").size(), 1u);
}

TEST(BadInputText, AnInvalidHorizonGivesNoSecondErrorAboutTheCohort) {
  // horizon_days out of range must not also be compared with warmup/follow-up on its fallback
  // (365 days, which 300 + 100 would exceed)
  std::string text = read_text(kBad + "/valid-base.yaml");
  text = replace_once(text, "horizon_days: 120", "horizon_days: 40000");
  text = replace_once(text, "warmup_days: 20\nfollow_up_days: 20",
                      "warmup_days: 300\nfollow_up_days: 100");
  const auto d = load_errors(text);
  ASSERT_EQ(d.size(), 1u) << d.report();
  EXPECT_EQ(d.items()[0].path, "horizon_days");
  // with a valid horizon the comparison is made
  text = replace_once(text, "horizon_days: 40000", "horizon_days: 400");
  const auto e = load_errors(text);
  ASSERT_EQ(e.size(), 1u) << e.report();
  EXPECT_EQ(e.items()[0].path, "warmup_days");
}

TEST(BadInputText, CommandLineOverridesAreLocatedOnTheCommandLine) {
  const std::string base = read_text(kBad + "/valid-base.yaml");
  cm::care::LoadOptions opt;
  opt.sets = {{"helpers.caseload_cap", "lots"}};
  const auto d = load_errors(base, opt);
  ASSERT_EQ(d.size(), 1u) << d.report();
  EXPECT_EQ(d.items()[0].where.file, "--set helpers.caseload_cap=lots");
  EXPECT_EQ(d.items()[0].path, "helpers.caseload_cap");
}

TEST(BadInputText, VariantOverridesAreLocatedInTheVariant) {
  // a wrong value, and a misspelt key, written under a variant's `set:` (line 53 of the base)
  const std::string base = read_text(kBad + "/valid-base.yaml");
  auto d = load_errors(
      replace_once(base, "      tie_policy.max_level: 2", "      tie_policy.max_level: nine"),
      {"informal", {}});
  ASSERT_EQ(d.size(), 1u) << d.report();
  EXPECT_EQ(d.items()[0].str(),
            "s.yaml:53:29: tie_policy.max_level: expected a whole number between 0 and 7, got "
            "\"nine\"");
  d = load_errors(
      replace_once(base, "      tie_policy.max_level: 2", "      tie_policy.max_levl: 2"),
      {"informal", {}});
  ASSERT_EQ(d.size(), 1u) << d.report();
  EXPECT_EQ(d.items()[0].where.line, 53);
  EXPECT_EQ(d.items()[0].path, "tie_policy.max_levl");
}

}  // namespace
