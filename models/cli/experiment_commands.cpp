// The experiment subcommands: compare, sweep, export (models/socialcare/experiments/experiments.hpp does
// the work; this file parses options, handles SIGINT/SIGTERM and prints).
//
// Under mpirun (docs/distributed.md) compare and sweep share their runs among the processes:
// rank 0 does what a single process does and prints; the other ranks only run runs and print
// nothing (rank 0 reports their errors).
//
// Exit status: 0 done, 1 runtime failure, 2 invalid scenario, design or arguments, 130
// interrupted (the runs finished so far are kept; the same command resumes).
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "engine/signals.hpp"
#include "models/cli/commands.hpp"
#include "models/cli/mpi_session.hpp"
#include "models/socialcare/experiments/experiments.hpp"

namespace cm::cli {

namespace {

using namespace cm::care;

constexpr const char* kStopMessage =
    "\ncaremesh: stopping: finishing the runs under way (signal again to stop at once)\n";

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-+=.,/:@%") == std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CommonArgs {
  std::string scenario, out;
  int threads = 0, ticks = 0;
  bool quiet = false, coordinator_only = false, force = false;
  std::size_t stop_after = 0;
};

struct CompareArgs : CommonArgs {
  std::vector<std::string> variants, sets;
  int replications = 10, max_replications = 1000;
  std::int64_t seed = -1;
  std::string precision;
};

struct SweepArgs : CommonArgs {
  std::string design;
  int replications = 0;
};

struct ExportArgs {
  std::string dir, format = "csv", out;
};

struct Registered {
  CLI::App* compare = nullptr;
  CLI::App* sweep = nullptr;
  CLI::App* export_ = nullptr;
  CompareArgs c;
  SweepArgs s;
  ExportArgs e;
};

Registered& registered() {
  static Registered r;
  return r;
}

void add_common(CLI::App* cmd, CommonArgs& a) {
  cmd->add_option("--out,-o", a.out,
                  "Output directory: results.sqlite and the report (rerun to resume)")
      ->required();
  cmd->add_option("--threads", a.threads,
                  "Worker threads (0: all cores), per rank under mpirun; results do not "
                  "depend on it")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--ticks", a.ticks, "Days per run (default: the scenario's horizon_days)")
      ->check(CLI::Range(1, 36500));
  cmd->add_flag("--quiet,-q", a.quiet, "Print no progress and no table");
  cmd->add_flag("--force", a.force,
                "Replace the results already in the output directory (another experiment's, or "
                "a run's: every file of them is removed first) instead of resuming or refusing");
  cmd->add_flag("--coordinator-only", a.coordinator_only,
                "Under mpirun: rank 0 hands out runs and writes the store but runs none itself");
  // For tests: behave as if interrupted after K runs were launched.
  cmd->add_option("--stop-after", a.stop_after)->group("");
}

ExecutionControl control(const CommonArgs& a) {
  ExecutionControl c;
  c.threads = a.threads;
  c.ticks = a.ticks;
  c.progress = a.quiet ? ProgressMode::none : ProgressMode::automatic;
  c.stop = &cm::stop_flag();
  c.stop_after = a.stop_after;
  c.coordinator_runs = !a.coordinator_only;
  return c;
}

// The command line that defines the experiment's results, for the store: options that only
// change speed or presentation (--threads, --quiet, --coordinator-only, the testing
// --stop-after) and the number of MPI processes are left out, so
// an experiment resumed with other ones has the same content.
std::string command_line(const std::string& name, const CommonArgs& a,
                         const std::vector<std::string>& extra) {
  std::string cmd = "caremesh " + name + " " + shell_quote(a.scenario);
  for (const auto& x : extra) cmd += " " + x;
  cmd += " --out " + shell_quote(a.out);
  if (a.ticks) cmd += " --ticks " + std::to_string(a.ticks);
  return cmd;
}

int report(const ExperimentResult& r, const CommonArgs& a, const std::string& command,
           const std::string& what) {
  const auto& x = r.execution;
  if (!r.complete) {
    std::cerr << "caremesh: interrupted: " << x.skipped + x.executed - x.failed << " of "
              << r.runs_total << " runs are recorded in " << a.out << "/results.sqlite; no " << what
              << " was written.\nRun the same command again to resume (finished runs are kept"
              << (mpi_channel() ? "; under mpirun, on any number of ranks" : "") << "):\n  "
              << command << "\n";
    return kExitInterrupted;
  }
  if (!a.quiet) {
    std::cout << r.table;
    char line[200];
    std::snprintf(line, sizeof line,
                  "%zu runs in %.2f s (%zu already done); store: %zu commits, %.2f s on its "
                  "writer thread, of which %.2f s CPU",
                  x.executed, x.wall_seconds, x.skipped, x.commits, x.store_seconds,
                  x.store_cpu_seconds);
    std::cout << line;
    if (const Channel* mpi = mpi_channel())
      std::cout << "; " << mpi->size() << " processes, " << x.remote
                << " runs on ranks other than 0";
    std::cout << "; results in " << a.out << "\n";
  }
  return 0;
}

// Runs an experiment on this process alone or, under mpirun, with the other processes: the
// coordinator (rank 0) returns the result to report, a worker its exit status. A worker's
// error goes to the coordinator, which reports it (or its own, usually the same).
int run_experiment(const CommonArgs& a, const std::string& command, const std::string& what,
                   const std::function<ExperimentResult(const ExecutionControl&)>& run) {
  ExecutionControl c = control(a);
  Channel* mpi = mpi_channel();
  if (!mpi) {
    const StopSignalScope signals(kStopMessage);
    return report(run(c), a, command, what);
  }
  RunCluster cluster(*mpi);  // on rank 0 its destructor ends the workers, whatever happens
  c.cluster = &cluster;
  if (cluster.coordinator()) {
    const StopSignalScope signals(kStopMessage);
    const ExperimentResult r = run(c);
    cluster.finish();
    return report(r, a, command, what);
  }
  c.progress = ProgressMode::none;
  const StopSignalScope signals(nullptr);
  try {
    return run(c).complete ? 0 : kExitInterrupted;
  } catch (const InputError& e) {
    cluster.fail(e.diagnostics().report());
    return 2;
  } catch (const std::invalid_argument& e) {
    cluster.fail(e.what());
    return 2;
  } catch (const std::exception& e) {
    cluster.fail(e.what());
    return 1;
  }
}

int run_compare_command(const CompareArgs& a) {
  std::vector<std::string> extra;
  if (!a.variants.empty()) {
    std::string v;
    for (const auto& x : a.variants) v += (v.empty() ? "" : ",") + x;
    extra.push_back("--variants " + shell_quote(v));
  }
  extra.push_back("--replications " + std::to_string(a.replications));
  if (a.seed >= 0) extra.push_back("--seed " + std::to_string(a.seed));
  for (const auto& s : a.sets) extra.push_back("--set " + shell_quote(s));
  if (!a.precision.empty()) {
    extra.push_back("--precision " + shell_quote(a.precision));
    extra.push_back("--max-replications " + std::to_string(a.max_replications));
  }
  const std::string command = command_line("compare", a, extra);
  // Options are parsed inside, so that a worker's errors go to rank 0 too.
  return run_experiment(a, command, "comparison.json", [&](const ExecutionControl& c) {
    CompareOptions o;
    o.scenario_file = resolve_scenario(a.scenario);
    o.variants = a.variants;
    for (const auto& s : a.sets) o.sets.push_back(parse_override(s));
    o.max_memory = memory_limit();
    o.replications = a.replications;
    o.max_replications = a.max_replications;
    if (a.seed >= 0) o.seed = static_cast<std::uint64_t>(a.seed);
    if (!a.precision.empty()) {
      const auto [metric, h] = parse_precision(a.precision);
      o.precision_metric = metric;
      o.precision_half_width = h;
    }
    o.out = a.out;
    o.command = command;
    o.control = c;
    o.claim_output = [&] { claim_output_dir(o.out, ResultKind::compare, a.force); };
    return run_compare(o);
  });
}

int run_sweep_command(const SweepArgs& a) {
  SweepOptions o;
  o.scenario_file = resolve_scenario(a.scenario);
  o.design_file = a.design;
  o.out = a.out;
  o.replications = a.replications;
  std::vector<std::string> extra = {"--design " + shell_quote(a.design)};
  if (a.replications) extra.push_back("--replications " + std::to_string(a.replications));
  o.command = command_line("sweep", a, extra);
  return run_experiment(a, o.command, "sweep.json or points.csv", [&](const ExecutionControl& c) {
    o.control = c;
    o.max_memory = memory_limit();
    o.claim_output = [&] { claim_output_dir(o.out, ResultKind::sweep, a.force); };
    return run_sweep(o);
  });
}

int run_export_command(const ExportArgs& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(a.dir, ec) &&
      (a.out.empty() || fs::equivalent(fs::absolute(a.out).parent_path(), a.dir, ec)))
    lock_output_dir(a.dir);  // writes into the experiment's directory
  const auto file = export_results(a.dir, a.out);
  std::cout << "wrote " << file.string() << "\n";
  return 0;
}

}  // namespace

