// Synthetic cities of any size, for benchmarks and scaling tests.
//
// make_synthetic_city(N) lays out N residents in districts D001, D002, ... of 100,000 (at least
// one; the last district takes the remainder: 50,000 to 150,000 residents in a city of at least
// 50,000), with the service catalogue of scenarios/training-small.yaml (8 services, same
// parameters) and per district, serving only that district,
//   OPS Dxxx                public_coordinator  social_work, family_assistance   5   per 10k
//   Public Services Dxxx    public_provider     care, activation                  3   per 10k
//   Family Foundation Dxxx  nonpublic           family_assistance, therapy        0.6 per 10k
//   Caritas Centre Dxxx     nonpublic           care, housing, addiction_therapy  2.5 per 10k
// (the OPS has 1 helper per 2,000 residents, the art. 110 norm; the others are staffed so that
// utilization is high but not saturated), plus three city-wide providers homed in D001 and
// serving every district (therapy, crisis_intervention, housing), staffed per 10k residents of
// the city. Organizations tie only within a district or to the city-wide providers, so the tie
// table grows linearly with the number of districts.
//
// With `networked`, every district gets a lead-organization network of its four organizations
// coordinated by its OPS, with formal agreements and the tie policy of training-small's
// "networked" variant; otherwise the tie policy is training-small's fragmented baseline.
//
// The scenario is generated as YAML and read by the scenario loader, so it is validated exactly
// like a file; effective_yaml holds the generated text as read (save it to rerun it with
// `caremesh run`).
#pragma once

#include <cstdint>
#include <string>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

struct SyntheticOptions {
  bool networked = false;           // a lead-organization network per district
  int horizon_days = 365;           // 1..36500 (the loader's limit)
  double annual_incidence = 0.034;  // clients arising per resident per year
  std::uint64_t seed = 1;           // the scenario's seed
};

inline constexpr std::int64_t kSyntheticDistrictSize = 100'000;  // residents per district

// Number of districts a synthetic city of `residents` has: round(residents / 100,000), >= 1.
int synthetic_district_count(std::int64_t residents);

// The generated scenario as YAML text (what make_synthetic_city loads). Throws
// std::invalid_argument if residents < 1.
std::string synthetic_city_yaml(std::int64_t residents, const SyntheticOptions& options = {});

// A valid synthetic city named "synthetic-<residents>". Throws std::invalid_argument if
// residents < 1, cm::InputError if an option is out of the loader's range.
Scenario make_synthetic_city(std::int64_t residents, const SyntheticOptions& options = {});

}  // namespace cm::care
