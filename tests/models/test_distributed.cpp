// Distributed experiments (docs/distributed.md): the protocol of experiments.hpp over an
// in-memory channel (threads as processes), then the caremesh binary under `mpirun` on this
// machine (2 to 4 ranks, oversubscribed, shared memory and loopback only): the store and the
// reports equal a single process's, an interrupted distributed experiment resumes, and a rank
// killed mid-experiment leaves a consistent store that the rerun completes. The mpirun tests are
// skipped, saying so, only when mpirun was not found at configure time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
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
using namespace std::chrono_literals;

const std::string kTraining = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";
const fs::path kDesigns = fs::path(CAREMESH_TEST_DATA) / "designs";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string digest(const fs::path& out) {
  return ResultsStore::open_read_only(out / ResultsStore::kFileName).content_digest(false);
}

fs::path test_dir() {
  const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() /
                       ("caremesh_distributed_" + std::to_string(::getpid()) + "_" + t->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// The protocol, in one process.

TEST(DistributedUnit, RunRecordsCrossTheChannelBitForBit) {
  RunRecord r;
  r.point = "p0007";
  r.replication = 41;
  r.seed = ~std::uint64_t{0} - 3;
  r.status = RunStatus::failed;
  r.message = "no \xc3\xa9ligible client";
  r.wall_seconds = 0.125;
  r.metrics = {{"nan", std::numeric_limits<double>::quiet_NaN()},
               {"negative_zero", -0.0},
               {"infinity", -std::numeric_limits<double>::infinity()},
               {"denormal", std::numeric_limits<double>::denorm_min()},
               {"third", 1.0 / 3.0}};
  r.series = {{"queue", 3, 2.5}, {"queue", 4, 1e300}};
  const auto bytes = encode_run_record(r);
  const RunRecord back = decode_run_record(bytes);
  EXPECT_EQ(back.point, r.point);
  EXPECT_EQ(back.replication, r.replication);
  EXPECT_EQ(back.seed, r.seed);
  EXPECT_EQ(back.status, RunStatus::failed);
  EXPECT_EQ(back.message, r.message);
  EXPECT_EQ(back.wall_seconds, r.wall_seconds);
  ASSERT_EQ(back.metrics.size(), r.metrics.size());
  for (std::size_t i = 0; i < r.metrics.size(); ++i) {
    EXPECT_EQ(back.metrics[i].first, r.metrics[i].first);
    std::uint64_t a = 0, b = 0;
    std::memcpy(&a, &r.metrics[i].second, 8);
    std::memcpy(&b, &back.metrics[i].second, 8);
    EXPECT_EQ(a, b) << r.metrics[i].first;
  }
  EXPECT_EQ(back.series, r.series);
  // A truncated or extended message is refused, not misread.
  auto shorter = bytes;
  shorter.pop_back();
  EXPECT_THROW(decode_run_record(shorter), std::runtime_error);
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(decode_run_record(longer), std::runtime_error);
}

// Processes as threads: one mailbox per rank.
class MemoryNetwork {
 public:
  explicit MemoryNetwork(int size) : boxes_(static_cast<std::size_t>(size)) {}
  int size() const { return static_cast<int>(boxes_.size()); }
  void post(int from, int to, const Channel::Message& m) {
    Box& b = boxes_[static_cast<std::size_t>(to)];
    std::lock_guard lock(b.mu);
    b.messages.emplace_back(from, m);
    b.cv.notify_one();
  }
  std::optional<Channel::Message> take(int rank, std::chrono::microseconds wait, int& from) {
    Box& b = boxes_[static_cast<std::size_t>(rank)];
    std::unique_lock lock(b.mu);
    if (!b.cv.wait_for(lock, wait, [&] { return !b.messages.empty(); })) return std::nullopt;
    from = b.messages.front().first;
    Channel::Message m = std::move(b.messages.front().second);
    b.messages.pop_front();
    return m;
  }

 private:
  struct Box {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<int, Channel::Message>> messages;
  };
  std::vector<Box> boxes_;
};

class MemoryChannel final : public Channel {
 public:
  MemoryChannel(MemoryNetwork& net, int rank) : net_(net), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return net_.size(); }
  void send(int to, const Message& m) override { net_.post(rank_, to, m); }
  std::optional<Message> receive(std::chrono::microseconds wait, int& from) override {
    return net_.take(rank_, wait, from);
  }

 private:
  MemoryNetwork& net_;
  int rank_;
};

CompareOptions small_compare(const fs::path& out) {
  CompareOptions o;
  o.scenario_file = kTraining;
  o.variants = {"fragmented", "networked"};
  o.replications = 5;
  o.out = out;
  o.command = "caremesh compare (test)";
  o.control.threads = 1;
  o.control.ticks = 150;
  o.control.progress = ProgressMode::none;
  return o;
}

// Runs `options` on `ranks` threads acting as processes; returns the coordinator's result.
// Each rank may get its own options (e.g. another scenario).
ExperimentResult run_distributed(const std::vector<CompareOptions>& options) {
  MemoryNetwork net(static_cast<int>(options.size()));
  std::vector<std::thread> workers;
  std::vector<std::string> worker_errors(options.size());
  for (std::size_t k = 1; k < options.size(); ++k)
    workers.emplace_back([&, k] {
      MemoryChannel channel(net, static_cast<int>(k));
      RunCluster cluster(channel);
      CompareOptions o = options[k];
      o.control.cluster = &cluster;
      try {
        const ExperimentResult r = run_compare(o);
        if (!r.worker) worker_errors[k] = "a worker wrote a report";
      } catch (const std::exception& e) {
        cluster.fail(e.what());
      }
    });
  ExperimentResult result;
  std::exception_ptr error;
  {
    MemoryChannel channel(net, 0);
    RunCluster cluster(channel);
    CompareOptions o = options[0];
    o.control.cluster = &cluster;
    try {
      result = run_compare(o);
      cluster.finish();
    } catch (...) {
      error = std::current_exception();
    }
  }  // ends the workers if run_compare threw
  for (auto& t : workers) t.join();
  for (const auto& e : worker_errors) EXPECT_EQ(e, "");
  if (error) std::rethrow_exception(error);
  return result;
}

TEST(DistributedUnit, ThreadsAsProcessesRecordWhatOneProcessRecords) {
  const fs::path dir = test_dir();
  const fs::path out = dir / "out";
  const ExperimentResult single = run_compare(small_compare(out));
  ASSERT_TRUE(single.complete);
  const std::string single_digest = digest(out);
  const std::string single_json = read_text(out / "comparison.json");
  fs::remove_all(out);

  const CompareOptions o = small_compare(out);
  const ExperimentResult r = run_distributed({o, o, o});
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.execution.executed, 10u);
  EXPECT_EQ(digest(out), single_digest);
  EXPECT_EQ(read_text(out / "comparison.json"), single_json);
  fs::remove_all(dir);
}

