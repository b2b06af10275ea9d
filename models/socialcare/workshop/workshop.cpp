// Workshop mode: levers → scenario overrides → paired comparison, and its HTTP server.
#include "models/socialcare/workshop/workshop.hpp"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <functional>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <semaphore>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "caremesh_assets.hpp"
#include "engine/http_server.hpp"
#include "engine/parallel.hpp"
#include "engine/run_driver.hpp"
#include "engine/stats.hpp"
#include "engine/tsan.hpp"
#include "engine/yaml_reader.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care::workshop {

namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Lever ranges (also published by GET /api/levers).
constexpr double kShareMax = 0.5;  // collaboration_share: at most half the coordinator's hours
constexpr double kCostFactorMin = 0.25, kCostFactorMax = 4.0;

const char* governance_name(Governance g) {
  switch (g) {
    case Governance::shared:
      return "shared";
    case Governance::lead_organization:
      return "lead_organization";
    case Governance::nao:
      return "nao";
  }
  return "shared";
}

// The measures shown on the page, in display order; labels, units and directions from the
// registry (metrics.hpp; definitions: docs/metrics.md).
std::vector<MetricInfo> shown_metrics() {
  std::vector<MetricInfo> out;
  for (const char* name :
       {"complete_package_share", "needs_met_share", "dropout_share", "mean_days_to_first_service",
        "mean_doors_per_client", "repeat_assessment_share", "referral_completion_share",
        "collaboration_hours_share", "mean_tie_level"}) {
    const ReporterInfo& m = measures().find(name)->info;
    out.push_back({m.name, m.label, m.unit, m.direction == Direction::higher_is_better});
  }
  return out;
}

double rounded(double v, double unit) {
  return std::round(v / unit) * unit;
}

std::string truncated(const std::string& s, std::size_t n = 60) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

std::string read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read scenario file " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A network of the design, as a template the levers fill in.
struct NetTemplate {
  std::string name;
  Json members;         // "all" or a list of organization names
  int coordinator = 0;  // organization index used when the levers ask for a coordinator
  double animation = 0.2;
  bool formal_agreements = true;
};

// At most `running` comparisons compute at once; at most `waiting` more wait for a turn.
class ComputeGate {
 public:
  ComputeGate(int running, int waiting) : turns_(std::max(1, running)), max_waiting_(waiting) {}
  bool enter() {
    if (turns_.try_acquire()) return true;
    if (waiting_.fetch_add(1) >= max_waiting_) {
      waiting_.fetch_sub(1);
      return false;
    }
    turns_.acquire();
    waiting_.fetch_sub(1);
    return true;
  }
  void leave() { turns_.release(); }

 private:
  std::counting_semaphore<> turns_;  // free turns to compute
  std::atomic<int> waiting_{0};
  const int max_waiting_;
};

}  // namespace

// ---- Workshop ------------------------------------------------------------------------------

struct Workshop::Impl {
  std::string path, text, design_variant;
  WorkshopOptions opt;
  Scenario baseline, design;
  Levers defaults;
  std::vector<NetTemplate> nets;
  TiePolicy policy;
  std::array<double, kLevels> cost{};
  bool has_population = false, has_ties = false;
  std::uint64_t seed = 0;
  std::vector<MetricInfo> metrics = shown_metrics();
  std::vector<std::vector<double>> baseline_values;  // [replication][metric]
  std::unique_ptr<tbb::task_arena> arena;
  ComputeGate gate;
  mutable std::mutex cache_mu;
  mutable std::list<std::pair<std::string, OJson>> lru;
  mutable std::unordered_map<std::string, std::list<std::pair<std::string, OJson>>::iterator> index;

  explicit Impl(const WorkshopOptions& o)
      : opt(o), gate(o.max_concurrent_runs, o.max_waiting_runs) {}

