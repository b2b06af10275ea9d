#include "models/socialcare/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/graph.hpp"

namespace cm::care {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double a, double b) {
  return b > 0 ? a / b : kNaN;
}

nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

// Client tallies for one group (all, a district, a kind).
struct Tally {
  double clients = 0, needs = 0, needs_met = 0, self_help = 0, resolved = 0, dropped = 0, unmet = 0,
         reached = 0, assessed = 0, served = 0;
  double days_contact = 0, days_assessment = 0, days_service = 0, days_complete = 0;
  double doors = 0, assessments = 0, repeats = 0;
  double referred = 0, tried = 0, reach = 0, received = 0;
  double continuity_sum = 0, continuity_n = 0;
  double assess_in_standard = 0, service_in_standard = 0;

  void add(const Client& c, const Standards& std) {
    ++clients;
    needs += c.n_needs;
    for (int i = 0; i < c.n_needs; ++i) {
      if (c.needs[i].state != NeedState::met) continue;
      ++needs_met;
      if (c.needs[i].flags & need_flag::self_help) ++self_help;
    }
    resolved += c.outcome == Outcome::resolved;
    dropped += c.outcome == Outcome::dropped;
    unmet += c.outcome == Outcome::unmet_at_horizon || c.outcome == Outcome::active;
    if (c.first_contact >= 0) {
      ++reached;
      days_contact += c.first_contact - c.arrival;
    }
    if (c.first_assessment >= 0) {
      ++assessed;
      days_assessment += c.first_assessment - c.arrival;
      const int from = c.first_contact >= 0 ? c.first_contact : c.arrival;
      assess_in_standard += c.first_assessment - from <= std.max_days_to_assessment;
    }
    if (c.first_service >= 0) {
      ++served;
      days_service += c.first_service - c.arrival;
      const int from = c.first_contact >= 0 ? c.first_contact : c.arrival;
      service_in_standard += c.first_service - from <= std.max_days_to_service;
    }
    if (c.outcome == Outcome::resolved) days_complete += c.exit - c.arrival;
    doors += c.doors;
    assessments += c.assessments;
    repeats += c.assessments > 1 ? c.assessments - 1 : 0;
    referred += c.referrals;
    tried += c.referrals_tried;
    reach += c.referrals_reached;
    received += c.referrals_received;
    const double coc = c.continuity();
    if (coc >= 0) {
      continuity_sum += coc;
      ++continuity_n;
    }
  }

  double complete_share() const { return ratio(resolved, clients); }

  void write(nlohmann::ordered_json& j, bool full) const {
    j["clients"] = clients;
    j["complete_package_share"] = number(ratio(resolved, clients));
    j["needs_met_share"] = number(ratio(needs_met, needs));
    j["dropout_share"] = number(ratio(dropped, clients));
    j["unmet_share"] = number(ratio(unmet, clients));
    j["mean_days_to_first_service"] = number(ratio(days_service, served));
    j["mean_doors_per_client"] = number(ratio(doors, clients));
    j["repeat_assessment_share"] = number(ratio(repeats, assessments));
    j["referral_completion_share"] = number(ratio(received, referred));
    if (!full) return;
    j["needs"] = needs;
    j["self_help_share"] = number(ratio(self_help, needs_met));
    j["reached_door_share"] = number(ratio(reached, clients));
    j["assessed_share"] = number(ratio(assessed, clients));
    j["served_share"] = number(ratio(served, clients));
    j["mean_days_to_first_contact"] = number(ratio(days_contact, reached));
    j["mean_days_to_assessment"] = number(ratio(days_assessment, assessed));
    j["mean_days_to_complete_package"] = number(ratio(days_complete, resolved));
    j["mean_assessments_per_client"] = number(ratio(assessments, clients));
    j["referrals_per_client"] = number(ratio(referred, clients));
    j["referral_contacted_share"] = number(ratio(tried, referred));
    j["referral_reached_share"] = number(ratio(reach, referred));
    j["continuity_index"] = number(ratio(continuity_sum, continuity_n));
    j["assessment_within_standard_share"] = number(ratio(assess_in_standard, assessed));
    j["service_within_standard_share"] = number(ratio(service_in_standard, served));
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
    if (t.clients < min_clients) continue;
    const double s = t.complete_share();
    lo = std::isnan(lo) ? s : std::min(lo, s);
    hi = std::isnan(hi) ? s : std::max(hi, s);
  }
  return ratio(hi, lo);
}

}  // namespace

