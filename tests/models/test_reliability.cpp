// Reliability of the command line against hostile input (tests/data/hostile/, README.md there):
// every hostile scenario is refused with a located diagnostic and exit status 2 — never a
// crash, a hang or running out of memory — and nothing is written: no new output directory,
// and a directory that already holds results keeps them, --force or not. Also: a directory
// given as the scenario, an output path that cannot be created (even as root), results already
// in the output directory, an output directory nobody can write, the memory estimate and its
// limit, SIGTERM during a sweep, the workshop server on loopback under a bounded concurrent
// load, and the fuzz corpus (fuzz/corpus/*/) fed to the same code as the fuzz targets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/results_store.hpp"
#include "fuzz/harness.hpp"
#if __has_include("models/socialcare/workshop/workshop.hpp")
#include "fuzz/harness_workshop.hpp"
#define CAREMESH_HAS_WORKSHOP 1
#endif
#include "models/socialcare/scenario_loader.hpp"
#include "tests/support/cli.hpp"

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

using cm::test::read_text;

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

// A directory that exists but cannot be written: a read-only one, or for root (whom permissions
// do not stop) a directory of /proc, where nobody can create files.
TEST(HostilePaths, AnOutputDirectoryThatCannotBeWrittenFailsWithExitOne) {
  TempDir tmp;
  fs::path out = tmp / "read-only";
  fs::create_directories(out);
  fs::permissions(out, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() == 0) out = "/proc/self/fdinfo";
  const auto before = files_of(out);
  const CliResult r = run_cli({"run", kValid, "--out", out.string(), "--quiet"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("caremesh: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(out.string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / "summary.json"));
  if (::geteuid() != 0) {
    EXPECT_TRUE(files_of(out) == before);
  }
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
  try {
    cm::care::load_scenario_text(text, "m.yaml",
                                 {"",
                                  {{"population.annual_incidence", "10"},
                                   {"horizon_days", "36500"},
                                   {"warmup_days", "0"},
                                   {"follow_up_days", "0"}},
                                  *cm::care::parse_memory_size("1000T")});
    ADD_FAILURE() << "accepted";
  } catch (const cm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("more than the 1000000000 a run supports"),
              std::string::npos)
        << e.what();
  }
}

// ---- SIGTERM during a sweep ----------------------------------------------------------------

using cm::test::spawn_cli;

// The exit status, or -1 (killed by a signal, or still running after the timeout: then killed).
int wait_status(pid_t pid, int timeout_s = 300) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int st = 0;
  while (pid > 0) {
    const pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (w < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::size_t recorded_runs(const fs::path& out) {
  try {
    return cm::ResultsStore::open_read_only(out / cm::ResultsStore::kFileName).runs().size();
  } catch (const std::exception&) {  // not created yet
    return 0;
  }
}

// SIGTERM in the middle of a sweep: exit 130, the runs finished so far are kept whole in the
// results store, no analysis (sweep.json, points.csv) is written, and the same command finishes
// the sweep, running only what is missing.
TEST(SweepSignals, SigtermKeepsTheFinishedRunsAndTheSameCommandFinishes) {
  TempDir tmp;
  const fs::path design = tmp / "design.yaml";
  std::ofstream(design) << "method: lhs\nreplications: 2\nseed: 5\nsamples: 150\n"
                           "metrics: [complete_package_share]\nfactors:\n"
                           "  - {path: population.annual_incidence, low: 0.025, high: 0.045}\n";
  const fs::path out = tmp / "out";
  const std::vector<std::string> args = {
      "sweep",     std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml",
      "--design",  design.string(),
      "--ticks",   "300",
      "--threads", "2",
      "--quiet",   "--out",
      out.string()};
  const pid_t pid = spawn_cli(args, tmp / "o.txt", tmp / "e.txt");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::size_t seen = 0;
  while (seen == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = recorded_runs(out);
  }
  ::kill(pid, SIGTERM);
  const int status = wait_status(pid);
  const std::string err = read_text(tmp / "e.txt");
  ASSERT_EQ(status, 130) << err;
  EXPECT_NE(err.find("caremesh: interrupted: "), std::string::npos) << err;
  EXPECT_NE(err.find("Run the same command again to resume"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out / "sweep.json"));
  EXPECT_FALSE(fs::exists(out / "points.csv"));
  const auto store = cm::ResultsStore::open_read_only(out / cm::ResultsStore::kFileName);
  const auto runs = store.runs();
  EXPECT_GE(runs.size(), seen);
  EXPECT_LT(runs.size(), 300u) << "the sweep was not interrupted";
  for (const auto& run : runs) EXPECT_EQ(run.status, cm::RunStatus::done) << run.point;
  const CliResult again = run_cli(args, {{}, 600, true});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_TRUE(fs::exists(out / "sweep.json"));
  EXPECT_EQ(recorded_runs(out), 300u);
}

#ifdef CAREMESH_HAS_WORKSHOP
// ---- the workshop server ---------------------------------------------------------------------

// `caremesh serve` listens on 127.0.0.1 unless told otherwise: its listening socket in
// /proc/net/tcp has the local address 127.0.0.1, and none listens on another address or IPv6.
// SIGTERM stops it with exit status 0.
TEST(ServeCli, ListensOnLoopbackOnlyByDefaultAndStopsOnSigterm) {
  TempDir tmp;
  const pid_t pid = spawn_cli({"serve", "training-small", "--port", "0", "--replications", "1"},
                              tmp / "o.txt", tmp / "e.txt");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::string out;
  while (out.find("listening on") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out = read_text(tmp / "o.txt");
  }
  const auto at = out.find("listening on http://127.0.0.1:");
  EXPECT_NE(at, std::string::npos) << out << read_text(tmp / "e.txt");
  const int port = at == std::string::npos ? 0 : std::atoi(out.c_str() + at + 30);
  EXPECT_GT(port, 0);
  // /proc/net/tcp: "sl local_address rem_address st ..." in hex; st 0A is LISTEN.
  char port_hex[8];
  std::snprintf(port_hex, sizeof port_hex, ":%04X", static_cast<unsigned>(port));
  int loopback = 0, other = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(read_text(table));
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string sl, addr, rem, st;
      f >> sl >> addr >> rem >> st;
      if (st != "0A" || !addr.ends_with(port_hex)) continue;
      ++(addr == std::string("0100007F") + port_hex ? loopback : other);
    }
  }
  EXPECT_EQ(loopback, 1);
  EXPECT_EQ(other, 0);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_status(pid, 60), 0) << read_text(tmp / "e.txt");
  EXPECT_NE(read_text(tmp / "o.txt").find("stopped"), std::string::npos);
}

// A client of the loopback server: sends a request on a fresh connection (10 s timeouts) and
// returns the HTTP status of the answer, 0 when none came.
int http_status(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string text;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text.rfind("HTTP/1.", 0) == 0 && text.size() > 12 ? std::atoi(text.c_str() + 9) : 0;
}

// A bounded concurrent load: 8 clients send 25 requests each at once (status reads, valid and
// malformed comparisons) to a server with 2 connection threads and a queue of 4 connections.
// Every request gets an HTTP answer: 200, or a refusal that says why (400, 422, 429, 503); the
// server then still answers, and stops when asked.
TEST(WorkshopLoad, ConcurrentClientsAreAllAnsweredAndTheServerStops) {
  using namespace cm::care::workshop;
  const Workshop& w = cm::fuzz::fuzz_workshop();
  ServerOptions so;
  so.port = 0;
  so.http_threads = 2;
  so.max_queued_connections = 4;
  so.rate_per_second = 50;
  so.rate_burst = 60;
  so.read_timeout_seconds = 2;
  WorkshopServer server(w, so);
  const int port = server.bind();
  ASSERT_GT(port, 0);
  auto running = std::async(std::launch::async, [&server] { server.run(); });
  struct StopOnExit {
    WorkshopServer& s;
    ~StopOnExit() { s.stop(); }
  } stop_on_exit{server};

  const auto post = [](const std::string& body) {
    return "POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::vector<std::string> requests = {
      "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      post(R"({"max_level": 3})"), post("{not json"), post(R"({"max_level": 42})")};
  constexpr int kClients = 8, kEach = 25;
  std::vector<std::map<int, int>> seen(kClients);  // status -> count, per client
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; i < kEach; ++i)
        ++seen[c][http_status(port, requests[(c + i) % requests.size()])];
    });
  for (auto& t : clients) t.join();
  std::map<int, int> total;
  for (const auto& m : seen)
    for (const auto& [status, n] : m) total[status] += n;
  int answered = 0;
  for (const auto& [status, n] : total) {
    EXPECT_TRUE(status == 200 || status == 400 || status == 422 || status == 429 || status == 503)
        << n << " requests got status " << status;
    answered += n;
  }
  EXPECT_EQ(answered, kClients * kEach);
  EXPECT_GT(total[200], 0);
  EXPECT_GT(total[400], 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the rate limit refills
  EXPECT_EQ(http_status(port, requests[0]), 200);
  server.stop();
  ASSERT_EQ(running.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the server did not stop";
  running.get();
}
#endif

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