  std::vector<std::vector<double>> run_all(const Scenario& sc) const {
    const int reps = opt.replications;
    std::vector<std::vector<double>> out(reps, std::vector<double>(metrics.size(), kNaN));
    const ForkJoin fork_join;
    // As many replications as threads or more: each run on its own thread (engine/parallel.hpp
    // SerialScope); fewer: a run may spread its loops over the idle threads.
    const bool serial = reps >= arena->max_concurrency();
    const auto run_one = fork_join([&](int r) {
      std::optional<SerialScope> alone;
      if (serial) alone.emplace();
      // isolated: a thread waiting inside this run's parallel loops never starts another run
      tbb::this_task_arena::isolate([&] {
        Simulation sim(sc, seed + static_cast<std::uint64_t>(r),
                       SimOptions{false, sc.horizon_days});
        RunControl control;
        control.target_ticks = sc.horizon_days;
        drive(sim, control);
        const auto m = compute_metrics(sim);
        for (std::size_t k = 0; k < metrics.size(); ++k) {
          const auto it = m.find(metrics[k].name);
          if (it != m.end() && it->is_number()) out[r][k] = it->get<double>();
        }
      });
    });
    arena->execute(fork_join([&] { tbb::parallel_for(0, reps, run_one); }));
    return out;
  }
};

Workshop::Workshop(const std::string& scenario_path, WorkshopOptions options)
    : impl_(std::make_unique<Impl>(options)) {
  Impl& s = *impl_;
  if (options.replications < 1 || options.replications > 64)
    throw std::invalid_argument("replications must be 1..64");
  if (options.threads < 0) throw std::invalid_argument("threads must be >= 0");
  if (options.max_concurrent_runs < 1 || options.max_waiting_runs < 0)
    throw std::invalid_argument("max_concurrent_runs must be >= 1 and max_waiting_runs >= 0");
  s.path = scenario_path;
  s.text = read_file_text(scenario_path);
  s.arena = std::make_unique<tbb::task_arena>(
      options.threads > 0 ? options.threads : int{tbb::task_arena::automatic});

  // Which variant describes the networked design: the requested one; the default "networked"
  // falls back to the file itself when the scenario does not declare it.
  const auto variants = scenario_variants(scenario_path);
  s.design_variant = options.design_variant;
  if (s.design_variant == "networked" &&
      std::find(variants.begin(), variants.end(), "networked") == variants.end())
    s.design_variant.clear();

  s.baseline = load_scenario_text(s.text, s.path,
                                  LoadOptions{options.baseline_variant, {}, options.max_memory});
  s.design =
      load_scenario_text(s.text, s.path, LoadOptions{s.design_variant, {}, options.max_memory});
  s.seed = options.seed >= 0 ? static_cast<std::uint64_t>(options.seed) : s.baseline.seed;

  // Sections the overrides may set key by key: present in the file or set whole by the variant.
  auto section = [&](const std::string& key) {
    const auto& written = s.design.mapping_sections;
    return std::find(written.begin(), written.end(), key) != written.end();
  };
  s.has_population = section("population");
  s.has_ties = section("ties");

  // Templates of the design's networks; one town-wide network when it has none.
  const Scenario& d = s.design;
  const int n_orgs = static_cast<int>(d.organizations.size());
  if (n_orgs == 0) throw std::invalid_argument("the scenario has no organizations");
  int default_coordinator = 0;
  for (int o = n_orgs - 1; o >= 0; --o)
    if (d.organizations[o].sector == Sector::intermunicipal_coordinator) default_coordinator = o;
  for (int o = n_orgs - 1; o >= 0; --o)
    if (d.organizations[o].sector == Sector::public_coordinator) default_coordinator = o;
  auto paid = [&](int org) { return d.organizations[org].helpers * d.helpers.hours_per_day; };
  s.defaults.governance = Governance::lead_organization;
  s.defaults.collaboration_share = 0.075;
  bool share_set = false;
  for (const NetworkDef& net : d.networks) {
    NetTemplate t;
    t.name = net.name;
    bool all = static_cast<int>(net.members.size()) == n_orgs;
    for (int i = 0; all && i < n_orgs; ++i) all = net.members[i] == i;
    if (all) {
      t.members = "all";
    } else {
      t.members = Json::array();
      for (int m : net.members) t.members.push_back(d.organizations[m].name);
    }
    t.coordinator = net.coordinator;
    if (t.coordinator < 0) {
      t.coordinator = net.members.empty() ? default_coordinator : net.members.front();
      for (auto it = net.members.rbegin(); it != net.members.rend(); ++it)
        if (d.organizations[*it].sector == Sector::public_coordinator ||
            d.organizations[*it].sector == Sector::intermunicipal_coordinator)
          t.coordinator = *it;
    }
    t.animation = net.animation;
    t.formal_agreements = net.formal_agreements;
    if (s.nets.empty()) s.defaults.governance = net.governance;
    if (!share_set && net.coordinator >= 0 && paid(net.coordinator) > 0) {
      s.defaults.collaboration_share =
          std::min(kShareMax, net.coordinator_hours_per_day / paid(net.coordinator));
      share_set = true;
    }
    s.nets.push_back(std::move(t));
  }
  if (s.nets.empty()) {
    NetTemplate t;
    t.name = "Workshop network";
    t.members = "all";
    t.coordinator = default_coordinator;
    s.nets.push_back(std::move(t));
  }
  s.defaults.coordinator = s.defaults.governance != Governance::shared;
  s.policy = d.tie_policy;
  s.cost = d.ties.cost_hours_per_week;
  s.defaults.max_level = d.tie_policy.max_level;
  s.defaults.tie_cost_factor = 1.0;
  s.defaults.awareness_other = d.population.awareness_other;
  s.defaults.awareness_coordinator = d.population.awareness_coordinator;

  // The defaults must build a valid design; the baseline is run once for all comparisons.
  (void)design_scenario(s.defaults);
  s.baseline_values = s.run_all(s.baseline);
}

