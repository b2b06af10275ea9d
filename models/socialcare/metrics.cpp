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

// An outcome tally with the measures it reports.
struct Tally : OutcomeTally {
  Tally(const OutcomeTally& t) : OutcomeTally(t) {}  // NOLINT(google-explicit-constructor)

  double complete_share() const { return ratio(dbl(resolved), dbl(clients)); }

  void write(nlohmann::ordered_json& j, bool full) const {
    j["clients"] = dbl(clients);
    j["complete_package_share"] = number(ratio(dbl(resolved), dbl(clients)));
    j["needs_met_share"] = number(ratio(dbl(needs_met), dbl(needs)));
    j["dropout_share"] = number(ratio(dbl(dropped), dbl(clients)));
    j["unmet_share"] = number(ratio(dbl(unmet), dbl(clients)));
    j["mean_days_to_first_service"] = number(ratio(dbl(days_service), dbl(served)));
    j["mean_doors_per_client"] = number(ratio(dbl(doors), dbl(clients)));
    j["repeat_assessment_share"] = number(ratio(dbl(repeats), dbl(assessments)));
    j["referral_completion_share"] = number(ratio(dbl(received), dbl(referred)));
    if (!full) return;
    j["needs"] = dbl(needs);
    j["self_help_share"] = number(ratio(dbl(self_help), dbl(needs_met)));
    j["reached_door_share"] = number(ratio(dbl(reached), dbl(clients)));
    j["assessed_share"] = number(ratio(dbl(assessed), dbl(clients)));
    j["served_share"] = number(ratio(dbl(served), dbl(clients)));
    j["mean_days_to_first_contact"] = number(ratio(dbl(days_contact), dbl(reached)));
    j["mean_days_to_assessment"] = number(ratio(dbl(days_assessment), dbl(assessed)));
    j["mean_days_to_complete_package"] = number(ratio(dbl(days_complete), dbl(resolved)));
    j["mean_assessments_per_client"] = number(ratio(dbl(assessments), dbl(clients)));
    j["referrals_per_client"] = number(ratio(dbl(referred), dbl(clients)));
    j["referral_contacted_share"] = number(ratio(dbl(tried), dbl(referred)));
    j["referral_reached_share"] = number(ratio(dbl(reach), dbl(referred)));
    j["continuity_index"] =
        number(ratio(dbl(continuity_units) * kContinuityUnit, dbl(continuity_n)));
    j["assessment_within_standard_share"] = number(ratio(dbl(assess_in_standard), dbl(assessed)));
    j["service_within_standard_share"] = number(ratio(dbl(service_in_standard), dbl(served)));
  }
};

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
double gap_ratio(const std::vector<Tally>& groups, double min_clients) {
  double lo = kNaN, hi = kNaN;
  for (const Tally& t : groups) {
    if (dbl(t.clients) < min_clients) continue;
    const double s = t.complete_share();
    lo = std::isnan(lo) ? s : std::min(lo, s);
    hi = std::isnan(hi) ? s : std::max(hi, s);
  }
  return ratio(hi, lo);
}

// The network as a collaboration (its own value and quality Y; MODEL.md §7, docs/metrics.md
// "The network as a collaboration"): trust, stability, reciprocity, compliance with agreements,
// what coordination and ties cost against what their joint cases save, and the structure
// averaged over the days of the run (the final ties are in the network measures).
nlohmann::ordered_json network_evaluation(const Simulation& sim) {
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
  nlohmann::ordered_json y;
  y["mean_trust"] = number(ratio(trust_joint, joint));
  y["joint_cases"] = joint;
  y["tie_stability"] =
      number(ratio(dbl(static_cast<std::int64_t>(history.size())), mean_ties * n_days / 365.0));
  y["referral_reciprocity"] = number(ratio(mutual, flow));
  y["agreement_compliance"] = number(ratio(honoured, honoured + breached));
  y["agreements_signed"] = acts;
  double reports = 0;
  for (const NetworkState& net : sim.networks()) reports += dbl(net.reports);
  y["monitoring_reports"] = reports;
  y["coordination_hours_per_joint_case"] = number(ratio(collab, joint));
  y["benefit_hours_per_tie"] =
      number(ratio(sc.ties.benefit_hours_per_joint_case * joint, mean_ties));
  y["cost_hours_per_tie"] = number(ratio(tie_cost, mean_ties));
  y["mean_density"] = number(pairs > 0 && n_days > 0 ? tie_days / n_days / pairs : kNaN);
  y["mean_degree_centralization"] = number(ratio(central_sum, n_days));
  return y;
}

}  // namespace

