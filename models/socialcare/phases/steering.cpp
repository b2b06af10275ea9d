// The DPZM cycle of steering authorities (see steering.hpp), as phases of the Simulation.
#include "models/socialcare/steering.hpp"

#include <algorithm>
#include <bit>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <numeric>

#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

namespace {
constexpr std::uint64_t kDiagnose = purpose_code("steering-diagnosis");
constexpr std::uint64_t kQualityContract = purpose_code("helper-quality");

bool is_public(Sector s) {
  return s != Sector::nonpublic;
}

// Splits `total` whole units in proportion to weights (largest remainder, ties to the lower
// index), so the parts always sum to total.
std::vector<int> apportion(int total, const std::vector<double>& weights) {
  std::vector<int> parts(weights.size(), 0);
  const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total <= 0 || sum <= 0 || weights.empty()) return parts;
  std::vector<std::pair<double, std::size_t>> rest;
  int given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double exact = total * weights[i] / sum;
    parts[i] = static_cast<int>(std::floor(exact));
    given += parts[i];
    rest.push_back({exact - parts[i], i});
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  for (int k = 0; given < total; ++k, ++given) ++parts[rest[k % rest.size()].second];
  return parts;
}
}  // namespace

void phases::phase_steering(const Scenario& sc, ModelState& st) {
  for (int a = 0; a < static_cast<int>(sc.authorities.size()); ++a) {
    const AuthorityDef& def = sc.authorities[a];
    if (st.tick < def.first_cycle_day || (st.tick - def.first_cycle_day) % def.period_days != 0)
      continue;
    AuthorityState& auth = st.authorities[a];

    // Monitor and evaluate the contracts that end now; their lessons shape this cycle. Their
    // funded posts wait for this cycle's calls: a member funded again keeps them (ensure).
    std::vector<std::int32_t> ending;
    for (Contract& c : auth.contracts)
      if (c.end <= st.tick) {
        monitor(sc, st, a, c);
        ending.insert(ending.end(), c.helper_slots.begin(), c.helper_slots.end());
      }
    std::erase_if(auth.contracts, [&](const Contract& c) { return c.end <= st.tick; });
    if (auth.cycle > 0) {
      // Equal treatment: districts whose clients fared worse than the territory's mean last
      // period gain budget share, the others lose some.
      std::vector<double> share(sc.districts.size(), -1.0);
      double mean = 0;
      int counted = 0;
      for (int d : def.territory) {
        double n = 0, done = 0;
        const auto from =
            std::lower_bound(st.notes.begin(), st.notes.end(), st.tick - def.period_days,
                             [](const ClientNote& c, int t) { return c.arrival < t; });
        for (auto it = from; it != st.notes.end(); ++it)
          if (it->district == d) {
            ++n;
            done += it->outcome == Outcome::resolved;
          }
        if (n < 10) continue;
        share[d] = done / n;
        mean += share[d];
        ++counted;
      }
      if (counted > 0) mean /= counted;
      for (int d : def.territory)
        if (share[d] >= 0 && mean > 0)
          auth.budget_shift[d] =
              std::clamp(def.equity_adjustment * (mean - share[d]) / mean, -0.5, 0.5);
    }

    // Diagnose.
    std::vector<double> need(sc.districts.size(), 0.0);
    std::vector<std::vector<double>> demand(sc.districts.size(),
                                            std::vector<double>(sc.services.size(), 0.0));
    diagnose(sc, st, a, need, demand);

    // Plan: outreach and self-help groups first, the rest funds consortia.
    const double budget = def.budget_helpers;
    const double outreach_fte = budget * def.outreach_share;
    const double self_help_fte = budget * def.self_help_share;
    const int contract_fte = static_cast<int>(std::lround(budget - outreach_fte - self_help_fte));
    double territory_pop = 0;
    for (int d : def.territory) territory_pop += static_cast<double>(sc.districts[d].population);
    std::vector<double> weights;
    for (int d : def.territory) {
      double w = 1.0;
      if (def.allocation == Allocation::by_need) w = need[d];
      if (def.allocation == Allocation::by_population)
        w = static_cast<double>(sc.districts[d].population);
      weights.push_back(std::max(0.0, w * (1.0 + auth.budget_shift[d])));
    }
    const std::vector<int> helpers = apportion(contract_fte, weights);
    for (std::size_t i = 0; i < def.territory.size(); ++i) {
      const int d = def.territory[i];
      if (territory_pop > 0) {
        // Spread per resident: the same intensity in every district of the territory.
        st.outreach_boost[d] = def.outreach_effect * outreach_fte * 10000.0 / territory_pop;
        st.self_help_boost[d] = def.self_help_effect * self_help_fte * 10000.0 / territory_pop;
      }
      st.steering_rows.push_back({def.name, auth.cycle, st.tick, "plan", "budget_allocated",
                                  sc.districts[d].name, "helpers",
                                  static_cast<double>(helpers[i])});
    }
    if (outreach_fte > 0)
      st.steering_rows.push_back(
          {def.name, auth.cycle, st.tick, "plan", "outreach", "", "helpers", outreach_fte});
    if (self_help_fte > 0)
      st.steering_rows.push_back({def.name, auth.cycle, st.tick, "plan", "self_help_groups", "",
                                  "helpers", self_help_fte});

    // Ensure: calls for proposals, bids, contracts — or the scenario's fixed posts, the same in
    // every variant.
    if (!def.fixed_posts.empty()) {
      fund_fixed_posts(sc, st, a, ending);
    } else if (def.call_per_district) {
      for (std::size_t i = 0; i < def.territory.size(); ++i) {
        const int innovative = static_cast<int>(std::lround(helpers[i] * def.innovation_share));
        ensure(sc, st, a, {def.territory[i]}, helpers[i], innovative, demand, ending);
      }
    } else {
      const int total = std::accumulate(helpers.begin(), helpers.end(), 0);
      ensure(sc, st, a, def.territory, total,
             static_cast<int>(std::lround(total * def.innovation_share)), demand, ending);
    }
    // Posts of ended contracts that no new contract carried over: their helpers finish their
    // cases and take no new ones.
    for (std::int32_t slot : ending) {
      if (slot < 0) continue;
      Helper& h = st.staff.helpers[slot];
      h.retired = true;
      std::erase(st.orgs[h.org].contract_staff, slot);
    }
    apply_contract_ties(sc, st);
    ++auth.cycle;
  }
}