nlohmann::ordered_json compute_metrics(const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  const int ran = sim.tick();
  const int cohort_end = ran - sc.follow_up_days;
  Tally all;
  std::vector<Tally> by_district(sc.districts.size()), by_kind(3);
  std::vector<double> svc_needs(sc.services.size()), svc_met(sc.services.size()),
      svc_days(sc.services.size()), svc_served(sc.services.size());
  std::vector<double> by_sector(4, 0.0);
  double needs_served_met = 0;
  // Innovation: needs of services marked `innovative` (new forms of service, delivered only by
  // contract-funded helpers) and the cohort clients who began one.
  bool any_innovative = false;
  for (const ServiceType& s : sc.services) any_innovative = any_innovative || s.innovative;
  double innovative_needs = 0, innovative_served = 0, innovation_clients = 0;
  for (const Client& c : sim.clients()) {
    for (int i = 0; i < c.n_needs; ++i) {
      const Need& n = c.needs[i];
      if (n.state == NeedState::met && !(n.flags & need_flag::self_help)) ++needs_served_met;
      if (n.first_service >= 0 && n.org >= 0)
        ++by_sector[static_cast<int>(sc.organizations[n.org].sector)];
    }
    if (c.arrival < sc.warmup_days || c.arrival >= cohort_end) continue;
    all.add(c, sc.standards);
    by_district[c.district].add(c, sc.standards);
    by_kind[static_cast<int>(c.kind)].add(c, sc.standards);
    bool took_up = false;
    for (int i = 0; i < c.n_needs; ++i) {
      const Need& n = c.needs[i];
      if (sc.services[n.service].innovative) {
        ++innovative_needs;
        const bool served = n.first_service >= 0;
        innovative_served += served;
        took_up = took_up || served;
      }
      ++svc_needs[n.service];
      svc_met[n.service] += n.state == NeedState::met;
      if (n.first_service >= 0) {
        ++svc_served[n.service];
        svc_days[n.service] += n.first_service - c.arrival;
      }
    }
    innovation_clients += took_up;
  }

  nlohmann::ordered_json m;
  all.write(m, true);
  m["innovation_uptake"] = number(any_innovative ? ratio(innovation_clients, all.clients) : kNaN);
  m["innovative_needs_served_share"] =
      number(any_innovative ? ratio(innovative_served, innovative_needs) : kNaN);

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
  m["cost_per_resolved_need"] = number(ratio(paid, needs_served_met));
  double delivered = by_sector[0] + by_sector[1] + by_sector[2] + by_sector[3];
  for (int s = 0; s < 4; ++s)
    m[std::string("delivery_share_") + to_string(static_cast<Sector>(s))] =
        number(ratio(by_sector[s], delivered));

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
    x["needs"] = svc_needs[i];
    x["needs_met_share"] = number(ratio(svc_met[i], svc_needs[i]));
    x["mean_days_to_first_service"] = number(ratio(svc_days[i], svc_served[i]));
  }
  return m;
}

std::vector<std::pair<std::string, double>> scalar_metrics(const nlohmann::ordered_json& m) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [key, value] : m.items()) {
    if (value.is_number()) out.emplace_back(key, value.get<double>());
    if (value.is_null()) out.emplace_back(key, kNaN);
  }
  return out;
}

}  // namespace cm::care
