// A country generated from compact parameters: regions, counties and municipalities with a
// realistic size distribution, organizations from rates, and a sparse web of ties.
//
// The `country:` section of a scenario (scenario_loader.cpp reads it into a CountryDef) stands
// for `districts:` and `organizations:`; expand_country() turns it into the districts (one per
// municipality, with its county and region), the organizations and the pairs of organizations
// that get a tie. The expansion depends only on the CountryDef (its `seed` included), so the
// same scenario always gives the same country, whatever the run's seed or thread count; the
// effective scenario keeps the compact section, and rerunning it expands it again.
//
// Territory (docs/model.md, "Generated countries"):
//   - cities: `cities` municipalities that are counties of their own (Polish cities with
//     county rights), sized by a rank-size (Zipf) law: the k-th has largest_city × k^-exponent;
//     city k <= regions is region k's capital, the others go to random regions;
//   - the other municipalities share the rest of the population: lognormal with the given
//     median (sigma follows from median and mean), at least municipality_min, then scaled so
//     the total is exactly `population` (integer residents by largest remainder);
//   - land counties (counties - cities) get 1 + a Gamma-weighted share of those municipalities
//     (coefficient of variation county_size_cv), regions 1 + a share of the land counties
//     (region_size_cv).
// Organizations: each type lives at one level (municipality, county or region) and serves the
// municipalities of its unit; a unit has `count` of them, or per_100k per 100,000 residents
// (stochastic rounding, at least min_count); their staff is helpers_per_10k per 10,000
// residents of the unit (split evenly, at least min_helpers each) or `helpers` each. An
// organization's home is its unit's most populous municipality.
// Ties (O(organizations), not all pairs): every organization is tied to the coordinators
// (public and intermunicipal) of each municipality it serves, and to
// partners_per_organization others drawn among those serving its home municipality.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

enum class CountryLevel : std::uint8_t { municipality, county, region };

// One type of organization, instantiated in every unit of its level.
struct CountryOrgType {
  std::string name;  // instances are "<name> <unit>" (and " #k" when a unit has several)
  CountryLevel level = CountryLevel::municipality;
  Sector sector = Sector::public_provider;
  std::uint32_t services = 0;  // mask of service indices offered
  IntakePolicy intake_policy = IntakePolicy::signpost;
  int count = 1;               // organizations per unit (when per_100k is 0)
  double per_100k = 0;         // else: organizations per 100,000 residents of the unit
  int min_count = 0;           // at least this many per unit (with per_100k)
  int helpers = 0;             // helpers per organization (when helpers_per_10k is 0)
  double helpers_per_10k = 0;  // else: helpers per 10,000 residents of the unit, split evenly
  int min_helpers = 1;         // at least this many per organization (with helpers_per_10k)
};

struct CountryDef {
  std::uint64_t seed = 1;                // the expansion's own seed (default: the scenario's)
  std::int64_t population = 37'500'000;  // residents
  int regions = 16;
  int counties = 380;  // land counties and cities (a city is its own county)
  int municipalities = 2477;
  int cities = 66;                        // municipalities that are counties of their own
  std::int64_t largest_city = 1'862'402;  // residents of the largest city
  double city_zipf_exponent = 0.85;       // k-th city: largest_city × k^-exponent
  double municipality_median = 7500;      // median residents of the other municipalities
  std::int64_t municipality_min = 1300;   // smallest municipality, residents
  double county_size_cv = 0.45;           // spread of municipalities per land county
  double region_size_cv = 0.35;           // spread of land counties per region
  int partners_per_organization = 3;      // random ties within the home municipality's orgs
  std::vector<CountryOrgType> organizations;
};

// A problem with the parameters: the key of the `country:` section it concerns, and what is
// wrong. Empty when expand_country() can run.
std::vector<std::pair<std::string, std::string>> country_problems(const CountryDef& def);

struct CountryLayout {
  std::vector<District> districts;  // municipalities, grouped by region then county
  std::vector<Organization> organizations;
  std::vector<std::array<std::int32_t, 2>> ties;  // organization pairs, a < b, sorted, unique
};

// The country the parameters describe. Throws std::invalid_argument if country_problems() is
// not empty.
CountryLayout expand_country(const CountryDef& def);

}  // namespace cm::care
