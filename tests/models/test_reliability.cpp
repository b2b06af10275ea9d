// Reliability of the command line against hostile input (tests/data/hostile/, README.md there):
// every hostile scenario is refused with a located diagnostic and exit status 2 — never a
// crash, a hang or running out of memory — and nothing is written: no new output directory,
// and a directory that already holds results keeps them, --force or not. Also: a directory
// given as the scenario, an output path that cannot be created (even as root), results already
// in the output directory, the memory estimate and its limit, and the fuzz corpus
// (fuzz/corpus/*/) fed to the same code as the fuzz targets.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fuzz/harness.hpp"
#if __has_include("models/socialcare/workshop.hpp")
#include "fuzz/harness_workshop.hpp"
#define CAREMESH_HAS_WORKSHOP 1
#endif
#include "models/socialcare/scenario_loader.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

const std::string kData = CAREMESH_TEST_DATA;
const std::string kHostile = kData + "/hostile";
const std::string kValid = kData + "/bad/valid-base.yaml";
const fs::path kCorpus = fs::path(CAREMESH_TEST_DATA) / ".." / ".." / "fuzz" / "corpus";

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> files_of(const fs::path& d) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(d))
    files[e.path().filename().string()] = read_text(e.path());
  return files;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

struct CliResult {
  int status = -1;  // exit status; -1 killed by a signal, -2 timed out
  int signal = 0;   // the signal that ended it
  long max_rss_kb = 0;
  std::string out, err;
};

struct CliOptions {
  std::vector<std::string> env;  // NAME=VALUE added to the environment
  int timeout_s = 60;
  bool limit_memory = true;  // address space 2 GiB (not under sanitizers)
};

