// caremesh: the command line. Subcommands: run, resume, validate, scenarios (and those of later
// issues). Exit status: 0 success, 1 runtime failure, 2 invalid scenario, arguments or
// checkpoint, 130 stopped by SIGINT/SIGTERM (run and resume save a checkpoint first).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "caremesh_version.hpp"
#include "engine/directory_lock.hpp"
#include "engine/output.hpp"
#include "engine/parallel.hpp"
#include "engine/run_driver.hpp"
#include "engine/signals.hpp"
#include "engine/yaml_reader.hpp"
#include "models/cli/commands.hpp"
#include "models/cli/mpi_session.hpp"
#include "models/socialcare/checkpoint.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/exports/network_export.hpp"
#include "models/socialcare/outputs.hpp"
#include "models/socialcare/partition.hpp"
#include "models/socialcare/result_dir.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace fs = std::filesystem;
using namespace cm::care;

namespace cm::cli {

fs::path scenario_dir() {
  if (const char* env = std::getenv("CAREMESH_SCENARIOS")) return env;
  return CAREMESH_SCENARIO_DIR;
}

// A path as given, or the name of a built-in scenario ("warsaw" → scenarios/warsaw.yaml).
std::string resolve_scenario(const std::string& arg) {
  // error_code overloads: a name too long or a loop of symlinks is reported where the file is
  // read, located, not thrown from here.
  std::error_code ec;
  if (fs::exists(arg, ec) || arg.find('/') != std::string::npos || arg.ends_with(".yaml"))
    return arg;
  const fs::path builtin = scenario_dir() / (arg + ".yaml");
  return fs::exists(builtin, ec) ? builtin.string() : arg;
}

double memory_limit(std::uint64_t flag) {
  if (flag > 0) return static_cast<double>(flag);
  const char* env = std::getenv("CAREMESH_MAX_MEMORY");
  if (env == nullptr || *env == '\0') return 0;
  const auto v = parse_memory_size(env);
  if (!v)
    throw std::invalid_argument(
        "CAREMESH_MAX_MEMORY: expected a memory size such as 8G or 512M, "
        "got \"" +
        std::string(env) + "\"");
  return *v;
}

LoadOptions load_options(const std::string& variant, const std::vector<std::string>& sets,
                         std::uint64_t max_memory) {
  LoadOptions opt;
  opt.variant = variant;
  opt.max_memory = memory_limit(max_memory);
  for (const auto& s : sets) opt.sets.push_back(parse_override(s));
  return opt;
}

void lock_output_dir(const fs::path& dir) {
  // Held until the process exits: the kernel releases the locks however it ends.
  static std::vector<cm::DirectoryLock> held;
  std::error_code ec;
  for (const auto& l : held)
    if (fs::equivalent(l.dir(), dir, ec)) return;
  held.emplace_back(dir);
}

void claim_output_dir(const fs::path& dir, ResultKind kind, bool force) {
  lock_output_dir(dir);
  claim_result_dir(dir, kind, force);
}

namespace {

struct RunArgs {
  std::string scenario, out, variant;
  std::vector<std::string> sets;
  std::int64_t seed = -1;
  int threads = 0, ticks = 0, checkpoint_every = 0, stop_after_ticks = 0;
  std::uint64_t max_memory = 0;
  bool no_client_records = false, force = false, quiet = false;
  std::string network_format;  // --network-format graphml,gexf
  std::string partition;       // --partition territory
};

struct ResumeArgs {
  std::string dir;
  int threads = 0, checkpoint_every = -1, stop_after_ticks = 0;
  std::uint64_t max_memory = 0;
  bool quiet = false;
};

const char kStopMessage[] =
    "\ncaremesh: stopping at the end of the day and saving a checkpoint (signal again to stop at "
    "once)\n";

void print_run(const fs::path& out, const RunSpec& spec, const Simulation& sim,
               const nlohmann::json& metrics, double secs) {
  const Scenario& sc = sim.scenario();
  std::cout << "caremesh " << kVersion << ": " << sc.name
            << (spec.variant.empty() ? "" : " [" + spec.variant + "]") << ", seed " << spec.seed
            << ", " << sim.tick() << " days, " << sim.clients_created() << " clients, " << secs
            << " s\n";
  for (const char* k :
       {"complete_package_share", "needs_met_share", "dropout_share", "mean_days_to_first_service",
        "mean_doors_per_client", "repeat_assessment_share", "referral_completion_share",
        "collaboration_hours_share", "mean_tie_level", "network_density"}) {
    const auto& v = metrics[k];
    std::cout << "  " << k << ": " << (v.is_null() ? std::string("n/a") : v.dump()) << "\n";
  }
  std::cout << "results in " << out.string() << "\n";
}

const char kPartitionedStopMessage[] =
    "\ncaremesh: every process stops at the end of the day (a partitioned run keeps no "
    "checkpoint)\n";

// Steps a territory-partitioned run (every process of the job calls it; docs/distributed.md,
// section 6) to its last day. Each day the processes agree on whether to stop (SIGINT/SIGTERM
// on any of them): a partitioned run keeps no checkpoint, so a stopped one is marked INCOMPLETE
// and must be run again. The first process writes the results. A process that fails while the
// others still exchange ends the job (PartitionComm::abort).
int drive_partitioned(const fs::path& out, const RunSpec& spec, Simulation& sim,
                      PartitionComm& comm, int threads, int stop_after_ticks, bool quiet) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool writer = comm.rank() == 0;
  const StopSignalScope signals(writer ? kPartitionedStopMessage : nullptr);
  bool stopped = false;
  std::vector<std::int64_t> cost;  // per process: microseconds exchanging, bytes sent
  try {
    RunControl control;
    control.target_ticks = spec.target_ticks;
    control.watch_signals = true;
    control.stop_after_ticks = stop_after_ticks;
    control.agree_stop = [&](bool mine) {
      std::vector<std::int64_t> stop = {mine ? 1 : 0};
      comm.sum(stop);
      return stop[0] > 0;
    };
    with_threads(threads, [&] { stopped = drive(sim, control) == RunEnd::stopped; });
    const auto n = static_cast<std::size_t>(comm.size());
    cost.assign(2 * n, 0);
    cost[static_cast<std::size_t>(comm.rank())] = std::llround(comm.seconds * 1e6);
    cost[n + static_cast<std::size_t>(comm.rank())] = comm.bytes_sent;
    comm.sum(cost);
  } catch (const std::exception& e) {
    if (comm.size() > 1) {
      std::cerr << "caremesh: error (process " << comm.rank()
                << " of a partitioned run): " << e.what() << "\n";
      comm.abort();
    }
    throw;
  }
  if (!writer) return stopped ? kExitInterrupted : 0;
  std::error_code ec;
  if (stopped) {
    const std::string how =
        stop_requested() ? stop_signal_name(stop_signal()) : "--stop-after-ticks";
    const std::string note =
        "caremesh " + std::string(kVersion) + ": this partitioned run was stopped by " + how +
        " after day " + std::to_string(sim.tick()) + " of " + std::to_string(spec.target_ticks) +
        ".\nA partitioned run keeps no checkpoint: run it again with --force.\n";
    write_file_atomically(out / kIncompleteFile, note);
    std::cerr << "caremesh: stopped by " << how << " after day " << sim.tick() << " of "
              << spec.target_ticks
              << "; a partitioned run keeps no checkpoint: run it again with --force\n";
    return kExitInterrupted;
  }
  const auto metrics = compute_metrics(sim);
  const RunInfo info{spec.scenario_file, spec.variant, spec.sets, spec.client_records};
  fs::remove(out / kIncompleteFile, ec);
  write_run(out, sim, metrics, info);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) {
    print_run(out, spec, sim, metrics, secs);
    const Partition& part = sim.partition();
    const auto n = static_cast<std::size_t>(comm.size());
    std::cout << "partitioned over " << n << " processes (" << part.clusters
              << " clusters of collaboration, " << part.split_clusters
              << " spread over several processes); exchanging, per process:";
    for (std::size_t r = 0; r < n; ++r)
      std::cout << (r == 0 ? " " : ", ") << static_cast<double>(cost[r]) / 1e6 << " s, "
                << cost[n + r] << " B sent";
    std::cout << "\n";
  }
  return 0;
}

