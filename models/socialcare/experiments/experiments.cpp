#include "models/socialcare/experiments/experiments.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <semaphore>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "caremesh_version.hpp"
#include "engine/blocking_queue.hpp"
#include "engine/byte_codec.hpp"
#include "engine/output.hpp"
#include "engine/parallel.hpp"
#include "engine/rng.hpp"
#include "engine/run_driver.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kBootstrap = 1000;  // resamples for sensitivity-index intervals
constexpr std::size_t kMaxQueued = 256;   // finished runs waiting for the store
constexpr std::size_t kMaxBatch = 64;     // runs per store transaction, at most
constexpr std::size_t kGroupSize = 16;    // the writer waits for this many runs ...
constexpr auto kGroupDelay = std::chrono::milliseconds(200);  // ... or this long
constexpr auto kGroupPoll = std::chrono::milliseconds(5);     // looking again this often

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of the calling thread (what the store costs in computing, as opposed to waiting
// for the disk).
double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// A JSON number, or null for NaN and infinities.
Json number(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_metric_message(const std::string& name, const std::vector<std::string>& known) {
  std::string msg = "unknown metric \"" + name + "\"";
  std::size_t best = std::numeric_limits<std::size_t>::max();
  std::string near;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(name, k);
    if (d < best) best = d, near = k;
  }
  if (!near.empty() && best <= std::max<std::size_t>(3, name.size() / 3))
    msg += " (did you mean \"" + near + "\"?)";
  else
    msg += " (see the metrics of `caremesh run`, docs/metrics.md)";
  return msg;
}

std::string fixed(double v, const char* format = "%.4g") {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long long t = std::llround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr.

class Progress {
 public:
  explicit Progress(ProgressMode mode)
      : enabled_(mode != ProgressMode::none),
        bar_(mode == ProgressMode::automatic && ::isatty(STDERR_FILENO)) {}

  // A batch begins: `done` of `total` runs are complete already.
  void start(std::size_t done, std::size_t total) {
    std::lock_guard lock(mu_);
    done_ = done;
    total_ = total;
    if (!started_) t0_ = last_ = Clock::now();
    started_ = true;
    next_tenth_ = total_ ? (done_ * 10 / total_ + 1) : 11;
    if (enabled_ && bar_) draw();
  }
  void run_done() {
    std::lock_guard lock(mu_);
    ++done_;
    ++executed_;
    if (!enabled_) return;
    const auto now = Clock::now();
    if (bar_) {
      if (now - last_ > std::chrono::milliseconds(100) || done_ == total_) {
        last_ = now;
        draw();
      }
      return;
    }
    const bool tenth = total_ && done_ * 10 / total_ >= next_tenth_;
    if (tenth || now - last_ >= std::chrono::seconds(5)) {
      last_ = now;
      next_tenth_ = done_ * 10 / total_ + 1;
      std::fprintf(stderr, "%s\n", status().c_str());
    }
  }
  // Ends the bar's line.
  void finish() {
    std::lock_guard lock(mu_);
    if (enabled_ && bar_ && started_) {
      draw();
      std::fputc('\n', stderr);
      started_ = false;
    }
  }

 private:
  std::string status() const {
    const double elapsed = seconds_since(t0_);
    const double rate = elapsed > 0 ? static_cast<double>(executed_) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : kNaN;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%zu/%zu runs (%d%%), %.1f runs/s, ETA %s", done_, total_,
                  total_ ? static_cast<int>(100 * done_ / total_) : 100, rate,
                  duration_text(eta).c_str());
    return buf;
  }
  void draw() const {
    constexpr int kWidth = 30;
    const int filled = total_ ? static_cast<int>(kWidth * done_ / total_) : kWidth;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %s   ", bar.c_str(), status().c_str());
    std::fflush(stderr);
  }

  std::mutex mu_;
  bool enabled_, bar_;
  bool started_ = false;
  Clock::time_point t0_, last_;
  std::size_t done_ = 0, total_ = 0, executed_ = 0, next_tenth_ = 1;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Runs.

std::uint64_t replication_seed(std::uint64_t base_seed, int replication) {
  return base_seed + static_cast<std::uint64_t>(replication);
}

namespace {

// One run of a point: its record, with status failed and the message if it threw. `serial`:
// the run's own loops stay on its thread (SerialScope), for runs that go on side by side on
// every thread: there the replications are the parallel work, and a run's hand-overs to threads
// busy with other runs would only cost (docs/performance.md). The results are the same.
RunRecord simulate_run(const ExperimentPoint& point, int rep, std::uint64_t base_seed, int ticks,
                       bool serial) {
  RunRecord rec;
  rec.point = point.name;
  rec.replication = rep;
  rec.seed = replication_seed(base_seed, rep);
  const auto start = Clock::now();
  try {
    // Isolated so that a thread waiting inside this run's parallel loops never starts
    // another run on top of it.
    std::optional<SerialScope> alone;
    if (serial) alone.emplace();
    tbb::this_task_arena::isolate([&] {
      // Experiments keep the measures, not the client records: memory follows the active
      // clients.
      const int horizon = point.scenario.horizon_days;
      const int days = ticks > 0 ? std::min(ticks, horizon) : horizon;
      Simulation sim(point.scenario, rec.seed, SimOptions{false, days});
      RunControl control;
      control.target_ticks = days;
      drive(sim, control);
      rec.metrics = scalar_metrics(compute_metrics(sim));
    });
  } catch (const std::exception& e) {
    rec.status = RunStatus::failed;
    rec.message = e.what();
    rec.metrics.clear();
  }
  rec.wall_seconds = seconds_since(start);
  return rec;
}

// Runs `runner` once per worker thread of a `threads` arena (0: all cores).
template <class F>
void on_every_thread(int threads, F&& runner) {
  with_threads(threads, [&] {
    const int workers = std::max(1, tbb::this_task_arena::max_concurrency());
    const ForkJoin fork_join;
    const auto body = fork_join([&](const tbb::blocked_range<int>& r) {
      for (int w = r.begin(); w != r.end(); ++w) runner();
    });
    tbb::parallel_for(tbb::blocked_range<int>(0, workers, 1), body, tbb::simple_partitioner());
  });
}

}  // namespace

RunExecutor::RunExecutor(ResultsStore& store, ExecutionControl control)
    : store_(store), control_(control) {}
RunExecutor::~RunExecutor() = default;

bool RunExecutor::run(const std::vector<ExperimentPoint>& points, int replications,
                      std::uint64_t base_seed) {
  const auto t0 = Clock::now();
  const auto done = store_.completed_runs();
  std::vector<std::pair<std::size_t, int>> tasks;  // (point, replication), replication-major
  std::size_t in_range_done = 0;
  for (int r = 0; r < replications; ++r)
    for (std::size_t p = 0; p < points.size(); ++p) {
      if (done.count({points[p].name, r}))
        ++in_range_done;
      else
        tasks.emplace_back(p, r);
    }
  summary_.skipped = in_range_done - std::min(in_range_done, summary_.executed - summary_.failed);

  Progress progress(control_.progress);
  progress.start(in_range_done, in_range_done + tasks.size());

  std::atomic<std::size_t> next{0}, launched{launched_}, delivered{0};
  std::atomic<bool> halt{false};
  std::mutex mu;  // guards the summary and the first error
  // Finished runs on their way to the store; an empty optional closes it. Bounded: a worker
  // that finishes runs faster than the store takes them waits in push.
  BlockingQueue<std::optional<RunRecord>> queue(kMaxQueued);
  std::exception_ptr error;
  auto stop_requested = [&] { return halt.load() || (control_.stop && control_.stop->load()); };

  // The writer records finished runs on its own thread, so the simulation threads never wait
  // for the disk. It takes every run waiting at once and records them in one transaction (one
  // fsync): while it commits, the next runs queue up, so the store keeps pace however short
  // the runs are.
  std::thread writer([&] {
    bool closing = false;
    while (!closing) {
      std::optional<RunRecord> item = queue.pop();
      if (!item) break;
      std::vector<RunRecord> batch;
      batch.push_back(std::move(*item));
      // Let a group form (kGroupSize runs, or kGroupDelay): fewer, larger transactions write
      // fewer pages to the log.
      const auto until = Clock::now() + kGroupDelay;
      while (batch.size() < kMaxBatch) {
        if (queue.try_pop(item)) {
          if (!item) {
            closing = true;
            break;
          }
          batch.push_back(std::move(*item));
        } else if (batch.size() >= kGroupSize || Clock::now() >= until) {
          break;
        } else {
          std::this_thread::sleep_for(kGroupPoll);
        }
      }
      {
        std::lock_guard lock(mu);
        if (error) continue;  // the store failed: discard, the runs are retried on resume
      }
      const auto before = Clock::now();
      const double cpu_before = thread_cpu_seconds();
      try {
        store_.record_runs(batch);
      } catch (...) {
        std::lock_guard lock(mu);
        error = std::current_exception();
        halt = true;
        continue;
      }
      const double store_s = seconds_since(before);
      const double store_cpu = thread_cpu_seconds() - cpu_before;
      for (std::size_t i = 0; i < batch.size(); ++i) progress.run_done();
      std::lock_guard lock(mu);
      for (const RunRecord& rec : batch) {
        ++summary_.executed;
        summary_.failed += rec.status == RunStatus::failed;
        summary_.run_seconds += rec.wall_seconds;
      }
      summary_.store_seconds += store_s;
      summary_.store_cpu_seconds += store_cpu;
      ++summary_.commits;
    }
  });

  auto deliver = [&](RunRecord&& rec) {
    queue.push(std::optional<RunRecord>(std::move(rec)));
    ++delivered;
  };

  // The next task for this process or another, or nothing (all taken, or stopping).
  auto take = [&]() -> std::optional<std::size_t> {
    if (stop_requested()) return std::nullopt;
    const std::size_t i = next.fetch_add(1);
    if (i >= tasks.size()) return std::nullopt;
    if (control_.stop_after > 0 && launched.fetch_add(1) >= control_.stop_after) {
      halt = true;
      return std::nullopt;
    }
    return i;
  };

  const int ticks = control_.ticks;
  auto run_locally = [&] {
    on_every_thread(control_.threads, [&] {
      // As many runs as threads or more: each run on its own thread (else the few runs may
      // spread their loops over the idle threads).
      const bool serial =
          tasks.size() >= static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
      while (const auto i = take())
        deliver(simulate_run(points[tasks[*i].first], tasks[*i].second, base_seed, ticks, serial));
    });
  };

  // Every finished run is recorded before returning, even when the workers throw.
  auto finish_writing = [&] {
    queue.push(std::nullopt);
    writer.join();
    progress.finish();
  };
  std::size_t remote = 0;
  try {
    RunCluster* cluster = control_.cluster;
    if (!cluster || cluster->processes() < 2) {
      run_locally();
    } else {
      // This thread talks to the other processes while this process's own runs (if any) go
      // on in a thread of their own.
      std::exception_ptr local_error;
      std::thread local;
      if (control_.coordinator_runs)
        local = std::thread([&] {
          try {
            run_locally();
          } catch (...) {
            local_error = std::current_exception();
            halt = true;
          }
        });
      RunCluster::Dispatch d;
      d.fingerprint = runs_fingerprint(points, base_seed, ticks);
      d.next = [&]() -> std::optional<RunTask> {
        const auto i = take();
        if (!i) return std::nullopt;
        return RunTask{static_cast<std::uint32_t>(tasks[*i].first), tasks[*i].second};
      };
      d.more = [&] { return !stop_requested() && next.load() < tasks.size(); };
      d.stopping = stop_requested;
      d.finished = [&](RunRecord&& rec) {
        ++remote;
        deliver(std::move(rec));
      };
      d.halt = [&] { halt = true; };
      std::exception_ptr dispatch_error;
      try {
        cluster->dispatch(d);
      } catch (...) {
        dispatch_error = std::current_exception();
        halt = true;
      }
      if (local.joinable()) local.join();
      if (local_error) std::rethrow_exception(local_error);
      if (dispatch_error) std::rethrow_exception(dispatch_error);
    }
  } catch (...) {
    finish_writing();
    throw;
  }
  finish_writing();
  launched_ = launched.load();
  summary_.remote += remote;
  summary_.wall_seconds += seconds_since(t0);
  if (error) std::rethrow_exception(error);
  // Complete when every task came back as a run (a stop leaves some untaken, runs handed to
  // another process may be given back unstarted, and the stop_after budget claims one without
  // running it).
  const bool complete = delivered.load() == tasks.size() && !halt.load();
  if (!complete) summary_.interrupted = true;
  return complete;
}

std::map<std::string, std::map<std::string, std::vector<double>>> metrics_by_replication(
    const ResultsStore& store, int replications) {
  const auto by_point = store.metrics_by_point();
  std::map<std::string, std::vector<int>> reps;  // point -> its done replications, ascending
  for (const auto& [point, rep] : store.completed_runs()) reps[point].push_back(rep);
  std::map<std::string, std::map<std::string, std::vector<double>>> out;
  for (const auto& [point, metrics] : by_point) {
    const auto& r = reps[point];
    auto& dst = out[point];
    for (const auto& [name, values] : metrics) {
      auto& v = dst[name];
      v.assign(static_cast<std::size_t>(replications), kNaN);
      for (std::size_t i = 0; i < values.size() && i < r.size(); ++i)
        if (r[i] < replications) v[static_cast<std::size_t>(r[i])] = values[i];
    }
  }
  return out;
}

namespace {

// Checks that every run of replications [0, n) of the points is done; throws otherwise.
void require_runs_done(const ResultsStore& store, const std::vector<ExperimentPoint>& points,
                       int replications) {
  const auto done = store.completed_runs();
  std::size_t missing = 0;
  std::string first;
  for (int r = 0; r < replications; ++r)
    for (const auto& p : points)
      if (!done.count({p.name, r}) && missing++ == 0)
        first = p.name + " replication " + std::to_string(r);
  if (missing == 0) return;
  for (const auto& row : store.runs())
    if (row.status == RunStatus::failed && row.replication < replications) {
      first = row.point + " replication " + std::to_string(row.replication) + ": " + row.message;
      break;
    }
  throw std::runtime_error(std::to_string(missing) + " run(s) failed (first: " + first +
                           "); they are recorded as failed in " + store.path().string() +
                           " and rerunning the command retries them");
}

ExperimentInfo make_info(const std::string& kind, const std::string& command,
                         const std::string& scenario_text, const std::string& scenario_hash,
                         const std::string& design_text, std::uint64_t base_seed) {
  ExperimentInfo info;
  info.kind = kind;
  info.command = command;
  info.scenario_text = scenario_text;
  info.scenario_hash = scenario_hash;
  info.design_text = design_text;
  info.version = kVersion;
  info.base_seed = base_seed;
  return info;
}

// A worker of a distributed experiment: runs what the coordinator hands out, writes nothing.
ExperimentResult serve_runs(const ExecutionControl& c, const std::vector<ExperimentPoint>& points,
                            std::uint64_t base_seed) {
  c.cluster->serve(points, base_seed, c.ticks, c);
  ExperimentResult r;
  r.worker = true;
  r.complete = !(c.stop && c.stop->load());
  return r;
}

void check_control(const ExecutionControl& c) {
  if (c.threads < 0) throw std::invalid_argument("--threads must be >= 0");
  if (c.ticks < 0) throw std::invalid_argument("--ticks must be >= 1");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Compare.

MetricRole metric_role(std::string_view m) {
  const auto* rep = measures().find(m);
  if (rep == nullptr) return MetricRole::outcome;
  const std::string& role = rep->info.role;
  if (role == "network") return MetricRole::network;
  if (role == "efficiency") return MetricRole::efficiency;
  if (role == "context") return MetricRole::context;
  return MetricRole::outcome;
}

const char* to_string(MetricRole role) {
  switch (role) {
    case MetricRole::outcome:
      return "outcome";
    case MetricRole::network:
      return "network";
    case MetricRole::efficiency:
      return "efficiency";
    case MetricRole::context:
      return "context";
  }
  return "context";
}

std::pair<std::string, double> parse_precision(const std::string& text) {
  const auto eq = text.find('=');
  const std::string bad =
      "expected --precision METRIC=HALFWIDTH with HALFWIDTH > 0 (e.g. "
      "complete_package_share=0.01), got \"" +
      text + "\"";
  if (eq == std::string::npos || eq == 0) throw std::invalid_argument(bad);
  const std::string value = text.substr(eq + 1);
  double h = 0;
  const auto r = std::from_chars(value.data(), value.data() + value.size(), h);
  if (r.ec != std::errc() || r.ptr != value.data() + value.size() || !(h > 0) || !std::isfinite(h))
    throw std::invalid_argument(bad);
  return {text.substr(0, eq), h};
}

namespace {

std::vector<double> finite_values(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v)
    if (std::isfinite(x)) out.push_back(x);
  return out;
}

Json summary_json(const std::vector<double>& values) {
  const auto x = finite_values(values);
  Json j;
  j["n"] = x.size();
  stats::Summary s;
  if (!x.empty()) s = stats::summarize(x);
  j["mean"] = number(s.mean);
  j["sd"] = number(s.sd);
  j["ci_low"] = number(s.ci.low);
  j["ci_high"] = number(s.ci.high);
  return j;
}

Json difference_json(const std::vector<double>& base, const std::vector<double>& var) {
  std::vector<double> a, b;  // replications where both are defined
  for (std::size_t i = 0; i < base.size() && i < var.size(); ++i)
    if (std::isfinite(base[i]) && std::isfinite(var[i])) {
      a.push_back(base[i]);
      b.push_back(var[i]);
    }
  Json j;
  j["n"] = a.size();
  stats::PairedComparison c;
  const bool ok = a.size() >= 2;
  if (ok) {
    try {
      c = stats::compare_paired(a, b);
    } catch (const std::exception&) {
      // A paired interval of rounding-error width (variants that differ by a constant) makes
      // the matching unpaired design astronomically large: report the rest without it.
      std::vector<double> d(a.size());
      for (std::size_t i = 0; i < d.size(); ++i) d[i] = b[i] - a[i];
      c.difference = stats::summarize(d);
      c.unpaired = stats::welch_difference(b, a);
      c.unpaired_replications_for_same_precision = std::numeric_limits<std::size_t>::max();
    }
  }
  j["mean"] = number(ok ? c.difference.mean : kNaN);
  j["sd"] = number(ok ? c.difference.sd : kNaN);
  j["ci_low"] = number(ok ? c.difference.ci.low : kNaN);
  j["ci_high"] = number(ok ? c.difference.ci.high : kNaN);
  j["half_width"] = number(ok ? c.difference.half_width : kNaN);
  j["unpaired_ci_low"] = number(ok ? c.unpaired.ci.low : kNaN);
  j["unpaired_ci_high"] = number(ok ? c.unpaired.ci.high : kNaN);
  j["unpaired_half_width"] = number(ok ? c.unpaired.half_width : kNaN);
  j["correlation"] = number(ok ? c.correlation : kNaN);
  const std::size_t need = c.unpaired_replications_for_same_precision;
  if (ok && need != std::numeric_limits<std::size_t>::max())
    j["replications_needed_unpaired"] = need;
  else
    j["replications_needed_unpaired"] = nullptr;  // undefined, or no finite design matches
  return j;
}

double get(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
}

}  // namespace

Json compare_statistics(
    const std::vector<std::string>& variants,
    const std::map<std::string, std::map<std::string, std::vector<double>>>& values,
    const std::vector<std::string>& metric_order) {
  if (variants.empty()) throw std::invalid_argument("compare_statistics: no variants");
  std::vector<std::string> metrics = metric_order;
  std::set<std::string> seen(metrics.begin(), metrics.end());
  for (const auto& v : variants)
    if (auto it = values.find(v); it != values.end())
      for (const auto& [m, x] : it->second)
        if (seen.insert(m).second) metrics.push_back(m);
  static const std::vector<double> none;
  auto series = [&](const std::string& v, const std::string& m) -> const std::vector<double>& {
    const auto it = values.find(v);
    if (it == values.end()) return none;
    const auto jt = it->second.find(m);
    return jt == it->second.end() ? none : jt->second;
  };
  Json out = Json::object();
  for (const auto& m : metrics) {
    Json& jm = out[m];
    jm["role"] = to_string(metric_role(m));
    Json& jv = jm["variants"];
    jv = Json::object();
    for (const auto& v : variants) jv[v] = summary_json(series(v, m));
    Json& jd = jm["differences"];
    jd = Json::object();
    for (std::size_t i = 1; i < variants.size(); ++i)
      jd[variants[i]] = difference_json(series(variants[0], m), series(variants[i], m));
  }
  return out;
}

Json added_value(const std::vector<std::string>& variants, const Json& statistics) {
  Json out = Json::object();
  for (std::size_t i = 1; i < variants.size(); ++i) {
    const std::string& v = variants[i];
    Json jv;
    jv["outcomes"] = Json::object();
    jv["network"] = Json::object();
    jv["efficiency"] = Json::object();
    for (const auto& [m, jm] : statistics.items()) {
      const MetricRole role = metric_role(m);
      if (role == MetricRole::context) continue;
      const Json& base = jm["variants"][variants[0]];
      const Json& var = jm["variants"][v];
      const Json& d = jm["differences"][v];
      Json e;
      if (role == MetricRole::outcome) {
        // X: the baseline's value; S(Y): what the variant adds, paired by replication.
        e["X"] = number(get(base, "mean"));
        e["S"] = number(get(d, "mean"));
        e["ci_low"] = number(get(d, "ci_low"));
        e["ci_high"] = number(get(d, "ci_high"));
        e["X_plus_S"] = number(get(base, "mean") + get(d, "mean"));
        e["relative"] = number(get(d, "mean") / get(base, "mean"));
        e["excludes_zero"] = get(d, "ci_low") > 0 || get(d, "ci_high") < 0;
        jv["outcomes"][m] = e;
      } else {
        e["baseline"] = number(get(base, "mean"));
        e["variant"] = number(get(var, "mean"));
        e["difference"] = number(get(d, "mean"));
        e["ci_low"] = number(get(d, "ci_low"));
        e["ci_high"] = number(get(d, "ci_high"));
        jv[role == MetricRole::network ? "network" : "efficiency"][m] = e;
      }
    }
    out[v] = jv;
  }
  return out;
}

namespace {

// The metrics the terminal table shows (all of them are in comparison.json).
const std::vector<std::string>& table_outcomes() {
  static const std::vector<std::string> m = {"complete_package_share",
                                             "needs_met_share",
                                             "dropout_share",
                                             "unmet_share",
                                             "mean_days_to_first_service",
                                             "mean_doors_per_client",
                                             "repeat_assessment_share",
                                             "referral_completion_share"};
  return m;
}
const std::vector<std::string>& table_network() {
  static const std::vector<std::string> m = {"mean_tie_level", "network_density",
                                             "case_conferences", "pooled_services",
                                             "collaboration_hours_share"};
  return m;
}
const std::vector<std::string>& table_collaboration() {
  static const std::vector<std::string> m = {"network_evaluation.mean_trust",
                                             "network_evaluation.tie_stability",
                                             "network_evaluation.referral_reciprocity",
                                             "network_evaluation.agreement_compliance",
                                             "network_evaluation.coordination_hours_per_joint_case",
                                             "network_evaluation.benefit_hours_per_tie",
                                             "network_evaluation.cost_hours_per_tie",
                                             "network_evaluation.mean_density",
                                             "network_evaluation.mean_degree_centralization"};
  return m;
}
const std::vector<std::string>& table_efficiency() {
  static const std::vector<std::string> m = {"helper_utilization", "cost_per_resolved_need"};
  return m;
}

std::string pad(const std::string& s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

// UTF-8 "±" counts as one column.
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string comparison_table(const Json& report, const std::vector<std::string>& variants,
                             const std::string& extra_metric) {
  const Json& metrics = report["metrics"];
  const std::string& base = variants[0];
  std::vector<std::pair<std::string, std::vector<std::string>>> sections = {
      {"client outcomes (S(Y) = difference to " + base + ")", table_outcomes()},
      {"network measures (Y)", table_network()},
      {"the network as a collaboration (Y)", table_collaboration()},
      {"efficiency", table_efficiency()}};
  if (!extra_metric.empty()) {
    bool listed = false;
    for (const auto& s : sections)
      listed = listed || std::count(s.second.begin(), s.second.end(), extra_metric);
    if (!listed) sections.push_back({"precision target", {extra_metric}});
  }
  // Cells: the mean, and for other variants the difference +- half-width ("*": the interval
  // excludes zero).
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> width(variants.size() + 1, 0);
  rows.push_back({"metric"});
  for (const auto& v : variants) rows.back().push_back(v);
  std::vector<bool> heading(1, false);
  for (const auto& [title, names] : sections) {
    rows.push_back({title});
    heading.push_back(true);
    for (const auto& m : names) {
      if (!metrics.contains(m)) continue;
      std::vector<std::string> row = {m};
      for (std::size_t i = 0; i < variants.size(); ++i) {
        std::string cell = fixed(get(metrics[m]["variants"][variants[i]], "mean"));
        if (i > 0) {
          const Json& d = metrics[m]["differences"][variants[i]];
          const double lo = get(d, "ci_low"), hi = get(d, "ci_high");
          char buf[96];
          std::snprintf(buf, sizeof buf, " (%s ± %s)%s", fixed(get(d, "mean"), "%+.4g").c_str(),
                        fixed(get(d, "half_width"), "%.2g").c_str(),
                        (lo > 0 || hi < 0) ? "*" : " ");
          cell += buf;
        }
        row.push_back(cell);
      }
      rows.push_back(row);
      heading.push_back(false);
    }
  }
  for (std::size_t r = 0; r < rows.size(); ++r)
    if (!heading[r])
      for (std::size_t c = 0; c < rows[r].size(); ++c)
        width[c] = std::max(width[c], columns(rows[r][c]));
  std::ostringstream out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (heading[r]) {
      out << rows[r][0] << "\n";
      continue;
    }
    std::string line;
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const std::string& s = rows[r][c];
      line += "  " + s + std::string(width[c] - columns(s), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  if (variants.size() > 1) {
    out << "(difference ± 95% CI half-width, paired by replication; * CI excludes 0)\n";
    const std::string key = metrics.contains("complete_package_share")
                                ? std::string("complete_package_share")
                                : std::string(metrics.begin().key());
    for (std::size_t i = 1; i < variants.size(); ++i) {
      const Json& d = metrics[key]["differences"][variants[i]];
      const Json& need = d["replications_needed_unpaired"];
      out << key << ", " << variants[i] << " - " << base << ": paired ± "
          << fixed(get(d, "half_width"), "%.2g") << ", unpaired ± "
          << fixed(get(d, "unpaired_half_width"), "%.2g") << "; independent runs would need "
          << (need.is_number() ? std::to_string(need.get<std::size_t>()) : std::string("n/a"))
          << " replications per variant for the paired width\n";
    }
  }
  return out.str();
}

std::string quote_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

ExperimentResult run_compare(const CompareOptions& o) {
  check_control(o.control);
  if (o.replications < 2) throw std::invalid_argument("--replications must be at least 2");
  if (o.max_replications < o.replications)
    throw std::invalid_argument("--max-replications must be at least --replications");
  if (!o.precision_metric.empty() && !(o.precision_half_width > 0))
    throw std::invalid_argument("--precision needs a half-width > 0");
  if (o.out.empty()) throw std::invalid_argument("--out is required");

  // Variants: as given, or every variant the scenario declares.
  std::vector<std::string> variants = o.variants;
  if (variants.empty()) {
    load_scenario(o.scenario_file, {{}, o.sets, o.max_memory});  // reports an invalid file
    variants = scenario_variants(o.scenario_file);
    if (variants.empty())
      throw std::invalid_argument(o.scenario_file +
                                  " declares no variants; add `variants:` to the scenario or "
                                  "name them with --variants");
  }
  {
    std::set<std::string> unique;
    for (const auto& v : variants) {
      if (v.empty()) throw std::invalid_argument("--variants: empty variant name");
      if (!unique.insert(v).second)
        throw std::invalid_argument("--variants: \"" + v + "\" is listed twice");
    }
  }

  std::vector<ExperimentPoint> points;
  for (const auto& v : variants)
    points.push_back({v, {}, load_scenario(o.scenario_file, {v, o.sets, o.max_memory})});

  const std::string text = read_text(o.scenario_file);
  std::string hashed = text;
  for (const auto& [path, value] : o.sets) hashed += "\n--set " + path + "=" + value;
  Json design;
  design["variants"] = Json::array();
  for (auto& p : points) {
    Json s;
    s["variant"] = p.name;
    s["set"] = Json::parse(p.scenario.variant_set_json);
    s["overrides"] = Json::parse(p.scenario.overrides_json);
    p.settings_json = s.dump();
    design["variants"].push_back(s);
  }
  const int horizon = points[0].scenario.horizon_days;
  const int ticks = o.control.ticks > 0 ? std::min(o.control.ticks, horizon) : horizon;
  design["ticks"] = ticks;

  const std::vector<std::string> names = metric_names();
  if (!o.precision_metric.empty() &&
      std::find(names.begin(), names.end(), o.precision_metric) == names.end())
    throw std::invalid_argument("--precision: " +
                                unknown_metric_message(o.precision_metric, names));

  const std::uint64_t base_seed = o.seed.value_or(points[0].scenario.seed);
  if (o.control.cluster && !o.control.cluster->coordinator())
    return serve_runs(o.control, points, base_seed);
  if (o.claim_output) o.claim_output();
  ResultsStore store =
      ResultsStore::open(o.out / ResultsStore::kFileName,
                         make_info("compare", o.command, text, ResultsStore::sha256_hex(hashed),
                                   design.dump(), base_seed));
  for (const auto& p : points) store.define_point(p.name, p.settings_json);

  ExperimentResult result;
  RunExecutor executor(store, o.control);
  int n = o.replications;
  Json statistics;
  Json precision;
  for (;;) {
    if (!executor.run(points, n, base_seed)) {
      result.execution = executor.summary();
      result.replications = n;
      result.runs_total = points.size() * static_cast<std::size_t>(n);
      return result;
    }
    require_runs_done(store, points, n);
    const auto by_rep = metrics_by_replication(store, n);
    statistics = compare_statistics(variants, by_rep, names);
    if (o.precision_metric.empty()) break;
    // Sequential stopping: the widest paired interval over the variants (or the baseline's
    // own interval when there is a single variant).
    const Json& jm = statistics[o.precision_metric];
    double widest = 0, sd = 0;
    if (variants.size() == 1) {
      const Json& s = jm["variants"][variants[0]];
      widest = 0.5 * (get(s, "ci_high") - get(s, "ci_low"));
      sd = get(s, "sd");
    }
    for (std::size_t i = 1; i < variants.size() && !std::isnan(widest); ++i) {
      const Json& d = jm["differences"][variants[i]];
      const double h = get(d, "half_width");  // NaN (undefined) ends the search
      if (std::isnan(h) || h > widest) {
        widest = h;
        sd = get(d, "sd");
      }
    }
    precision["metric"] = o.precision_metric;
    precision["half_width"] = o.precision_half_width;
    precision["achieved_half_width"] = number(widest);
    precision["max_replications"] = o.max_replications;
    const bool reached = widest <= o.precision_half_width;
    precision["reached"] = reached;
    if (reached || n >= o.max_replications || !std::isfinite(widest)) break;
    // Next batch: the estimate of replications needed, at least one initial batch more and at
    // most twice as many (an early estimate of the sd is rough).
    double needed = static_cast<double>(o.max_replications);
    try {
      needed = static_cast<double>(stats::replications_needed(sd, o.precision_half_width));
    } catch (const std::overflow_error&) {
      // more than 2^52: as many as allowed
    }
    const double grow =
        std::clamp(needed, static_cast<double>(n + o.replications), static_cast<double>(2 * n));
    n = static_cast<int>(std::min<double>(o.max_replications, std::max<double>(grow, n + 1)));
  }

  Json report;
  report["baseline"] = variants[0];
  report["replications"] = n;
  report["complete"] = true;
  report["metrics"] = statistics;
  report["added_value"] = added_value(variants, statistics);
  report["caremesh_version"] = kVersion;
  report["seed"] = base_seed;
  report["seeds"] = "replication r uses seed + r for every variant (common random numbers)";
  report["confidence_level"] = 0.95;
  report["variants"] = variants;
  report["ticks"] = ticks;
  if (!precision.is_null()) report["precision"] = precision;
  Json scen;
  scen["file"] = o.scenario_file;
  scen["name"] = points[0].scenario.name;
  scen["sha256"] = ResultsStore::sha256_hex(text);
  scen["overrides"] = Json::parse(points[0].scenario.overrides_json);
  report["scenario"] = scen;
  report["variant_settings"] = design["variants"];
  write_file_atomically(o.out / "comparison.json", report.dump(2) + "\n");

  result.complete = true;
  result.replications = n;
  result.runs_total = points.size() * static_cast<std::size_t>(n);
  result.execution = executor.summary();
  std::ostringstream head;
  head << points[0].scenario.name << ": " << quote_list(variants) << "; " << n
       << " replications each (seeds " << base_seed << "+r, common random numbers), " << ticks
       << " days; means and 95% CIs\n";
  result.table = head.str() + comparison_table(report, variants, o.precision_metric);
  result.report = std::move(report);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Sweep: the design file.

std::string SweepDesign::canonical_text() const {
  Json j;
  j["method"] = method;
  j["samples"] = samples;
  j["levels"] = levels;
  j["seed"] = seed ? Json(*seed) : Json(nullptr);
  j["metrics"] = metrics;
  j["variant"] = variant;
  j["factors"] = Json::array();
  for (const auto& f : factors) {
    Json jf;
    jf["path"] = f.path;
    jf["low"] = f.low;
    jf["high"] = f.high;
    jf["integer"] = f.integer;
    jf["levels"] = f.levels;
    j["factors"].push_back(jf);
  }
  return j.dump();
}

namespace {

constexpr std::int64_t kMaxSize = 1'000'000;

SweepDesign read_design(Document doc, Diagnostics& diags, const std::string& name) {
  if (!doc.ok()) throw InputError(diags);
  Node root = doc.root();
  SweepDesign d;
  d.file = name;
  d.root_location = root.location();
  if (!root.is_map()) {
    root.error("expected a mapping with the design's keys (method, factors, metrics, ...)");
    throw InputError(diags);
  }
  if (!root.has("method")) root.error("missing required key \"method\" (grid, lhs, morris, sobol)");
  d.method = root.choice("method", "grid", {"grid", "lhs", "morris", "sobol"});
  d.replications = static_cast<int>(root.integer("replications", 2, 1, kMaxSize));
  if (root.has("seed"))
    d.seed = static_cast<std::uint64_t>(
        root.integer("seed", 0, 0, std::numeric_limits<std::int64_t>::max()));
  if (d.method != "grid" && !root.has("samples"))
    root.error(std::string("missing required key \"samples\" (") +
               (d.method == "lhs"     ? "the number of points"
                : d.method == "sobol" ? "the number N of base samples"
                                      : "the number of trajectories") +
               ")");
  d.samples = static_cast<std::size_t>(root.integer("samples", 2, 2, kMaxSize));
  d.levels =
      static_cast<std::size_t>(root.integer("levels", d.method == "morris" ? 4 : 0, 2, 1000));
  if (d.method == "morris" && d.levels % 2 != 0)
    root.error_at("levels", "Morris needs an even number of levels p (e.g. 4), got " +
                                std::to_string(d.levels));
  if (root.has("variant")) {
    d.variant_location = root.child("variant").location();
    d.variant = root.string("variant", "");
  }

  const Node metrics = root.child("metrics");
  if (!metrics.exists()) {
    root.error(
        "missing required key \"metrics\" (the responses to analyse, e.g. "
        "[complete_package_share])");
  } else {
    std::set<std::string> seen;
    for (const Node& m : metrics.items()) {
      const std::string s = m.as_string();
      if (s.empty()) continue;
      if (!seen.insert(s).second) m.error("metric \"" + s + "\" listed twice");
      d.metrics.push_back(s);
      d.metric_locations.push_back(m.location());
    }
    if (metrics.is_sequence() && d.metrics.empty()) metrics.error("expected at least one metric");
  }

  const Node factors = root.child("factors");
  bool all_have_levels = true;
  if (!factors.exists()) {
    root.error(
        "missing required key \"factors\" (a list of {path, low, high} or "
        "{path, levels})");
  } else {
    std::set<std::string> paths;
    for (const Node& f : factors.items()) {
      if (!f.is_map()) {
        f.error(
            "expected a factor {path: ..., low: ..., high: ...} or {path: ..., levels: "
            "[...]}");
        continue;
      }
      DesignFactor x;
      x.where = f.location();
      x.where_path = f.path();
      x.path = f.require_string("path");
      if (!x.path.empty() && !paths.insert(x.path).second)
        f.error_at("path", "factor \"" + x.path + "\" listed twice");
      x.integer = f.boolean("integer", false);
      if (f.has("levels")) {
        const bool low = f.has("low"), high = f.has("high");  // (both marked as known)
        if (low || high) f.error("give either \"levels\" or \"low\" and \"high\", not both");
        for (const Node& l : f.child("levels").items()) {
          const double v = l.as_number(-1e300, 1e300, kNaN);
          if (std::isnan(v)) continue;
          if (x.integer && v != std::round(v))
            l.error("expected an integer level (the factor is integer: true)");
          x.levels.push_back(v);
        }
        std::vector<double> sorted = x.levels;
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
          f.error_at("levels", "levels must be distinct");
        if (f.child("levels").is_sequence() && x.levels.size() < 2)
          f.error_at("levels", "expected at least two levels");
        if (!x.levels.empty()) {
          x.low = sorted.front();
          x.high = sorted.back();
        }
        // Whole-number levels are written as integers (4, not 4.0) like integer factors.
        x.integer = x.integer || std::all_of(x.levels.begin(), x.levels.end(),
                                             [](double v) { return v == std::round(v); });
      } else {
        all_have_levels = false;
        x.low = f.require_number("low", -1e300, 1e300);
        x.high = f.require_number("high", -1e300, 1e300);
        if (f.has("low") && f.has("high") && !(x.low < x.high))
          f.error_at("high", "expected high > low (" + format_number(x.high) +
                                 " <= " + format_number(x.low) + ")");
        if (x.integer && std::ceil(x.low) > std::floor(x.high))
          f.error_at("low", "no integer lies between low and high");
      }
      f.finish();
      d.factors.push_back(std::move(x));
    }
    if (factors.is_sequence() && d.factors.empty() && diags.empty())
      factors.error("expected at least one factor");
  }
  if (d.method == "grid" && !all_have_levels && !root.has("levels"))
    root.error(
        "missing required key \"levels\" (grid levels per factor without explicit "
        "levels)");
  root.finish();

  if (diags.empty()) {
    double rows = 1;
    const double k = static_cast<double>(d.factors.size());
    if (d.method == "grid")
      for (const auto& f : d.factors)
        rows *= static_cast<double>(f.levels.empty() ? d.levels : f.levels.size());
    else if (d.method == "lhs")
      rows = static_cast<double>(d.samples);
    else if (d.method == "morris")
      rows = static_cast<double>(d.samples) * (k + 1);
    else
      rows = static_cast<double>(d.samples) * (k + 2);
    if (rows * d.replications > 1e8)
      root.error("the design has " + format_number(rows) + " points x " +
                 std::to_string(d.replications) + " replications; at most 1e8 runs");
  }
  if (!diags.empty()) throw InputError(diags);
  return d;
}

}  // namespace

SweepDesign load_design(const std::string& path) {
  Diagnostics diags;
  return read_design(Document::load_file(path, diags), diags, path);
}

SweepDesign load_design_text(const std::string& text, const std::string& name) {
  Diagnostics diags;
  return read_design(Document::load_string(text, name, diags), diags, name);
}

std::string format_factor_value(double value, bool integer) {
  if (integer) return std::to_string(std::llround(value));
  return format_number(value);
}

DesignPlan plan_design(const SweepDesign& d, std::uint64_t seed) {
  std::vector<stats::Factor> factors;
  for (const auto& f : d.factors) {
    stats::Factor s{f.path, f.low, f.high, f.levels};
    // An integer range becomes its list of integers, so that every value is equally likely
    // (rounding a continuous value would halve the chance of the end points).
    if (f.integer && s.levels.empty() && f.high - f.low <= 10000)
      for (double v = std::ceil(f.low); v <= std::floor(f.high); v += 1) s.levels.push_back(v);
    factors.push_back(std::move(s));
  }
  DesignPlan plan;
  if (d.method == "grid") {
    std::vector<std::vector<double>> lists;
    for (std::size_t j = 0; j < d.factors.size(); ++j) {
      const auto& f = d.factors[j];
      std::vector<double> l = f.levels;
      if (l.empty()) {
        l = stats::factor_levels(stats::Factor{f.path, f.low, f.high, {}}, d.levels);
        if (f.integer) {
          for (double& v : l) v = std::round(v);
          l.erase(std::unique(l.begin(), l.end()), l.end());
        }
      }
      lists.push_back(std::move(l));
    }
    plan.values = stats::full_factorial(lists);
  } else if (d.method == "lhs") {
    plan.values = stats::latin_hypercube(factors, d.samples, seed);
  } else if (d.method == "morris") {
    plan.morris = stats::morris_design(factors, d.samples, d.levels, seed);
    plan.values = plan.morris->points;
  } else {
    plan.saltelli = stats::saltelli_design(factors, d.samples, seed);
    plan.values = plan.saltelli->points;
  }
  std::map<std::vector<std::string>, std::size_t> index;
  for (Eigen::Index r = 0; r < plan.values.rows(); ++r) {
    std::vector<std::string> key;
    for (std::size_t j = 0; j < d.factors.size(); ++j) {
      double& v = plan.values(r, static_cast<Eigen::Index>(j));
      if (d.factors[j].integer) v = std::round(v);
      key.push_back(format_factor_value(v, d.factors[j].integer));
    }
    const auto [it, added] = index.emplace(std::move(key), plan.point_row.size());
    if (added) plan.point_row.push_back(static_cast<std::size_t>(r));
    plan.row_point.push_back(it->second);
  }
  return plan;
}

namespace {

// Checks the design against the scenario: the variant, the metrics, and every factor at its
// extremes; adds located diagnostics.
void check_design(const SweepDesign& d, const std::string& scenario_file, double max_memory,
                  const std::vector<std::string>& known_metrics, Diagnostics& diags) {
  if (!d.variant.empty()) {
    const auto variants = scenario_variants(scenario_file);
    if (std::find(variants.begin(), variants.end(), d.variant) == variants.end())
      diags.add(d.variant_location, "variant",
                "no variant named \"" + d.variant + "\" in " + scenario_file +
                    (variants.empty() ? " (it declares none)"
                                      : " (it declares: " + quote_list(variants) + ")"));
  }
  for (std::size_t i = 0; i < d.metrics.size(); ++i)
    if (std::find(known_metrics.begin(), known_metrics.end(), d.metrics[i]) == known_metrics.end())
      diags.add(d.metric_locations[i], "metrics[" + std::to_string(i) + "]",
                unknown_metric_message(d.metrics[i], known_metrics));
  if (!diags.empty()) return;  // factors are tried on the variant: it must exist first
  for (const auto& f : d.factors) {
    std::vector<double> probe = f.levels;
    if (probe.empty())
      probe = {f.integer ? std::ceil(f.low) : f.low, f.integer ? std::floor(f.high) : f.high};
    for (double v : probe) {
      const std::string text = format_factor_value(v, f.integer);
      try {
        load_scenario(scenario_file, {d.variant, {{f.path, text}}, max_memory});
      } catch (const InputError& e) {
        std::string why;
        for (const auto& x : e.diagnostics().items())
          why += (why.empty() ? "" : "; ") + (x.path.empty() ? "" : x.path + ": ") + x.message;
        diags.add(f.where, f.where_path + ".path",
                  "cannot set " + f.path + "=" + text + " in " + scenario_file + ": " + why);
        break;
      }
    }
  }
}

Json settings_of(const SweepDesign& d, const Eigen::MatrixXd& values, std::size_t row) {
  Json s = Json::object();
  for (std::size_t j = 0; j < d.factors.size(); ++j) {
    const double v = values(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(j));
    if (d.factors[j].integer)
      s[d.factors[j].path] = std::llround(v);
    else
      s[d.factors[j].path] = v;
  }
  return s;
}

Json interval_json(const stats::BootstrapEstimate& e) {
  Json j;
  j["value"] = number(e.value);
  j["se"] = number(e.se);
  j["ci_low"] = number(e.ci.low);
  j["ci_high"] = number(e.ci.high);
  return j;
}

// Standardized regression coefficients of y on the columns of x (with percentile bootstrap
// intervals over resampled points), R^2 of the linear fit and Pearson correlations.
Json regression_indices(const SweepDesign& d, const Eigen::MatrixXd& x,
                        const std::vector<double>& y, std::uint64_t seed) {
  const Eigen::Index n = x.rows(), k = x.cols();
  auto fit = [&](const std::vector<Eigen::Index>& rows, double* r2) {
    const Eigen::Index m = static_cast<Eigen::Index>(rows.size());
    Eigen::MatrixXd a(m, k);
    Eigen::VectorXd b(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      a.row(i) = x.row(rows[static_cast<std::size_t>(i)]);
      b(i) = y[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])];
    }
    Eigen::VectorXd beta = Eigen::VectorXd::Constant(k, kNaN);
    const double ysd = std::sqrt((b.array() - b.mean()).square().sum() / double(m - 1));
    Eigen::MatrixXd z(m, k);
    for (Eigen::Index j = 0; j < k; ++j) {
      const double mean = a.col(j).mean();
      const double sd = std::sqrt((a.col(j).array() - mean).square().sum() / double(m - 1));
      if (!(sd > 0) || !(ysd > 0)) return beta;
      z.col(j) = (a.col(j).array() - mean) / sd;
    }
    const Eigen::VectorXd yz = (b.array() - b.mean()) / ysd;
    Eigen::MatrixXd design(m, k + 1);
    design.col(0).setOnes();
    design.rightCols(k) = z;
    const Eigen::VectorXd coef = design.colPivHouseholderQr().solve(yz);
    beta = coef.tail(k);
    if (r2) {
      const Eigen::VectorXd resid = yz - design * coef;
      *r2 = 1.0 - resid.squaredNorm() / yz.squaredNorm();
    }
    return beta;
  };
  std::vector<Eigen::Index> all(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
  double r2 = kNaN;
  const Eigen::VectorXd beta = fit(all, &r2);
  std::vector<std::vector<double>> boot(static_cast<std::size_t>(k));
  for (std::size_t b = 0; b < kBootstrap; ++b) {
    Stream rng(seed, purpose_code("experiments.src.bootstrap"), b, 0);
    std::vector<Eigen::Index> rows(static_cast<std::size_t>(n));
    for (auto& r : rows) r = rng.below(static_cast<std::uint32_t>(n));
    const Eigen::VectorXd bb = fit(rows, nullptr);
    for (Eigen::Index j = 0; j < k; ++j)
      if (std::isfinite(bb(j))) boot[static_cast<std::size_t>(j)].push_back(bb(j));
  }
  Json out;
  out["r_squared"] = number(r2);
  Json& jf = out["factors"];
  jf = Json::object();
  const Eigen::Map<const Eigen::VectorXd> yv(y.data(), n);
  for (Eigen::Index j = 0; j < k; ++j) {
    Json e;
    const auto& bs = boot[static_cast<std::size_t>(j)];
    e["src"] = number(beta(j));
    e["src_ci_low"] = number(bs.size() > 1 ? stats::quantile(bs, 0.025) : kNaN);
    e["src_ci_high"] = number(bs.size() > 1 ? stats::quantile(bs, 0.975) : kNaN);
    const Eigen::VectorXd xc = x.col(j).array() - x.col(j).mean();
    const Eigen::VectorXd yc = yv.array() - yv.mean();
    e["correlation"] = number(xc.dot(yc) / std::sqrt(xc.squaredNorm() * yc.squaredNorm()));
    jf[d.factors[static_cast<std::size_t>(j)].path] = e;
  }
  return out;
}

Json analyse(const SweepDesign& d, const DesignPlan& plan, const std::vector<double>& y,
             std::uint64_t seed) {
  Json out;
  std::size_t undefined = 0;
  for (double v : y) undefined += !std::isfinite(v);
  if (undefined > 0) {
    out["error"] = "the metric is undefined at " + std::to_string(undefined) +
                   " design rows (e.g. no cohort client); no indices";
    return out;
  }
  if (d.method == "grid") {
    const auto effects = stats::main_effects(plan.values, y);
    Json& jf = out["main_effects"];
    jf = Json::object();
    for (std::size_t j = 0; j < effects.size(); ++j) {
      Json e;
      e["levels"] = effects[j].levels;
      e["mean"] = effects[j].mean;
      e["count"] = effects[j].count;
      const auto [lo, hi] = std::minmax_element(effects[j].mean.begin(), effects[j].mean.end());
      e["range"] = number(effects[j].mean.empty() ? kNaN : *hi - *lo);
      jf[d.factors[j].path] = e;
    }
  } else if (d.method == "lhs") {
    if (plan.values.rows() <= plan.values.cols() + 1) {
      out["error"] = "a regression on " + std::to_string(plan.values.cols()) +
                     " factors needs more than " + std::to_string(plan.values.cols() + 1) +
                     " points; raise samples";
      return out;
    }
    out["regression"] = regression_indices(d, plan.values, y, seed);
  } else if (d.method == "morris") {
    const auto r = stats::morris_analyze(*plan.morris, y, kBootstrap, seed);
    Json& jf = out["morris"];
    jf = Json::object();
    for (std::size_t j = 0; j < r.factors.size(); ++j) {
      Json e;
      e["mu"] = number(r.factors[j].mu);
      e["mu_star"] = interval_json(r.factors[j].mu_star);
      e["sigma"] = number(r.factors[j].sigma);
      jf[d.factors[j].path] = e;
    }
    Json ranking = Json::array();
    for (std::size_t j : r.ranking()) ranking.push_back(d.factors[j].path);
    out["ranking"] = ranking;
  } else {
    const auto r = stats::sobol_analyze(*plan.saltelli, y, kBootstrap, seed);
    out["variance"] = number(r.variance);
    Json& jf = out["sobol"];
    jf = Json::object();
    for (std::size_t j = 0; j < r.factors.size(); ++j) {
      Json e;
      e["first"] = interval_json(r.factors[j].first);
      e["total"] = interval_json(r.factors[j].total);
      jf[d.factors[j].path] = e;
    }
  }
  return out;
}

std::string interval_text(const Json& e) {
  return fixed(get(e, "value"), "%.3g") + " [" + fixed(get(e, "ci_low"), "%.3g") + ", " +
         fixed(get(e, "ci_high"), "%.3g") + "]";
}

std::string sweep_table(const SweepDesign& d, const Json& analysis) {
  std::ostringstream out;
  std::size_t w = 6;
  for (const auto& f : d.factors) w = std::max(w, f.path.size());
  for (const auto& [metric, a] : analysis.items()) {
    out << metric << ":";
    if (a.contains("error")) {
      out << " " << a["error"].get<std::string>() << "\n";
      continue;
    }
    out << "\n";
    for (const auto& f : d.factors) {
      out << "  " << pad(f.path, w) << "  ";
      if (d.method == "grid") {
        const Json& e = a["main_effects"][f.path];
        out << "main effect range " << fixed(get(e, "range")) << " (means";
        for (const auto& m : e["mean"]) out << " " << fixed(m.is_number() ? m.get<double>() : kNaN);
        out << ")";
      } else if (d.method == "lhs") {
        const Json& e = a["regression"]["factors"][f.path];
        out << "SRC " << fixed(get(e, "src"), "%.3g") << " [" << fixed(get(e, "src_ci_low"), "%.3g")
            << ", " << fixed(get(e, "src_ci_high"), "%.3g") << "]  r "
            << fixed(get(e, "correlation"), "%.3g");
      } else if (d.method == "morris") {
        const Json& e = a["morris"][f.path];
        out << "mu* " << interval_text(e["mu_star"]) << "  mu " << fixed(get(e, "mu"), "%.3g")
            << "  sigma " << fixed(get(e, "sigma"), "%.3g");
      } else {
        const Json& e = a["sobol"][f.path];
        out << "S1 " << interval_text(e["first"]) << "  ST " << interval_text(e["total"]);
      }
      out << "\n";
    }
    if (d.method == "lhs")
      out << "  " << pad("R^2", w) << "  " << fixed(get(a["regression"], "r_squared"), "%.3g")
          << "\n";
  }
  return out.str();
}

}  // namespace

ExperimentResult run_sweep(const SweepOptions& o) {
  check_control(o.control);
  if (o.out.empty()) throw std::invalid_argument("--out is required");
  if (o.replications < 0) throw std::invalid_argument("--replications must be >= 1");
  SweepDesign d = load_design(o.design_file);
  if (o.replications > 0) d.replications = o.replications;

  // reports an invalid scenario, located
  const Scenario base = load_scenario(o.scenario_file, {{}, {}, o.max_memory});
  const std::vector<std::string> names = metric_names();
  {
    Diagnostics diags;
    check_design(d, o.scenario_file, o.max_memory, names, diags);
    if (!diags.empty()) throw InputError(diags);
  }
  const std::uint64_t seed = d.seed.value_or(base.seed);
  const DesignPlan plan = plan_design(d, seed);

  // Points: each distinct row of the design; all are validated before anything runs.
  const std::size_t n_points = plan.point_row.size();
  const int digits = std::max(4, static_cast<int>(std::to_string(n_points - 1).size()));
  std::vector<ExperimentPoint> points(n_points);
  std::vector<std::vector<Diagnostic>> errors(n_points);
  parallel_for_each(
      n_points,
      [&](std::size_t p) {
        char name[32];
        std::snprintf(name, sizeof name, "p%0*zu", digits, p);
        points[p].name = name;
        const Json settings = settings_of(d, plan.values, plan.point_row[p]);
        points[p].settings_json = settings.dump();
        LoadOptions opt;
        opt.variant = d.variant;
        opt.max_memory = o.max_memory;
        for (std::size_t j = 0; j < d.factors.size(); ++j)
          opt.sets.emplace_back(
              d.factors[j].path,
              format_factor_value(plan.values(static_cast<Eigen::Index>(plan.point_row[p]),
                                              static_cast<Eigen::Index>(j)),
                                  d.factors[j].integer));
        try {
          points[p].scenario = load_scenario(o.scenario_file, opt);
        } catch (const InputError& e) {
          errors[p] = e.diagnostics().items();
        }
      },
      1);
  {
    // A point the scenario rejects is reported at the factor the problem names (else at the
    // top of the design), with the first such point's settings and a count of the others.
    struct Problem {
      Location where;
      std::string path, message;
      std::size_t points = 0;
    };
    std::vector<Problem> problems;
    std::map<std::string, std::size_t> index;
    for (std::size_t p = 0; p < n_points; ++p)
      for (const auto& x : errors[p]) {
        Problem pr{d.root_location, "factors", {}, 1};
        for (const auto& f : d.factors)
          if (x.path == f.path || x.path.starts_with(f.path + ".") ||
              x.path.starts_with(f.path + "[")) {
            pr.where = f.where;
            pr.path = f.where_path;
            break;
          }
        const auto [it, added] = index.emplace(pr.path + "\n" + x.path, problems.size());
        if (!added) {
          ++problems[it->second].points;
          continue;
        }
        pr.message = "design point " + points[p].name + " " + points[p].settings_json +
                     " is not a valid scenario: " + (x.path.empty() ? "" : x.path + ": ") +
                     x.message;
        if (x.message.find("integer") != std::string::npos ||
            x.message.find("whole number") != std::string::npos)
          pr.message += " (declare the factor with integer: true)";
        problems.push_back(std::move(pr));
      }
    Diagnostics diags;
    for (const auto& pr : problems)
      diags.add(pr.where, pr.path,
                pr.message + (pr.points > 1 ? " (and " + std::to_string(pr.points - 1) +
                                                  " more design points like it)"
                                            : ""));
    if (!diags.empty()) throw InputError(diags);
  }

  const int ticks =
      o.control.ticks > 0 ? std::min(o.control.ticks, base.horizon_days) : base.horizon_days;
  const std::string text = read_text(o.scenario_file);
  Json identity;
  identity["design"] = Json::parse(d.canonical_text());
  identity["ticks"] = ticks;
  if (o.control.cluster && !o.control.cluster->coordinator())
    return serve_runs(o.control, points, seed);
  if (o.claim_output) o.claim_output();
  ResultsStore store = ResultsStore::open(
      o.out / ResultsStore::kFileName,
      make_info("sweep", o.command, text, ResultsStore::sha256_hex(text), identity.dump(), seed));
  for (const auto& p : points) store.define_point(p.name, p.settings_json);

  ExperimentResult result;
  result.replications = d.replications;
  result.runs_total = n_points * static_cast<std::size_t>(d.replications);
  RunExecutor executor(store, o.control);
  const bool complete = executor.run(points, d.replications, seed);
  result.execution = executor.summary();
  if (!complete) return result;
  require_runs_done(store, points, d.replications);

  // Response of a point: the mean over its replications.
  const auto by_rep = metrics_by_replication(store, d.replications);
  std::vector<std::string> columns = names;
  std::vector<std::vector<double>> point_means(n_points, std::vector<double>(columns.size(), kNaN));
  for (std::size_t p = 0; p < n_points; ++p) {
    const auto it = by_rep.find(points[p].name);
    if (it == by_rep.end()) continue;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const auto jt = it->second.find(columns[c]);
      if (jt == it->second.end()) continue;
      const auto x = finite_values(jt->second);
      if (!x.empty()) point_means[p][c] = stats::summarize(x).mean;
    }
  }
  auto column_of = [&](const std::string& m) {
    return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), m) - columns.begin());
  };

  Json analysis = Json::object();
  for (const auto& m : d.metrics) {
    const std::size_t c = column_of(m);
    std::vector<double> y(plan.row_point.size());
    for (std::size_t r = 0; r < y.size(); ++r) y[r] = point_means[plan.row_point[r]][c];
    analysis[m] = analyse(d, plan, y, seed);
  }

  // points.csv: one row per point with its factor values and the mean of every metric.
  std::vector<std::string> header = {"point"};
  for (const auto& f : d.factors) header.push_back(f.path);
  header.push_back("replications");
  header.insert(header.end(), columns.begin(), columns.end());
  CsvWriter csv(header);
  for (std::size_t p = 0; p < n_points; ++p) {
    csv.field(points[p].name);
    for (std::size_t j = 0; j < d.factors.size(); ++j) {
      const double v =
          plan.values(static_cast<Eigen::Index>(plan.point_row[p]), static_cast<Eigen::Index>(j));
      if (d.factors[j].integer)
        csv.field(static_cast<long long>(std::llround(v)));
      else
        csv.field(v);
    }
    csv.field(d.replications);
    for (double v : point_means[p]) csv.field(v);
    csv.end_row();
  }

  Json report;
  report["method"] = d.method;
  report["complete"] = true;
  report["replications"] = d.replications;
  report["points"] = n_points;
  report["design_rows"] = plan.row_point.size();
  report["runs"] = result.runs_total;
  report["seed"] = seed;
  report["seeds"] = "replication r of every point uses seed + r (common random numbers)";
  report["ticks"] = ticks;
  report["variant"] = d.variant;
  if (d.method != "grid") report["samples"] = d.samples;
  if (d.method == "grid" || d.method == "morris") report["levels"] = d.levels;
  Json factors = Json::array();
  for (const auto& f : d.factors) {
    Json jf;
    jf["path"] = f.path;
    if (f.levels.empty()) {
      jf["low"] = f.low;
      jf["high"] = f.high;
    } else {
      jf["levels"] = f.levels;
    }
    jf["integer"] = f.integer;
    factors.push_back(jf);
  }
  report["factors"] = factors;
  report["metrics"] = d.metrics;
  report["analysis"] = analysis;
  // Which elements of the network as a collaboration (Y) go with better outcomes (S): across
  // the design points, Spearman's rank correlation of each outcome's point means with each
  // network_evaluation measure's.
  Json relation = Json::object();
  for (const auto& m : d.metrics) {
    if (metric_role(m) != MetricRole::outcome) continue;
    const std::size_t c = column_of(m);
    if (c >= columns.size()) continue;
    Json rm = Json::object();
    for (std::size_t k = 0; k < columns.size(); ++k) {
      if (!columns[k].starts_with("network_evaluation.")) continue;
      std::vector<double> s(n_points), y(n_points);
      for (std::size_t p = 0; p < n_points; ++p) {
        s[p] = point_means[p][c];
        y[p] = point_means[p][k];
      }
      rm[columns[k].substr(std::string("network_evaluation.").size())] =
          number(stats::spearman(s, y));
    }
    relation[m] = rm;
  }
  report["collaboration_relation"] = relation;
  Json rows = Json::array();
  for (std::size_t r = 0; r < plan.row_point.size(); ++r) {
    Json jr;
    jr["point"] = points[plan.row_point[r]].name;
    Json vals = Json::array();
    for (std::size_t j = 0; j < d.factors.size(); ++j) {
      const double v = plan.values(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j));
      vals.push_back(d.factors[j].integer ? Json(std::llround(v)) : Json(v));
    }
    jr["values"] = vals;
    for (const auto& m : d.metrics) jr[m] = number(point_means[plan.row_point[r]][column_of(m)]);
    rows.push_back(jr);
  }
  report["design"] = rows;
  report["caremesh_version"] = kVersion;
  Json scen;
  scen["file"] = o.scenario_file;
  scen["name"] = base.name;
  scen["sha256"] = ResultsStore::sha256_hex(text);
  report["scenario"] = scen;
  report["design_file"] = o.design_file;

  csv.write(o.out / "points.csv");
  write_file_atomically(o.out / "sweep.json", report.dump(2) + "\n");

  result.complete = true;
  std::ostringstream head;
  head << base.name << ": " << d.method << " sweep of " << d.factors.size() << " factors, "
       << n_points << " points x " << d.replications
       << (d.replications == 1 ? " replication" : " replications") << " (seeds " << seed << "+r), "
       << ticks << " days\n";
  result.table = head.str() + sweep_table(d, analysis);
  result.report = std::move(report);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Distribution over processes.

namespace {

// Messages are engine/byte_codec.hpp's little-endian bytes (exact for doubles: bit patterns,
// the same on every platform), after one byte that names their kind.
ByteWriter experiments_message(std::uint8_t kind) {
  ByteWriter w;
  w.value(kind);
  return w;
}
ByteReader message_reader(const Channel::Message& m) {
  ByteReader r(std::span<const std::uint8_t>(m), "distributed experiment: a message");
  r.skip(1);
  return r;
}

// Message kinds. Worker to coordinator: hello (fingerprint, window), result (task, record),
// not_run (task: handed out, given back unstarted), stopping (a signal here), failed (why the
// experiment could not start here). Coordinator to worker: task, cancel (give back what is
// not started), end (the experiment is over).
enum Kind : std::uint8_t {
  kHello = 1,
  kResult,
  kNotRun,
  kStopping,
  kFailed,
  kTask = 16,
  kCancel,
  kEnd
};

ByteWriter& task_bytes(ByteWriter& w, const RunTask& t) {
  return w.value<std::uint32_t>(t.point).value<std::int32_t>(t.replication);
}
RunTask read_task(ByteReader& r) {
  RunTask t;
  t.point = r.get<std::uint32_t>();
  t.replication = r.get<std::int32_t>();
  return t;
}

// How long a process waits for a message before it looks at its own state again (stop flag,
// finished runs): short, because the peers' runs wait on it, but the channel sleeps meanwhile.
constexpr auto kPoll = std::chrono::milliseconds(1);
constexpr auto kNoWait = std::chrono::microseconds(0);
// How long a worker with a run in hand sleeps at most between looks at the coordinator.
constexpr auto kIdleWait = std::chrono::milliseconds(50);

}  // namespace

std::vector<std::uint8_t> encode_run_record(const RunRecord& run) {
  ByteWriter w = experiments_message(0);
  w.text(run.point).value<std::int32_t>(run.replication).value<std::uint64_t>(run.seed);
  w.value<std::uint8_t>(run.status == RunStatus::done ? 0 : 1).text(run.message);
  w.value<double>(run.wall_seconds).text(run.started_at).text(run.finished_at);
  using Metric = std::pair<std::string, double>;
  using Point = std::tuple<std::string, int, double>;
  w.list(run.metrics, [&](const Metric& m) { w.text(m.first).value<double>(m.second); });
  w.list(run.series, [&](const Point& x) {
    const auto& [name, tick, value] = x;
    w.text(name).value<std::int32_t>(tick).value<double>(value);
  });
  return w.take();
}

RunRecord decode_run_record(std::span<const std::uint8_t> bytes) {
  ByteReader r(bytes, "distributed experiment: a run record");
  if (r.get<std::uint8_t>() != 0) r.fail("not a run record");
  RunRecord run;
  r.text(run.point);
  run.replication = r.get<std::int32_t>();
  run.seed = r.get<std::uint64_t>();
  const auto status = r.get<std::uint8_t>();
  if (status > 1) r.fail("run status " + std::to_string(status));
  run.status = status == 0 ? RunStatus::done : RunStatus::failed;
  r.text(run.message);
  run.wall_seconds = r.get<double>();
  r.text(run.started_at);
  r.text(run.finished_at);
  r.list(run.metrics, [&](std::pair<std::string, double>& m) {
    r.text(m.first);
    m.second = r.get<double>();
  });
  r.list(run.series, [&](std::tuple<std::string, int, double>& x) {
    auto& [name, tick, value] = x;
    r.text(name);
    tick = r.get<std::int32_t>();
    value = r.get<double>();
  });
  r.end();
  return run;
}

std::string runs_fingerprint(const std::vector<ExperimentPoint>& points, std::uint64_t base_seed,
                             int ticks) {
  ByteWriter w;
  w.value<std::uint64_t>(base_seed).value<std::int32_t>(ticks).text(kVersion);
  w.list(points, [&](const ExperimentPoint& p) {
    w.text(p.name).text(p.settings_json).text(p.scenario.effective_yaml);
  });
  return ResultsStore::sha256_hex(w.view());
}

// What the coordinator knows of a worker.
struct RunCluster::Worker {
  bool answered = false;   // sent its first message (hello or failed)
  bool listening = false;  // sent hello: serves tasks until it gets end
  bool rejected = false;   // failed to start, or built other points: gets no tasks
  bool ended = false;      // was sent end (or failed and left)
  std::size_t window = 1;
  std::vector<RunTask> in_flight;  // handed out, not back yet
};

RunCluster::RunCluster(Channel& channel)
    : channel_(channel), workers_(static_cast<std::size_t>(std::max(1, channel.size()))) {}

RunCluster::~RunCluster() {
  if (!coordinator() || finished_) return;
  try {
    finish();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "caremesh: ending the other processes failed: %s\n", e.what());
  }
}

bool RunCluster::coordinator() const {
  return channel_.rank() == 0;
}

int RunCluster::processes() const {
  return channel_.size();
}

void RunCluster::fail(const std::string& message) {
  if (coordinator() || failed_sent_) return;
  failed_sent_ = true;
  channel_.send(0, experiments_message(kFailed).text(message).take());
}

void RunCluster::handle(int from, const Channel::Message& m, const Dispatch* d) {
  if (from <= 0 || from >= static_cast<int>(workers_.size()) || m.empty())
    throw std::runtime_error("distributed experiment: message from an unknown process");
  Worker& w = workers_[static_cast<std::size_t>(from)];
  const std::string who = "process " + std::to_string(from);
  ByteReader r = message_reader(m);
  auto back = [&](const RunTask& t) {
    const auto it = std::find_if(w.in_flight.begin(), w.in_flight.end(), [&](const RunTask& x) {
      return x.point == t.point && x.replication == t.replication;
    });
    if (it == w.in_flight.end())
      throw std::runtime_error("distributed experiment: " + who +
                               " returned a run it was not given");
    w.in_flight.erase(it);
  };
  switch (m[0]) {
    case kHello: {
      const std::string fingerprint = r.text();
      const auto window = r.get<std::uint32_t>();
      r.end();
      w.answered = w.listening = true;
      w.window = std::clamp<std::size_t>(window, 1, 4096);
      if (d && fingerprint != d->fingerprint) {
        w.rejected = true;
        if (error_.empty())
          error_ = who +
                   " built other runs than process 0 (the scenario, design and caremesh "
                   "version must be the same, at the same paths, on every node)";
        d->halt();
      }
      return;
    }
    case kFailed: {
      const std::string why = r.text();
      r.end();
      w.answered = w.rejected = true;
      if (error_.empty()) error_ = who + " could not start: " + why;
      if (d) d->halt();
      return;
    }
    case kResult: {
      const RunTask t = read_task(r);
      RunRecord rec = decode_run_record(r.rest());
      back(t);
      if (d) d->finished(std::move(rec));  // (after an error: dropped, rerun on resume)
      return;
    }
    case kNotRun: {
      back(read_task(r));
      r.end();
      return;
    }
    case kStopping:
      if (d) d->halt();
      return;
    default:
      throw std::runtime_error("distributed experiment: unknown message from " + who);
  }
}

void RunCluster::dispatch(const Dispatch& d) {
  auto in_flight = [&] {
    std::size_t n = 0;
    for (const auto& w : workers_) n += w.in_flight.size();
    return n;
  };
  for (;;) {
    const bool stopping = d.stopping() || !error_.empty();
    if (stopping && !cancelled_) {
      cancelled_ = true;  // take back what is not started
      for (std::size_t k = 1; k < workers_.size(); ++k)
        if (!workers_[k].in_flight.empty()) channel_.send(static_cast<int>(k), {kCancel});
    }
    for (std::size_t k = 1; k < workers_.size() && !stopping; ++k) {
      Worker& w = workers_[k];
      while (w.listening && !w.rejected && !w.ended && w.in_flight.size() < w.window) {
        const auto t = d.next();
        if (!t) break;
        ByteWriter msg = experiments_message(kTask);
        channel_.send(static_cast<int>(k), task_bytes(msg, *t).take());
        w.in_flight.push_back(*t);
      }
    }
    if ((stopping || !d.more()) && in_flight() == 0) break;
    int from = -1;
    if (auto m = channel_.receive(kPoll, from)) handle(from, *m, &d);
  }
  if (!error_.empty()) throw std::runtime_error(error_);
}

void RunCluster::finish() {
  if (!coordinator() || finished_) return;
  finished_ = true;
  for (std::size_t k = 1; k < workers_.size(); ++k)
    if (!workers_[k].in_flight.empty()) channel_.send(static_cast<int>(k), {kCancel});
  for (;;) {
    bool waiting = false;
    for (std::size_t k = 1; k < workers_.size(); ++k) {
      Worker& w = workers_[k];
      if (w.ended) continue;
      if (!w.answered || !w.in_flight.empty()) {
        waiting = true;
        continue;
      }
      // A worker that failed to start has left; every other one waits for `end`.
      if (w.listening) channel_.send(static_cast<int>(k), {kEnd});
      w.ended = true;
    }
    if (!waiting) return;
    int from = -1;
    if (auto m = channel_.receive(kPoll, from)) handle(from, *m, nullptr);
  }
}

void RunCluster::serve(const std::vector<ExperimentPoint>& points, std::uint64_t base_seed,
                       int ticks, const ExecutionControl& control) {
  const int runners =
      control.threads > 0 ? control.threads : std::max(1, tbb::this_task_arena::max_concurrency());
  {
    ByteWriter hello = experiments_message(kHello);
    hello.text(runs_fingerprint(points, base_seed, ticks))
        .value<std::uint32_t>(static_cast<std::uint32_t>(runners) + 1);
    channel_.send(0, hello.take());
  }
  // Runs given to this process and not started (an empty optional: the compute threads end),
  // and runs finished and not sent yet.
  BlockingQueue<std::optional<RunTask>> pending;
  BlockingQueue<std::pair<RunTask, RunRecord>> results;
  std::counting_semaphore<> finished_one(0);  // released once per result (and on a failure)
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // set before failed
  // The runs go on in threads of their own; this thread talks to the coordinator.
  std::thread compute([&] {
    try {
      on_every_thread(control.threads, [&] {
        for (;;) {
          const std::optional<RunTask> t = pending.pop();
          if (!t) {
            pending.push(std::nullopt);  // for the next compute thread
            return;
          }
          // The coordinator keeps every compute thread supplied: each run on its own thread.
          results.push(
              {*t, simulate_run(points[t->point], t->replication, base_seed, ticks, true)});
          finished_one.release();
        }
      });
    } catch (...) {
      error = std::current_exception();
      failed = true;
      finished_one.release();
    }
  });
  auto give_back = [&](const RunTask& t) {
    ByteWriter w = experiments_message(kNotRun);
    channel_.send(0, task_bytes(w, t).take());
  };
  auto give_back_pending = [&] {
    std::optional<RunTask> t;
    while (pending.try_pop(t))
      if (t) give_back(*t);
  };
  auto close = [&] {
    std::optional<RunTask> t;
    while (pending.try_pop(t)) {
    }
    pending.push(std::nullopt);
    compute.join();
  };
  bool stopped = false;  // a stop here was reported: start nothing more
  bool hungry = true;    // no run waits to be started: look for tasks often
  try {
    for (;;) {
      std::vector<std::pair<RunTask, RunRecord>> finished;
      // While a run waits in `pending`, nothing is urgent until a run finishes: sleep on the
      // semaphore (a probe of Open MPI costs far more CPU), at most kIdleWait, which bounds how
      // late a stop or a cancel is noticed.
      const bool woke = !hungry && finished_one.try_acquire_for(kIdleWait);
      if (failed) std::rethrow_exception(error);
      for (std::pair<RunTask, RunRecord> r; results.try_pop(r);) finished.push_back(std::move(r));
      // Take the releases of the other results too, so the next wait does not return at once
      // (one left behind only wakes the next wait early).
      for (std::size_t i = woke ? 1 : 0; i < finished.size(); ++i) (void)finished_one.try_acquire();
      if (!stopped && control.stop && control.stop->load()) {
        stopped = true;
        channel_.send(0, {kStopping});
        give_back_pending();
      }
      for (const auto& [t, rec] : finished) {
        ByteWriter w = experiments_message(kResult);
        task_bytes(w, t).raw(encode_run_record(rec));
        channel_.send(0, w.take());
      }
      // Every message waiting; when hungry, wait a little for the first.
      bool end = false;
      int from = -1;
      for (auto m = channel_.receive(hungry && finished.empty() ? kPoll : kNoWait, from); m;
           m = channel_.receive(kNoWait, from)) {
        if (from != 0 || m->empty())
          throw std::runtime_error("distributed experiment: message from an unknown process");
        ByteReader r = message_reader(*m);
        if ((*m)[0] == kTask) {
          const RunTask t = read_task(r);
          r.end();
          if (t.point >= points.size() || t.replication < 0)
            throw std::runtime_error("distributed experiment: task for an unknown run");
          if (stopped)
            give_back(t);
          else
            pending.push(t);
        } else if ((*m)[0] == kCancel) {
          give_back_pending();
        } else if ((*m)[0] == kEnd) {
          end = true;
          break;
        } else {
          throw std::runtime_error("distributed experiment: unknown message from process 0");
        }
      }
      if (end) break;
      hungry = pending.empty();
    }
  } catch (...) {
    close();
    throw;
  }
  close();
}

// ---------------------------------------------------------------------------------------------
// Export.

fs::path export_results(const fs::path& dir, const fs::path& csv) {
  const fs::path db = dir / ResultsStore::kFileName;
  if (!fs::is_regular_file(db))
    throw std::invalid_argument("no " + std::string(ResultsStore::kFileName) + " in " +
                                dir.string() + " (the --out directory of compare or sweep)");
  const ResultsStore store = ResultsStore::open_read_only(db);
  const fs::path target = csv.empty() ? dir / "results.csv" : csv;
  store.export_csv(target);
  return target;
}

}  // namespace cm::care
