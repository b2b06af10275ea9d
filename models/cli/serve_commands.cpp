// `caremesh serve`: the workshop web page (models/socialcare/workshop/workshop.hpp, docs/workshop.md).
#include <csignal>
#include <iostream>
#include <string>

#include "engine/signals.hpp"
#include "models/cli/commands.hpp"
#include "models/socialcare/workshop/workshop.hpp"

namespace cm::cli {

namespace {

struct ServeArgs {
  std::string scenario;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::int64_t seed = -1;
  int replications = 3;
  int threads = 0;
  std::string variant = "networked";
  std::string baseline;
  double rate = 10.0;
  double burst = 40.0;
};

ServeArgs g_args;
CLI::App* g_serve = nullptr;

int cmd_serve(const ServeArgs& a) {
  using namespace care::workshop;
  // From the start, so that a signal during the baseline runs stops the server as it starts.
  const StopSignalScope signals("caremesh serve: stopping...\n");
  std::signal(SIGPIPE, SIG_IGN);  // a browser closing a connection must not end the server
  WorkshopOptions wo;
  wo.design_variant = a.variant;
  wo.baseline_variant = a.baseline;
  wo.seed = a.seed;
  wo.replications = a.replications;
  wo.threads = a.threads;
  wo.max_memory = memory_limit();
  const std::string file = resolve_scenario(a.scenario);
  std::cerr << "caremesh serve: preparing " << file << " (baseline runs)...\n";
  const Workshop workshop(file, wo);

  ServerOptions so;
  so.host = a.host;
  so.port = a.port;
  so.rate_per_second = a.rate;
  so.rate_burst = a.burst;
  so.stop_flag = &cm::stop_flag();  // SIGINT/SIGTERM (engine/signals.hpp) stop the server
  WorkshopServer server(workshop, so);
  const int port = server.bind();
  const bool v6 = a.host.find(':') != std::string::npos;
  const std::string shown_host = v6 ? "[" + a.host + "]" : a.host;
  if (a.host != "127.0.0.1" && a.host != "localhost" && a.host != "::1")
    std::cerr << "caremesh serve: warning: listening on " << a.host
              << ", not only on this computer: anyone who can reach it can run simulations "
                 "here (there is no login)\n";
  std::cout << "caremesh workshop: " << workshop.scenario_name() << ", baseline "
            << (a.baseline.empty() ? "(scenario file)" : a.baseline) << " vs design from "
            << (workshop.design_variant().empty() ? "(scenario file)" : workshop.design_variant())
            << ", " << workshop.replications() << " replication(s) from seed "
            << workshop.base_seed() << "\n"
            << "listening on http://" << shown_host << ":" << port << "/ (Ctrl-C to stop)"
            << std::endl;

  server.run();
  std::cout << "caremesh serve: stopped" << std::endl;
  return 0;  // stopping is the normal end of a workshop
}

}  // namespace

void register_serve_commands(CLI::App& app) {
  ServeArgs& a = g_args;
  auto* s = app.add_subcommand(
      "serve",
      "Workshop mode: a local web page with network-design levers that compares the networked "
      "design with the fragmented baseline (docs/workshop.md)");
  s->add_option("scenario", a.scenario, "Scenario YAML file, or a built-in scenario's name")
      ->required();
  s->add_option("--port", a.port, "TCP port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  s->add_option("--host", a.host,
                "Address to listen on; the default answers this computer only. Another "
                "address exposes the page to the network (no login)")
      ->capture_default_str();
  s->add_option("--seed", a.seed, "Base seed (default: the scenario's); replication r uses seed+r")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--replications", a.replications, "Runs per design for each comparison (1-64)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  s->add_option("--threads", a.threads, "Worker threads for the runs (0: all cores)")
      ->check(CLI::Range(0, 1024));
  s->add_option("--variant", a.variant,
                "Variant the levers start from (default networked; the scenario file itself "
                "when it declares none)")
      ->capture_default_str();
  s->add_option("--baseline", a.baseline,
                "Variant to compare against (default: the scenario file itself)");
  s->add_option("--rate", a.rate, "Requests per second allowed per client (token bucket)")
      ->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
  s->add_option("--burst", a.burst, "Burst of requests allowed per client")
      ->check(CLI::Range(1.0, 10000.0))
      ->capture_default_str();
  g_serve = s;
}

int run_serve_commands(CLI::App&) {
  if (g_serve == nullptr || !g_serve->parsed()) return -1;
  return cmd_serve(g_args);
}

}  // namespace cm::cli
