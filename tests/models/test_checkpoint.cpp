// Checkpoints and resume (models/socialcare/checkpoint.hpp, `caremesh run --checkpoint-every`,
// `caremesh resume`): a run stopped part-way and resumed writes the same files, byte for byte,
// as the run uninterrupted, at any thread count; stopping by SIGINT/SIGTERM saves a checkpoint,
// marks the directory INCOMPLETE and writes no summary.json; a corrupt, truncated or mismatched
// checkpoint is refused with a message saying which.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "caremesh_version.hpp"
#include "engine/hash.hpp"
#include "engine/parallel.hpp"
#include "models/socialcare/checkpoint.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/outputs.hpp"
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

namespace fs = std::filesystem;

const std::string kScenarios = CAREMESH_SCENARIO_DIR;
const std::string kTraining = kScenarios + "/training-small.yaml";
const std::string kWarsaw = kScenarios + "/warsaw.yaml";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

std::map<std::string, std::string> files_of(const fs::path& d) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(d))
    files[e.path().filename().string()] = read_text(e.path());
  return files;
}

// The same files in a and b, byte for byte.
void expect_identical(const fs::path& a, const fs::path& b) {
  const auto fa = files_of(a), fb = files_of(b);
  EXPECT_TRUE(fa.count("summary.json")) << a;
  for (const auto& [name, text] : fa) {
    ASSERT_TRUE(fb.count(name)) << name << " is in " << a << " but not in " << b;
    EXPECT_TRUE(text == fb.at(name)) << name << " differs between " << a << " and " << b;
  }
  for (const auto& [name, text] : fb) EXPECT_TRUE(fa.count(name)) << name << " only in " << b;
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("caremesh_ckpt_" + std::to_string(getpid()) + "_" +
                                         info->test_suite_name() + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// ---- library level --------------------------------------------------------------------------

RunSpec spec_for(const Scenario& sc, std::uint64_t seed, int ticks) {
  RunSpec spec;
  spec.scenario_file = sc.source_file;
  spec.effective_yaml = sc.effective_yaml;
  spec.seed = seed;
  spec.target_ticks = ticks;
  return spec;
}

void write_results(const fs::path& dir, Simulation& sim) {
  fs::create_directories(dir);
  sim.finish();
  write_run(dir, sim, compute_metrics(sim), RunInfo{sim.scenario().source_file, "", {}, true});
}

using cm::test::scenario_files;

// For every built-in scenario and variant: stop at a day, save, restore into a new Simulation
// (through the bytes of the file), continue; the results equal the uninterrupted run's.
TEST(Checkpoint, RestoredRunEqualsTheUninterruptedForEveryScenarioAndVariant) {
  TempDir tmp;
  for (const auto& file : scenario_files()) {
    std::vector<std::string> variants = scenario_variants(file);
    if (variants.empty()) variants.push_back("");
    for (const auto& v : variants) {
      SCOPED_TRACE(file + " [" + v + "]");
      const Scenario sc = load_scenario(file, {v, {}});
      // A country-scale scenario (scenarios/poland.yaml, 37.5 million residents) runs 10 days
      // here, enough for every phase, so that the test stays within seconds.
      const int ticks = std::min(sc.horizon_days, residents(sc) > 10'000'000 ? 10 : 150);
      Simulation straight(sc, 11);
      with_threads(2, [&] { straight.run(ticks); });

      Simulation first(sc, 11);
      with_threads(2, [&] { first.run(ticks / 2 + 1); });
      const std::string bytes = Checkpoint::encode(spec_for(sc, 11, ticks), first);
      const Checkpoint cp = Checkpoint::decode(bytes, "test.bin");
      EXPECT_EQ(cp.tick(), ticks / 2 + 1);
      const Scenario again = cp.scenario();
      EXPECT_EQ(again.effective_yaml, sc.effective_yaml);
      Simulation resumed(again, cp.spec().seed);
      cp.restore(resumed);
      EXPECT_EQ(resumed.state_hash(), first.state_hash());
      with_threads(1, [&] { resumed.run(ticks - resumed.tick()); });
      ASSERT_EQ(resumed.tick(), straight.tick());
      EXPECT_EQ(resumed.state_hash(), straight.state_hash());

      const std::string tag = fs::path(file).stem().string() + "_" + v;
      write_results(tmp / (tag + "_straight"), straight);
      write_results(tmp / (tag + "_resumed"), resumed);
      expect_identical(tmp / (tag + "_straight"), tmp / (tag + "_resumed"));
    }
  }
}

TEST(Checkpoint, SavesHowTheRunWasStarted) {
  const Scenario sc = load_scenario(kTraining, {"networked", {{"seed", "5"}}});
  Simulation sim(sc, 77);
  sim.run(3);
  RunSpec spec = spec_for(sc, 77, 200);
  spec.variant = "networked";
  spec.sets = {{"seed", "5"}, {"tie_policy.initial_level", "2"}};
  spec.checkpoint_every = 9;
  spec.client_records = false;
  const Checkpoint cp = Checkpoint::decode(Checkpoint::encode(spec, sim), "x");
  EXPECT_EQ(cp.version(), kVersion);
  EXPECT_EQ(cp.tick(), 3);
  EXPECT_EQ(cp.spec().scenario_file, kTraining);
  EXPECT_EQ(cp.spec().effective_yaml, sc.effective_yaml);
  EXPECT_EQ(cp.spec().variant, "networked");
  EXPECT_EQ(cp.spec().sets, spec.sets);
  EXPECT_EQ(cp.spec().seed, 77u);
  EXPECT_EQ(cp.spec().target_ticks, 200);
  EXPECT_EQ(cp.spec().checkpoint_every, 9);
  EXPECT_FALSE(cp.spec().client_records);
}

// The header: magic (8), format (4), byte-order mark (4), version length (4), version,
// payload length (8), checksum (8), payload. Rewrites the checksum after a deliberate change,
// so that the check behind it is reached.
void reseal(std::string& bytes) {
  std::uint32_t version_size = 0;
  std::memcpy(&version_size, bytes.data() + 16, 4);
  const std::size_t header = 20 + version_size + 8;
  Hasher h;
  h.bytes(bytes.data(), header);
  h.bytes(bytes.data() + header + 8, bytes.size() - header - 8);
  const std::uint64_t sum = h.value();
  std::memcpy(bytes.data() + header, &sum, 8);
}

void expect_refused(const std::string& bytes, const std::string& phrase) {
  try {
    const Checkpoint cp = Checkpoint::decode(bytes, "bad.bin");
    const Scenario sc = cp.scenario();
    Simulation sim(sc, cp.spec().seed);
    cp.restore(sim);
    ADD_FAILURE() << "accepted; expected a refusal mentioning \"" << phrase << "\"";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("bad.bin: ", 0), 0u) << e.what();
  }
}

TEST(Checkpoint, RefusesCorruptTruncatedAndMismatchedFiles) {
  const Scenario sc = load_scenario(kTraining);
  Simulation sim(sc, 3);
  sim.run(20);
  const std::string good = Checkpoint::encode(spec_for(sc, 3, 100), sim);
  ASSERT_NO_THROW(Checkpoint::decode(good, "good.bin"));

  expect_refused("", "not a caremesh checkpoint");
  expect_refused("hello world, this is not a checkpoint", "not a caremesh checkpoint");
  expect_refused(good.substr(0, 12), "truncated");
  expect_refused(good.substr(0, good.size() / 2), "truncated");
  expect_refused(good.substr(0, good.size() - 1), "truncated");
  expect_refused(good + "x", "bytes more than its state");
  for (const std::size_t at : {good.size() / 3, good.size() / 2, good.size() - 3}) {
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
    expect_refused(flipped, "checksum mismatch");
  }

  std::string format = good;
  format[8] = static_cast<char>(kCheckpointFormat + 1);
  expect_refused(format, "checkpoint format " + std::to_string(kCheckpointFormat + 1));

  std::string swapped = good;
  std::swap(swapped[12], swapped[15]);
  std::swap(swapped[13], swapped[14]);
  expect_refused(swapped, "other byte order");

  std::string version = good;  // same length, another version
  std::uint32_t n = 0;
  std::memcpy(&n, version.data() + 16, 4);
  ASSERT_GT(n, 0u);
  version[20] = version[20] == '9' ? '8' : '9';
  reseal(version);
  expect_refused(version, "written by caremesh ");

  std::string layout = good;  // the first record size (sizeof(Client)) in the payload
  const std::size_t payload = 20 + n + 16;
  layout[payload + 8] = static_cast<char>(layout[payload + 8] + 1);
  reseal(layout);
  expect_refused(layout, "another memory layout");

  // the state of one scenario laid over a simulation of another
  const Scenario other = load_scenario(CAREMESH_TEST_DATA "/bad/valid-base.yaml");
  const Checkpoint cp = Checkpoint::decode(good, "bad.bin");
  Simulation wrong(other, 3);
  EXPECT_THROW(cp.restore(wrong), CheckpointError);
}

// A reminder: the checkpoint saves these structs member by member (Checkpoint::transfer in
// checkpoint.cpp). When one of them changes size, a member was added or removed: save it there
// (or drop it), then update the size here. The record types saved as raw bytes (Client, Helper,
// Tie, TickRecord, ...) need nothing: a layout fingerprint in the file covers them.
TEST(Checkpoint, SavedStructsHaveTheSizesCheckpointCppKnows) {
#if defined(__x86_64__) && defined(__GLIBCXX__)
  // the members of Simulation besides its copy of the Scenario (not saved: rebuilt): the
  // model's state (ModelState) less its scratch lists (org_outputs, events, tie_events,
  // sorted_msgs, keep, woken, woken_next, event_groups, tie_keyed_from: emptied every day, not
  // saved; calendar and need_count: rebuilt from the client records on restore) and the state
  // of a territory-partitioned run (comm to final_clients: such a run is not checkpointed;
  // own_orgs is rebuilt); monitored_in and monitoring are rebuilt from the scenario;
  // ties_by_level (counted by every day's tie phase before the record phase reads it, not
  // saved); the threshold for parallel days (an option, not state: results do not depend on
  // it); the day's exchange (a pointer, rebuilt by the constructor)
  EXPECT_EQ(sizeof(Simulation) - sizeof(Scenario), 2368u)
      << "Simulation changed: update Checkpoint::transfer";
  EXPECT_EQ(sizeof(OrgState), 456u) << "OrgState changed: update Checkpoint::transfer";
  EXPECT_EQ(sizeof(NetworkState), 96u) << "NetworkState changed: update Checkpoint::transfer";
  EXPECT_EQ(sizeof(Staff), 56u) << "Staff changed: update Checkpoint::transfer";
  EXPECT_EQ(sizeof(AuthorityState), 80u) << "AuthorityState changed: update Checkpoint::transfer";
  EXPECT_EQ(sizeof(Contract), 240u) << "Contract changed: update Checkpoint::transfer";
  EXPECT_EQ(sizeof(SteeringRow), 176u) << "SteeringRow changed: update Checkpoint::transfer";
#else
  GTEST_SKIP() << "sizes are recorded for x86-64 with libstdc++";
#endif
}

// ---- the command line -----------------------------------------------------------------------

struct CliResult {
  int status = -1;  // exit status; -1 killed by a signal, -2 timed out
  std::string out, err;
};

// Starts caremesh with args, stdout and stderr going to files; returns the pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  std::vector<std::string> argv_text = {CAREMESH_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_name = out.string(), err_name = err.string();
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = ::open(out_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    execv(CAREMESH_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for pid up to timeout; kills it when the time is up.
int wait_for(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int st = 0;
  while (true) {
    const pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      return -2;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

class CheckpointCli : public ::testing::Test {
 public:
  CliResult run_cli(const std::vector<std::string>& args) {
    const fs::path out = tmp_ / "stdout.txt", err = tmp_ / "stderr.txt";
    CliResult r;
    r.status = wait_for(spawn(args, out, err), std::chrono::seconds(300));
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
  }
  // `caremesh run` of training-small for 120 days into tmp/name with extra arguments.
  CliResult run(const std::string& name, std::vector<std::string> extra,
                const std::string& scenario = kTraining) {
    std::vector<std::string> args = {"run",     scenario, "--out", (tmp_ / name).string(),
                                     "--quiet", "--seed", "4"};
    if (scenario == kTraining) args.insert(args.end(), {"--ticks", "120"});
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
  CliResult resume(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"resume", (tmp_ / name).string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
  // A run stopped part-way: a checkpoint and the INCOMPLETE note, no results.
  void expect_interrupted(const std::string& name) {
    const fs::path d = tmp_ / name;
    EXPECT_TRUE(fs::exists(d / kCheckpointFile));
    EXPECT_TRUE(fs::exists(d / kIncompleteFile));
    EXPECT_NE(read_text(d / kIncompleteFile).find("caremesh resume"), std::string::npos);
    EXPECT_FALSE(fs::exists(d / "summary.json"));
    for (const auto& e : fs::directory_iterator(d))
      EXPECT_NE(e.path().extension(), ".csv") << e.path();
  }

  fs::path dir() const { return tmp_ / ""; }

 protected:
  TempDir tmp_;
};

using CheckpointSignals = CheckpointCli;

TEST_F(CheckpointCli, StoppedAndResumedRunWritesTheSameFilesAsAnUninterruptedOne) {
  ASSERT_EQ(run("straight", {}).status, 0);
  const CliResult stopped = run("b", {"--checkpoint-every", "30", "--stop-after-ticks", "60"});
  EXPECT_EQ(stopped.status, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("caremesh resume"), std::string::npos) << stopped.err;
  expect_interrupted("b");
  EXPECT_EQ(Checkpoint::read(tmp_ / "b").tick(), 60);
  const CliResult r = resume("b");
  EXPECT_EQ(r.status, 0) << r.err;
  expect_identical(tmp_ / "straight", tmp_ / "b");  // no checkpoint or INCOMPLETE left either
}

TEST_F(CheckpointCli, ResumeAtOneAndTwoThreadsGivesIdenticalFiles) {
  ASSERT_EQ(run("straight", {"--threads", "2"}).status, 0);
  for (const char* d : {"one", "two"})
    ASSERT_EQ(run(d, {"--checkpoint-every", "25", "--stop-after-ticks", "55"}).status, 130);
  EXPECT_EQ(resume("one", {"--threads", "1"}).status, 0);
  EXPECT_EQ(resume("two", {"--threads", "2"}).status, 0);
  expect_identical(tmp_ / "one", tmp_ / "two");
  expect_identical(tmp_ / "straight", tmp_ / "one");
}

TEST_F(CheckpointCli, AResumedRunCanBeStoppedAndResumedAgain) {
  const std::vector<std::string> options = {"--no-client-records", "--network-format", "graphml"};
  ASSERT_EQ(run("straight", options).status, 0);
  EXPECT_TRUE(fs::exists(tmp_ / "straight" / "network.graphml"));
  std::vector<std::string> stopped = options;
  stopped.insert(stopped.end(), {"--stop-after-ticks", "30"});
  ASSERT_EQ(run("b", stopped).status, 130);
  EXPECT_EQ(resume("b", {"--stop-after-ticks", "80", "--checkpoint-every", "7"}).status, 130);
  expect_interrupted("b");
  EXPECT_EQ(Checkpoint::read(tmp_ / "b").tick(), 80);
  EXPECT_EQ(resume("b").status, 0);
  expect_identical(tmp_ / "straight", tmp_ / "b");
  EXPECT_FALSE(fs::exists(tmp_ / "b" / "clients.csv")) << "output options are part of the run";
}

// Sends sig to a run of Warsaw once its first checkpoint exists; the run stops at the end of a
// day (exit 130), and resuming completes it with the uninterrupted run's files.
void stop_by_signal_and_resume(CheckpointCli& t, int sig) {
  const fs::path d = t.dir() / "signalled";
  const pid_t pid = spawn(
      {"run", kWarsaw, "--out", d.string(), "--quiet", "--seed", "4", "--checkpoint-every", "5"},
      t.dir() / "sig_out.txt", t.dir() / "sig_err.txt");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(d / kCheckpointFile) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(kill(pid, sig), 0);
  const int status = wait_for(pid, std::chrono::seconds(120));
  const std::string err = read_text(t.dir() / "sig_err.txt");
  if (status == 0) GTEST_SKIP() << "the run finished before the signal arrived";
  EXPECT_EQ(status, 130) << err;
  EXPECT_NE(err.find(sig == SIGINT ? "SIGINT" : "SIGTERM"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(d / "summary.json"));
  EXPECT_TRUE(fs::exists(d / kIncompleteFile));
  const int day = Checkpoint::read(d).tick();
  EXPECT_GT(day, 0);
  EXPECT_LT(day, 365);
  const CliResult r = t.resume("signalled");
  EXPECT_EQ(r.status, 0) << r.err;
  const CliResult s = t.run("straight", {}, kWarsaw);
  ASSERT_EQ(s.status, 0) << s.err;
  expect_identical(t.dir() / "straight", d);
}

TEST_F(CheckpointSignals, SigtermStopsAtTheEndOfADayAndTheRunResumes) {
  stop_by_signal_and_resume(*this, SIGTERM);
}

TEST_F(CheckpointSignals, SigintStopsAtTheEndOfADayAndTheRunResumes) {
  stop_by_signal_and_resume(*this, SIGINT);
}

TEST_F(CheckpointSignals, AKilledRunResumesFromItsLastPeriodicCheckpoint) {
  const fs::path d = dir() / "killed";
  const pid_t pid = spawn(
      {"run", kWarsaw, "--out", d.string(), "--quiet", "--seed", "4", "--checkpoint-every", "3"},
      dir() / "k_out.txt", dir() / "k_err.txt");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(d / kCheckpointFile) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  if (fs::exists(d / "summary.json")) GTEST_SKIP() << "the run finished before it was killed";
  EXPECT_FALSE(fs::exists(d / kIncompleteFile)) << "SIGKILL leaves no time for a note";
  const CliResult r = resume("killed");
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(run("straight", {}, kWarsaw).status, 0);
  expect_identical(dir() / "straight", d);  // temporary files of the killed writer are gone too
}

TEST_F(CheckpointCli, ResumeRefusesACorruptCheckpointAndChangesNothing) {
  ASSERT_EQ(run("b", {"--stop-after-ticks", "40"}).status, 130);
  std::string bytes = read_text(tmp_ / "b" / kCheckpointFile);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
  write_text(tmp_ / "b" / kCheckpointFile, bytes);
  const auto before = files_of(tmp_ / "b");
  CliResult r = resume("b");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(kCheckpointFile), std::string::npos) << r.err;
  EXPECT_TRUE(files_of(tmp_ / "b") == before);

  write_text(tmp_ / "b" / kCheckpointFile, bytes.substr(0, 100));
  r = resume("b");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(CheckpointCli, ResumeNeedsAnInterruptedRun) {
  CliResult r = resume("nowhere");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
  fs::create_directories(tmp_ / "empty");
  r = resume("empty");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("nothing to resume"), std::string::npos) << r.err;
  ASSERT_EQ(run("done", {"--checkpoint-every", "10"}).status, 0);
  EXPECT_FALSE(fs::exists(tmp_ / "done" / kCheckpointFile)) << "a complete run keeps none";
  r = resume("done");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("complete"), std::string::npos) << r.err;
}

TEST_F(CheckpointCli, RunRefusesADirectoryHoldingAnInterruptedRunUnlessForced) {
  ASSERT_EQ(run("b", {"--stop-after-ticks", "40"}).status, 130);
  const auto before = files_of(tmp_ / "b");
  CliResult r = run("b", {"--no-client-records"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("caremesh resume"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_TRUE(files_of(tmp_ / "b") == before);
  r = run("b", {"--force"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "b" / kCheckpointFile));
  EXPECT_FALSE(fs::exists(tmp_ / "b" / kIncompleteFile));
  ASSERT_EQ(run("straight", {}).status, 0);
  expect_identical(tmp_ / "straight", tmp_ / "b");
}

}  // namespace
}  // namespace cm::care