// Steps a run (new or restored) to its last day, saving a checkpoint every
// spec.checkpoint_every days. On SIGINT/SIGTERM (or at the testing option --stop-after-ticks)
// it stops at the end of the day, saves a checkpoint, marks the directory INCOMPLETE and
// returns 130; otherwise it writes the results, removes the checkpoint and returns 0.
int drive_run(const fs::path& out, const RunSpec& spec, Simulation& sim, int threads,
              int stop_after_ticks, bool quiet) {
  const auto t0 = std::chrono::steady_clock::now();
  const StopSignalScope signals(kStopMessage);
  RunControl control;
  control.target_ticks = spec.target_ticks;
  control.watch_signals = true;
  control.stop_after_ticks = stop_after_ticks;
  control.checkpoint_every = spec.checkpoint_every;
  control.checkpoint = [&] { Checkpoint::write(out, spec, sim); };
  bool stopped = false;
  with_threads(threads, [&] { stopped = drive(sim, control) == RunEnd::stopped; });
  std::error_code ec;
  if (stopped) {
    const std::string how =
        stop_requested() ? stop_signal_name(stop_signal()) : "--stop-after-ticks";
    const std::string note = "caremesh " + std::string(kVersion) + ": this run was stopped by " +
                             how + " after day " + std::to_string(sim.tick()) + " of " +
                             std::to_string(spec.target_ticks) + ".\nIts state is saved in " +
                             kCheckpointFile + "; continue it with\n  caremesh resume " +
                             out.string() + "\n";
    write_file_atomically(out / kIncompleteFile, note);
    std::cerr << "caremesh: stopped by " << how << " after day " << sim.tick() << " of "
              << spec.target_ticks << "; state saved in " << (out / kCheckpointFile).string()
              << "; continue with: caremesh resume " << out.string() << "\n";
    return kExitInterrupted;
  }
  const auto metrics = compute_metrics(sim);
  const RunInfo info{spec.scenario_file, spec.variant, spec.sets, spec.client_records};
  fs::remove(out / kIncompleteFile, ec);
  write_run(out, sim, metrics, info);
  fs::remove(out / kCheckpointFile, ec);
  fs::remove(out / kKeyFile, ec);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) print_run(out, spec, sim, metrics, secs);
  return 0;
}

