#include "models/socialcare/clients.hpp"

#include <algorithm>
#include <boost/random/beta_distribution.hpp>
#include <boost/random/binomial_distribution.hpp>
#include <boost/random/geometric_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>

#include "engine/distributions.hpp"

namespace cm::care {

const char* to_string(NeedState s) {
  static constexpr const char* names[] = {"pending", "seeking",    "travelling", "intake",
                                          "waiting", "in_service", "met",        "unmet"};
  return names[static_cast<int>(s)];
}

const char* to_string(Outcome o) {
  static constexpr const char* names[] = {"active", "resolved", "dropped", "unmet_at_horizon"};
  return names[static_cast<int>(o)];
}

bool Client::knows(std::int32_t org) const {
  return known_slot(org) >= 0;
}

int Client::known_slot(std::int32_t org) const {
  for (int i = 0; i < n_known; ++i)
    if (known[i] == org) return i;
  return -1;
}

void Client::learn(std::int32_t org, bool offer) {
  int slot = known_slot(org);
  if (slot < 0) {
    if (n_known < kMaxKnown) {
      slot = n_known++;
    } else {
      // forget the oldest organization whose offer is not known, else the oldest
      slot = 0;
      for (int i = 0; i < kMaxKnown; ++i)
        if (!(known_offer & (1u << i))) {
          slot = i;
          break;
        }
      known_offer &= static_cast<std::uint8_t>(~(1u << slot));
    }
    known[slot] = org;
  }
  if (offer) known_offer |= static_cast<std::uint8_t>(1u << slot);
}

bool Client::assessed_at(std::int32_t org) const {
  for (int i = 0; i < n_assessed; ++i)
    if (assessed_by[i] == org) return true;
  return false;
}

void Client::record_assessment(std::int32_t org, std::int32_t tick) {
  ++assessments;
  if (first_assessment < 0) first_assessment = tick;
  if (assessed_at(org)) return;
  if (n_assessed < kMaxAssessed) {
    assessed_by[n_assessed++] = org;
  } else {
    std::rotate(assessed_by.begin(), assessed_by.begin() + 1, assessed_by.end());
    assessed_by[kMaxAssessed - 1] = org;
  }
}

void Client::record_episode(std::int32_t provider_id) {
  ++episodes;
  for (int i = 0; i < n_providers; ++i)
    if (provider[i] == provider_id) {
      ++provider_episodes[i];
      return;
    }
  if (n_providers < kMaxProviders) {
    provider[n_providers] = provider_id;
    provider_episodes[n_providers++] = 1;
  } else {
    // beyond the tracked providers every episode is with a new one: count it alone
    ++provider_episodes[kMaxProviders - 1];
    provider[kMaxProviders - 1] = provider_id;
  }
}

bool Client::searching(const Need* needs) const {
  for (int i = 0; i < n_needs; ++i) {
    const NeedState s = needs[i].state;
    if (s == NeedState::seeking || s == NeedState::travelling || s == NeedState::intake)
      return true;
  }
  return awaiting_conference;
}

int Client::needs_open(const Need* needs) const {
  int k = 0;
  for (int i = 0; i < n_needs; ++i) {
    const NeedState s = needs[i].state;
    k += s != NeedState::pending && s != NeedState::met && s != NeedState::unmet;
  }
  return k;
}

double Client::continuity() const {
  if (episodes < 2) return -1.0;
  double sum_sq = 0;
  for (int i = 0; i < n_providers; ++i)
    sum_sq += static_cast<double>(provider_episodes[i]) * provider_episodes[i];
  const double n = episodes;
  return (sum_sq - n) / (n * (n - 1));
}

int next_pending_need(const Client& c, const Need* needs) {
  for (int i = 0; i < c.n_needs; ++i)
    if (needs[i].state == NeedState::pending) return i;
  return -1;
}

namespace {

int pick_weighted(const double* w, int n, double total, Stream& rng) {
  double u = rng.uniform() * total;
  for (int i = 0; i < n; ++i) {
    if (u < w[i]) return i;
    u -= w[i];
  }
  for (int i = n - 1; i >= 0; --i)
    if (w[i] > 0) return i;
  return 0;
}

double draw_beta_mean(double mean, double concentration, Stream& rng) {
  if (mean <= 0.0) return 0.0;
  if (mean >= 1.0) return 1.0;
  boost::random::beta_distribution<double> beta(mean * concentration, (1.0 - mean) * concentration);
  return beta(rng);
}

}  // namespace

Client ClientFactory::make(std::uint32_t id, std::uint16_t district, std::int32_t tick, Stream& rng,
                           Need* needs) const {
  const Scenario& sc = *scenario;
  const PopulationDef& pop = sc.population;
  Client c;
  c.id = id;
  c.arrival = tick;
  c.district = district;

  double kind_w[3];
  for (int k = 0; k < 3; ++k) kind_w[k] = pop.kinds[k].share;
  const int kind = pick_weighted(kind_w, 3, kind_w[0] + kind_w[1] + kind_w[2], rng);
  c.kind = static_cast<ClientKind>(kind);
  const ClientKindDef& kd = pop.kinds[kind];

  boost::random::poisson_distribution<int, double> extra(std::max(kd.mean_extra_needs, 1e-12));
  const int wanted = 1 + (kd.mean_extra_needs > 0 ? extra(rng) : 0);
  const int n_services = static_cast<int>(sc.services.size());
  const int n_needs = std::min({wanted, pop.max_needs, n_services});

  double w[kMaxServices];
  double total = 0;
  for (int s = 0; s < n_services; ++s) total += (w[s] = sc.services[s].share);
  for (int i = 0; i < n_needs && total > 0; ++i) {
    const int s = pick_weighted(w, n_services, total, rng);
    total -= w[s];
    w[s] = 0;  // a bundle holds distinct services
    Need& n = needs[c.n_needs++];
    n = Need{};
    n.service = static_cast<std::uint8_t>(s);
    n.severity = static_cast<float>(beta_2_2(rng));  // Beta(2, 2), exactly
    if (rng.bernoulli(sc.services[s].urgent_share)) n.flags |= need_flag::urgent;
  }
  const double self_help_mean =
      std::min(1.0, kd.self_help_mean + (self_help_boost ? (*self_help_boost)[district] : 0.0));
  c.self_help =
      static_cast<float>(draw_beta_mean(self_help_mean, pop.self_help_concentration, rng));
  const double outreach = outreach_boost ? (*outreach_boost)[district] : 0.0;
  const double aware_coordinator = std::min(1.0, pop.awareness_coordinator + outreach);
  const double aware_other = std::min(1.0, pop.awareness_other + outreach);

  // Awareness (the promotion principle): the district's coordinators are widely known; each
  // other organization serving the district is known with a small probability.
  for (std::int32_t org : (*coordinators_by_district)[district])
    if (rng.bernoulli(aware_coordinator)) c.learn(org, false);
  const auto& others = (*orgs_by_district)[district];
  if (!others.empty() && aware_other > 0) {
    boost::random::binomial_distribution<int, double> known(static_cast<int>(others.size()),
                                                            aware_other);
    const int k = std::min(known(rng), kMaxKnown);
    for (int i = 0; i < k; ++i)
      c.learn(others[rng.below(static_cast<std::uint32_t>(others.size()))], false);
  }
  return c;
}

std::int32_t draw_service_days(const Scenario& sc, const Client& c, const Need& n, Stream& rng) {
  const ServiceType& st = sc.services[n.service];
  const PopulationDef& pop = sc.population;
  const double mean = st.mean_days * (1.0 + pop.severity_duration_effect * (n.severity - 0.5)) *
                      (1.0 - pop.coproduction_effect * c.self_help);
  if (mean <= 1.0) return 1;
  // Days until the round ends: geometric on {1, 2, ...} with the given mean.
  boost::random::geometric_distribution<int, double> geo(1.0 / mean);
  return 1 + geo(rng);
}

}  // namespace cm::care
