// What the outcome measures need of every client, summed: the tallies behind compute_metrics.
//
// With client records (`caremesh run` without --no-client-records, and the tests) the
// measures are summed from the records at the end of a run. Without them (experiments, the
// workshop, --no-client-records, the scale benchmark) a client is folded into these tallies
// on the day it leaves and its record is dropped, so memory follows the active clients, not
// every client ever seen. Every field is an integer count or a sum of integers (days), and the
// continuity index is summed in fixed point, so the sums do not depend on the order clients are
// added: both ways give the same measures, bit for bit (tests/models/test_client_records.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/socialcare/clients.hpp"
#include "models/socialcare/scenario.hpp"

namespace cm::care {

// Client tallies of one group (the whole cohort, a district, a kind of client).
struct OutcomeTally {
  std::int64_t clients = 0, needs = 0, needs_met = 0, self_help = 0, resolved = 0, dropped = 0,
               unmet = 0, reached = 0, assessed = 0, served = 0;
  std::int64_t days_contact = 0, days_assessment = 0, days_service = 0, days_complete = 0;
  std::int64_t doors = 0, assessments = 0, repeats = 0;
  std::int64_t referred = 0, tried = 0, reach = 0, received = 0;
  // Bice–Boxerman continuity of the clients with >= 2 episodes, each rounded to
  // kContinuityUnit (2^-32, far below any reported precision) so that the sum is exact.
  std::int64_t continuity_units = 0, continuity_n = 0;
  std::int64_t assess_in_standard = 0, service_in_standard = 0;

  void add(const Client& c, const Need* of, const Standards& standards);  // of: its needs
};

inline constexpr double kContinuityUnit = 1.0 / 4294967296.0;

// Per-service counts (every cohort client's needs).
struct ServiceTally {
  std::int64_t needs = 0, met = 0, served = 0, days = 0;
};

struct OutcomeLedger {
  OutcomeTally all;
  std::vector<OutcomeTally> by_district;
  std::array<OutcomeTally, 3> by_kind{};
  std::vector<ServiceTally> by_service;
  // Needs served by each sector and needs met by a service, over every client (cohort or not).
  std::array<std::int64_t, 4> by_sector{};
  std::int64_t needs_served_met = 0;
  // Innovation: needs of `innovative` services, those served, cohort clients who began one.
  std::int64_t innovative_needs = 0, innovative_served = 0, innovation_clients = 0;

  explicit OutcomeLedger(const Scenario& sc);
  // Adds a client (and its needs) as it stands now; in_cohort: its arrival is in the outcome
  // cohort.
  void add(const Client& c, const Need* needs, const Scenario& sc, bool in_cohort);
};

}  // namespace cm::care