Workshop::~Workshop() = default;

const std::string& Workshop::scenario_name() const {
  return impl_->baseline.name;
}
const std::string& Workshop::design_variant() const {
  return impl_->design_variant;
}
std::uint64_t Workshop::base_seed() const {
  return impl_->seed;
}
int Workshop::replications() const {
  return impl_->opt.replications;
}
const Levers& Workshop::defaults() const {
  return impl_->defaults;
}
const std::vector<MetricInfo>& Workshop::metrics() const {
  return impl_->metrics;
}
const Scenario& Workshop::baseline_scenario() const {
  return impl_->baseline;
}

namespace {

OJson levers_json(const Levers& l) {
  OJson j;
  j["max_level"] = l.max_level;
  j["coordinator"] = l.coordinator;
  j["governance"] = governance_name(l.governance);
  j["collaboration_share"] = l.collaboration_share;
  j["tie_cost_factor"] = l.tie_cost_factor;
  j["awareness_other"] = l.awareness_other;
  j["awareness_coordinator"] = l.awareness_coordinator;
  return j;
}

OJson metric_info_json(const std::vector<MetricInfo>& metrics) {
  OJson a = OJson::array();
  for (const auto& m : metrics)
    a.push_back({{"name", m.name},
                 {"label", m.label},
                 {"unit", m.unit},
                 {"higher_is_better", m.higher_is_better}});
  return a;
}

}  // namespace

