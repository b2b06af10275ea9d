// Experiments: many runs of a scenario, in parallel, recorded in a results store, analysed.
//
// `caremesh compare` runs variants x replications and reports each metric per variant with the
// paired (common random numbers) difference to a baseline; `caremesh sweep` runs the points of
// a design (grid, Latin hypercube, Morris, Sobol/Saltelli) x replications and reports main
// effects or sensitivity indices; `caremesh export` writes a store as tidy CSV.
// docs/experiments.md describes the commands, the statistics and the file formats.
//
// Design notes
// - Seeds: replication r of every variant or design point runs with replication_seed(base, r)
//   = base + r. All exogenous randomness of a run is keyed by (seed, purpose, entity, tick), so
//   replication r of two variants shares residents, need arrivals and client traits.
// - Runs are independent; they execute in parallel over (point, replication) pairs, each in
//   an isolated task (the simulation's own parallel loops nest inside it, which gives the
//   same results at any thread count). A writer thread records finished runs as they come, a
//   group per transaction, so simulation threads never wait for the disk. Every figure
//   reported is computed afterwards from the store, ordered by point and replication, so the
//   outputs do not depend on the thread count or the order in which runs finished.
// - Resuming is skipping: runs the store already holds are not run again. A stop request
//   (SIGINT/SIGTERM through ExecutionControl::stop) stops launching runs; runs under way
//   finish and are recorded, and no final report is written.
// - The experiment's identity (scenario text and overrides, variants or design, ticks, base
//   seed, version) is checked by the store when it is reopened; the number of replications is
//   not part of it, so rerunning with more replications extends an experiment.
// - Distributed (docs/distributed.md): with a RunCluster in ExecutionControl, process 0 (the
//   coordinator) does everything above and also hands runs to the other processes (workers),
//   which build the same points, simulate the runs they are given and send back the records.
//   The coordinator records them through the same writer, so the store and the reports are
//   those of a single process. The protocol is here, MPI-free; the CLI supplies a Channel
//   over MPI (models/cli/mpi_session.cpp), the tests one over threads.
#pragma once

#include <Eigen/Dense>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/results_store.hpp"
#include "engine/stats.hpp"
#include "engine/yaml_reader.hpp"
#include "models/socialcare/scenario.hpp"

namespace cm::care {

// ---------------------------------------------------------------------------------------------
// Runs.

// The seed of replication r (for every variant and design point): base_seed + r, modulo 2^64.
std::uint64_t replication_seed(std::uint64_t base_seed, int replication);

// How progress is shown on stderr: a redrawn bar when stderr is a terminal and plain lines
// otherwise (automatic), always plain lines, or nothing.
enum class ProgressMode { automatic, lines, none };

class RunCluster;

struct ExecutionControl {
  int threads = 0;  // worker threads (0: all cores); results do not depend on it
  int ticks = 0;    // days per run (0: the scenario's horizon_days)
  ProgressMode progress = ProgressMode::automatic;
  // Set asynchronously (a signal handler) to stop launching runs; may be null.
  const std::atomic<bool>* stop = nullptr;
  // For tests: stop as if interrupted once this many runs have been launched (0: never).
  std::size_t stop_after = 0;
  // Processes sharing the runs (null: this process alone). On a worker, run_compare and
  // run_sweep serve runs instead of opening the store (ExperimentResult::worker).
  RunCluster* cluster = nullptr;
  // With a cluster: the coordinator runs runs itself too (with `threads`), not only hands them
  // out. Results do not depend on it.
  bool coordinator_runs = true;
};

// A variant or design point: its name in the store, its settings and its scenario.
struct ExperimentPoint {
  std::string name;
  std::string settings_json;
  Scenario scenario;
};

struct ExecutionSummary {
  std::size_t executed = 0;        // runs this process ran and recorded
  std::size_t failed = 0;          // of which ended with an exception (status "failed")
  std::size_t skipped = 0;         // runs found complete in the store
  bool interrupted = false;        // stopped before every planned run was done
  double wall_seconds = 0.0;       // wall time spent running
  double run_seconds = 0.0;        // summed wall time of the runs themselves
  double store_seconds = 0.0;      // wall time of the writer inside ResultsStore::record_runs
  double store_cpu_seconds = 0.0;  // CPU time of the writer in there (the rest is disk wait)
  std::size_t commits = 0;         // store transactions (finished runs are grouped)
  std::size_t remote = 0;          // of the executed runs, those run by other processes
};

// Runs the replications of points that the store lacks, in parallel, recording them as they
// finish (grouped: ResultsStore::record_runs). Keeps its counters (and the stop_after budget)
// across calls, one call per batch of replications.
class RunExecutor {
 public:
  RunExecutor(ResultsStore& store, ExecutionControl control);
  ~RunExecutor();
  RunExecutor(const RunExecutor&) = delete;
  RunExecutor& operator=(const RunExecutor&) = delete;