// With --precision the coordinator grows the experiment batch by batch; the workers wait in
// between and the batches are the same as a single process's.
TEST(DistributedUnit, SequentialStoppingTakesTheSameBatches) {
  const fs::path dir = test_dir();
  const fs::path out = dir / "out";
  CompareOptions o = small_compare(out);
  o.replications = 3;
  o.precision_metric = "complete_package_share";
  o.precision_half_width = 0.02;
  const ExperimentResult single = run_compare(o);
  ASSERT_TRUE(single.complete);
  EXPECT_GT(single.replications, 6);  // at least three batches (3, 6, ...)
  const std::string single_digest = digest(out);
  const std::string single_json = read_text(out / "comparison.json");
  fs::remove_all(out);

  const ExperimentResult r = run_distributed({o, o, o});
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.replications, single.replications);
  EXPECT_EQ(digest(out), single_digest);
  EXPECT_EQ(read_text(out / "comparison.json"), single_json);
  fs::remove_all(dir);
}

TEST(DistributedUnit, CoordinatorThatRunsNothingGetsEverythingFromWorkers) {
  const fs::path dir = test_dir();
  CompareOptions o = small_compare(dir / "out");
  o.control.coordinator_runs = false;
  const ExperimentResult r = run_distributed({o, o});
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.execution.executed, 10u);
  EXPECT_EQ(r.execution.remote, 10u);
  fs::remove_all(dir);
}

