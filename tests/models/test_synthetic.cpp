// Tests for the synthetic city generator (models/socialcare/synthetic.hpp): the layout of
// districts and organizations, the catalogue and tie policies borrowed from training-small,
// arrivals against the incidence, and determinism across thread counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "engine/parallel.hpp"
#include "engine/yaml_reader.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "models/socialcare/synthetic.hpp"

namespace {

using namespace cm::care;

const std::string kTrainingSmall = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";

bool has_service(const Scenario& sc, const Organization& org, const std::string& name) {
  for (std::size_t s = 0; s < sc.services.size(); ++s)
    if (sc.services[s].name == name) return (org.services >> s) & 1u;
  return false;
}

bool is_city_wide(const Scenario& sc, const Organization& org) {
  return org.serves.size() == sc.districts.size() && org.name.rfind("City ", 0) == 0;
}

TEST(SyntheticCity, DistrictsSumToResidents) {
  for (std::int64_t residents :
       {1LL, 49'999LL, 100'000LL, 149'999LL, 150'000LL, 1'234'567LL, 10'000'000LL}) {
    SCOPED_TRACE(residents);
    const Scenario sc = make_synthetic_city(residents);
    const int n = synthetic_district_count(residents);
    ASSERT_EQ(static_cast<int>(sc.districts.size()), n);
    EXPECT_EQ(n, std::max<std::int64_t>(1, std::llround(residents / 100000.0)));
    std::int64_t sum = 0;
    std::set<std::string> names;
    for (int d = 0; d < n; ++d) {
      sum += sc.districts[d].population;
      names.insert(sc.districts[d].name);
      EXPECT_GT(sc.districts[d].population, 0);
      if (d + 1 < n) {
        EXPECT_EQ(sc.districts[d].population, kSyntheticDistrictSize);
      }
    }
    EXPECT_EQ(sum, residents);
    EXPECT_EQ(static_cast<int>(names.size()), n);
    EXPECT_EQ(sc.districts.front().name, "D001");
    if (residents >= kSyntheticDistrictSize / 2) {
      EXPECT_GE(sc.districts.back().population, kSyntheticDistrictSize / 2);
      EXPECT_LT(sc.districts.back().population, kSyntheticDistrictSize * 3 / 2);
    }
    EXPECT_EQ(sc.name, "synthetic-" + std::to_string(residents));
  }
}

TEST(SyntheticCity, OrganizationsAreStaffedAndServeTheirDistrict) {
  const Scenario sc = make_synthetic_city(1'234'567);
  const int n = static_cast<int>(sc.districts.size());
  ASSERT_EQ(n, 12);
  ASSERT_EQ(static_cast<int>(sc.organizations.size()), 4 * n + 3);
  std::vector<int> coordinators(n, 0), local(n, 0);
  int city_wide = 0;
  std::set<std::string> names;
  for (const Organization& org : sc.organizations) {
    SCOPED_TRACE(org.name);
    names.insert(org.name);
    EXPECT_GT(org.helpers, 0);
    EXPECT_NE(org.services, 0u);
    ASSERT_GE(org.district, 0);
    ASSERT_LT(org.district, n);
    EXPECT_TRUE(std::binary_search(org.serves.begin(), org.serves.end(), org.district));
    if (is_city_wide(sc, org)) {
      ++city_wide;
      EXPECT_EQ(org.sector, Sector::public_provider);
      continue;
    }
    ASSERT_EQ(org.serves, std::vector<int>{org.district});
    ++local[org.district];
    EXPECT_NE(org.name.find(sc.districts[org.district].name), std::string::npos);
    if (org.sector == Sector::public_coordinator) {
      ++coordinators[org.district];
      EXPECT_TRUE(has_service(sc, org, "social_work"));
      EXPECT_TRUE(has_service(sc, org, "family_assistance"));
      // art. 110: one helper per 2,000 residents
      EXPECT_EQ(org.helpers, std::llround(sc.districts[org.district].population / 2000.0));
    }
  }
  EXPECT_EQ(city_wide, 3);
  EXPECT_EQ(names.size(), sc.organizations.size());
  for (int d = 0; d < n; ++d) {
    EXPECT_EQ(coordinators[d], 1) << sc.districts[d].name;
    EXPECT_EQ(local[d], 4) << sc.districts[d].name;
  }
  // every service is offered to every district
  for (int d = 0; d < n; ++d) {
    std::uint32_t offered = 0;
    for (const Organization& org : sc.organizations)
      if (std::binary_search(org.serves.begin(), org.serves.end(), d)) offered |= org.services;
    EXPECT_EQ(offered, (1u << sc.services.size()) - 1) << sc.districts[d].name;
  }
}

TEST(SyntheticCity, ServicesAreTrainingSmalls) {
  const Scenario ref = load_scenario(kTrainingSmall);
  const Scenario sc = make_synthetic_city(300'000);
  ASSERT_EQ(sc.services.size(), 8u);
  ASSERT_EQ(sc.services.size(), ref.services.size());
  for (std::size_t s = 0; s < sc.services.size(); ++s) {
    SCOPED_TRACE(ref.services[s].name);
    EXPECT_EQ(sc.services[s].name, ref.services[s].name);
    EXPECT_EQ(sc.services[s].share, ref.services[s].share);
    EXPECT_EQ(sc.services[s].mean_days, ref.services[s].mean_days);
    EXPECT_EQ(sc.services[s].hours_per_day, ref.services[s].hours_per_day);
    EXPECT_EQ(sc.services[s].urgent_share, ref.services[s].urgent_share);
    EXPECT_EQ(sc.services[s].self_help_max_severity, ref.services[s].self_help_max_severity);
  }
  EXPECT_EQ(sc.population.max_needs, ref.population.max_needs);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(sc.population.kinds[k].share, ref.population.kinds[k].share);
    EXPECT_EQ(sc.population.kinds[k].mean_extra_needs, ref.population.kinds[k].mean_extra_needs);
  }
}

TEST(SyntheticCity, FragmentedHasNoNetworkAndTheBaselineTiePolicy) {
  const Scenario ref = load_scenario(kTrainingSmall);
  const Scenario sc = make_synthetic_city(300'000);
  EXPECT_TRUE(sc.networks.empty());
  EXPECT_EQ(sc.tie_policy.initial_level, ref.tie_policy.initial_level);
  EXPECT_EQ(sc.tie_policy.initial_level_members, ref.tie_policy.initial_level_members);
  EXPECT_EQ(sc.tie_policy.max_level, ref.tie_policy.max_level);
  EXPECT_EQ(sc.tie_policy.min_level_members, ref.tie_policy.min_level_members);
}

TEST(SyntheticCity, NetworkedAddsALeadOrganizationNetworkPerDistrict) {
  LoadOptions variant;
  variant.variant = "networked";
  const Scenario ref = load_scenario(kTrainingSmall, variant);
  SyntheticOptions opt;
  opt.networked = true;
  const Scenario sc = make_synthetic_city(550'000, opt);
  const int n = static_cast<int>(sc.districts.size());
  ASSERT_EQ(static_cast<int>(sc.networks.size()), n);
  EXPECT_EQ(sc.tie_policy.initial_level, ref.tie_policy.initial_level);
  EXPECT_EQ(sc.tie_policy.initial_level_members, ref.tie_policy.initial_level_members);
  EXPECT_EQ(sc.tie_policy.max_level, ref.tie_policy.max_level);
  EXPECT_EQ(sc.tie_policy.min_level_members, ref.tie_policy.min_level_members);
  std::set<int> districts;
  for (const NetworkDef& net : sc.networks) {
    SCOPED_TRACE(net.name);
    EXPECT_EQ(net.governance, Governance::lead_organization);
    EXPECT_TRUE(net.formal_agreements);
    EXPECT_GT(net.coordinator_hours_per_day, 0.0);
    EXPECT_GT(net.animation, 0.0);
    ASSERT_GE(net.coordinator, 0);
    const Organization& coord = sc.organizations[net.coordinator];
    EXPECT_EQ(coord.sector, Sector::public_coordinator);
    districts.insert(coord.district);
    ASSERT_EQ(net.members.size(), 4u);
    EXPECT_TRUE(std::binary_search(net.members.begin(), net.members.end(), net.coordinator));
    for (int m : net.members) EXPECT_EQ(sc.organizations[m].district, coord.district);
  }
  EXPECT_EQ(static_cast<int>(districts.size()), n);
}

TEST(SyntheticCity, TiesOnlyWithinADistrictOrToCityWideProviders) {
  SyntheticOptions opt;
  opt.networked = true;
  const Scenario sc = make_synthetic_city(1'000'000, opt);
  const Simulation sim(sc, sc.seed);
  const std::size_t n = sc.districts.size();
  // per district: 6 pairs among its 4 organizations + 4 x 3 with the city-wide providers;
  // plus the 3 pairs among the city-wide providers
  EXPECT_EQ(sim.ties().size(), 18 * n + 3);
  for (const Tie& t : sim.ties().all()) {
    const auto& a = sc.organizations[t.a].serves;
    const auto& b = sc.organizations[t.b].serves;
    std::vector<int> common;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
    EXPECT_FALSE(common.empty()) << sc.organizations[t.a].name << " - "
                                 << sc.organizations[t.b].name;
  }
}

TEST(SyntheticCity, OptionsAndEffectiveYaml) {
  SyntheticOptions opt;
  opt.networked = true;
  opt.horizon_days = 90;
  opt.annual_incidence = 0.05;
  opt.seed = 42;
  const Scenario sc = make_synthetic_city(250'000, opt);
  EXPECT_EQ(sc.horizon_days, 90);
  EXPECT_DOUBLE_EQ(sc.population.annual_incidence, 0.05);
  EXPECT_EQ(sc.seed, 42u);
  EXPECT_LT(sc.warmup_days + sc.follow_up_days, sc.horizon_days);
  // the effective YAML is a valid scenario describing the same city
  ASSERT_FALSE(sc.effective_yaml.empty());
  const Scenario again = load_scenario_text(sc.effective_yaml, "again.yaml");
  EXPECT_EQ(again.name, sc.name);
  EXPECT_EQ(again.districts.size(), sc.districts.size());
  ASSERT_EQ(again.organizations.size(), sc.organizations.size());
  for (std::size_t o = 0; o < sc.organizations.size(); ++o) {
    EXPECT_EQ(again.organizations[o].name, sc.organizations[o].name);
    EXPECT_EQ(again.organizations[o].helpers, sc.organizations[o].helpers);
    EXPECT_EQ(again.organizations[o].services, sc.organizations[o].services);
  }
  EXPECT_EQ(again.networks.size(), sc.networks.size());
}

TEST(SyntheticCity, RejectsBadArguments) {
  EXPECT_THROW(make_synthetic_city(0), std::invalid_argument);
  EXPECT_THROW(make_synthetic_city(-5), std::invalid_argument);
  SyntheticOptions opt;
  opt.horizon_days = 0;
  EXPECT_THROW(make_synthetic_city(1000, opt), cm::InputError);
  opt.horizon_days = 365;
  opt.annual_incidence = -1;
  EXPECT_THROW(make_synthetic_city(1000, opt), cm::InputError);
}

// Arrivals are Poisson with mean residents x incidence x days / 365.
TEST(SyntheticCity, ArrivalsFollowTheIncidence) {
  for (double incidence : {0.034, 0.1}) {
    SCOPED_TRACE(incidence);
    SyntheticOptions opt;
    opt.horizon_days = 30;
    opt.annual_incidence = incidence;
    const Scenario sc = make_synthetic_city(200'000, opt);
    Simulation sim(sc, sc.seed);
    cm::with_threads(2, [&] { sim.run(30); });
    ASSERT_EQ(sim.tick(), 30);
    std::int64_t arrivals = 0;
    for (const TickRecord& r : sim.timeseries()) arrivals += r.arrivals;
    EXPECT_EQ(arrivals, static_cast<std::int64_t>(sim.clients().size()));
    const double expected = 200'000 * incidence * 30 / 365.0;
    EXPECT_NEAR(static_cast<double>(arrivals), expected, 5 * std::sqrt(expected));
    EXPECT_GT(sim.active_clients(), 0u);
  }
}

std::uint64_t hash_after(const Scenario& sc, std::uint64_t seed, int threads, int days) {
  Simulation sim(sc, seed);
  cm::with_threads(threads, [&] { sim.run(days); });
  return sim.state_hash();
}

TEST(SyntheticCity, SameSeedSameStateAtOneAndTwoThreads) {
  SyntheticOptions opt;
  opt.networked = true;
  opt.horizon_days = 60;
  const Scenario sc = make_synthetic_city(200'000, opt);
  const std::uint64_t one = hash_after(sc, 7, 1, 60);
  EXPECT_EQ(hash_after(sc, 7, 2, 60), one);
  EXPECT_EQ(hash_after(sc, 7, 2, 60), one);
  EXPECT_NE(hash_after(sc, 8, 2, 60), one);
}

}  // namespace
