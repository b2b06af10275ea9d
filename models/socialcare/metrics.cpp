#include "models/socialcare/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/graph.hpp"
#include "models/socialcare/ledger.hpp"

namespace cm::care {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double a, double b) {
  return b > 0 ? a / b : kNaN;
}

nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

double dbl(std::int64_t v) {
  return static_cast<double>(v);
}

double complete_share(const OutcomeTally& t) {
  return ratio(dbl(t.resolved), dbl(t.clients));
}

// Gini coefficient of non-negative values (0: all equal).
double gini(std::vector<double> v) {
  if (v.size() < 2) return 0.0;
  std::sort(v.begin(), v.end());
  double sum = 0, weighted = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    weighted += static_cast<double>(i + 1) * v[i];
  }
  if (sum <= 0) return 0.0;
  const double n = static_cast<double>(v.size());
  return (2.0 * weighted) / (n * sum) - (n + 1.0) / n;
}

// max/min of group shares over groups with at least min_clients cohort clients.
double gap_ratio(const std::vector<OutcomeTally>& groups, double min_clients) {
  double lo = kNaN, hi = kNaN;
  for (const OutcomeTally& t : groups) {
    if (dbl(t.clients) < min_clients) continue;
    const double s = complete_share(t);
    lo = std::isnan(lo) ? s : std::min(lo, s);
    hi = std::isnan(hi) ? s : std::max(hi, s);
  }
  return ratio(hi, lo);
}

// The network as a collaboration (its own value and quality Y; MODEL.md §7, docs/metrics.md
// "The network as a collaboration"): trust, stability, reciprocity, compliance with agreements,
// what coordination and ties cost against what their joint cases save, and the structure
// averaged over the days of the run (the final ties are in the network measures).
NetworkEvaluation network_evaluation(const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  const auto& ties = sim.ties().all();
  const auto& days = sim.timeseries();
  const double n = static_cast<double>(sc.organizations.size());
  const double pairs = n * (n - 1) / 2;
  double joint = 0, trust_joint = 0, mutual = 0, flow = 0, acts = 0;
  for (const Tie& t : ties) {
    joint += t.joint_total;
    trust_joint += static_cast<double>(t.trust) * t.joint_total;
    const double ab = t.referred_by_a, ba = t.referred_by_b;
    mutual += 2 * std::min(ab, ba);
    flow += ab + ba;
    acts += t.acts;
  }
  double honoured = 0, breached = 0;
  for (const OrgState& o : sim.organizations()) {
    honoured += dbl(o.agreements_honoured);
    breached += dbl(o.agreements_breached);
  }
  // Day by day: ties at level >= 1, what they cost (both sides), collaboration hours.
  double tie_days = 0, tie_cost = 0, collab = 0;
  for (const TickRecord& r : days) {
    for (int L = 1; L <= kMaxLevel; ++L) {
      tie_days += dbl(r.ties_by_level[L]);
      tie_cost += dbl(r.ties_by_level[L]) * 2.0 * tie_hours_per_day(sc.ties, L);
    }
    collab += r.collaboration_hours;
  }
  const double n_days = static_cast<double>(days.size());
  const double mean_ties = n_days > 0 ? tie_days / n_days : kNaN;
  // Degree centralization (Freeman, level >= 1) on each day, replaying tie_changes from the
  // levels at the start (the final levels with the changes undone).
  std::vector<std::int8_t> level(ties.size());
  for (std::size_t i = 0; i < ties.size(); ++i) level[i] = ties[i].level;
  const auto& history = sim.tie_history();
  for (auto it = history.rbegin(); it != history.rend(); ++it) level[it->tie] = it->from;
  std::vector<int> degree(sc.organizations.size(), 0);
  double edges = 0;
  for (std::size_t i = 0; i < ties.size(); ++i)
    if (level[i] >= 1) {
      ++degree[ties[i].a];
      ++degree[ties[i].b];
      ++edges;
    }
  auto centralization = [&] {
    if (n < 3) return 0.0;
    const int dmax = *std::max_element(degree.begin(), degree.end());
    return (n * dmax - 2 * edges) / ((n - 1) * (n - 2));
  };
  double central_sum = 0, central = centralization();
  std::size_t h = 0;
  for (const TickRecord& r : days) {
    bool changed = false;
    for (; h < history.size() && history[h].tick <= r.tick; ++h) {
      const TieChange& c = history[h];
      const Tie& t = ties[c.tie];
      const int delta = (c.to >= 1) - (c.from >= 1);
      if (delta != 0) {
        degree[t.a] += delta;
        degree[t.b] += delta;
        edges += delta;
        changed = true;
      }
    }
    if (changed) central = centralization();
    central_sum += central;
  }
  NetworkEvaluation y;
  y.mean_trust = ratio(trust_joint, joint);
  y.joint_cases = joint;
  y.tie_stability =
      ratio(dbl(static_cast<std::int64_t>(history.size())), mean_ties * n_days / 365.0);
  y.referral_reciprocity = ratio(mutual, flow);
  y.agreement_compliance = ratio(honoured, honoured + breached);
  y.agreements_signed = acts;
  for (const NetworkState& net : sim.networks()) y.monitoring_reports += dbl(net.reports);
  y.coordination_hours_per_joint_case = ratio(collab, joint);
  y.benefit_hours_per_tie = ratio(sc.ties.benefit_hours_per_joint_case * joint, mean_ties);
  y.cost_hours_per_tie = ratio(tie_cost, mean_ties);
  y.mean_density = pairs > 0 && n_days > 0 ? tie_days / n_days / pairs : kNaN;
  y.mean_degree_centralization = ratio(central_sum, n_days);
  return y;
}