// The set-up of a run: the scenario, and (writer: the process that writes the results) the
// output directory.
Scenario prepare_run(const RunArgs& a, bool writer) {
  const std::string file = resolve_scenario(a.scenario);
  Scenario sc = load_scenario(file, load_options(a.variant, a.sets, a.max_memory));
  const fs::path out = a.out;
  std::error_code ec;
  if (a.ticks > sc.horizon_days)
    throw std::invalid_argument("--ticks " + std::to_string(a.ticks) +
                                " is beyond the scenario's horizon_days (" +
                                std::to_string(sc.horizon_days) +
                                "); to run longer, use --set "
                                "horizon_days=" +
                                std::to_string(a.ticks));
  if (!a.partition.empty() && a.checkpoint_every > 0)
    throw std::invalid_argument(
        "--checkpoint-every: a partitioned run (--partition) keeps no checkpoint");
  if (!writer) return sc;
  lock_output_dir(out);  // for the whole run: no other process writes there meanwhile
  if (!a.force && !fs::exists(out / kCheckpointFile, ec) && fs::exists(out / kIncompleteFile, ec))
    throw std::runtime_error(a.out + ": holds an interrupted run without a checkpoint (" +
                             kIncompleteFile + " but no " + kCheckpointFile +
                             ": a partitioned run, or one killed before its first checkpoint); "
                             "it cannot be resumed: pass --force to run it again");
  if (!a.force && (fs::exists(out / kCheckpointFile, ec) || fs::exists(out / kIncompleteFile, ec)))
    throw std::runtime_error(a.out + ": holds an interrupted run (" + kCheckpointFile +
                             "); continue it with `caremesh resume " + a.out +
                             "` (a partitioned run cannot be resumed), or pass --force to "
                             "replace it");
  claim_result_dir(out, ResultKind::run, a.force);
  prepare_output_dir(out, a.force);
  if (a.force) {
    fs::remove(out / kCheckpointFile, ec);
    fs::remove(out / kIncompleteFile, ec);
  }
  return sc;
}

