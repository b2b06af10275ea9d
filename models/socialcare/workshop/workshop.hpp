// Workshop mode (`caremesh serve`): a local web page where trainers move a few network-design
// levers and see, within seconds, how the networked design they describe compares with the
// fragmented baseline of the same scenario (same seeds: common random numbers).
//
// Three layers, each usable on its own (docs/workshop.md describes them for trainers):
//   Workshop        the lever definitions, the lever → scenario-override mapping and the
//                   comparison (runs, means, paired differences). No sockets; thread-safe.
//   handle_*        the HTTP handlers as plain functions of (workshop, request text) → reply,
//                   so that validation is testable without a server.
//   WorkshopServer  the HTTP server around them (engine/http_server.hpp: one poll loop, a
//                   deadline per whole request, connection limits per client and in total,
//                   strict parsing): loopback by default, Host and Origin checked as parsed
//                   authorities, body size limit, per-client token-bucket rate limit (429),
//                   a bounded worker pool and queue for simulation work (503 when full),
//                   clean stop().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/http_server.hpp"
#include "models/socialcare/scenario.hpp"

namespace cm::care::workshop {

// The values of the levers (a networked design). Defaults come from the design variant.
struct Levers {
  int max_level = kMaxLevel;  // tie_policy.max_level, 0..7
  bool coordinator = true;    // a coordinator (lead organization or NAO)
  Governance governance = Governance::lead_organization;  // networks[*].governance
  double collaboration_share = 0.075;  // coordinator hours / coordinator's paid hours, 0..0.5
  double tie_cost_factor = 1.0;        // multiplier of ties.cost_hours_per_week, 0.25..4
  double awareness_other = 0.1;        // population.awareness_other, 0..1
  double awareness_coordinator = 0.7;  // population.awareness_coordinator, 0..1
};

// A request the workshop refuses: the HTTP status (4xx), a machine-readable code, the lever
// concerned (may be empty) and a message for people.
class LeverError : public std::runtime_error {
 public:
  LeverError(int status, std::string code, std::string lever, const std::string& message)
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        lever_(std::move(lever)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& lever() const { return lever_; }

 private:
  int status_;
  std::string code_, lever_;
};

struct WorkshopOptions {
  std::string design_variant = "networked";  // empty: the file itself; "networked" falls back
                                             // to the file when the scenario lacks it
  std::string baseline_variant;              // empty: the file itself (fragmented)
  std::int64_t seed = -1;                    // base seed (default: the scenario's seed)
  int replications = 3;                      // runs per design; replication r: seed + r
  int threads = 0;                           // TBB threads for the runs (0: all cores)
  std::size_t cache_entries = 256;           // lever sets whose results are remembered
  int max_concurrent_runs = 1;               // comparisons computing at once
  int max_waiting_runs = 4;                  // comparisons waiting for them; more: 503 busy
  double max_memory = 0;                     // LoadOptions::max_memory
};

// One metric shown on the page.
struct MetricInfo {
  std::string name, label, unit;  // unit: "share", "days", "level", "per client"
  bool higher_is_better;
};

class Workshop {
 public:
  // Loads and validates the scenario (baseline and design variant); throws cm::InputError
  // or std::invalid_argument (bad options).
  Workshop(const std::string& scenario_path, WorkshopOptions options = {});
  ~Workshop();
  Workshop(const Workshop&) = delete;
  Workshop& operator=(const Workshop&) = delete;

  const std::string& scenario_name() const;
  const std::string& design_variant() const;  // the variant actually used ("" = the file)
  std::uint64_t base_seed() const;
  int replications() const;
  const Levers& defaults() const;
  const std::vector<MetricInfo>& metrics() const;

  // {"scenario", "levers": [{name, label, type, min, max, step, choices?, default, sets,
  // help}], "metrics": [...], "seeds", "replications"}: what GET /api/levers returns.
  nlohmann::ordered_json lever_definitions() const;

  // Validates a JSON object of lever values (missing levers take their defaults); throws
  // LeverError naming the first problem: unknown lever, wrong type, out of range, inconsistent.
  Levers parse_levers(const nlohmann::json& body) const;
  // Checks ranges and consistency of a Levers value; throws LeverError.
  void validate(const Levers& levers) const;

  // The scenario overrides (yaml.path, YAML value text) that build the design from the levers,
  // applied on top of the design variant.
  std::vector<std::pair<std::string, std::string>> overrides(const Levers& levers) const;
  // The validated design scenario; throws cm::InputError if the overrides do not validate.
  Scenario design_scenario(const Levers& levers) const;
  const Scenario& baseline_scenario() const;

  // Runs the design (replications in parallel, seeds base + r) and compares it with the
  // baseline (run once at start-up with the same seeds). Results are cached by lever values.
  // At most max_concurrent_runs comparisons compute at once; when max_waiting_runs more are
  // already waiting it throws LeverError with status 503 (busy).
  // {"levers", "overrides", "scenario", "seeds", "replications", "metrics": [info...],
  //  "baseline": {m: mean}, "design": {m: mean}, "difference": {m: mean of paired differences},
  //  "difference_ci95": {m: half-width}, "elapsed_ms", "cached"}
  nlohmann::ordered_json compare(const Levers& levers) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- HTTP handlers as plain functions ------------------------------------------------------

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

inline constexpr std::size_t kMaxBodyBytes = 16 * 1024;

// A JSON error reply: {"error": {"status", "code", "lever", "message"}}.
HttpReply error_reply(int status, const std::string& code, const std::string& message,
                      const std::string& lever = {});
// GET / : the self-contained page (inline CSS and JS, no external requests).
HttpReply handle_index(const Workshop& w);
// GET /api/levers
HttpReply handle_levers(const Workshop& w);
// POST /api/compare with the raw body and its Content-Type header value; never throws.
HttpReply handle_compare(const Workshop& w, const std::string& body,
                         const std::string& content_type);

// ---- the server ----------------------------------------------------------------------------

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see WorkshopServer::port)
  std::size_t max_body_bytes = kMaxBodyBytes;
  double rate_per_second = 10.0;            // token bucket refill, requests per second per client
  double rate_burst = 40.0;                 // token bucket capacity per client
  int http_threads = 8;                     // bounded worker pool for connections
  std::size_t max_queued_connections = 64;  // accepted connections waiting for a worker
  int read_timeout_seconds = 5;             // deadline for a whole request, from its first byte
  int keep_alive_seconds = 2;         // an idle connection (kept alive, or silent) is closed after
  std::size_t max_connections = 256;  // open connections in total
  std::size_t max_connections_per_client = 32;  // per client address (idle ones evicted first)
  // Polled by run() as well as stop(): when it becomes true the server stops (e.g. the flag
  // of engine/signals.hpp, set by SIGINT/SIGTERM). May be null.
  const std::atomic<bool>* stop_flag = nullptr;
};

class WorkshopServer {
 public:
  WorkshopServer(const Workshop& workshop, ServerOptions options);
  ~WorkshopServer();  // the thread in run() must have returned
  WorkshopServer(const WorkshopServer&) = delete;
  WorkshopServer& operator=(const WorkshopServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0). Throws
  // std::runtime_error when the address cannot be bound.
  int bind();
  int port() const;
  // Serves until stop() (binds first if bind() was not called). Returns when the server has
  // stopped and every connection handler has finished.
  void run();
  // Asks run() to return, from any thread, before or during run(); it only sets a lock-free
  // atomic flag, so a signal handler may call it too. Idempotent.
  void stop();
  // The connection counters (accepted, answered, timed out, idle evicted, refused).
  http::Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cm::care::workshop