MeasureContext make_context(const Simulation& sim, const OutcomeLedger& ledger) {
  const Scenario& sc = sim.scenario();
  MeasureContext c;
  c.sim = &sim;
  c.ledger = &ledger;
  c.tally = &ledger.all;
  for (const ServiceType& s : sc.services) c.any_innovative = c.any_innovative || s.innovative;

  // Network measures of the final ties.
  const auto& ties = sim.ties().all();
  const std::size_t n_orgs = sc.organizations.size();
  std::vector<Edge> edges, personal;
  edges.reserve(ties.size());
  for (const Tie& t : ties) {
    edges.push_back({static_cast<std::uint32_t>(t.a), static_cast<std::uint32_t>(t.b), t.level});
    if (t.personal > 0)
      personal.push_back({static_cast<std::uint32_t>(t.a), static_cast<std::uint32_t>(t.b), 1});
  }
  c.levels = summarize_levels(n_orgs, edges, kMaxLevel);
  const Graph g(n_orgs, edges, 1);
  std::size_t components_count = 0;
  components(g, &components_count);
  c.degree_centralization = degree_centralization(g);
  // Brandes' betweenness is O(VE); beyond a few thousand organizations it is left out.
  c.betweenness_centralization = n_orgs <= 4000 ? betweenness_centralization(g) : kNaN;
  c.components = dbl(static_cast<std::int64_t>(components_count));
  c.fragility = dbl(static_cast<std::int64_t>(articulation_points(g).size()));
  c.core_periphery_fit = core_periphery(g).fit;
  c.multiplexity = multiplexity(edges, personal, 1);
  for (const auto& net : sim.networks()) c.conferences += static_cast<double>(net.conferences);
  for (const auto& o : sim.organizations()) {
    c.pooled += static_cast<double>(o.pooled_out);
    c.conferences += static_cast<double>(o.conferences);
  }
  c.y = network_evaluation(sim);

  // Efficiency: staff hours of every day of the run.
  for (const TickRecord& r : sim.timeseries()) {
    c.paid_hours += r.paid_hours;
    c.collaboration_hours += r.collaboration_hours;
    c.direct_used += r.direct_hours_used;
    c.direct_capacity += r.direct_hours_capacity;
  }
  c.by_district = ledger.by_district;
  return c;
}