int cmd_run(const RunArgs& a) {
  const auto network_formats = parse_network_formats(a.network_format);
  // A partitioned run: over the processes of the MPI job, or alone (one process, the same
  // results through the same exchanges).
  std::unique_ptr<PartitionComm> comm;
  if (!a.partition.empty()) {
    comm = mpi_partition_comm();
    if (comm == nullptr) comm = std::move(ThreadPartitionComm::make(1)[0]);
  }
  const bool writer = comm == nullptr || comm->rank() == 0;
  std::optional<Scenario> loaded;
  if (comm == nullptr) {
    loaded.emplace(prepare_run(a, true));
  } else {
    // The processes agree before they start exchanging: if any failed, all stop; the first
    // process reports its error, or else those that failed report theirs.
    std::exception_ptr failed;
    try {
      loaded.emplace(prepare_run(a, writer));
    } catch (...) {
      failed = std::current_exception();
    }
    std::vector<std::int64_t> any = {failed ? 1 : 0, failed && writer ? 1 : 0};
    comm->sum(any);
    if (failed && (writer || any[1] == 0)) std::rethrow_exception(failed);
    if (any[0] > 0) return 2;  // reported by another process
  }
  const Scenario& sc = *loaded;
  const std::string file = resolve_scenario(a.scenario);
  const fs::path out = a.out;
  RunSpec spec;
  spec.scenario_file = file;
  spec.effective_yaml = sc.effective_yaml;
  spec.variant = a.variant;
  for (const auto& s : a.sets) spec.sets.push_back(parse_override(s));
  spec.seed = a.seed >= 0 ? static_cast<std::uint64_t>(a.seed) : sc.seed;
  spec.target_ticks = a.ticks > 0 ? a.ticks : sc.horizon_days;
  spec.checkpoint_every = a.checkpoint_every;
  spec.client_records = !a.no_client_records && comm == nullptr;
  spec.network_format = a.network_format;
  Simulation sim(sc, spec.seed, SimOptions{spec.client_records, spec.target_ticks, comm.get()});
  int threads = a.threads;
  if (threads == 0 && comm != nullptr)  // the cores of this machine shared by its processes
    threads =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / mpi_local_processes());
  const int rc = comm != nullptr ? drive_partitioned(out, spec, sim, *comm, threads,
                                                     a.stop_after_ticks, a.quiet)
                                 : drive_run(out, spec, sim, threads, a.stop_after_ticks, a.quiet);
  if (rc == 0 && writer) write_network_exports(out, read_network_data(out), network_formats);
  return rc;
}

int cmd_resume(const ResumeArgs& a) {
  const double max_memory = memory_limit(a.max_memory);
  const fs::path dir = a.dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::invalid_argument(a.dir + ": not a directory (give the --out directory of the run)");
  if (fs::exists(dir / "summary.json", ec))
    throw std::invalid_argument(a.dir + ": the run is complete (summary.json); nothing to resume");
  lock_output_dir(dir);                      // for the whole run
  if (fs::exists(dir / "summary.json", ec))  // finished while this process waited for the lock
    throw std::invalid_argument(a.dir + ": the run is complete (summary.json); nothing to resume");
  const Checkpoint cp = Checkpoint::read(dir);
  // Temporary files of a process killed while writing (engine/output.hpp).
  claim_result_dir(dir, ResultKind::run, false);
  const Scenario sc = cp.scenario(max_memory);
  RunSpec spec = cp.spec();
  if (a.checkpoint_every >= 0) spec.checkpoint_every = a.checkpoint_every;
  Simulation sim(sc, spec.seed, SimOptions{spec.client_records, spec.target_ticks});
  cp.restore(sim);
  if (!a.quiet)
    std::cout << "caremesh " << kVersion << ": resuming " << sc.name << " at day " << sim.tick()
              << " of " << spec.target_ticks << "\n";
  const int rc = drive_run(dir, spec, sim, a.threads, a.stop_after_ticks, a.quiet);
  if (rc == 0)
    write_network_exports(dir, read_network_data(dir), parse_network_formats(spec.network_format));
  return rc;
}