  // Replications [0, replications) of every point, seeds replication_seed(base_seed, r).
  // Returns false if stopped before all of them were done. Runs are launched replication by
  // replication (all points of replication 0 first), so an interrupted experiment holds whole
  // replications. Rethrows a store error after the runs under way have finished.
  bool run(const std::vector<ExperimentPoint>& points, int replications, std::uint64_t base_seed);
  const ExecutionSummary& summary() const { return summary_; }

 private:
  ResultsStore& store_;
  ExecutionControl control_;
  ExecutionSummary summary_;
  std::size_t launched_ = 0;
};

// Metric values of the store: point -> metric -> replication -> value, for replications
// [0, replications) (NaN where a run is missing or did not report the metric).
std::map<std::string, std::map<std::string, std::vector<double>>> metrics_by_replication(
    const ResultsStore& store, int replications);

// ---------------------------------------------------------------------------------------------
// Compare.

// What a metric describes, for the added value S(Y): client outcomes (the X that the network
// adds S(Y) to), the network itself (Y: ties, density, conferences, pooling, coordination
// cost), efficiency (staff time and cost), or context (cohort sizes).
enum class MetricRole { outcome, network, efficiency, context };
MetricRole metric_role(std::string_view metric);
const char* to_string(MetricRole role);

struct CompareOptions {
  std::string scenario_file;
  std::vector<std::string> variants;  // empty: every variant the scenario declares
  std::vector<std::pair<std::string, std::string>> sets;  // --set overrides, for every variant
  double max_memory = 0;                                  // LoadOptions::max_memory
  int replications = 10;                                  // (initial batch with a precision target)
  std::optional<std::uint64_t> seed;  // base seed (default: the scenario's seed)
  std::string precision_metric;       // sequential stopping on this metric's paired CI ...
  double precision_half_width = 0.0;  // ... until its half-width is at most this
  int max_replications = 1000;
  std::filesystem::path out;
  std::string command;  // for provenance in the store
  ExecutionControl control;
  // Called once everything is validated, just before the store in out is opened (the command
  // line locks the directory and readies it for this kind of result there); may throw.
  std::function<void()> claim_output;
};

struct ExperimentResult {
  bool worker = false;         // a worker process of a cluster: it ran runs, wrote nothing
  bool complete = false;       // false: interrupted; no report was written
  int replications = 0;        // per point, in the report
  std::size_t runs_total = 0;  // points x replications
  ExecutionSummary execution;
  nlohmann::ordered_json report;  // what comparison.json / sweep.json hold
  std::string table;              // the terminal summary
};

// Parses "METRIC=HALFWIDTH"; throws std::invalid_argument.
std::pair<std::string, double> parse_precision(const std::string& text);

// The statistics of a comparison from values[variant][metric][replication] (replications
// aligned across variants): {"METRIC": {"role", "variants": ..., "differences": ...}} and the
// added value, as in comparison.json. The first variant is the baseline; NaN values (a metric
// undefined in a run) are left out, pairwise for differences.
// Metrics are listed in metric_order first, then any others by name.
nlohmann::ordered_json compare_statistics(
    const std::vector<std::string>& variants,
    const std::map<std::string, std::map<std::string, std::vector<double>>>& values,
    const std::vector<std::string>& metric_order = {});
nlohmann::ordered_json added_value(const std::vector<std::string>& variants,
                                   const nlohmann::ordered_json& statistics);

// Runs (or resumes) a comparison into options.out: results.sqlite, and comparison.json once
// complete. Throws cm::InputError for an invalid scenario, variant or override,
// std::invalid_argument for invalid options, std::runtime_error for a store of another
// experiment.
ExperimentResult run_compare(const CompareOptions& options);

// ---------------------------------------------------------------------------------------------
// Sweep.

struct DesignFactor {
  std::string path;  // scenario YAML path the factor overrides
  double low = 0.0, high = 0.0;
  bool integer = false;        // values rounded to integers
  std::vector<double> levels;  // explicit levels (instead of low/high)
  Location where;              // of the factor in the design file
  std::string where_path;      // its path in the design file, e.g. "factors[1]"
};

struct SweepDesign {
  std::string file;
  std::string method;  // grid, lhs, morris, sobol
  int replications = 2;
  std::optional<std::uint64_t> seed;
  std::size_t samples = 0;  // lhs: points; sobol: base samples N; morris: trajectories
  std::size_t levels = 0;   // grid: levels per factor; morris: grid levels p
  std::vector<std::string> metrics;
  std::vector<Location> metric_locations;
  std::vector<DesignFactor> factors;
  std::string variant;
  Location variant_location;
  Location root_location;

