// caremesh: the command line. Subcommands: run, validate, scenarios (and those of later
// issues). Exit status: 0 success, 1 runtime failure, 2 invalid scenario or arguments.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "caremesh_version.hpp"
#include "engine/parallel.hpp"
#include "engine/yaml_reader.hpp"
#include "models/cli/commands.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/outputs.hpp"
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
  if (fs::exists(arg) || arg.find('/') != std::string::npos || arg.ends_with(".yaml")) return arg;
  const fs::path builtin = scenario_dir() / (arg + ".yaml");
  return fs::exists(builtin) ? builtin.string() : arg;
}

LoadOptions load_options(const std::string& variant, const std::vector<std::string>& sets) {
  LoadOptions opt;
  opt.variant = variant;
  for (const auto& s : sets) opt.sets.push_back(parse_override(s));
  return opt;
}

namespace {

struct RunArgs {
  std::string scenario, out, variant;
  std::vector<std::string> sets;
  std::int64_t seed = -1;
  int threads = 0, ticks = 0;
  bool no_client_records = false, force = false, quiet = false;
};

int cmd_run(const RunArgs& a) {
  const std::string file = resolve_scenario(a.scenario);
  const Scenario sc = load_scenario(file, load_options(a.variant, a.sets));
  const std::uint64_t seed = a.seed >= 0 ? static_cast<std::uint64_t>(a.seed) : sc.seed;
  prepare_output_dir(a.out, a.force);
  const auto t0 = std::chrono::steady_clock::now();
  Simulation sim(sc, seed);
  const int ticks = a.ticks > 0 ? std::min(a.ticks, sc.horizon_days) : sc.horizon_days;
  with_threads(a.threads, [&] { sim.run(ticks); });
  sim.finish();
  const auto metrics = compute_metrics(sim);
  RunInfo info{file, a.variant, {}, !a.no_client_records};
  for (const auto& s : a.sets) info.sets.push_back(parse_override(s));
  write_run(a.out, sim, metrics, info);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.quiet) {
    std::cout << "caremesh " << kVersion << ": " << sc.name
              << (a.variant.empty() ? "" : " [" + a.variant + "]") << ", seed " << seed << ", "
              << sim.tick() << " days, " << sim.clients().size() << " clients, " << secs << " s\n";
    for (const char* k : {"complete_package_share", "needs_met_share", "dropout_share",
                          "mean_days_to_first_service", "mean_doors_per_client",
                          "repeat_assessment_share", "referral_completion_share",
                          "collaboration_hours_share", "mean_tie_level", "network_density"}) {
      const auto& v = metrics[k];
      std::cout << "  " << k << ": " << (v.is_null() ? std::string("n/a") : v.dump()) << "\n";
    }
    std::cout << "results in " << a.out << "\n";
  }
  return 0;
}

int cmd_validate(const std::string& scenario, const std::string& variant,
                 const std::vector<std::string>& sets) {
  const std::string file = resolve_scenario(scenario);
  const Scenario sc = load_scenario(file, load_options(variant, sets));
  std::cout << file << ": ok (" << sc.districts.size() << " districts, " << sc.organizations.size()
            << " organizations, " << sc.services.size() << " services, " << sc.networks.size()
            << " networks)\n";
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
      const Scenario sc = load_scenario(f.string());
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
  r->add_option("--ticks", run.ticks, "Days to simulate (default: the scenario's horizon_days)")
      ->check(CLI::Range(1, 36500));
  r->add_option("--variant", run.variant, "Apply a variant declared under `variants:`");
  r->add_option("--set", run.sets,
                "Override a scenario value: PATH=VALUE (repeatable), e.g. "
                "--set tie_policy.max_level=2");
  r->add_flag("--no-client-records", run.no_client_records, "Do not write clients.csv");
  r->add_flag("--force", run.force, "Replace results already in the output directory");
  r->add_flag("--quiet,-q", run.quiet, "Print nothing on success");

  std::string v_scenario, v_variant;
  std::vector<std::string> v_sets;
  auto* v = app.add_subcommand("validate", "Check a scenario; print located errors (exit 2)");
  v->add_option("scenario", v_scenario, "Scenario YAML file, or a built-in scenario's name")
      ->required();
  v->add_option("--variant", v_variant, "Validate with this variant applied");
  v->add_option("--set", v_sets, "Override a scenario value: PATH=VALUE (repeatable)");

  auto* s = app.add_subcommand("scenarios", "List the built-in scenarios, one line each");

  register_commands(app);
  register_report_commands(app);
  register_serve_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (r->parsed()) return cmd_run(run);
    if (v->parsed()) return cmd_validate(v_scenario, v_variant, v_sets);
    if (s->parsed()) return cmd_scenarios();
    if (const int rc = run_report_commands(app); rc >= 0) return rc;
    if (const int rc = run_serve_commands(app); rc >= 0) return rc;
    return run_registered(app);
  } catch (const cm::ScenarioError& e) {
    std::cerr << e.diagnostics().report();
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
  return cm::cli::main(argc, argv);
}