// Without --variant, the baseline and then every declared variant are checked, and the
// problems of all of them are reported (a variant's overrides can break a valid baseline).
int cmd_validate(const std::string& scenario, const std::string& variant,
                 const std::vector<std::string>& sets) {
  const std::string file = resolve_scenario(scenario);
  const Scenario sc = load_scenario(file, load_options(variant, sets));
  std::size_t checked = 0;
  bool failed = false;
  if (variant.empty())
    for (const std::string& v : scenario_variants(file)) {
      if (v.empty() || v == "baseline") continue;
      try {
        (void)load_scenario(file, load_options(v, sets));
        ++checked;
      } catch (const cm::InputError& e) {
        std::cerr << "variant " << v << ":\n" << e.diagnostics().report();
        failed = true;
      }
    }
  if (failed) return 2;
  std::cout << file << ": ok (" << sc.districts.size() << " districts, " << sc.organizations.size()
            << " organizations, " << sc.services.size() << " services, " << sc.networks.size()
            << " networks";
  if (checked > 0) std::cout << "; " << checked << " variants checked";
  std::cout << ")\n";
  return 0;
}

int cmd_scenarios() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(scenario_dir(), ec))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string line = "(invalid: run caremesh validate)";
    try {
      const Scenario sc = load_scenario(f.string(), load_options({}, {}));
      line = sc.description.substr(0, sc.description.find('\n'));
      const auto variants = scenario_variants(f.string());
      if (!variants.empty()) {
        line += " [variants:";
        for (const auto& v : variants) line += " " + v;
        line += "]";
      }
    } catch (const std::exception&) {
    }
    std::cout << f.stem().string() << "\t" << line << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"caremesh " + std::string(kVersion) +
               " — agent-based simulation of networked social assistance.\n"
               "Compares fragmented and networked delivery of the same services to the same "
               "population on the same budget."};
  app.set_version_flag("--version", std::string(kVersion));
  app.require_subcommand(1);

  RunArgs run;
  auto* r = app.add_subcommand("run", "Run one scenario and write its results into a directory");
  r->add_option("scenario", run.scenario, "Scenario YAML file, or a built-in scenario's name")
      ->required();
  r->add_option("--out,-o", run.out, "Output directory (created; must not hold results)")
      ->required();
  r->add_option("--seed", run.seed, "Random seed (default: the scenario's seed)")
      ->check(CLI::NonNegativeNumber);
  r->add_option("--threads", run.threads,
                "Worker threads (0: all cores); results do not depend "
                "on it")
      ->check(CLI::Range(0, 1024));
  r->add_option("--ticks", run.ticks,
                "Days to simulate, at most horizon_days (default: the scenario's horizon_days)")
      ->check(CLI::Range(1, 36500));
  r->add_option("--variant", run.variant, "Apply a variant declared under `variants:`");
  r->add_option("--set", run.sets,
                "Override a scenario value: PATH=VALUE (repeatable), e.g. "
                "--set tie_policy.max_level=2");
  r->add_flag(
      "--no-client-records", run.no_client_records,
      "Do not write clients.csv and keep no record of a client who has left (its outcome is "
      "folded into the measures): memory follows the active clients; same metrics");
  r->add_option("--network-format", run.network_format,
                "Also write the network as graphml and/or gexf, comma-separated "
                "(DIR/network.graphml, DIR/network.gexf; see caremesh export-network)");
  r->add_flag("--force", run.force,
              "Replace results already in the output directory (removes every file of the earlier "
              "result, of any kind)");
  r->add_flag("--quiet,-q", run.quiet, "Print nothing on success");
  r->add_option("--checkpoint-every", run.checkpoint_every,
                "Save the state to OUT/checkpoint.bin every N days, for `caremesh resume` "
                "(SIGINT/SIGTERM always save it)")
      ->check(CLI::Range(1, 36500));
  r->add_option("--max-memory", run.max_memory,
                "Refuse a scenario whose clients would need more memory than this (default "
                "8G, or $CAREMESH_MAX_MEMORY)")
      ->transform(CLI::AsSizeValue(false));
  r->add_option("--partition", run.partition,
                "Split the run over the processes of an MPI job (mpirun -np N caremesh run ...): "
                "territory = clusters of collaborating organizations and the districts they serve "
                "(docs/distributed.md). Implies --no-client-records and no checkpoints; the "
                "results are those of one process")
      ->check(CLI::IsMember({"territory"}));
  r->add_option("--stop-after-ticks", run.stop_after_ticks)->group("")->check(CLI::Range(1, 36500));

  ResumeArgs resume;
  auto* rs = app.add_subcommand(
      "resume", "Continue a run stopped by SIGINT/SIGTERM or killed, from DIR/checkpoint.bin");
  rs->add_option("dir", resume.dir, "The run's output directory (its --out)")->required();
  rs->add_option("--threads", resume.threads,
                 "Worker threads (0: all cores); results do not depend on it")
      ->check(CLI::Range(0, 1024));
  rs->add_option("--checkpoint-every", resume.checkpoint_every,
                 "Save the state every N days (default: as the run was started)")
      ->check(CLI::Range(0, 36500));
  rs->add_option("--max-memory", resume.max_memory,
                 "Refuse a scenario whose clients would need more memory than this")
      ->transform(CLI::AsSizeValue(false));
  rs->add_flag("--quiet,-q", resume.quiet, "Print nothing on success");
  rs->add_option("--stop-after-ticks", resume.stop_after_ticks)
      ->group("")
      ->check(CLI::Range(1, 36500));

  std::string v_scenario, v_variant;
  std::vector<std::string> v_sets;
  auto* v = app.add_subcommand("validate", "Check a scenario; print located errors (exit 2)");
  v->add_option("scenario", v_scenario, "Scenario YAML file, or a built-in scenario's name")
      ->required();
  v->add_option("--variant", v_variant,
                "Validate with this variant applied (default: the baseline and every variant)");
  v->add_option("--set", v_sets, "Override a scenario value: PATH=VALUE (repeatable)");

  auto* s = app.add_subcommand("scenarios", "List the built-in scenarios, one line each");

  register_commands(app);
  register_report_commands(app);
  register_serve_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Under mpirun every process parses the same command line: only the first prints the help
    // or the complaint (the others exit with the same status, silently).
    if (const care::Channel* mpi = mpi_channel(); mpi && mpi->rank() != 0) {
      std::ostringstream quiet;
      return app.exit(e, quiet, quiet) == 0 ? 0 : 2;
    }
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (const care::Channel* mpi = mpi_channel();
      mpi && !distributed_command_parsed() && !(r->parsed() && !run.partition.empty())) {
    if (mpi->rank() == 0)
      std::cerr << "caremesh: under mpirun only compare, sweep and run --partition territory are "
                   "distributed; run this command as a single process\n";
    return 2;
  }
  try {
    if (r->parsed()) return cmd_run(run);
    if (rs->parsed()) return cmd_resume(resume);
    if (v->parsed()) return cmd_validate(v_scenario, v_variant, v_sets);
    if (s->parsed()) return cmd_scenarios();
    if (const int rc = run_report_commands(app); rc >= 0) return rc;
    if (const int rc = run_serve_commands(app); rc >= 0) return rc;
    return run_registered(app);
  } catch (const cm::InputError& e) {
    std::cerr << e.diagnostics().report();
    return 2;
  } catch (const cm::DirectoryBusy& e) {
    std::cerr << "caremesh: " << e.what() << "\n";
    return 2;
  } catch (const CheckpointError& e) {
    std::cerr << "caremesh: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "caremesh: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "caremesh: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cm::cli

int main(int argc, char** argv) {
  const cm::cli::MpiSession mpi(argc, argv);  // MPI only under an MPI launcher
  return cm::cli::main(argc, argv);
}