TEST(DistributedUnit, AWorkerWithOtherRunsIsRefused) {
  const fs::path dir = test_dir();
  CompareOptions o = small_compare(dir / "out");
  o.control.coordinator_runs = false;  // so that the worker's hello is always examined
  CompareOptions other = o;
  other.sets = {{"population.annual_incidence", "0.03"}};  // a node with another scenario
  try {
    run_distributed({o, other});
    ADD_FAILURE() << "a worker that built other runs was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("process 1 built other runs"), std::string::npos)
        << e.what();
  }
  // Nothing it could have run is in the store.
  EXPECT_TRUE(ResultsStore::open_read_only(dir / "out" / ResultsStore::kFileName).runs().empty());
  fs::remove_all(dir);
}

TEST(DistributedUnit, AWorkerThatCannotStartIsReported) {
  const fs::path dir = test_dir();
  CompareOptions o = small_compare(dir / "out");
  o.control.coordinator_runs = false;
  CompareOptions broken = o;
  broken.scenario_file = (dir / "missing.yaml").string();  // absent on that node
  try {
    run_distributed({o, broken});
    ADD_FAILURE() << "a worker that could not start went unnoticed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("process 1 could not start"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// caremesh under mpirun.

struct Exit {
  int status = -1;  // exit status; 128 + signal when killed; -1 on timeout
  std::string out, err;
};

// AddressSanitizer's options for mpirun and the ranks it starts (they inherit its environment).
// Leak detection is off there: Open MPI keeps allocations from MPI_Init to exit in libraries built
// without frame pointers and in components it loads at run time, so LeakSanitizer's stacks end
// one frame below malloc with no module name that a suppression could match. caremesh's own code
// on these paths (the experiment protocol) is leak-checked in the DistributedUnit tests above,
// which run it in one process. Only the AddressSanitizer build reads ASAN_OPTIONS; elsewhere it is
// inert.
std::string asan_options() {
  const char* given = std::getenv("ASAN_OPTIONS");
  return std::string(given ? given : "") + (given && *given ? ":" : "") + "detect_leaks=0";
}

// mpirun (or caremesh) with the caller's environment and asan_options().
pid_t spawn(const std::vector<std::string>& argv_text, const fs::path& out, const fs::path& err) {
  std::vector<std::string> env_text = {"ASAN_OPTIONS=" + asan_options()};
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env_text.emplace_back(*e);
  return cm::test::spawn_program(argv_text, out, err, env_text);
}

// Waits for pid at most `limit`; then stops it (mpirun stops its ranks on SIGTERM).
int wait_for(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int st = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGTERM);
      std::this_thread::sleep_for(3s);
      ::kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      ADD_FAILURE() << "timed out after " << limit.count() << " s";
      return -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

bool have_mpirun() {
  const std::string mpiexec = CAREMESH_MPIEXEC;
  return !mpiexec.empty() && ::access(mpiexec.c_str(), X_OK) == 0;
}

// mpirun on this machine only: shared memory between the ranks and loopback for the runtime,
// more ranks than cores allowed, and as root where the tests run as root. (pml ob1: UCX's
// start-up costs 0.2 s per run of mpirun and brings nothing on one machine.)
std::vector<std::string> mpirun(int ranks, const std::vector<std::string>& args) {
  std::vector<std::string> v = {CAREMESH_MPIEXEC,
                                "--oversubscribe",
                                "-np",
                                std::to_string(ranks),
                                "--mca",
                                "pml",
                                "ob1",
                                "--mca",
                                "btl",
                                "self,vader",
                                "--mca",
                                "btl_vader_single_copy_mechanism",
                                "none",
                                "--mca",
                                "oob_tcp_if_include",
                                "lo"};
  if (::geteuid() == 0) v.push_back("--allow-run-as-root");
  v.push_back(CAREMESH_BINARY);
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

std::vector<std::string> single(const std::vector<std::string>& args) {
  std::vector<std::string> v = {CAREMESH_BINARY};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

// Every file of a run directory, by name.
std::map<std::string, std::string> run_files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    files[e.path().filename().string()] = read_text(e.path());
  return files;
}

class MpirunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_mpirun())
      GTEST_SKIP() << "mpirun was not found when configuring (MPIEXEC_EXECUTABLE is \""
                   << CAREMESH_MPIEXEC << "\"): install openmpi-bin and reconfigure";
    dir_ = test_dir();
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  Exit run(const std::vector<std::string>& argv, std::chrono::seconds limit = 60s) {
    Exit e;
    e.status = wait_for(spawn(argv, dir_ / "stdout.txt", dir_ / "stderr.txt"), limit);
    e.out = read_text(dir_ / "stdout.txt");
    e.err = read_text(dir_ / "stderr.txt");
    return e;
  }

  // The experiment `args` (which end with --out OUT) run by one process, then by `ranks`
  // processes in the same directory (the store records its command line, --out included):
  // the same store content and the same report files, byte for byte.
  void expect_same_as_single(int ranks, const std::vector<std::string>& args, const fs::path& out,
                             const std::vector<std::string>& reports) {
    const Exit one = run(single(args));
    ASSERT_EQ(one.status, 0) << one.err;
    const std::string single_digest = digest(out);
    std::vector<std::string> single_reports;
    for (const auto& f : reports) single_reports.push_back(read_text(out / f));
    fs::rename(out, dir_ / "single");

    const Exit many = run(mpirun(ranks, args));
    ASSERT_EQ(many.status, 0) << many.err;
    EXPECT_EQ(digest(out), single_digest);
    for (std::size_t i = 0; i < reports.size(); ++i) {
      EXPECT_FALSE(single_reports[i].empty()) << reports[i];
      EXPECT_EQ(read_text(out / reports[i]), single_reports[i]) << reports[i];
    }
  }

  // `run SCENARIO ARGS --partition territory` on `ranks` processes writes the same files, byte
  // for byte, as one process running `run SCENARIO ARGS --no-client-records`.
  void expect_partitioned_as_single(int ranks, const std::string& scenario,
                                    std::vector<std::string> args) {
    args.insert(args.begin(), {"run", scenario, "--threads", "1", "--quiet"});
    std::vector<std::string> one = args, many = args;
    one.insert(one.end(), {"--no-client-records", "--out", (dir_ / "single").string()});
    many.insert(many.end(), {"--partition", "territory", "--out", (dir_ / "split").string()});
    const Exit a = run(single(one));
    ASSERT_EQ(a.status, 0) << a.err;
    const Exit b = run(mpirun(ranks, many));
    ASSERT_EQ(b.status, 0) << b.err;
    const auto expected = run_files(dir_ / "single"), got = run_files(dir_ / "split");
    EXPECT_GE(expected.size(), 5u);
    ASSERT_EQ(got.size(), expected.size());
    for (const auto& [name, text] : expected) {
      ASSERT_TRUE(got.count(name)) << name;
      EXPECT_EQ(got.at(name), text) << name << " differs";
    }
  }

  fs::path dir_;
};

TEST_F(MpirunTest, CompareOnTwoRanksEqualsOneProcess) {
  const fs::path out = dir_ / "out";
  expect_same_as_single(2,
                        {"compare", kTraining, "--variants", "fragmented,networked", "-n", "6",
                         "--ticks", "200", "--threads", "1", "--quiet", "--out", out.string()},
                        out, {"comparison.json"});
}

TEST_F(MpirunTest, SweepOnFourRanksEqualsOneProcess) {
  const fs::path out = dir_ / "out";
  expect_same_as_single(4,
                        {"sweep", kTraining, "--design", (kDesigns / "morris.yaml").string(),
                         "--ticks", "150", "--threads", "1", "--quiet", "--out", out.string()},
                        out, {"sweep.json", "points.csv"});
}

TEST_F(MpirunTest, InterruptedDistributedExperimentResumes) {
  const fs::path out = dir_ / "out";
  const std::vector<std::string> args = {
      "compare",   kTraining, "--variants", "fragmented,networked",
      "-n",        "5",       "--ticks",    "150",
      "--threads", "1",       "--quiet",    "--out",
      out.string()};
  const Exit one = run(single(args));
  ASSERT_EQ(one.status, 0) << one.err;
  const std::string single_digest = digest(out);
  const std::string single_json = read_text(out / "comparison.json");
  fs::remove_all(out);

  // Stopped as by a signal once 4 runs were handed out (to rank 0 itself or to the others).
  auto stopped = args;
  stopped.insert(stopped.end(), {"--stop-after", "4"});
  const Exit first = run(mpirun(3, stopped));
  EXPECT_EQ(first.status, 130) << first.err;
  EXPECT_NE(first.err.find("Run the same command again to resume"), std::string::npos) << first.err;
  EXPECT_FALSE(fs::exists(out / "comparison.json"));
  {
    const auto store = ResultsStore::open_read_only(out / ResultsStore::kFileName);
    EXPECT_GE(store.runs().size(), 1u);
    EXPECT_LE(store.runs().size(), 4u);
  }
  // Resumed on another number of ranks: only the missing runs are run.
  const Exit second = run(mpirun(2, args));
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(digest(out), single_digest);
  EXPECT_EQ(read_text(out / "comparison.json"), single_json);
}

// The process of an mpirun's children whose MPI rank is `rank` (from its environment).
pid_t rank_pid(pid_t mpirun_pid, int rank) {
  const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_text(e.path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent != mpirun_pid) continue;
    const std::string env = read_text(e.path() / "environ");
    std::size_t at = 0;
    while (at < env.size()) {
      const std::size_t end = env.find('\0', at);
      if (env.compare(at, end - at, want) == 0) return static_cast<pid_t>(std::stoi(name));
      if (end == std::string::npos) break;
      at = end + 1;
    }
  }
  return -1;
}