// The map of problems: new clients, waiting lists and dropouts per district, seen
// diagnosis_delay_days late and through multiplicative (lognormal, mean 1) noise; and the
// demand per service among new clients' needs.
void phases::diagnose(const Scenario& sc, ModelState& st, int a, std::vector<double>& need,
                      std::vector<std::vector<double>>& demand) {
  const AuthorityDef& def = sc.authorities[a];
  const int end = std::max(0, st.tick - def.diagnosis_delay_days);
  const int start = std::max(0, end - def.period_days);
  const bool observed = end > start;
  if (observed) {
    for (int t = start; t < end; ++t)
      for (int d : def.territory) need[d] += st.district_arrivals[t][d];
    for (int d : def.territory) need[d] += st.district_waiting[end - 1][d];
    const auto from = std::lower_bound(st.notes.begin(), st.notes.end(), start,
                                       [](const ClientNote& c, int t) { return c.arrival < t; });
    for (auto it = from; it != st.notes.end() && it->arrival < end; ++it) {
      for (int i = 0; i < it->n_needs; ++i) demand[it->district][it->service[i]] += 1.0;
      if (it->outcome == Outcome::dropped && it->exit < end) need[it->district] += 1.0;
    }
  } else {
    // Nothing observed yet: the prior is the expected number of new clients.
    double share_total = 0;
    for (const auto& s : sc.services) share_total += s.share;
    for (int d : def.territory) {
      need[d] = static_cast<double>(sc.districts[d].population) * sc.population.annual_incidence *
                def.period_days / 365.0;
      for (std::size_t s = 0; s < sc.services.size(); ++s)
        demand[d][s] = need[d] * sc.services[s].share / share_total;
    }
  }
  const double sigma = def.diagnosis_noise;
  for (int d : def.territory) {
    Stream rng = st.streams(kDiagnose, static_cast<std::uint64_t>(a) << 32 | d,
                            static_cast<std::uint32_t>(st.tick));
    boost::random::normal_distribution<double> z(0.0, 1.0);
    need[d] *= std::exp(sigma * z(rng) - 0.5 * sigma * sigma);
    st.steering_rows.push_back({def.name, st.authorities[a].cycle, st.tick, "diagnose",
                                observed ? "diagnosed_need" : "prior_need", sc.districts[d].name,
                                "clients", need[d]});
  }
}