nlohmann::ordered_json compute_metrics(const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  const OutcomeLedger ledger = sim.outcome_ledger();
  const Tally all = ledger.all;
  std::vector<Tally> by_district(ledger.by_district.begin(), ledger.by_district.end());
  std::vector<Tally> by_kind(ledger.by_kind.begin(), ledger.by_kind.end());
  bool any_innovative = false;
  for (const ServiceType& s : sc.services) any_innovative = any_innovative || s.innovative;
  nlohmann::ordered_json m;
  all.write(m, true);
  m["innovation_uptake"] =
      number(any_innovative ? ratio(dbl(ledger.innovation_clients), dbl(all.clients)) : kNaN);
  m["innovative_needs_served_share"] = number(
      any_innovative ? ratio(dbl(ledger.innovative_served), dbl(ledger.innovative_needs)) : kNaN);

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
  const LevelSummary levels = summarize_levels(n_orgs, edges, kMaxLevel);
  const Graph g(n_orgs, edges, 1);
  std::size_t components_count = 0;
  components(g, &components_count);
  m["network_density"] = levels.density_at_least.size() > 1 ? levels.density_at_least[1] : 0.0;
  m["mean_tie_level"] = levels.mean_level;
  for (int L = 1; L <= kMaxLevel; ++L) {
    m["ties_level_" + std::to_string(L)] = levels.ties_at_level[L];
    m["density_level_" + std::to_string(L)] = levels.density_at_least[L];
  }
  m["degree_centralization"] = degree_centralization(g);
  // Brandes' betweenness is O(VE); beyond a few thousand organizations it is left out.
  m["betweenness_centralization"] = number(n_orgs <= 4000 ? betweenness_centralization(g) : kNaN);
  m["components"] = components_count;
  m["fragility"] = articulation_points(g).size();
  m["core_periphery_fit"] = core_periphery(g).fit;
  m["multiplexity"] = multiplexity(edges, personal, 1);
  double conferences = 0;
  for (const auto& net : sim.networks()) conferences += static_cast<double>(net.conferences);
  double pooled = 0;
  for (const auto& o : sim.organizations()) {
    pooled += static_cast<double>(o.pooled_out);
    conferences += static_cast<double>(o.conferences);
  }
  m["case_conferences"] = conferences;
  m["pooled_services"] = pooled;
  m["network_evaluation"] = network_evaluation(sim);

  // Efficiency: staff hours of every day of the run.
  double paid = 0, collab = 0, used = 0, capacity = 0;
  for (const TickRecord& r : sim.timeseries()) {
    paid += r.paid_hours;
    collab += r.collaboration_hours;
    used += r.direct_hours_used;
    capacity += r.direct_hours_capacity;
  }
  m["collaboration_hours"] = collab;
  m["collaboration_hours_share"] = number(ratio(collab, paid));
  m["helper_utilization"] = number(ratio(used, capacity));
  m["cost_per_resolved_need"] = number(ratio(paid, dbl(ledger.needs_served_met)));
  const auto& by_sector = ledger.by_sector;
  const double delivered = dbl(by_sector[0] + by_sector[1] + by_sector[2] + by_sector[3]);
  for (int s = 0; s < 4; ++s)
    m[std::string("delivery_share_") + to_string(static_cast<Sector>(s))] =
        number(ratio(dbl(by_sector[s]), delivered));

  // Equity between districts and client kinds.
  std::vector<double> shares;
  for (const Tally& t : by_district)
    if (t.clients >= 30) shares.push_back(t.complete_share());
  m["district_gap_ratio"] = number(gap_ratio(by_district, 30));
  m["district_gini"] = gini(shares);
  m["kind_gap_ratio"] = number(gap_ratio(by_kind, 30));

  nlohmann::ordered_json& d = m["by_district"];
  for (std::size_t i = 0; i < sc.districts.size(); ++i)
    by_district[i].write(d[sc.districts[i].name], false);
  nlohmann::ordered_json& k = m["by_kind"];
  for (int i = 0; i < 3; ++i) by_kind[i].write(k[to_string(static_cast<ClientKind>(i))], false);
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

}  // namespace cm::care