TEST_F(MpirunTest, KilledRankLeavesAConsistentStoreAndTheRerunCompletesIt) {
  const fs::path out = dir_ / "out";
  const std::vector<std::string> args = {"compare", kTraining, "--variants", "fragmented,networked",
                                         "-n",      "150",     "--threads",  "1",
                                         "--quiet", "--out",   out.string()};
  const Exit one = run(single(args));
  ASSERT_EQ(one.status, 0) << one.err;
  const std::string single_digest = digest(out);
  const auto metrics_per_run = ResultsStore::open_read_only(out / ResultsStore::kFileName)
                                   .run_metrics("fragmented", 0)
                                   .size();
  ASSERT_GT(metrics_per_run, 10u);
  fs::rename(out, dir_ / "single");

  // Three ranks; once the first runs are committed, rank 1 dies (SIGKILL) and Open MPI stops
  // the job.
  const pid_t job = spawn(mpirun(3, args), dir_ / "o.txt", dir_ / "e.txt");
  std::size_t recorded = 0;
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (recorded < 16 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(20ms);
    try {
      recorded = ResultsStore::open_read_only(out / ResultsStore::kFileName).runs().size();
    } catch (const std::exception&) {
      // not created yet
    }
  }
  const pid_t victim = rank_pid(job, 1);
  ASSERT_GT(victim, 0) << "rank 1 of the job not found";
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const int status = wait_for(job, 60s);
  EXPECT_NE(status, 0) << "the experiment finished before rank 1 was killed; make it longer";

  {
    // Consistent: every recorded run is complete, with all its metrics.
    const auto store = ResultsStore::open_read_only(out / ResultsStore::kFileName);
    const auto runs = store.runs();
    EXPECT_GE(runs.size(), 16u);
    EXPECT_LT(runs.size(), 300u);
    for (const auto& r : runs) {
      EXPECT_EQ(r.status, RunStatus::done) << r.point << " " << r.replication;
      EXPECT_EQ(store.run_metrics(r.point, r.replication).size(), metrics_per_run)
          << r.point << " " << r.replication;
    }
  }
  // The same command completes it, with the content of a single process's experiment.
  const Exit rerun = run(mpirun(2, args));
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  EXPECT_EQ(digest(out), single_digest);
  EXPECT_EQ(read_text(out / "comparison.json"), read_text(dir_ / "single" / "comparison.json"));
}

