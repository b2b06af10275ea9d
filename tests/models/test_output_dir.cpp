// Output directories owned by one process (engine/directory_lock.hpp) and holding one result
// (models/socialcare/result_dir.hpp): concurrent commands into one directory, a directory
// holding another kind of result, --force and a killed writer's temporary files.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/cli.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using cm::test::CliResult;
using cm::test::read_text;
using cm::test::run_cli;

namespace {

const std::string kSmall = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";
const std::string kBusy = "in use by another caremesh process";

struct TempDir : cm::test::TempDir {
  TempDir() : cm::test::TempDir("caremesh_outdir") {}
};

std::map<std::string, std::string> files_of(const fs::path& d) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(d))
    files[e.path().filename().string()] = read_text(e.path());
  return files;
}

std::vector<std::string> run_args(const fs::path& out, int seed) {
  return {"run",    kSmall, "--out", out.string(), "--ticks", "60", "--seed", std::to_string(seed),
          "--quiet"};
}

}  // namespace

// Four runs with four seeds started at once into one directory, ten times (five times with
// --force): every process either finishes (exit 0) or is refused (2: the directory is in use;
// 1: it already holds results), and the directory then holds exactly the files of one of the
// runs that finished, byte for byte as that run writes them alone. Without --force exactly one
// finishes. Before the lock, several finished and the directory mixed their files.
TEST(OutputDir, ConcurrentRunsIntoOneDirectoryAreRefusedOrUnmixed) {
  TempDir tmp;
  constexpr int kProcesses = 4, kTrials = 10;
  std::vector<std::map<std::string, std::string>> reference;
  for (int s = 0; s < kProcesses; ++s) {
    const fs::path ref = tmp / ("ref" + std::to_string(s));
    ASSERT_EQ(run_cli(run_args(ref, s)).status, 0);
    reference.push_back(files_of(ref));
  }
  int refused = 0, finished = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const bool force = trial % 2 == 1;
    const fs::path out = tmp / ("trial" + std::to_string(trial));
    std::vector<pid_t> pids;
    for (int s = 0; s < kProcesses; ++s) {
      auto args = run_args(out, s);
      if (force) args.push_back("--force");
      pids.push_back(cm::test::spawn_cli(args, tmp / ("o" + std::to_string(s)),
                                         tmp / ("e" + std::to_string(s))));
    }
    std::vector<int> ok;
    for (int s = 0; s < kProcesses; ++s) {
      const int status = cm::test::wait_status(pids[static_cast<std::size_t>(s)]);
      const std::string err = read_text(tmp / ("e" + std::to_string(s)));
      if (status == 0) {
        ok.push_back(s);
        ++finished;
      } else {
        ++refused;
        EXPECT_TRUE((status == 2 && err.find(kBusy) != std::string::npos) ||
                    (status == 1 && err.find("already holds results") != std::string::npos))
            << "trial " << trial << " seed " << s << ": status " << status << ": " << err;
      }
    }
    ASSERT_FALSE(ok.empty()) << "trial " << trial << ": no run finished";
    if (!force) {
      EXPECT_EQ(ok.size(), 1u) << "trial " << trial << ": several runs finished";
    }
    const auto now = files_of(out);
    bool matches = false;
    for (int s : ok) matches = matches || now == reference[static_cast<std::size_t>(s)];
    EXPECT_TRUE(matches) << "trial " << trial << ": the directory holds no finished run's files";
  }
  std::cout << "[ measured ] " << kTrials << " trials x " << kProcesses
            << " processes: " << finished << " finished, " << refused << " refused, none mixed\n";
}

// While a process holds the directory's lock, run, resume, compare, sweep and report into it
// are refused at once with exit status 2, and nothing is written.
TEST(OutputDir, ASecondProcessIsRefusedWhileTheFirstHoldsTheDirectory) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  ASSERT_EQ(run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet",
                     "--stop-after-ticks", "10"})
                .status,
            130);
  const auto before = files_of(out);
  const int fd = ::open((out / ".caremesh.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const fs::path design = tmp / "design.yaml";
  cm::test::write_text(design,
                       "method: grid\nreplications: 2\nmetrics: [complete_package_share]\n"
                       "factors:\n  - {path: population.annual_incidence, levels: [0.03, 0.04]}\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run", kSmall, "--out", out.string(), "--ticks", "30", "--force", "--quiet"},
           {"resume", out.string(), "--quiet"},
           {"compare", kSmall, "--out", out.string(), "--ticks", "30", "-n", "2", "--force",
            "--quiet"},
           {"sweep", kSmall, "--design", design.string(), "--out", out.string(), "--ticks", "30",
            "--force", "--quiet"},
           {"report", out.string()}}) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(kBusy), std::string::npos) << args[0] << ": " << r.err;
    EXPECT_TRUE(files_of(out) == before) << args[0] << " wrote into a directory in use";
  }
  ::close(fd);
  const CliResult r = run_cli({"resume", out.string(), "--quiet"});
  EXPECT_EQ(r.status, 0) << r.err;
}

// A directory holding a run is refused by compare and sweep without --force (and a comparison's
// by run); with --force every file of the earlier result is removed first.
TEST(OutputDir, AnotherKindOfResultIsRefusedWithoutForceAndReplacedWholeWithIt) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  ASSERT_EQ(run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet"}).status, 0);
  ASSERT_EQ(run_cli({"report", out.string()}).status, 0);
  const auto run_files = files_of(out);
  const std::vector<std::string> compare = {"compare", kSmall, "--out", out.string(), "--ticks",
                                            "30",      "-n",   "2",     "--quiet"};
  CliResult r = run_cli(compare);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("holds the results of a run (summary.json)"), std::string::npos) << r.err;
  EXPECT_TRUE(files_of(out) == run_files);

  auto forced = compare;
  forced.push_back("--force");
  r = run_cli(forced);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const auto& [name, text] : run_files)
    if (name != ".caremesh.lock") {
      EXPECT_FALSE(fs::exists(out / name)) << name << " of the run survived compare --force";
    }
  EXPECT_TRUE(fs::exists(out / "comparison.json"));

  r = run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("holds the results of a comparison"), std::string::npos) << r.err;
  r = run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet", "--force"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "comparison.json"));
  EXPECT_FALSE(fs::exists(out / "results.sqlite"));
  EXPECT_TRUE(fs::exists(out / "summary.json"));
}

// run --force removes the temporary files a killed writer left (earlier versions left them).
TEST(OutputDir, ForceRemovesAKilledWritersTemporaryFiles) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  ASSERT_EQ(run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet"}).status, 0);
  cm::test::write_text(out / "clients.csv.tmp.4242", "half a file");
  cm::test::write_text(out / "summary.json.tmp.Zq81kPw0aB3c", "half a file");
  const CliResult r =
      run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet", "--force"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "clients.csv.tmp.4242"));
  EXPECT_FALSE(fs::exists(out / "summary.json.tmp.Zq81kPw0aB3c"));
}

// An INCOMPLETE note without a checkpoint (a partitioned run, or one killed before its first
// checkpoint) is not sent to `resume`, which cannot continue it.
TEST(OutputDir, AStrayIncompleteNoteGivesAHintThatWorks) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  fs::create_directories(out);
  cm::test::write_text(out / "INCOMPLETE", "stopped\n");
  CliResult r = run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("without a checkpoint"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("caremesh resume"), std::string::npos) << r.err;
  r = run_cli({"run", kSmall, "--out", out.string(), "--ticks", "30", "--quiet", "--force"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "INCOMPLETE"));
}