using Ctx = MeasureContext;
constexpr auto kHigher = Direction::higher_is_better;
constexpr auto kLower = Direction::lower_is_better;
constexpr auto kNone = Direction::none;

// Reporters of an outcome tally: computed for the cohort and, grouped, for each district and
// client kind.
template <class F>
void add_tally(MeasureRegistry& r, ReporterInfo info, F f) {
  r.add(std::move(info), [f](const Ctx& c) { return f(*c.tally); });
}

// The registry, in summary.json's order. Longer than 80 lines on purpose: it is a table, one entry
// per measure, and keeping it in one place is what makes a new measure one line here.
MeasureRegistry build_measures() {
  MeasureRegistry r;
  using T = OutcomeTally;
  auto share = [](std::int64_t a, std::int64_t b) { return ratio(dbl(a), dbl(b)); };
  // Client outcomes (the first nine also per district and client kind).
  add_tally(r, {"clients", "Clients in the outcome cohort", "count", kNone, "context", false, true},
            [](const T& t) { return dbl(t.clients); });
  add_tally(r,
            {"complete_package_share", "Clients with every need met (complete package)", "share",
             kHigher, "outcome", false, true},
            [](const T& t) { return complete_share(t); });
  add_tally(r, {"needs_met_share", "Needs met", "share", kHigher, "outcome", false, true},
            [=](const T& t) { return share(t.needs_met, t.needs); });
  add_tally(r, {"dropout_share", "Clients who gave up", "share", kLower, "outcome", false, true},
            [=](const T& t) { return share(t.dropped, t.clients); });
  add_tally(r,
            {"unmet_share", "Clients with a need still unmet at the end", "share", kLower,
             "outcome", false, true},
            [=](const T& t) { return share(t.unmet, t.clients); });
  add_tally(r,
            {"mean_days_to_first_service", "Days to first service", "days", kLower, "outcome",
             false, true},
            [=](const T& t) { return share(t.days_service, t.served); });
  add_tally(r,
            {"mean_doors_per_client", "Doors knocked on per client", "per client", kLower,
             "outcome", false, true},
            [=](const T& t) { return share(t.doors, t.clients); });
  add_tally(r,
            {"repeat_assessment_share", "Repeat assessments (telling the story again)", "share",
             kLower, "outcome", false, true},
            [=](const T& t) { return share(t.repeats, t.assessments); });
  add_tally(r,
            {"referral_completion_share", "Referrals that led to a service", "share", kHigher,
             "outcome", false, true},
            [=](const T& t) { return share(t.received, t.referred); });
  add_tally(r, {"needs", "Needs of the outcome cohort", "count", kNone, "context"},
            [](const T& t) { return dbl(t.needs); });
  add_tally(r,
            {"self_help_share", "Needs met by self-help (of needs met)", "share", kNone, "outcome"},
            [=](const T& t) { return share(t.self_help, t.needs_met); });
  add_tally(r, {"reached_door_share", "Clients who reached a door", "share", kHigher, "outcome"},
            [=](const T& t) { return share(t.reached, t.clients); });
  add_tally(r, {"assessed_share", "Clients assessed", "share", kHigher, "outcome"},
            [=](const T& t) { return share(t.assessed, t.clients); });
  add_tally(r, {"served_share", "Clients who received a service", "share", kHigher, "outcome"},
            [=](const T& t) { return share(t.served, t.clients); });
  add_tally(r, {"mean_days_to_first_contact", "Days to first contact", "days", kLower, "outcome"},
            [=](const T& t) { return share(t.days_contact, t.reached); });
  add_tally(r, {"mean_days_to_assessment", "Days to assessment", "days", kLower, "outcome"},
            [=](const T& t) { return share(t.days_assessment, t.assessed); });
  add_tally(
      r,
      {"mean_days_to_complete_package", "Days to the complete package", "days", kLower, "outcome"},
      [=](const T& t) { return share(t.days_complete, t.resolved); });
  add_tally(
      r, {"mean_assessments_per_client", "Assessments per client", "per client", kLower, "outcome"},
      [=](const T& t) { return share(t.assessments, t.clients); });
  add_tally(r, {"referrals_per_client", "Referrals per client", "per client", kNone, "outcome"},
            [=](const T& t) { return share(t.referred, t.clients); });
  add_tally(r,
            {"referral_contacted_share", "Referrals the client followed (made contact)", "share",
             kHigher, "outcome"},
            [=](const T& t) { return share(t.tried, t.referred); });
  add_tally(
      r,
      {"referral_reached_share", "Referrals that reached the partner", "share", kHigher, "outcome"},
      [=](const T& t) { return share(t.reach, t.referred); });
  add_tally(r,
            {"continuity_index", "Continuity of care (Bice-Boxerman index, 0-1)", "index", kHigher,
             "outcome"},
            [](const T& t) {
              return ratio(dbl(t.continuity_units) * kContinuityUnit, dbl(t.continuity_n));
            });
  add_tally(r,
            {"assessment_within_standard_share", "Assessments within the standard", "share",
             kHigher, "outcome"},
            [=](const T& t) { return share(t.assess_in_standard, t.assessed); });
  add_tally(r,
            {"service_within_standard_share", "First services within the standard", "share",
             kHigher, "outcome"},
            [=](const T& t) { return share(t.service_in_standard, t.served); });
  r.add(
      {"innovation_uptake", "Clients who began an innovative service", "share", kHigher, "outcome"},
      [](const Ctx& c) {
        return c.any_innovative ? ratio(dbl(c.ledger->innovation_clients), dbl(c.tally->clients))
                                : kNaN;
      });
  r.add({"innovative_needs_served_share", "Needs of innovative services served", "share", kHigher,
         "outcome"},
        [](const Ctx& c) {
          return c.any_innovative
                     ? ratio(dbl(c.ledger->innovative_served), dbl(c.ledger->innovative_needs))
                     : kNaN;
        });

  // The network of the final ties.
  r.add({"network_density", "Density of ties (level 1 or more)", "share", kNone, "network"},
        [](const Ctx& c) {
          return c.levels.density_at_least.size() > 1 ? c.levels.density_at_least[1] : 0.0;
        });
  r.add(
      {"mean_tie_level", "Mean tie level between organizations (0-7)", "level", kHigher, "network"},
      [](const Ctx& c) { return c.levels.mean_level; });
  for (int L = 1; L <= kMaxLevel; ++L) {
    const std::string l = std::to_string(L);
    const auto at = static_cast<std::size_t>(L);
    r.add(
        {"ties_level_" + l, "Ties at level " + l, "count", kNone, "network", true},
        [at](const Ctx& c) { return dbl(static_cast<std::int64_t>(c.levels.ties_at_level[at])); });
    r.add({"density_level_" + l, "Density of ties at level " + l + " or more", "share", kNone,
           "network"},
          [at](const Ctx& c) { return c.levels.density_at_least[at]; });
  }
  r.add({"degree_centralization", "Degree centralization (Freeman)", "ratio", kNone, "network"},
        [](const Ctx& c) { return c.degree_centralization; });
  r.add({"betweenness_centralization", "Betweenness centralization (Freeman)", "ratio", kNone,
         "network"},
        [](const Ctx& c) { return c.betweenness_centralization; });
  r.add({"components", "Separate parts of the tie network", "count", kNone, "network", true},
        [](const Ctx& c) { return c.components; });
  r.add(
      {"fragility", "Organizations whose loss splits the network", "count", kNone, "network", true},
      [](const Ctx& c) { return c.fragility; });
  r.add({"core_periphery_fit", "Core-periphery fit", "ratio", kNone, "network"},
        [](const Ctx& c) { return c.core_periphery_fit; });
  r.add({"multiplexity", "Ties also carried by staff's personal ties", "ratio", kNone, "network"},
        [](const Ctx& c) { return c.multiplexity; });
  r.add({"case_conferences", "Case conferences held", "count", kNone, "network"},
        [](const Ctx& c) { return c.conferences; });
  r.add(
      {"pooled_services", "Services given by a partner's pooled staff", "count", kNone, "network"},
      [](const Ctx& c) { return c.pooled; });

  // The network as a collaboration (summary.json: network_evaluation.{...}).
  using Y = NetworkEvaluation;
  const struct {
    const char* name;
    const char* label;
    const char* unit;
    Direction direction;
    double Y::*field;
  } y_fields[] = {
      {"mean_trust", "Trust between partners (weighted by joint cases)", "ratio", kHigher,
       &Y::mean_trust},
      {"joint_cases", "Clients partners served together", "count", kNone, &Y::joint_cases},
      {"tie_stability", "Tie level changes per tie-year", "ratio", kNone, &Y::tie_stability},
      {"referral_reciprocity", "Reciprocity of referrals", "ratio", kNone,
       &Y::referral_reciprocity},
      {"agreement_compliance", "Formal agreements honoured", "share", kHigher,
       &Y::agreement_compliance},
      {"agreements_signed", "Formal agreements signed or renewed", "count", kNone,
       &Y::agreements_signed},
      {"monitoring_reports", "Monitoring reports of the networks", "count", kNone,
       &Y::monitoring_reports},
      {"coordination_hours_per_joint_case", "Collaboration hours per joint case", "hours", kLower,
       &Y::coordination_hours_per_joint_case},
      {"benefit_hours_per_tie", "Hours joint cases save per tie", "hours", kHigher,
       &Y::benefit_hours_per_tie},
      {"cost_hours_per_tie", "Hours a tie costs", "hours", kLower, &Y::cost_hours_per_tie},
      {"mean_density", "Density of ties over the run", "share", kNone, &Y::mean_density},
      {"mean_degree_centralization", "Degree centralization over the run", "ratio", kNone,
       &Y::mean_degree_centralization},
  };
  for (const auto& f : y_fields) {
    const auto field = f.field;
    r.add({std::string("network_evaluation.") + f.name, f.label, f.unit, f.direction, "network"},
          [field](const Ctx& c) { return c.y.*field; });
  }

  // Efficiency: staff hours of every day of the run.
  r.add({"collaboration_hours", "Staff hours on collaboration", "hours", kLower, "network"},
        [](const Ctx& c) { return c.collaboration_hours; });
  r.add({"collaboration_hours_share", "Staff time spent on collaboration", "share", kLower,
         "network"},
        [](const Ctx& c) { return ratio(c.collaboration_hours, c.paid_hours); });
  r.add({"helper_utilization", "Staff time for cases in use", "share", kNone, "efficiency"},
        [](const Ctx& c) { return ratio(c.direct_used, c.direct_capacity); });
  r.add({"cost_per_resolved_need", "Paid staff hours per need met by a service", "hours", kLower,
         "efficiency"},
        [](const Ctx& c) { return ratio(c.paid_hours, dbl(c.ledger->needs_served_met)); });
  for (int s = 0; s < 4; ++s) {
    const std::string sector = to_string(static_cast<Sector>(s));
    r.add({"delivery_share_" + sector, "Needs served by the " + sector + " sector", "share", kNone,
           "efficiency"},
          [s](const Ctx& c) {
            const auto& by = c.ledger->by_sector;
            return ratio(dbl(by[static_cast<std::size_t>(s)]), dbl(by[0] + by[1] + by[2] + by[3]));
          });
  }

  // Equity between districts and client kinds (groups of at least 30 cohort clients).
  r.add({"district_gap_ratio", "Best to worst district (complete package)", "ratio", kLower,
         "outcome"},
        [](const Ctx& c) { return gap_ratio(c.by_district, 30); });
  r.add({"district_gini", "Inequality between districts (Gini, complete package)", "ratio", kLower,
         "outcome"},
        [](const Ctx& c) {
          std::vector<double> shares;
          for (const OutcomeTally& t : c.by_district)
            if (t.clients >= 30) shares.push_back(complete_share(t));
          return gini(shares);
        });
  r.add({"kind_gap_ratio", "Best to worst client kind (complete package)", "ratio", kLower,
         "outcome"},
        [](const Ctx& c) {
          const auto& k = c.ledger->by_kind;
          return gap_ratio(std::vector<OutcomeTally>(k.begin(), k.end()), 30);
        });
  return r;
}