// Warsaw is one cluster of collaboration: its organizations stay on the first process and its
// districts are spread, so clients are served across the boundary every day.
TEST_F(MpirunTest, PartitionedRunOfOneCityOnTwoRanksEqualsOneProcess) {
  expect_partitioned_as_single(2, "warsaw", {"--ticks", "200", "--network-format", "gexf"});
}

// A country: its regions' clusters go whole to three processes; steering authorities (a
// scenario with authorities) exchange their notes and counters.
TEST_F(MpirunTest, PartitionedRunsOfTheCountryAndOfSteeringEqualOneProcess) {
  expect_partitioned_as_single(3, "poland", {"--ticks", "40"});
  fs::remove_all(dir_ / "single");
  fs::remove_all(dir_ / "split");
  expect_partitioned_as_single(2, "training-steering", {"--ticks", "200"});
}

TEST_F(MpirunTest, PartitionedRunReportsErrorsOnceAndStopsTogether) {
  const auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  const std::string out = (dir_ / "r").string();
  const Exit missing = run(
      mpirun(2, {"run", (dir_ / "none.yaml").string(), "--partition", "territory", "--out", out}));
  EXPECT_EQ(missing.status, 2);
  EXPECT_EQ(count(missing.err, "none.yaml"), 1u) << missing.err;
  const Exit checkpoint = run(mpirun(
      2, {"run", kTraining, "--partition", "territory", "--checkpoint-every", "5", "--out", out}));
  EXPECT_EQ(checkpoint.status, 2);
  EXPECT_EQ(count(checkpoint.err, "keeps no checkpoint"), 1u) << checkpoint.err;
  EXPECT_FALSE(fs::exists(out));
  // Stopped on one day by every process (as by SIGINT, which mpirun forwards to all).
  const Exit stopped = run(mpirun(2, {"run", kTraining, "--ticks", "100", "--partition",
                                      "territory", "--stop-after-ticks", "20", "--out", out}));
  EXPECT_EQ(stopped.status, 130) << stopped.err;
  EXPECT_TRUE(fs::exists(fs::path(out) / "INCOMPLETE"));
  EXPECT_FALSE(fs::exists(fs::path(out) / "summary.json"));
  const Exit again = run(mpirun(2, {"run", kTraining, "--ticks", "100", "--partition", "territory",
                                    "--force", "--out", out}));
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_TRUE(fs::exists(fs::path(out) / "summary.json"));
  EXPECT_FALSE(fs::exists(fs::path(out) / "INCOMPLETE"));
}

TEST_F(MpirunTest, HelpAndCommandLineErrorsArePrintedOnce) {
  const Exit help = run(mpirun(2, {"sweep", "--help"}));
  EXPECT_EQ(help.status, 0) << help.err;
  const auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(help.out, "--replications"), 1u) << help.out;
  const Exit bad = run(mpirun(2, {"compare"}));  // no scenario
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(count(bad.err, "scenario is required"), 1u) << bad.err;
}

TEST_F(MpirunTest, OtherCommandsRefuseToRunOnSeveralRanks) {
  const Exit e = run(mpirun(2, {"run", kTraining, "--ticks", "5", "--out", (dir_ / "r").string()}));
  EXPECT_EQ(e.status, 2);
  EXPECT_NE(e.err.find("only compare, sweep and run --partition territory are"), std::string::npos)
      << e.err;
  EXPECT_FALSE(fs::exists(dir_ / "r"));
}

}  // namespace
}  // namespace cm::care