OJson Workshop::lever_definitions() const {
  const Impl& s = *impl_;
  const Levers& d = s.defaults;
  const std::string coord = s.design.organizations[s.nets.front().coordinator].name;
  OJson levers = OJson::array();
  levers.push_back({{"name", "max_level"},
                    {"label", "Highest tie level allowed"},
                    {"type", "integer"},
                    {"min", 0},
                    {"max", kMaxLevel},
                    {"step", 1},
                    {"default", d.max_level},
                    {"sets",
                     "tie_policy.max_level (initial_level, initial_level_members and "
                     "min_level_members are capped at it)"},
                    {"help",
                     "0 no relationship, 1-2 information, 3 referral, 4 regular meetings, "
                     "5 shared resources, 6-7 formal agreements"}});
  levers.push_back(
      {{"name", "coordinator"},
       {"label", "Network coordinator"},
       {"type", "boolean"},
       {"default", d.coordinator},
       {"sets", "networks[*].governance and networks[*].coordinator (on: " + coord +
                    " coordinates; off: governance shared, no coordinator)"},
       {"help", "A coordinator holds case conferences for clients with several needs"}});
  levers.push_back({{"name", "governance"},
                    {"label", "Governance mode"},
                    {"type", "choice"},
                    {"choices", {"shared", "lead_organization", "nao"}},
                    {"default", governance_name(d.governance)},
                    {"sets", "networks[*].governance"},
                    {"help",
                     "shared: participant-governed, no coordinator; lead_organization: "
                     "a member coordinates; nao: a network administrative organization "
                     "(here the same coordinating body)"}});
  levers.push_back({{"name", "collaboration_share"},
                    {"label", "Coordinator staff time for the network"},
                    {"type", "number"},
                    {"min", 0.0},
                    {"max", kShareMax},
                    {"step", 0.005},
                    {"default", d.collaboration_share},
                    {"unit", "share"},
                    {"sets",
                     "networks[*].coordinator_hours_per_day = share x the coordinator's "
                     "helpers x helpers.hours_per_day"},
                    {"help",
                     "Share of the coordinating organization's paid hours spent on case "
                     "conferences; taken from its direct service time"}});
  levers.push_back({{"name", "tie_cost_factor"},
                    {"label", "Time each collaboration tie takes (x scenario)"},
                    {"type", "number"},
                    {"min", kCostFactorMin},
                    {"max", kCostFactorMax},
                    {"step", 0.05},
                    {"default", d.tie_cost_factor},
                    {"unit", "factor"},
                    {"sets", "ties.cost_hours_per_week (every level multiplied)"},
                    {"help", "Staff hours per week a tie costs each partner, by level"}});
  levers.push_back({{"name", "awareness_other"},
                    {"label", "Outreach: residents who know other organizations"},
                    {"type", "number"},
                    {"min", 0.0},
                    {"max", 1.0},
                    {"step", 0.01},
                    {"default", d.awareness_other},
                    {"unit", "share"},
                    {"sets", "population.awareness_other"},
                    {"help", "Chance a new client knows any given non-coordinating organization"}});
  levers.push_back(
      {{"name", "awareness_coordinator"},
       {"label", "Outreach: residents who know the social assistance centre"},
       {"type", "number"},
       {"min", 0.0},
       {"max", 1.0},
       {"step", 0.01},
       {"default", d.awareness_coordinator},
       {"unit", "share"},
       {"sets", "population.awareness_coordinator"},
       {"help", "Chance a new client knows the district's coordinating organization"}});
  OJson j;
  j["scenario"] = s.baseline.name;
  j["description"] = s.baseline.description;
  j["baseline_variant"] = s.opt.baseline_variant;
  j["design_variant"] = s.design_variant;
  j["seed"] = s.seed;
  j["replications"] = s.opt.replications;
  j["levers"] = std::move(levers);
  j["metrics"] = metric_info_json(s.metrics);
  return j;
}