void register_commands(CLI::App& app) {
  Registered& r = registered();

  auto* c = app.add_subcommand(
      "compare",
      "Run variants of a scenario with common random numbers and compare them with the first "
      "(baseline): per-variant means, paired differences with 95% CIs, the added value S(Y)");
  r.compare = c;
  c->add_option("scenario", r.c.scenario, "Scenario YAML file, or a built-in scenario's name")
      ->required();
  c->add_option("--variants", r.c.variants,
                "Variants to compare, comma-separated, baseline first (default: all the "
                "scenario declares)")
      ->delimiter(',');
  c->add_option("--replications,-n", r.c.replications,
                "Replications per variant (with --precision: the first batch)")
      ->check(CLI::Range(2, 1000000));
  c->add_option("--seed", r.c.seed,
                "Base seed; replication r uses seed + r (default: the scenario's seed)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--set", r.c.sets,
                "Override a scenario value for every variant: PATH=VALUE "
                "(repeatable)");
  c->add_option("--precision", r.c.precision,
                "METRIC=HALFWIDTH: add replications in batches until the paired 95% CI of "
                "METRIC is at most this wide (half-width) for every variant");
  c->add_option("--max-replications", r.c.max_replications,
                "Upper limit for --precision (default 1000)")
      ->check(CLI::Range(2, 1000000));
  add_common(c, r.c);
  c->footer(
      "Distributed: `mpirun -np N caremesh compare ...` shares the runs among N processes "
      "(rank 0 writes the store); the results are those of one process. See "
      "docs/distributed.md.");

  auto* s = app.add_subcommand(
      "sweep",
      "Run a design (grid, lhs, morris, sobol) over scenario parameters; main effects "
      "or sensitivity indices with bootstrap CIs");
  r.sweep = s;
  s->add_option("scenario", r.s.scenario, "Scenario YAML file, or a built-in scenario's name")
      ->required();
  s->add_option("--design", r.s.design, "Design YAML file (method, factors, metrics, ...)")
      ->required();
  s->add_option("--replications,-n", r.s.replications,
                "Replications per point (default: the design's)")
      ->check(CLI::Range(1, 1000000));
  add_common(s, r.s);
  s->footer(
      "Distributed: `mpirun -np N caremesh sweep ...` shares the runs among N processes "
      "(rank 0 writes the store); the results are those of one process. See "
      "docs/distributed.md.");

  auto* e = app.add_subcommand("export", "Write an experiment's results.sqlite as tidy CSV");
  r.export_ = e;
  e->add_option("dir", r.e.dir, "Experiment directory (the --out of compare or sweep)")->required();
  e->add_option("--format", r.e.format, "Output format")->check(CLI::IsMember({"csv"}));
  e->add_option("--out,-o", r.e.out, "Output file (default: DIR/results.csv)");
}

bool distributed_command_parsed() {
  const Registered& r = registered();
  return (r.compare && r.compare->parsed()) || (r.sweep && r.sweep->parsed());
}

int run_registered(CLI::App&) {
  const Registered& r = registered();
  if (r.compare && r.compare->parsed()) return run_compare_command(r.c);
  if (r.sweep && r.sweep->parsed()) return run_sweep_command(r.s);
  if (r.export_ && r.export_->parsed()) return run_export_command(r.e);
  return 2;
}

}  // namespace cm::cli