std::int32_t phases::add_contract_helper(const Scenario& sc, ModelState& st, std::int32_t org,
                                         std::uint32_t skills, std::int32_t starts) {
  Helper h;
  h.id = st.staff.next_id++;
  h.org = org;
  h.skills = skills;
  h.starts = starts;
  Stream rng = st.streams(kQualityContract, h.id, 0);
  h.quality = draw_helper_quality(sc.helpers, rng);
  const auto slot = static_cast<std::int32_t>(st.staff.helpers.size());
  st.staff.slot_of_id.push_back(slot);
  st.staff.helpers.push_back(h);
  st.orgs[org].contract_staff.push_back(slot);
  return slot;
}

void phases::ensure(const Scenario& sc, ModelState& st, int a, const std::vector<int>& districts,
                    int helpers, int innovative_helpers,
                    const std::vector<std::vector<double>>& demand,
                    std::vector<std::int32_t>& ending) {
  const AuthorityDef& def = sc.authorities[a];
  AuthorityState& auth = st.authorities[a];
  const std::string area = districts.size() == 1 ? sc.districts[districts[0]].name : "";
  const int n_services = static_cast<int>(sc.services.size());
  std::vector<double> share(n_services, 0.0);
  for (int d : districts)
    for (int s = 0; s < n_services; ++s) share[s] += demand[d][s];
  if (def.funding == Funding::gap) {
    // The inventory of resources: what the area's organizations can give each service now
    // (direct hours of their staff, split evenly over the services they offer and the
    // districts they serve; posts of ending contracts not counted), against the load the
    // diagnosed demand brings (needs per day x mean days x hours a day: Little's law). Posts
    // fill the gap; with no gap anywhere they follow the demand.
    std::vector<double> capacity(n_services, 0.0), gap(n_services, 0.0);
    std::vector<std::int32_t> leaving;
    for (std::int32_t slot : ending)
      if (slot >= 0) leaving.push_back(slot);
    std::sort(leaving.begin(), leaving.end());
    std::vector<std::int32_t> area_orgs;
    for (int d : districts)
      for (std::int32_t o : st.serving_by_district[d]) area_orgs.push_back(o);
    std::sort(area_orgs.begin(), area_orgs.end());
    area_orgs.erase(std::unique(area_orgs.begin(), area_orgs.end()), area_orgs.end());
    for (std::int32_t o : area_orgs) {
      const Organization& org = sc.organizations[o];
      const int offered = std::popcount(org.services);
      if (offered == 0 || org.serves.empty()) continue;
      int in_area = 0;
      for (int d : org.serves) in_area += std::count(districts.begin(), districts.end(), d) > 0;
      double hours = 0;
      st.for_each_staff(o, [&](std::int32_t x) {
        if (!std::binary_search(leaving.begin(), leaving.end(), x))
          hours += st.staff.helpers[x].capacity_hours;
      });
      const double part = hours / offered * in_area / static_cast<double>(org.serves.size());
      for (int s = 0; s < n_services; ++s)
        if ((org.services >> s) & 1u) capacity[s] += part;
    }
    double total_gap = 0;
    for (int s = 0; s < n_services; ++s) {
      const ServiceType& sv = sc.services[s];
      const double load = share[s] / def.period_days * sv.mean_days * sv.hours_per_day;
      gap[s] = std::max(0.0, load - capacity[s]);
      total_gap += gap[s];
      st.steering_rows.push_back(
          {def.name, auth.cycle, st.tick, "diagnose", "capacity_gap", area, sv.name, gap[s]});
    }
    if (total_gap > 0) share = gap;
  }
  const double total = std::accumulate(share.begin(), share.end(), 0.0);
  std::uint32_t demanded = 0;
  for (int s = 0; s < n_services; ++s) {
    share[s] = total > 0 ? share[s] / total : 0.0;
    if (share[s] > 0) demanded |= 1u << s;
  }
  auto covered_share = [&](std::uint32_t mask) {
    double x = 0;
    for (int s = 0; s < n_services; ++s)
      if ((mask >> s) & 1u) x += share[s];
    return x;
  };
  if (helpers <= 0) {
    st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "no_call", area, "", 0.0});
    return;
  }
  st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "call_issued", area,
                              "helpers", static_cast<double>(helpers)});

  std::vector<std::int32_t> eligible;
  for (int d : districts)
    for (std::int32_t o : st.serving_by_district[d]) eligible.push_back(o);
  std::sort(eligible.begin(), eligible.end());
  eligible.erase(std::unique(eligible.begin(), eligible.end()), eligible.end());
  auto sector = [&](std::int32_t o) { return sc.organizations[o].sector; };
  auto services = [&](std::int32_t o) { return sc.organizations[o].services; };

  struct Bid {
    std::int32_t lead;
    std::vector<std::int32_t> members;
    double coverage, price, record, score;
  };
  std::vector<Bid> bids;
  for (std::int32_t lead : eligible) {
    if (def.nonpublic_lead && sector(lead) != Sector::nonpublic) continue;
    // Partners come from the lead's ties: the strongest and most trusted first.
    std::vector<std::int32_t> candidates;
    for (std::int32_t o : eligible)
      if (o != lead) candidates.push_back(o);
    std::stable_sort(candidates.begin(), candidates.end(), [&](std::int32_t x, std::int32_t y) {
      const std::int32_t tx = st.ties.find(lead, x), ty = st.ties.find(lead, y);
      const int lx = tx < 0 ? 0 : st.ties[tx].level, ly = ty < 0 ? 0 : st.ties[ty].level;
      if (lx != ly) return lx > ly;
      const float rx = tx < 0 ? 0.f : st.ties[tx].trust, ry = ty < 0 ? 0.f : st.ties[ty].trust;
      return rx > ry;
    });
    Bid bid{lead, {lead}, 0, 0, 0, 0};
    std::uint32_t covered = services(lead) & demanded;
    auto full = [&] { return static_cast<int>(bid.members.size()) >= def.consortium_max_members; };
    auto has = [&](std::int32_t o) {
      return std::find(bid.members.begin(), bid.members.end(), o) != bid.members.end();
    };
    for (std::int32_t c : candidates) {
      if (full()) break;
      if (services(c) & demanded & ~covered) {
        bid.members.push_back(c);
        covered |= services(c) & demanded;
      }
    }
    auto any_of_kind = [&](bool want_public) {
      return std::any_of(bid.members.begin(), bid.members.end(),
                         [&](std::int32_t m) { return is_public(sector(m)) == want_public; });
    };
    if (def.require_public_and_nonpublic)
      for (bool want_public : {true, false})
        if (!any_of_kind(want_public))
          for (std::int32_t c : candidates)
            if (!full() && !has(c) && is_public(sector(c)) == want_public) {
              bid.members.push_back(c);
              break;
            }
    for (std::int32_t c : candidates)
      if (static_cast<int>(bid.members.size()) < def.consortium_min_members && !full() && !has(c))
        bid.members.push_back(c);
    if (static_cast<int>(bid.members.size()) < def.consortium_min_members) continue;
    if (def.require_public_and_nonpublic && (!any_of_kind(true) || !any_of_kind(false))) continue;
    for (std::int32_t m : bid.members) {
      covered |= services(m) & demanded;
      bid.price += sector(m) == Sector::nonpublic ? def.price_nonpublic : def.price_public;
      bid.record += auth.record[m];
    }
    bid.price /= static_cast<double>(bid.members.size());
    bid.record /= static_cast<double>(bid.members.size());
    bid.coverage = covered_share(covered);
    bids.push_back(std::move(bid));
  }
  if (bids.empty()) {
    st.steering_rows.push_back(
        {def.name, auth.cycle, st.tick, "ensure", "no_valid_bid", area, "", 0});
    return;
  }
  double min_price = bids[0].price;
  for (const Bid& b : bids) min_price = std::min(min_price, b.price);
  const Bid* best = nullptr;
  for (Bid& b : bids) {
    b.score = def.weight_coverage * b.coverage + def.weight_price * (min_price / b.price) +
              def.weight_record * b.record;
    st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "bid", area,
                                "Consortium of " + sc.organizations[b.lead].name, b.score});
    if (!best || b.score > best->score) best = &b;
  }

  Contract c;
  c.authority = a;
  c.cycle = auth.cycle;
  c.name = "Consortium of " + sc.organizations[best->lead].name +
           (area.empty() ? "" : " (" + area + ")");
  c.districts = districts;
  c.members = best->members;
  c.start = st.tick;
  c.end = st.tick + def.period_days;
  // Funded helpers follow the diagnosed demand each member can serve; innovative posts go to
  // members offering new forms of service.
  std::vector<double> regular_w, innovative_w;
  for (std::int32_t m : c.members) {
    regular_w.push_back(covered_share(services(m) & demanded & ~st.innovative_mask));
    innovative_w.push_back(covered_share(services(m) & demanded & st.innovative_mask));
  }
  const bool innovation = std::accumulate(innovative_w.begin(), innovative_w.end(), 0.0) > 0;
  const int innovative = innovation ? innovative_helpers : 0;
  const std::vector<int> regular = apportion(helpers - innovative, regular_w);
  const std::vector<int> novel = apportion(innovative, innovative_w);
  // A post the member held under an ended contract of this authority, with the same skills,
  // carries over (stable funding); any other post is new and stands vacant while it is filled.
  int carried = 0, to_fill = 0;
  auto post = [&](std::int32_t m, std::uint32_t skills) {
    for (std::int32_t& slot : ending)
      if (slot >= 0 && st.staff.helpers[slot].org == m && st.staff.helpers[slot].skills == skills) {
        const std::int32_t kept = slot;
        slot = -1;
        ++carried;
        return kept;
      }
    ++to_fill;
    return add_contract_helper(sc, st, m, skills, st.tick + def.post_filling_days);
  };
  for (std::size_t i = 0; i < c.members.size(); ++i) {
    const std::int32_t m = c.members[i];
    for (int k = 0; k < regular[i]; ++k)
      c.helper_slots.push_back(post(m, services(m) & ~st.innovative_mask));
    for (int k = 0; k < novel[i]; ++k)
      c.helper_slots.push_back(post(m, services(m) & st.innovative_mask));
    c.started_at_start.push_back(st.orgs[m].started);
    c.in_standard_at_start.push_back(st.orgs[m].started_in_standard);
    c.honoured_at_start.push_back(st.orgs[m].agreements_honoured);
    c.breached_at_start.push_back(st.orgs[m].agreements_breached);
  }
  // The lead signs a partnership agreement with each partner (hub and spoke, as in Warsaw's
  // LSW consortia): those ties become formal; partners' ties to each other are left to grow.
  for (std::size_t j = 1; j < c.members.size(); ++j) {
    const std::int32_t t = st.ties.find(c.members[0], c.members[j]);
    if (t >= 0) c.ties.push_back(static_cast<std::uint32_t>(t));
  }
  st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "contract_signed", area,
                              c.name, static_cast<double>(helpers)});
  st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "posts_carried_over", area,
                              c.name, static_cast<double>(carried)});
  st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "posts_to_fill", area,
                              c.name, static_cast<double>(to_fill)});
  for (std::int32_t m : c.members)
    st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "consortium_member", area,
                                sc.organizations[m].name, 1.0});
  auth.contracts.push_back(std::move(c));
}