namespace {

[[noreturn]] void type_error(const std::string& lever, const std::string& what) {
  throw LeverError(422, "wrong_type", lever, "lever \"" + lever + "\" must be " + what);
}

double number_value(const Json& v, const std::string& lever) {
  if (!v.is_number()) type_error(lever, "a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) type_error(lever, "a finite number");
  return x;
}

void check_range(const std::string& lever, double x, double lo, double hi) {
  if (!(x >= lo && x <= hi)) {
    std::ostringstream m;
    m << "lever \"" << lever << "\" must be between " << lo << " and " << hi << ", got " << x;
    throw LeverError(422, "out_of_range", lever, m.str());
  }
}

}  // namespace

Levers Workshop::parse_levers(const Json& body) const {
  if (!body.is_object())
    throw LeverError(400, "not_an_object", "", "expected a JSON object of lever values");
  Levers l = impl_->defaults;
  bool coordinator_given = false, governance_given = false;
  for (const auto& [key, v] : body.items()) {
    if (key == "max_level") {
      const double x = number_value(v, key);
      if (x != std::floor(x)) type_error(key, "a whole number");
      check_range(key, x, 0, kMaxLevel);
      l.max_level = static_cast<int>(x);
    } else if (key == "coordinator") {
      if (!v.is_boolean()) type_error(key, "true or false");
      l.coordinator = v.get<bool>();
      coordinator_given = true;
    } else if (key == "governance") {
      if (!v.is_string()) type_error(key, "one of \"shared\", \"lead_organization\", \"nao\"");
      const std::string g = v.get<std::string>();
      if (g == "shared")
        l.governance = Governance::shared;
      else if (g == "lead_organization")
        l.governance = Governance::lead_organization;
      else if (g == "nao")
        l.governance = Governance::nao;
      else
        throw LeverError(422, "out_of_range", key,
                         "lever \"governance\" must be one of \"shared\", \"lead_organization\", "
                         "\"nao\", got \"" +
                             truncated(g) + "\"");
      governance_given = true;
    } else if (key == "collaboration_share") {
      l.collaboration_share = number_value(v, key);
      check_range(key, l.collaboration_share, 0, kShareMax);
    } else if (key == "tie_cost_factor") {
      l.tie_cost_factor = number_value(v, key);
      check_range(key, l.tie_cost_factor, kCostFactorMin, kCostFactorMax);
    } else if (key == "awareness_other") {
      l.awareness_other = number_value(v, key);
      check_range(key, l.awareness_other, 0, 1);
    } else if (key == "awareness_coordinator") {
      l.awareness_coordinator = number_value(v, key);
      check_range(key, l.awareness_coordinator, 0, 1);
    } else {
      throw LeverError(422, "unknown_lever", truncated(key),
                       "unknown lever \"" + truncated(key) +
                           "\"; known: max_level, coordinator, governance, collaboration_share, "
                           "tie_cost_factor, awareness_other, awareness_coordinator");
    }
  }
  // The coordinator switch and the governance mode describe the same choice.
  if (coordinator_given && !governance_given) {
    if (!l.coordinator)
      l.governance = Governance::shared;
    else if (l.governance == Governance::shared)
      l.governance = Governance::lead_organization;
  } else if (governance_given && !coordinator_given) {
    l.coordinator = l.governance != Governance::shared;
  }
  validate(l);
  return l;
}

void Workshop::validate(const Levers& l) const {
  check_range("max_level", l.max_level, 0, kMaxLevel);
  check_range("collaboration_share", l.collaboration_share, 0, kShareMax);
  check_range("tie_cost_factor", l.tie_cost_factor, kCostFactorMin, kCostFactorMax);
  check_range("awareness_other", l.awareness_other, 0, 1);
  check_range("awareness_coordinator", l.awareness_coordinator, 0, 1);
  if (l.coordinator != (l.governance != Governance::shared))
    throw LeverError(422, "inconsistent", "coordinator",
                     std::string("coordinator ") + (l.coordinator ? "on" : "off") +
                         " contradicts governance \"" + governance_name(l.governance) +
                         "\" (shared governance has no coordinator; lead_organization and nao "
                         "have one)");
}

std::vector<std::pair<std::string, std::string>> Workshop::overrides(const Levers& l) const {
  validate(l);
  const Impl& s = *impl_;
  const Scenario& d = s.design;
  std::vector<std::pair<std::string, std::string>> out;
  const int L = l.max_level;
  Json tp;
  tp["initial_level"] = std::min(s.policy.initial_level, L);
  tp["initial_level_members"] = std::min(s.policy.initial_level_members, L);
  tp["min_level_members"] = std::min(s.policy.min_level_members, L);
  tp["max_level"] = L;
  tp["dynamics"] = s.policy.dynamics;
  out.emplace_back("tie_policy", tp.dump());

  Json nets = Json::array();
  for (const NetTemplate& t : s.nets) {
    Json n;
    n["name"] = t.name;
    n["members"] = t.members;
    n["governance"] = governance_name(l.governance);
    if (l.governance != Governance::shared) {
      const int c = t.coordinator;
      n["coordinator"] = d.organizations[c].name;
      const double paid = d.organizations[c].helpers * d.helpers.hours_per_day;
      n["coordinator_hours_per_day"] = rounded(l.collaboration_share * paid, 1e-3);
    }
    n["animation"] = t.animation;
    n["formal_agreements"] = t.formal_agreements;
    nets.push_back(std::move(n));
  }
  out.emplace_back("networks", nets.dump());

  if (l.tie_cost_factor != 1.0) {
    Json cost = Json::array();
    for (double c : s.cost) cost.push_back(rounded(c * l.tie_cost_factor, 1e-6));
    if (s.has_ties)
      out.emplace_back("ties.cost_hours_per_week", cost.dump());
    else
      out.emplace_back("ties", Json{{"cost_hours_per_week", cost}}.dump());
  }
  if (s.has_population) {
    out.emplace_back("population.awareness_other", Json(l.awareness_other).dump());
    out.emplace_back("population.awareness_coordinator", Json(l.awareness_coordinator).dump());
  } else {
    out.emplace_back("population", Json{{"awareness_other", l.awareness_other},
                                        {"awareness_coordinator", l.awareness_coordinator}}
                                       .dump());
  }
  return out;
}

Scenario Workshop::design_scenario(const Levers& l) const {
  return load_scenario_text(
      impl_->text, impl_->path,
      LoadOptions{impl_->design_variant, overrides(l), impl_->opt.max_memory});
}

OJson Workshop::compare(const Levers& l) const {
  const auto start = Clock::now();
  Impl& s = *impl_;
  const OJson lever_values = levers_json(l);
  const std::string key = lever_values.dump();
  auto elapsed_ms = [&] {
    return rounded(std::chrono::duration<double, std::milli>(Clock::now() - start).count(), 0.01);
  };
  {
    std::lock_guard lock(s.cache_mu);
    const auto it = s.index.find(key);
    if (it != s.index.end()) {
      s.lru.splice(s.lru.begin(), s.lru, it->second);
      OJson j = it->second->second;
      j["cached"] = true;
      j["elapsed_ms"] = elapsed_ms();
      return j;
    }
  }
  const auto sets = overrides(l);
  const Scenario sc =
      load_scenario_text(s.text, s.path, LoadOptions{s.design_variant, sets, s.opt.max_memory});

  if (!s.gate.enter())
    throw LeverError(503, "busy", "", "the workshop server is busy; try again in a moment");
  std::vector<std::vector<double>> design;
  try {
    design = s.run_all(sc);
  } catch (...) {
    s.gate.leave();
    throw;
  }
  s.gate.leave();

  const int reps = s.opt.replications;
  OJson base = OJson::object(), des = OJson::object(), diff = OJson::object(),
        half = OJson::object();
  auto num = [](double v) { return std::isfinite(v) ? OJson(v) : OJson(nullptr); };
  for (std::size_t k = 0; k < s.metrics.size(); ++k) {
    // Means of each arm over its finite values, and the paired difference (replications where
    // both are finite) with its 95% t interval: the engine's statistics (engine/stats.hpp).
    std::vector<double> b_values, d_values, paired;
    for (int r = 0; r < reps; ++r) {
      const double b = s.baseline_values[r][k], x = design[r][k];
      if (std::isfinite(b)) b_values.push_back(b);
      if (std::isfinite(x)) d_values.push_back(x);
      if (std::isfinite(b) && std::isfinite(x)) paired.push_back(x - b);
    }
    auto mean_of = [](const std::vector<double>& v) {
      return v.empty() ? kNaN : stats::summarize(v).mean;
    };
    const std::string& name = s.metrics[k].name;
    base[name] = num(mean_of(b_values));
    des[name] = num(mean_of(d_values));
    const stats::Summary d = paired.empty() ? stats::Summary{} : stats::summarize(paired);
    const double mean = d.mean, hw = d.half_width;
    diff[name] = num(mean);
    half[name] = num(hw);
  }
  OJson j;
  j["scenario"] = s.baseline.name;
  j["baseline_variant"] =
      s.opt.baseline_variant.empty() ? "(scenario file)" : s.opt.baseline_variant;
  j["design_variant"] = s.design_variant.empty() ? "(scenario file)" : s.design_variant;
  j["levers"] = lever_values;
  OJson ov = OJson::array();
  for (const auto& [p, v] : sets) ov.push_back({{"path", p}, {"value", v}});
  j["overrides"] = std::move(ov);
  j["seeds"] = OJson::array();
  for (int r = 0; r < reps; ++r) j["seeds"].push_back(s.seed + static_cast<std::uint64_t>(r));
  j["replications"] = reps;
  j["days"] = sc.horizon_days;
  j["metrics"] = metric_info_json(s.metrics);
  j["baseline"] = std::move(base);
  j["design"] = std::move(des);
  j["difference"] = std::move(diff);
  j["difference_ci95"] = std::move(half);
  {
    std::lock_guard lock(s.cache_mu);
    if (s.opt.cache_entries > 0 && s.index.find(key) == s.index.end()) {
      s.lru.emplace_front(key, j);
      s.index[key] = s.lru.begin();
      while (s.lru.size() > s.opt.cache_entries) {
        s.index.erase(s.lru.back().first);
        s.lru.pop_back();
      }
    }
  }
  j["cached"] = false;
  j["elapsed_ms"] = elapsed_ms();
  return j;
}

// ---- handlers ------------------------------------------------------------------------------

HttpReply error_reply(int status, const std::string& code, const std::string& message,
                      const std::string& lever) {
  OJson e;
  e["status"] = status;
  e["code"] = code;
  e["lever"] = lever.empty() ? OJson(nullptr) : OJson(lever);
  e["message"] = message;
  HttpReply r;
  r.status = status;
  r.body = OJson{{"error", e}}.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpReply handle_levers(const Workshop& w) {
  HttpReply r;
  r.body = w.lever_definitions().dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpReply handle_compare(const Workshop& w, const std::string& body,
                         const std::string& content_type) {
  try {
    std::string ct = content_type.substr(0, content_type.find(';'));
    std::transform(ct.begin(), ct.end(), ct.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (!ct.empty() && ct.back() == ' ') ct.pop_back();
    if (ct != "application/json")
      return error_reply(415, "unsupported_media_type",
                         "send the levers as JSON with Content-Type: application/json");
    if (body.size() > kMaxBodyBytes)
      return error_reply(413, "body_too_large",
                         "request body larger than " + std::to_string(kMaxBodyBytes) + " bytes");
    // Lever values are scalars: nested arrays or objects are refused while parsing, so no deep
    // structure is ever built.
    bool nested = false;
    const Json::parser_callback_t cb = [&](int depth, Json::parse_event_t ev, Json&) {
      if ((ev == Json::parse_event_t::object_start || ev == Json::parse_event_t::array_start) &&
          depth >= 1)
        nested = true;
      return !nested;
    };
    const Json j = Json::parse(body, cb, /*allow_exceptions=*/false);
    if (nested)
      return error_reply(422, "wrong_type",
                         "lever values must be numbers, booleans or strings, not lists or objects");
    if (j.is_discarded()) return error_reply(400, "bad_json", "the request body is not valid JSON");
    const Levers levers = w.parse_levers(j);
    HttpReply r;
    r.body = w.compare(levers).dump(-1, ' ', false, Json::error_handler_t::replace);
    return r;
  } catch (const LeverError& e) {
    return error_reply(e.status(), e.code(), e.what(), e.lever());
  } catch (const cm::InputError& e) {
    return error_reply(422, "invalid_design", e.diagnostics().report());
  } catch (const std::exception& e) {
    return error_reply(500, "internal_error", e.what());
  }
}

// ---- the page ------------------------------------------------------------------------------

// The page: workshop/assets/workshop.html, embedded at build time (cmake/EmbedAssets.cmake). It
// loads the lever definitions and results from the same origin only; CSP forbids anything else.
HttpReply handle_index(const Workshop&) {
  HttpReply r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string(assets::workshop_html());
  return r;
}

// ---- the server ----------------------------------------------------------------------------

namespace {

// A token bucket per client address: `burst` requests at once, refilled at `rate` per second.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)) {}

  // True when the client may proceed; otherwise retry_after is the wait in whole seconds.
  bool allow(const std::string& client, int& retry_after) {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    if (buckets_.size() > kMaxClients) prune(now);
    auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!fresh) {
      const double dt = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(burst_, b.tokens + dt * rate_);
      b.last = now;
    }
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return true;
    }
    retry_after =
        rate_ > 0 ? std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_))) : 60;
    return false;
  }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  static constexpr std::size_t kMaxClients = 4096;

  // Forgets clients whose bucket would be full again (they lose nothing).
  void prune(Clock::time_point now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const double dt = std::chrono::duration<double>(now - it->second.last).count();
      if (it->second.tokens + dt * rate_ >= burst_)
        it = buckets_.erase(it);
      else
        ++it;
    }
    if (buckets_.size() > kMaxClients) buckets_.clear();  // under a flood of addresses
  }

  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  const double rate_, burst_;
};