nlohmann::ordered_json value_json(const ReporterInfo& info, double v) {
  if (!std::isfinite(v)) return nullptr;
  if (info.integer) return static_cast<std::int64_t>(v);
  return v;
}

// The grouped reporters for one group.
void write_group(const MeasureRegistry& reg, MeasureContext& c, const OutcomeTally& t,
                 nlohmann::ordered_json& out) {
  c.tally = &t;
  for (const auto& rep : reg.all())
    if (rep.info.grouped) out[rep.info.name] = value_json(rep.info, rep.compute(c));
}

}  // namespace

const MeasureRegistry& measures() {
  static const MeasureRegistry registry = build_measures();
  return registry;
}

nlohmann::ordered_json compute_metrics(const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  const OutcomeLedger ledger = sim.outcome_ledger();
  MeasureContext c = make_context(sim, ledger);
  const MeasureRegistry& reg = measures();
  nlohmann::ordered_json m;
  for (const auto& rep : reg.all()) {
    const std::string& name = rep.info.name;
    const auto dot = name.find('.');
    nlohmann::ordered_json& slot =
        dot == std::string::npos ? m[name] : m[name.substr(0, dot)][name.substr(dot + 1)];
    slot = value_json(rep.info, rep.compute(c));
  }
  nlohmann::ordered_json& d = m["by_district"];
  for (std::size_t i = 0; i < sc.districts.size(); ++i)
    write_group(reg, c, ledger.by_district[i], d[sc.districts[i].name]);
  nlohmann::ordered_json& k = m["by_kind"];
  for (int i = 0; i < 3; ++i)
    write_group(reg, c, ledger.by_kind[static_cast<std::size_t>(i)],
                k[to_string(static_cast<ClientKind>(i))]);
  nlohmann::ordered_json& s = m["by_service"];
  for (std::size_t i = 0; i < sc.services.size(); ++i) {
    auto& x = s[sc.services[i].name];
    const ServiceTally& t = ledger.by_service[i];
    x["needs"] = dbl(t.needs);
    x["needs_met_share"] = number(ratio(dbl(t.met), dbl(t.needs)));
    x["mean_days_to_first_service"] = number(ratio(dbl(t.days), dbl(t.served)));
  }
  return m;
}

std::vector<std::pair<std::string, double>> scalar_metrics(const nlohmann::ordered_json& m) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [key, value] : m.items()) {
    if (value.is_number()) out.emplace_back(key, value.get<double>());
    if (value.is_null()) out.emplace_back(key, kNaN);
  }
  // The network as a collaboration, as network_evaluation.NAME.
  if (m.contains("network_evaluation"))
    for (const auto& [key, value] : m["network_evaluation"].items()) {
      if (value.is_number()) out.emplace_back("network_evaluation." + key, value.get<double>());
      if (value.is_null()) out.emplace_back("network_evaluation." + key, kNaN);
    }
  return out;
}

std::vector<std::string> metric_names() {
  std::vector<std::string> names, nested;
  for (const auto& rep : measures().all())
    (rep.info.name.find('.') == std::string::npos ? names : nested).push_back(rep.info.name);
  names.insert(names.end(), nested.begin(), nested.end());
  return names;
}

}  // namespace cm::care