// Fixed posts (AuthorityDef::fixed_posts): the scenario names which organizations get how
// many posts, so every variant funds the same staff. One contract per period holds them; it
// formalizes no tie (a funding decision, not a consortium). Posts carry over from period to
// period like a consortium's.
void phases::fund_fixed_posts(const Scenario& sc, ModelState& st, int a,
                              std::vector<std::int32_t>& ending) {
  const AuthorityDef& def = sc.authorities[a];
  AuthorityState& auth = st.authorities[a];
  Contract c;
  c.authority = a;
  c.cycle = auth.cycle;
  c.name = "Fixed posts of " + def.name;
  c.districts = def.territory;
  c.start = st.tick;
  c.end = st.tick + def.period_days;
  int carried = 0, to_fill = 0, total = 0;
  for (const FixedPost& p : def.fixed_posts) {
    const std::int32_t m = p.organization;
    if (std::find(c.members.begin(), c.members.end(), m) == c.members.end()) {
      c.members.push_back(m);
      c.started_at_start.push_back(st.orgs[m].started);
      c.in_standard_at_start.push_back(st.orgs[m].started_in_standard);
      c.honoured_at_start.push_back(st.orgs[m].agreements_honoured);
      c.breached_at_start.push_back(st.orgs[m].agreements_breached);
    }
    const std::uint32_t skills = sc.organizations[m].services & ~st.innovative_mask;
    for (int k = 0; k < p.helpers; ++k, ++total) {
      std::int32_t kept = -1;
      for (std::int32_t& slot : ending)
        if (slot >= 0 && st.staff.helpers[slot].org == m &&
            st.staff.helpers[slot].skills == skills) {
          kept = slot;
          slot = -1;
          break;
        }
      if (kept >= 0) {
        ++carried;
        c.helper_slots.push_back(kept);
      } else {
        ++to_fill;
        c.helper_slots.push_back(
            add_contract_helper(sc, st, m, skills, st.tick + def.post_filling_days));
      }
    }
  }
  st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "fixed_posts", "", c.name,
                              static_cast<double>(total)});
  st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "posts_carried_over", "",
                              c.name, static_cast<double>(carried)});
  st.steering_rows.push_back({def.name, auth.cycle, st.tick, "ensure", "posts_to_fill", "", c.name,
                              static_cast<double>(to_fill)});
  auth.contracts.push_back(std::move(c));
}