bool is_loopback_name(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

http::Response to_response(const HttpReply& r) {
  http::Response res;
  res.status = r.status;
  res.content_type = r.content_type;
  res.body = r.body;
  return res;
}

http::Response error_page(int status, const std::string& message) {
  const std::string code = status == 404   ? "not_found"
                           : status == 405 ? "method_not_allowed"
                           : status == 408 ? "request_timeout"
                           : status == 413 ? "body_too_large"
                           : status == 431 ? "headers_too_large"
                           : status == 501 ? "not_implemented"
                           : status == 503 ? "busy"
                           : status == 505 ? "http_version_not_supported"
                           : status >= 500 ? "internal_error"
                                           : "bad_request";
  http::Response r = to_response(error_reply(status, code, message));
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

struct WorkshopServer::Impl {
  const Workshop& workshop;
  ServerOptions opt;
  RateLimiter limiter;
  std::unique_ptr<http::Server> server;
  int port = -1;
  bool bound = false;

  Impl(const Workshop& w, ServerOptions o)
      : workshop(w), opt(std::move(o)), limiter(opt.rate_per_second, opt.rate_burst) {}

  // The routes, after the checks every request passes: the rate limit, on a loopback address a
  // loopback Host (no DNS rebinding from web pages), and no Origin of another site.
  http::Response handle(const http::Request& req) {
    int retry = 1;
    if (!limiter.allow(req.remote_addr, retry)) {
      http::Response r = to_response(error_reply(
          429, "rate_limited", "too many requests; wait " + std::to_string(retry) + " s"));
      r.headers.emplace_back("Retry-After", std::to_string(retry));
      return r;
    }
    std::string host;
    int host_port = -1;
    const std::string* host_header = req.header("host");
    if (host_header && !http::parse_authority(*host_header, host, host_port))
      return error_page(400, "malformed Host header");
    if (is_loopback_name(opt.host) && host_header && !is_loopback_name(host))
      return to_response(error_reply(403, "forbidden_host", "this server answers localhost only"));
    if (const std::string* origin = req.header("origin")) {
      // "http://" + an authority equal to the Host header's, nothing after it
      std::string o_host;
      int o_port = -1;
      const bool same =
          origin->rfind("http://", 0) == 0 &&
          http::parse_authority(std::string_view(*origin).substr(7), o_host, o_port) &&
          host_header && o_host == host && o_port == host_port;
      if (!same)
        return to_response(
            error_reply(403, "forbidden_origin", "requests from other web pages are refused"));
    }
    const bool get = req.method == "GET";
    if (req.path == "/" && get) return to_response(handle_index(workshop));
    if (req.path == "/api/levers" && get) return to_response(handle_levers(workshop));
    if (req.path == "/api/status" && get) {
      HttpReply r;
      r.body = OJson{{"ok", true},
                     {"scenario", workshop.scenario_name()},
                     {"replications", workshop.replications()}}
                   .dump(-1, ' ', false, Json::error_handler_t::replace);
      return to_response(r);
    }
    if (req.path == "/api/compare" && req.method == "POST") {
      http::Response r =
          to_response(handle_compare(workshop, req.body, req.header_or("content-type")));
      if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    if (req.path == "/" || req.path == "/api/levers" || req.path == "/api/status" ||
        req.path == "/api/compare")
      return error_page(405, "method not allowed");
    return error_page(404, "no such page; the API is GET /api/levers and POST /api/compare");
  }
};

WorkshopServer::WorkshopServer(const Workshop& workshop, ServerOptions options)
    : impl_(std::make_unique<Impl>(workshop, std::move(options))) {
  Impl& s = *impl_;
  http::Limits limits;
  limits.workers = static_cast<std::size_t>(std::max(2, s.opt.http_threads));
  limits.max_pending = std::max<std::size_t>(1, s.opt.max_queued_connections);
  limits.max_body_bytes = s.opt.max_body_bytes;
  limits.request_deadline = std::chrono::seconds(std::max(1, s.opt.read_timeout_seconds));
  limits.idle_timeout = std::chrono::seconds(std::max(1, s.opt.keep_alive_seconds));
  limits.write_deadline = std::chrono::seconds(5);
  limits.max_connections = std::max<std::size_t>(1, s.opt.max_connections);
  limits.max_connections_per_client = std::max<std::size_t>(1, s.opt.max_connections_per_client);
  s.server = std::make_unique<http::Server>(
      limits, [&s](const http::Request& req) { return s.handle(req); }, error_page,
      std::vector<std::pair<std::string, std::string>>{
          {"Cache-Control", "no-store"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"X-Frame-Options", "DENY"},
          {"Content-Security-Policy",
           "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
           "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'"},
      });
}

WorkshopServer::~WorkshopServer() {
  stop();
}

int WorkshopServer::bind() {
  Impl& s = *impl_;
  if (s.bound) return s.port;
  if (s.opt.port < 0 || s.opt.port > 65535) throw std::runtime_error("port must be 0..65535");
  s.port = s.server->bind(s.opt.host, s.opt.port);
  s.bound = true;
  return s.port;
}

int WorkshopServer::port() const {
  return impl_->port;
}

void WorkshopServer::run() {
  Impl& s = *impl_;
  if (!s.bound) bind();
  s.server->run(s.opt.stop_flag);
}

void WorkshopServer::stop() {
  if (impl_) impl_->server->stop();
}

http::Stats WorkshopServer::stats() const {
  return impl_->server->stats();
}

}  // namespace cm::care::workshop