  // The design as canonical JSON text (for the store's experiment identity; replications
  // left out).
  std::string canonical_text() const;
};

// Reads a design file strictly; throws cm::InputError with located diagnostics.
SweepDesign load_design(const std::string& path);
SweepDesign load_design_text(const std::string& text, const std::string& name);

// A factor value as override text: integers without a decimal point, others in shortest
// round-trip form.
std::string format_factor_value(double value, bool integer);

// The design's points: one row per design row, one column per factor (values as run).
struct DesignPlan {
  Eigen::MatrixXd values;
  std::vector<std::size_t> row_point;  // design row -> distinct point (identical rows share)
  std::vector<std::size_t> point_row;  // distinct point -> its first design row
  std::optional<stats::MorrisDesign> morris;
  std::optional<stats::SaltelliDesign> saltelli;
};
DesignPlan plan_design(const SweepDesign& design, std::uint64_t seed);

struct SweepOptions {
  std::string scenario_file;
  std::string design_file;
  double max_memory = 0;  // LoadOptions::max_memory
  std::filesystem::path out;
  int replications = 0;  // 0: the design's
  std::string command;
  ExecutionControl control;
  // Called once everything is validated, just before the store in out is opened (the command
  // line locks the directory and readies it for this kind of result there); may throw.
  std::function<void()> claim_output;
};

// Runs (or resumes) a sweep into options.out: results.sqlite, and sweep.json and points.csv
// once complete. Throws like run_compare.
ExperimentResult run_sweep(const SweepOptions& options);

// ---------------------------------------------------------------------------------------------
// Distribution over processes (docs/distributed.md).

// Byte messages between the processes of a distributed experiment: MPI ranks under mpirun
// (models/cli/mpi_session.cpp), threads in the tests. Process 0 is the coordinator. Messages
// from one process to another arrive in the order they were sent.
class Channel {
 public:
  using Message = std::vector<std::uint8_t>;
  virtual ~Channel() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void send(int to, const Message& message) = 0;
  // The next message to this process from any other, waiting at most `wait` without keeping a
  // core busy; nullopt if none arrived in time. Sets `from` to the sender.
  virtual std::optional<Message> receive(std::chrono::microseconds wait, int& from) = 0;
};

// A run record as bytes and back, exactly (doubles bit for bit, NaN included); decode throws
// std::runtime_error on a malformed message.
std::vector<std::uint8_t> encode_run_record(const RunRecord& run);
RunRecord decode_run_record(std::span<const std::uint8_t> bytes);

// What every process must agree on before it runs anything: the points (names, settings,
// effective scenarios), the base seed and the days per run, as a SHA-256.
std::string runs_fingerprint(const std::vector<ExperimentPoint>& points, std::uint64_t base_seed,
                             int ticks);

// Which run: an index into the points (the same on every process) and a replication.
struct RunTask {
  std::uint32_t point = 0;
  std::int32_t replication = 0;
};

// The processes of a Channel sharing an experiment's runs by dynamic self-scheduling. The
// coordinator plans the runs, owns the store and hands runs out a few at a time (each worker
// holds at most `window` = its runners + 1, so it never waits for the next and a slow run
// holds back nothing else); workers simulate them and send the records back. A stop (signal)
// on any process stops the whole experiment cleanly: runs under way finish and are recorded,
// runs handed out but not started are given back.
class RunCluster {
 public:
  explicit RunCluster(Channel& channel);
  // The coordinator ends the experiment on the workers if finish() was not called.
  ~RunCluster();
  RunCluster(const RunCluster&) = delete;
  RunCluster& operator=(const RunCluster&) = delete;

  bool coordinator() const;
  int processes() const;

  // Worker: serves the coordinator's runs of these points until it ends the experiment.
  // `control` gives the threads (runs at once) and the stop flag.
  void serve(const std::vector<ExperimentPoint>& points, std::uint64_t base_seed, int ticks,
             const ExecutionControl& control);
  // Worker: the experiment could not start on this process; tells the coordinator why (the
  // first time only, and only before serve()).
  void fail(const std::string& message);

  // Coordinator (RunExecutor): hands tasks from `next` to the workers, gives each finished
  // run to `finished`, until `more` is false and every task handed out is back. When
  // `stopping` turns true it hands out no more and takes back what was not started. Throws
  // std::runtime_error, once every task handed out is back, if a worker failed to start or
  // runs other points (fingerprint).
  struct Dispatch {
    std::string fingerprint;
    std::function<std::optional<RunTask>()> next;
    std::function<bool()> more;
    std::function<bool()> stopping;
    std::function<void(RunRecord&&)> finished;
    std::function<void()> halt;  // a worker stopped: stop the experiment
  };
  void dispatch(const Dispatch& d);
  // Coordinator: ends the experiment on every worker (waiting for the ones still starting).
  void finish();

 private:
  struct Worker;
  void handle(int from, const Channel::Message& message, const Dispatch* d);
  Channel& channel_;
  std::vector<Worker> workers_;  // by rank; [0] unused
  std::string error_;
  bool finished_ = false, cancelled_ = false, failed_sent_ = false;
};

// ---------------------------------------------------------------------------------------------
// Export.

// Writes the runs of dir/results.sqlite as tidy CSV (point,replication,seed,metric,value) to
// csv (default dir/results.csv); returns the file written. Opens the store read-only, so any
// experiment's store can be exported.
std::filesystem::path export_results(const std::filesystem::path& dir,
                                     const std::filesystem::path& csv = {});

}  // namespace cm::care
