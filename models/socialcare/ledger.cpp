#include "models/socialcare/ledger.hpp"

#include <cmath>

namespace cm::care {

void OutcomeTally::add(const Client& c, const Need* of, const Standards& standards) {
  ++clients;
  needs += c.n_needs;
  for (int i = 0; i < c.n_needs; ++i) {
    if (of[i].state != NeedState::met) continue;
    ++needs_met;
    if (of[i].flags & need_flag::self_help) ++self_help;
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
    assess_in_standard += c.first_assessment - from <= standards.max_days_to_assessment;
  }
  if (c.first_service >= 0) {
    ++served;
    days_service += c.first_service - c.arrival;
    const int from = c.first_contact >= 0 ? c.first_contact : c.arrival;
    service_in_standard += c.first_service - from <= standards.max_days_to_service;
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
    continuity_units += std::llround(coc / kContinuityUnit);
    ++continuity_n;
  }
}

OutcomeLedger::OutcomeLedger(const Scenario& sc)
    : by_district(sc.districts.size()), by_service(sc.services.size()) {}

void OutcomeLedger::add(const Client& c, const Need* needs, const Scenario& sc, bool in_cohort) {
  for (int i = 0; i < c.n_needs; ++i) {
    const Need& n = needs[i];
    if (n.state == NeedState::met && !(n.flags & need_flag::self_help)) ++needs_served_met;
    if (n.first_service >= 0 && n.org >= 0)
      ++by_sector[static_cast<int>(sc.organizations[n.org].sector)];
  }
  if (!in_cohort) return;
  all.add(c, needs, sc.standards);
  by_district[c.district].add(c, needs, sc.standards);
  by_kind[static_cast<int>(c.kind)].add(c, needs, sc.standards);
  bool took_up = false;
  for (int i = 0; i < c.n_needs; ++i) {
    const Need& n = needs[i];
    if (sc.services[n.service].innovative) {
      ++innovative_needs;
      const bool served = n.first_service >= 0;
      innovative_served += served;
      took_up = took_up || served;
    }
    ServiceTally& s = by_service[n.service];
    ++s.needs;
    s.met += n.state == NeedState::met;
    if (n.first_service >= 0) {
      ++s.served;
      s.days += n.first_service - c.arrival;
    }
  }
  innovation_clients += took_up;
}

}  // namespace cm::care