// Consortium membership is a formal act: member ties are held at the contract's level.
void phases::apply_contract_ties(const Scenario& sc, ModelState& st) {
  for (std::size_t i = 0; i < st.ties.size(); ++i) {
    st.ties[i].contract_level = 0;
    st.ties[i].suspended = false;  // new contracts are new acts: a suspended agreement ends
  }
  for (std::size_t a = 0; a < st.authorities.size(); ++a)
    for (const Contract& c : st.authorities[a].contracts)
      for (std::uint32_t t : c.ties) {
        Tie& tie = st.ties[t];
        tie.contract_level = static_cast<std::int8_t>(
            std::max<int>(tie.contract_level, sc.authorities[a].contract_level));
      }
  for (std::size_t i = 0; i < st.ties.size(); ++i) {
    Tie& t = st.ties[i];
    const int floor = t.effective_floor();
    if (t.level < floor) {
      st.tie_history.push_back({st.tick, static_cast<std::uint32_t>(i), t.level,
                                static_cast<std::int8_t>(floor), TieChangeReason::contract});
      t.level = static_cast<std::int8_t>(floor);
    }
  }
}

// Monitor and evaluate a contract at its end: compliance with the time-to-service standard,
// impact on the clients of its districts, services per funded helper. A non-compliant
// consortium's members lose record points. (Its funded posts go to this cycle's calls.)
void phases::monitor(const Scenario& sc, ModelState& st, int a, Contract& c) {
  const AuthorityDef& def = sc.authorities[a];
  AuthorityState& auth = st.authorities[a];
  const std::string area = c.districts.size() == 1 ? sc.districts[c.districts[0]].name : "";
  double started = 0, in_standard = 0, honoured = 0, breached = 0;
  for (std::size_t i = 0; i < c.members.size(); ++i) {
    const OrgState& m = st.orgs[c.members[i]];
    started += static_cast<double>(m.started - c.started_at_start[i]);
    in_standard += static_cast<double>(m.started_in_standard - c.in_standard_at_start[i]);
    honoured += static_cast<double>(m.agreements_honoured - c.honoured_at_start[i]);
    breached += static_cast<double>(m.agreements_breached - c.breached_at_start[i]);
  }
  const double compliance = started > 0 ? in_standard / started : 0.0;
  double clients = 0, resolved = 0;
  const auto from = std::lower_bound(st.notes.begin(), st.notes.end(), c.start,
                                     [](const ClientNote& x, int t) { return x.arrival < t; });
  for (auto it = from; it != st.notes.end() && it->arrival < c.end; ++it)
    if (std::find(c.districts.begin(), c.districts.end(), it->district) != c.districts.end()) {
      ++clients;
      resolved += it->outcome == Outcome::resolved;
    }
  const double funded = static_cast<double>(c.helper_slots.size());
  st.steering_rows.push_back(
      {def.name, c.cycle, st.tick, "monitor", "compliance", area, c.name, compliance});
  st.steering_rows.push_back({def.name, c.cycle, st.tick, "monitor", "impact_complete_package",
                              area, c.name, clients > 0 ? resolved / clients : 0.0});
  st.steering_rows.push_back({def.name, c.cycle, st.tick, "monitor", "services_per_funded_helper",
                              area, c.name, funded > 0 ? started / funded : 0.0});
  // Agreements (level >= 6) between the members: referrals whose guaranteed access time was
  // honoured, and breached (waited past it), over the contract's term.
  st.steering_rows.push_back(
      {def.name, c.cycle, st.tick, "monitor", "agreements_honoured", area, c.name, honoured});
  st.steering_rows.push_back(
      {def.name, c.cycle, st.tick, "monitor", "agreements_breached", area, c.name, breached});
  const bool complies = compliance >= def.compliance_threshold;
  st.steering_rows.push_back({def.name, c.cycle, st.tick, "monitor",
                              complies ? "compliant" : "non_compliant", area, c.name,
                              complies ? 1.0 : 0.0});
  for (std::int32_t m : c.members)
    auth.record[m] = 0.5 * auth.record[m] + 0.5 * (complies ? compliance : 0.5 * compliance);
}

}  // namespace cm::care