// Runs the caremesh binary with a timeout, an address-space limit and extra environment,
// capturing stdout and stderr through temporary files and the peak memory through wait4.
CliResult run_cli(const std::vector<std::string>& args, const CliOptions& opt = {}) {
  const fs::path dir = fs::temp_directory_path();
  std::string out_name = (dir / "caremesh_rel_out_XXXXXX").string();
  std::string err_name = (dir / "caremesh_rel_err_XXXXXX").string();
  const int out_fd = mkstemp(out_name.data());
  const int err_fd = mkstemp(err_name.data());
  CliResult r;
  if (out_fd < 0 || err_fd < 0) {
    ADD_FAILURE() << "cannot create temporary files";
    return r;
  }
  std::vector<std::string> argv_text = {CAREMESH_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = opt.env;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const std::string name = kv.substr(0, kv.find('='));
    if (std::none_of(opt.env.begin(), opt.env.end(),
                     [&](const std::string& x) { return x.rfind(name + "=", 0) == 0; }))
      env_text.push_back(kv);
  }
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const bool limit = opt.limit_memory && !kSanitized;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (limit) {
      const rlimit as{2048ul << 20, 2048ul << 20};
      setrlimit(RLIMIT_AS, &as);
    }
    execve(CAREMESH_BINARY, argv.data(), envp.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opt.timeout_s);
  int st = 0;
  rusage usage{};
  while (pid > 0) {
    const pid_t w = wait4(pid, &st, WNOHANG, &usage);
    if (w == pid) {
      if (WIFEXITED(st)) r.status = WEXITSTATUS(st);
      if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
      r.max_rss_kb = usage.ru_maxrss;
      break;
    }
    if (w < 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      r.status = -2;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.out = read_text(out_name);
  r.err = read_text(err_name);
  fs::remove(out_name);
  fs::remove(err_name);
  return r;
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    std::replace(name.begin(), name.end(), '/', '_');
    path_ = fs::temp_directory_path() / ("caremesh_rel_" + std::to_string(getpid()) + "_" + name);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A directory holding the results of a run of the valid base scenario.
fs::path make_results(const TempDir& tmp, const std::string& name) {
  const fs::path d = tmp / name;
  const CliResult r = run_cli({"run", kValid, "--out", d.string(), "--quiet"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(d / "summary.json"));
  return d;
}

// The located start of a diagnostic: "FILE:LINE:COL: ".
::testing::AssertionResult located(const std::string& line, const std::string& file) {
  if (line.rfind(file + ":", 0) != 0)
    return ::testing::AssertionFailure() << "\"" << line << "\" does not start with " << file;
  std::istringstream rest(line.substr(file.size() + 1));
  int l = -1, c = -1;
  char colon1 = 0, colon2 = 0;
  rest >> l >> colon1 >> c >> colon2;
  if (!rest || colon1 != ':' || colon2 != ':' || l < 0 || c < 0)
    return ::testing::AssertionFailure() << "\"" << line << "\" has no LINE:COL after the file";
  return ::testing::AssertionSuccess();
}

// ---- hostile scenarios ----------------------------------------------------------------------

struct HostileCase {
  std::string file;    // in tests/data/hostile
  std::string where;   // "LINE:COL: path: " expected after "FILE:" on the first line of stderr
  std::string phrase;  // expected in the first line
  int lines = 1;       // diagnostics expected
};

void PrintTo(const HostileCase& c, std::ostream* os) {
  *os << c.file;
}

std::vector<HostileCase> hostile_cases() {
  return {
      {"alias-bomb.yaml", "2:1: ", "document too large after expanding aliases (alias bomb?)"},
      {"deep-nesting.yaml", "54:", "nesting is too deep for the YAML parser"},
      {"deep-mappings.yaml", "54:", "nesting is too deep for the YAML parser"},
      {"huge-population.yaml", "10:32: districts[0].population: ",
       "expected a whole number between 0 and 100000000, got \"1000000000000\""},
      {"memory-estimate.yaml",
       "11:32: districts[0].population: ", "GiB of memory, more than the limit of 8.0 GiB"},
      {"huge-numbers.yaml", "4:7: seed: ", "(too large)", 2},
      {"nan-inf.yaml", "15:44: services[1].mean_days: ", "(infinity is not allowed)", 4},
      {"non-utf8.yaml", "11:17: ", "invalid UTF-8 byte 0xF3, expected UTF-8 text"},
      {"nul-byte.yaml", "2:10: ", "control character 0x00 is not allowed"},
      {"utf16.yaml", "1:1: ", "the file is UTF-16 or UTF-32 encoded, expected UTF-8 text"},
      {"empty.yaml", "1:1: ", "the file is empty"},
      {"stray-comma.yaml", "2:1: ", "YAML syntax error: unexpected ','"},
  };
}

class Hostile : public ::testing::TestWithParam<HostileCase> {
 protected:
  void expect_refusal(const CliResult& r, const std::string& file) {
    const HostileCase& c = GetParam();
    EXPECT_EQ(r.status, 2) << "signal " << r.signal << "\n" << r.err;
    EXPECT_EQ(r.out, "");
    const std::string line = first_line(r.err);
    EXPECT_EQ(line.rfind(file + ":" + c.where, 0), 0u) << line;
    EXPECT_NE(line.find(c.phrase), std::string::npos) << line;
    EXPECT_TRUE(located(line, file));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), c.lines) << r.err;
    if (!kSanitized) {
      EXPECT_LT(r.max_rss_kb, 256 * 1024) << "peak memory, kB";
    }
  }
  TempDir tmp_;
};

TEST_P(Hostile, ValidateRefusesWithALocatedDiagnostic) {
  const std::string file = kHostile + "/" + GetParam().file;
  expect_refusal(run_cli({"validate", file}), file);
}

TEST_P(Hostile, RunRefusesAndCreatesNothing) {
  const std::string file = kHostile + "/" + GetParam().file;
  const fs::path out = tmp_ / "out";
  expect_refusal(run_cli({"run", file, "--out", out.string()}), file);
  EXPECT_FALSE(fs::exists(out));
}

TEST_P(Hostile, RunIntoEarlierResultsLeavesThemIntactEvenWithForce) {
  const std::string file = kHostile + "/" + GetParam().file;
  const fs::path d = make_results(tmp_, "earlier");
  const auto before = files_of(d);
  expect_refusal(run_cli({"run", file, "--out", d.string()}), file);
  expect_refusal(run_cli({"run", file, "--out", d.string(), "--force"}), file);
  EXPECT_TRUE(files_of(d) == before);
}

INSTANTIATE_TEST_SUITE_P(Corpus, Hostile, ::testing::ValuesIn(hostile_cases()),
                         [](const auto& info) {
                           std::string n = info.param.file.substr(0, info.param.file.find('.'));
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(HostileCorpus, EveryFileHasACaseAndARowInTheReadme) {
  const std::string readme = read_text(kHostile + "/README.md");
  const auto cases = hostile_cases();
  for (const auto& e : fs::directory_iterator(kHostile)) {
    const std::string name = e.path().filename().string();
    if (name == "README.md") continue;
    EXPECT_TRUE(std::any_of(cases.begin(), cases.end(),
                            [&](const HostileCase& c) { return c.file == name; }))
        << name << " has no case in hostile_cases()";
    EXPECT_NE(readme.find("`" + name + "`"), std::string::npos) << name << " not in README.md";
  }
}

// ---- paths ----------------------------------------------------------------------------------

TEST(HostilePaths, ADirectoryAsTheScenarioIsRefused) {
  TempDir tmp;
  for (const std::string& dir : {kHostile, (tmp / "a.yaml").string()}) {
    fs::create_directories(tmp / "a.yaml");
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"validate", dir}, {"run", dir, "--out", (tmp / "out").string()}}) {
      const CliResult r = run_cli(args);
      EXPECT_EQ(r.status, 2) << r.err;
      EXPECT_TRUE(located(first_line(r.err), dir));
      EXPECT_NE(r.err.find("is a directory, expected a YAML file"), std::string::npos) << r.err;
      EXPECT_FALSE(fs::exists(tmp / "out"));
    }
  }
}

TEST(HostilePaths, AMissingOrUnreadableScenarioIsRefused) {
  TempDir tmp;
  const std::string missing = (tmp / "missing.yaml").string();
  CliResult r = run_cli({"validate", missing});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(located(first_line(r.err), missing));
  EXPECT_NE(r.err.find("cannot open file"), std::string::npos) << r.err;
}

// As root, permissions do not stop writes; a path below a regular file fails for everyone.
TEST(HostilePaths, AnOutputPathThatCannotBeCreatedFailsWithExitOneAndWritesNothing) {
  TempDir tmp;
  const fs::path file = tmp / "plain-file";
  std::ofstream(file) << "not a directory\n";
  for (const fs::path& out : {file / "results", file / "a" / "b", file}) {
    const CliResult r = run_cli({"run", kValid, "--out", out.string(), "--quiet"});
    EXPECT_EQ(r.status, 1) << out << ": " << r.err;
    EXPECT_NE(r.err.find(out.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("caremesh: error: "), std::string::npos) << r.err;
  }
  EXPECT_EQ(read_text(file), "not a directory\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

TEST(HostilePaths, ResultsInTheOutputDirectoryAreKeptUnlessForced) {
  TempDir tmp;
  const fs::path d = make_results(tmp, "earlier");
  const auto before = files_of(d);
  const CliResult r = run_cli({"run", kValid, "--out", d.string(), "--seed", "99"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("already holds results"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_TRUE(files_of(d) == before) << "the refused run changed the earlier results";
}

// --force replaces a result with another without leaving any file of the earlier run: here a
// run that writes more files (Warsaw, with steering.csv) replaced by one that writes fewer.
TEST(HostilePaths, ForceNeverMixesTheFilesOfTwoRuns) {
  TempDir tmp;
  const fs::path d = tmp / "out";
  const std::string warsaw = std::string(CAREMESH_SCENARIO_DIR) + "/warsaw.yaml";
  ASSERT_EQ(run_cli({"run", warsaw, "--out", d.string(), "--quiet", "--ticks", "40"}).status, 0);
  ASSERT_EQ(
      run_cli({"run", kValid, "--out", (tmp / "fresh").string(), "--quiet", "--no-client-records"})
          .status,
      0);
  const CliResult r =
      run_cli({"run", kValid, "--out", d.string(), "--quiet", "--force", "--no-client-records"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto now = files_of(d), fresh = files_of(tmp / "fresh");
  for (const auto& [name, text] : now)
    EXPECT_TRUE(fresh.count(name)) << name << " of the earlier run survived --force";
  EXPECT_EQ(now.size(), fresh.size());
}

// An override index beyond any integer type (found by fuzz_scenario: std::stol threw
// std::out_of_range, and the command line exited 1 with "caremesh: error: stol").
TEST(HostileArguments, AHugeOverrideIndexIsRefusedOnTheCommandLine) {
  const std::string set = "districts[99999999999999999999].population=1";
  const CliResult r = run_cli({"validate", kValid, "--set", set});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(first_line(r.err).rfind("--set " + set + ":1:1: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("is too large"), std::string::npos) << r.err;
}

// ---- the memory estimate --------------------------------------------------------------------

TEST(MemoryLimit, MaxMemoryLowersTheLimit) {
  TempDir tmp;
  CliResult r =
      run_cli({"run", kValid, "--out", (tmp / "out").string(), "--quiet", "--max-memory", "20K"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(located(first_line(r.err), kValid));
  EXPECT_NE(r.err.find("districts[0].population: the scenario would create about "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--max-memory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "out"));
  r = run_cli({"validate", kValid}, {{"CAREMESH_MAX_MEMORY=20K"}});
  EXPECT_EQ(r.status, 2) << r.err;
  r = run_cli({"validate", kValid}, {{"CAREMESH_MAX_MEMORY=1G"}});
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_cli({"validate", kValid}, {{"CAREMESH_MAX_MEMORY=lots"}});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("CAREMESH_MAX_MEMORY"), std::string::npos) << r.err;
  r = run_cli({"run", kValid, "--out", (tmp / "out").string(), "--max-memory", "many"});
  EXPECT_EQ(r.status, 2) << r.err;
}

TEST(MemoryLimit, RaisingTheLimitDoesNotLiftTheClientCountLimit) {
  // 10^8 residents x incidence 10 x 100 years is 10^11 clients: more than 32-bit ids allow.
  const std::string text = read_text(kHostile + "/memory-estimate.yaml");
  ::setenv("CAREMESH_MAX_MEMORY", "1000T", 1);
  try {
    cm::care::load_scenario_text(text, "m.yaml",
                                 {"",
                                  {{"population.annual_incidence", "10"},
                                   {"horizon_days", "36500"},
                                   {"warmup_days", "0"},
                                   {"follow_up_days", "0"}}});
    ADD_FAILURE() << "accepted";
  } catch (const cm::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("more than the 1000000000 a run supports"),
              std::string::npos)
        << e.what();
  }
  ::unsetenv("CAREMESH_MAX_MEMORY");
}

// ---- the fuzz corpus as a regression suite --------------------------------------------------

std::vector<fs::path> corpus(const std::string& target) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kCorpus / target, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Every committed input of fuzz_scenario (seeds and the inputs of past findings), and every
// scenario and hostile file the fuzzer starts from, is loaded or refused, never more.
TEST(FuzzCorpus, EveryScenarioInputIsLoadedOrRefused) {
  std::vector<fs::path> files = corpus("scenario");
  EXPECT_GE(files.size(), 5u) << kCorpus / "scenario";
  for (const std::string& dir : {kHostile, kData + "/bad", std::string(CAREMESH_SCENARIO_DIR)})
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".yaml") files.push_back(e.path());
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW(cm::fuzz::scenario_input(read_text(f)));
  }
}

TEST(FuzzCorpus, EveryDesignInputIsLoadedOrRefused) {
  std::vector<fs::path> files = corpus("design");
  EXPECT_GE(files.size(), 5u) << kCorpus / "design";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kData + "/designs", ec))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW(cm::fuzz::design_input(read_text(f)));
  }
}

#ifdef CAREMESH_HAS_WORKSHOP
TEST(FuzzCorpus, EveryWorkshopRequestIsAnswered) {
  const std::vector<fs::path> files = corpus("workshop");
  EXPECT_GE(files.size(), 5u) << kCorpus / "workshop";
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW(cm::fuzz::workshop_input(read_text(f)));
  }
}
#endif

}  // namespace
