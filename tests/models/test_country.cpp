// Tests for the generated country (models/socialcare/country.hpp) and scenarios/poland.yaml:
// totals within the stated tolerances, a realistic size distribution, determinism of the
// expansion, sparse ties, and located errors for bad parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "engine/parallel.hpp"
#include "engine/yaml_reader.hpp"
#include "models/socialcare/country.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace {

using namespace cm::care;

const std::string kPoland = std::string(CAREMESH_SCENARIO_DIR) + "/poland.yaml";

const Scenario& poland() {
  static const Scenario sc = load_scenario(kPoland);
  return sc;
}

bool of_type(const Organization& o, const std::string& type) {
  return o.name.rfind(type + " ", 0) == 0;
}

int count_of(const Scenario& sc, const std::string& type) {
  return static_cast<int>(std::count_if(sc.organizations.begin(), sc.organizations.end(),
                                        [&](const Organization& o) { return of_type(o, type); }));
}

std::int64_t helpers_of(const Scenario& sc, const std::string& type) {
  std::int64_t n = 0;
  for (const Organization& o : sc.organizations)
    if (of_type(o, type)) n += o.helpers;
  return n;
}

// A small country: 3 regions, 12 counties (2 cities), 60 municipalities, 400,000 residents.
// `country_extra` adds keys to the country section; `top_extra` to the scenario.
std::string small_country(const std::string& country_extra = "",
                          const std::string& top_extra = "") {
  return "name: small-country\n"
         "seed: 7\n"
         "horizon_days: 30\n" +
         top_extra +
         "services:\n"
         "  - {name: social_work}\n"
         "  - {name: care}\n"
         "country:\n"
         "  population: 400000\n"
         "  regions: 3\n"
         "  counties: 12\n"
         "  municipalities: 60\n"
         "  cities: {count: 2, largest: 90000, zipf_exponent: 1}\n"
         "  municipality_median: 4000\n"
         "  municipality_min: 800\n" +
         country_extra +
         "  organizations:\n"
         "    - {name: OPS, sector: public_coordinator, services: [social_work], "
         "helpers_per_10k: 5, min_helpers: 3}\n"
         "    - {name: NGO, sector: nonpublic, services: [care], per_100k: 20, helpers: 2}\n"
         "    - {name: County Care, level: county, services: [care], count: 1, "
         "helpers_per_10k: 1}\n"
         "    - {name: Regional Centre, level: region, services: [care, social_work], "
         "helpers: 4}\n";
}

Scenario load_text(const std::string& text,
                   const std::vector<std::pair<std::string, std::string>>& sets = {}) {
  return load_scenario_text(text, "country.yaml", {"", sets});
}

// The diagnostics a scenario text gives (none if it loads).
std::vector<cm::Diagnostic> problems(const std::string& text) {
  try {
    load_text(text);
  } catch (const cm::InputError& e) {
    return e.diagnostics().items();
  }
  return {};
}

// Whether one of the diagnostics is at `path`, on a known line, and mentions `words`.
bool reported(const std::vector<cm::Diagnostic>& diags, const std::string& path,
              const std::string& words) {
  for (const auto& d : diags)
    if (d.path == path && d.where.line > 0 && d.where.file == "country.yaml" &&
        d.message.find(words) != std::string::npos)
      return true;
  return false;
}

std::string dump(const std::vector<cm::Diagnostic>& diags) {
  std::string s;
  for (const auto& d : diags) s += d.str() + "\n";
  return s;
}

// ---- scenarios/poland.yaml --------------------------------------------------------------

TEST(Country, PolandHasTheStatedTerritory) {
  const Scenario& sc = poland();
  ASSERT_EQ(sc.districts.size(), 2477u);
  std::int64_t total = 0;
  std::map<std::string, int> per_county;
  std::set<std::string> regions;
  std::vector<std::int64_t> sizes;
  for (const District& d : sc.districts) {
    total += d.population;
    ++per_county[d.county];
    regions.insert(d.region);
    sizes.push_back(d.population);
    EXPECT_EQ(d.name.rfind(d.county, 0), 0u) << d.name << " is named after its county";
    EXPECT_EQ(d.county.rfind(d.region + "-", 0), 0u) << d.county << " is named after its region";
  }
  EXPECT_EQ(total, 37'500'000);
  EXPECT_EQ(per_county.size(), 380u);
  EXPECT_EQ(regions.size(), 16u);
  int cities = 0;
  for (const auto& [county, n] : per_county)
    if (county.find("-U") != std::string::npos) {
      ++cities;
      EXPECT_EQ(n, 1) << county << ": a city is a county of one municipality";
    }
  EXPECT_EQ(cities, 66);
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes.back(), 1'862'402) << "the largest city (Warsaw)";
  EXPECT_GE(sizes.front(), 1'300) << "municipality_min";
  // Stated tolerance: the median municipality within 15% of the parameter (7,500, given for
  // the municipalities that are not cities), and about a third of residents in the cities.
  EXPECT_NEAR(static_cast<double>(sizes[sizes.size() / 2]), 7'500, 0.15 * 7'500);
  std::int64_t in_cities = 0;
  for (std::size_t k = sizes.size() - 66; k < sizes.size(); ++k) in_cities += sizes[k];
  EXPECT_NEAR(static_cast<double>(in_cities) / static_cast<double>(total), 0.32, 0.04);
}

TEST(Country, PolandHasTheStatedOrganizationsAndStaff) {
  const Scenario& sc = poland();
  // An OPS in every municipality, staffed by art. 110: 1 per 2,000 residents, at least 3.
  ASSERT_EQ(count_of(sc, "OPS"), 2477);
  std::vector<int> ops_in(sc.districts.size(), 0);
  for (const Organization& o : sc.organizations) {
    if (!of_type(o, "OPS")) continue;
    ASSERT_EQ(o.serves.size(), 1u);
    ++ops_in[o.serves[0]];
    const double norm = static_cast<double>(sc.districts[o.district].population) / 2000.0;
    EXPECT_EQ(o.helpers, std::max(3, static_cast<int>(std::llround(norm)))) << o.name;
    EXPECT_EQ(o.sector, Sector::public_coordinator);
  }
  EXPECT_EQ(*std::min_element(ops_in.begin(), ops_in.end()), 1);
  EXPECT_EQ(*std::max_element(ops_in.begin(), ops_in.end()), 1);
  // About 20,000 social workers: 18,750 by the norm, more where the minimum of 3 applies.
  const std::int64_t workers = helpers_of(sc, "OPS");
  EXPECT_GE(workers, 18'750);
  EXPECT_LE(workers, 21'500);
  EXPECT_EQ(count_of(sc, "PCPR"), 380);
  EXPECT_EQ(count_of(sc, "Labour Office"), 380);
  EXPECT_EQ(count_of(sc, "Regional Addiction Centre"), 16);
  // Rates: within 10% of rate x population.
  EXPECT_NEAR(count_of(sc, "Care Home"), 2.2 * 375, 0.1 * 2.2 * 375);
  EXPECT_NEAR(count_of(sc, "Social NGO"), 16 * 375, 0.1 * 16 * 375);
  // On the order of 15,000 organizations: within 10%.
  EXPECT_NEAR(static_cast<double>(sc.organizations.size()), 15'000, 1'500);
  // About 1.3 million people a year (GUS 2023: 1,274.9 thousand, 3.4%).
  EXPECT_NEAR(sc.population.annual_incidence * 37'500'000, 1'275'000, 1'000);
}

TEST(Country, PolandTiesAreSparseAndUseful) {
  const Scenario& sc = poland();
  EXPECT_FALSE(sc.territory_ties);
  const std::size_t n_orgs = sc.organizations.size();
  // O(organizations): coordinators of the municipalities served plus 3 partners each; county
  // and regional organizations add one tie per municipality they serve.
  std::size_t served = 0;
  for (const Organization& o : sc.organizations) served += o.serves.size();
  EXPECT_LE(sc.tie_pairs.size(), served + 3 * n_orgs);
  EXPECT_GE(sc.tie_pairs.size(), n_orgs);
  std::set<std::pair<int, int>> pairs;
  for (const auto& [a, b] : sc.tie_pairs) {
    ASSERT_LT(a, b);
    pairs.insert({a, b});
    // Every tie can carry a referral: the two organizations serve a common municipality.
    const auto& sa = sc.organizations[a].serves;
    const auto& sb = sc.organizations[b].serves;
    std::vector<int> common;
    std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(common));
    ASSERT_FALSE(common.empty()) << sc.organizations[a].name << " - " << sc.organizations[b].name;
  }
  EXPECT_EQ(pairs.size(), sc.tie_pairs.size()) << "unique";
  // Every organization is tied to the OPS of its home municipality.
  std::vector<int> ops_of(sc.districts.size(), -1);
  for (std::size_t o = 0; o < n_orgs; ++o)
    if (of_type(sc.organizations[o], "OPS")) ops_of[sc.organizations[o].district] = int(o);
  for (std::size_t o = 0; o < n_orgs; ++o) {
    const int ops = ops_of[sc.organizations[o].district];
    if (ops == static_cast<int>(o)) continue;
    EXPECT_TRUE(pairs.count({std::min<int>(ops, int(o)), std::max<int>(ops, int(o))}))
        << sc.organizations[o].name;
  }
}

TEST(Country, PolandArrivalsFollowTheIncidence) {
  Simulation sim(poland(), 3);
  cm::with_threads(2, [&] { sim.run(5); });
  std::int64_t arrivals = 0;
  for (const auto& r : sim.timeseries()) arrivals += r.arrivals;
  const double expected = 37'500'000 * 0.034 / 365.0 * 5;  // 17,466
  EXPECT_NEAR(static_cast<double>(arrivals), expected, 0.05 * expected);
  // Ties in the run are exactly the generated pairs.
  EXPECT_EQ(sim.ties().size(), poland().tie_pairs.size());
}

// ---- the expansion -------------------------------------------------------------------------

TEST(Country, ExpansionIsDeterministicAndFollowsItsSeed) {
  const Scenario a = load_text(small_country());
  const Scenario b = load_text(small_country());
  ASSERT_EQ(a.districts.size(), 60u);
  ASSERT_EQ(a.districts.size(), b.districts.size());
  for (std::size_t d = 0; d < a.districts.size(); ++d) {
    EXPECT_EQ(a.districts[d].name, b.districts[d].name);
    EXPECT_EQ(a.districts[d].population, b.districts[d].population);
    EXPECT_EQ(a.districts[d].county, b.districts[d].county);
  }
  ASSERT_EQ(a.organizations.size(), b.organizations.size());
  for (std::size_t o = 0; o < a.organizations.size(); ++o) {
    EXPECT_EQ(a.organizations[o].name, b.organizations[o].name);
    EXPECT_EQ(a.organizations[o].helpers, b.organizations[o].helpers);
    EXPECT_EQ(a.organizations[o].serves, b.organizations[o].serves);
  }
  EXPECT_EQ(a.tie_pairs, b.tie_pairs);

  // The expansion is seeded by the scenario's seed, or country.seed; the run's seed does not
  // change it (a Simulation only reads the Scenario).
  auto sizes = [](const Scenario& sc) {
    std::vector<std::int64_t> s;
    for (const District& d : sc.districts) s.push_back(d.population);
    return s;
  };
  const Scenario c = load_text(small_country("  seed: 99\n"));
  const Scenario d = load_text(small_country(), {{"seed", "8"}});
  EXPECT_NE(sizes(a), sizes(c));
  EXPECT_NE(sizes(a), sizes(d));
  for (const Scenario* sc : {&a, &c, &d}) {
    std::int64_t total = 0;
    for (std::int64_t s : sizes(*sc)) total += s;
    EXPECT_EQ(total, 400'000) << "the total is exact whatever the seed";
  }
}

TEST(Country, SmallCountryHasItsUnitsAndLevels) {
  const Scenario sc = load_text(small_country());
  std::set<std::string> counties, regions;
  for (const District& d : sc.districts) {
    counties.insert(d.county);
    regions.insert(d.region);
    EXPECT_GE(d.population, 800);
  }
  EXPECT_EQ(counties.size(), 12u);
  EXPECT_EQ(regions.size(), 3u);
  EXPECT_EQ(sc.districts.front().name, "R01-U01") << "region 1's capital is the largest city";
  EXPECT_EQ(sc.districts.front().population, 90'000);
  EXPECT_EQ(count_of(sc, "OPS"), 60);
  EXPECT_EQ(count_of(sc, "County Care"), 12);
  EXPECT_EQ(count_of(sc, "Regional Centre"), 3);
  for (const Organization& o : sc.organizations) {
    if (of_type(o, "Regional Centre")) {
      EXPECT_EQ(o.helpers, 4);
      // serves its whole region, homed in the region's most populous municipality
      const std::string& region = sc.districts[o.district].region;
      std::size_t in_region = 0;
      for (const District& d : sc.districts) in_region += d.region == region;
      EXPECT_EQ(o.serves.size(), in_region);
      for (int d : o.serves)
        EXPECT_LE(sc.districts[d].population, sc.districts[o.district].population);
    }
    if (of_type(o, "NGO")) {
      EXPECT_EQ(o.helpers, 2);
    }
  }
  // NGOs: per_100k 20 of 400,000 residents, stochastic rounding per municipality.
  EXPECT_NEAR(count_of(sc, "NGO"), 80, 12);
  // A generated country runs like any scenario, identically at 1 and 2 threads.
  auto hash = [&](int threads) {
    Simulation sim(sc, 5);
    cm::with_threads(threads, [&] { sim.run(30); });
    return sim.state_hash();
  };
  EXPECT_EQ(hash(1), hash(2));
}

TEST(Country, ApportionedTotalsAreExact) {
  CountryDef def;
  def.population = 1'000'003;
  def.regions = 2;
  def.counties = 5;
  def.municipalities = 41;
  def.cities = 1;
  def.largest_city = 200'000;
  def.municipality_median = 15'000;
  def.municipality_min = 2'000;
  CountryOrgType ops;
  ops.name = "OPS";
  ops.sector = Sector::public_coordinator;
  ops.services = 1;
  ops.helpers_per_10k = 5;
  def.organizations.push_back(ops);
  ASSERT_TRUE(country_problems(def).empty());
  const CountryLayout layout = expand_country(def);
  std::int64_t total = 0;
  for (const District& d : layout.districts) total += d.population;
  EXPECT_EQ(total, 1'000'003);
  EXPECT_EQ(layout.districts.size(), 41u);
  EXPECT_EQ(layout.organizations.size(), 41u);
  def.municipalities = 3;  // fewer than the land counties need
  EXPECT_FALSE(country_problems(def).empty());
  EXPECT_THROW(expand_country(def), std::invalid_argument);
}

// ---- located errors ------------------------------------------------------------------------

TEST(Country, BadParametersAreReportedWhereTheyAre) {
  {
    std::string text = small_country();
    text.replace(text.find("municipalities: 60"), 18, "municipalities: 11");
    const auto d = problems(text);
    EXPECT_TRUE(reported(d, "country.municipalities", "at least 12")) << dump(d);
  }
  {
    std::string text = small_country();
    text.replace(text.find("count: 2,"), 9, "count: 12,");
    const auto d = problems(text);
    EXPECT_TRUE(reported(d, "country.cities.count", "fewer than the 12 counties")) << dump(d);
  }
  {
    std::string text = small_country();
    text.replace(text.find("municipality_median: 4000"), 25, "municipality_median: 9000");
    const auto d = problems(text);
    EXPECT_TRUE(reported(d, "country.municipality_median", "a median below that mean")) << dump(d);
  }
  {
    std::string text = small_country();
    text.replace(text.find("services: [care], per_100k"), 16, "services: [cure]");
    const auto d = problems(text);
    EXPECT_TRUE(reported(d, "country.organizations[1].services[0]", "unknown service \"cure\""))
        << dump(d);
  }
  {
    std::string text = small_country();
    text.replace(text.find("per_100k: 20"), 12, "per_100k: 20, count: 2");
    const auto d = problems(text);
    EXPECT_TRUE(reported(d, "country.organizations[1]", "at most one of")) << dump(d);
  }
  {
    std::string text = small_country();
    text.replace(text.find(", helpers: 2}"), 13, "}");
    const auto d = problems(text);
    EXPECT_TRUE(reported(d, "country.organizations[1]", "exactly one of")) << dump(d);
  }
  {
    const auto d = problems(small_country("  municipalitys: 3\n"));
    EXPECT_TRUE(reported(d, "country.municipalitys", "did you mean")) << dump(d);
  }
  {
    const auto d = problems(small_country("", "districts: [{name: A, population: 5}]\n"));
    EXPECT_TRUE(reported(d, "districts", "either `districts:` or `country:`")) << dump(d);
  }
  {
    const auto d = problems(small_country(
        "", "organizations: [{name: X, district: R01-U01, services: [care], helpers: 1}]\n"));
    EXPECT_TRUE(reported(d, "organizations", "country.organizations")) << dump(d);
  }
  {
    std::string text = small_country();
    text.replace(text.find("level: region"), 13, "level: province");
    const auto d = problems(text);
    EXPECT_TRUE(reported(d, "country.organizations[3].level", "province")) << dump(d);
  }
  // An override is validated like the file: located at the --set.
  try {
    load_text(small_country(), {{"country.regions", "0"}});
    ADD_FAILURE() << "regions: 0 was accepted";
  } catch (const cm::InputError& e) {
    ASSERT_FALSE(e.diagnostics().items().empty());
    EXPECT_EQ(e.diagnostics().items().front().path, "country.regions");
  }
}

TEST(Country, MemoryLimitIsLocatedAtThePopulation) {
  std::string text = small_country();
  text.replace(text.find("horizon_days: 30"), 16, "horizon_days: 36500");
  text.replace(text.find("population: 400000"), 18, "population: 40000000");
  const auto d = problems(text);
  EXPECT_TRUE(reported(d, "country.population", "clients")) << dump(d);
}

}  // namespace

// Client records keep organization ids in 16 bits: more than 65,535 organizations are refused,
// by the loader (with a message saying why) and by the Simulation (scenarios built in code).
TEST(Country, MoreThan65535OrganizationsAreRefused) {
  // Family NGOs at 200 per 100,000 residents: 75,000 of them.
  try {
    load_scenario(kPoland, {"", {{"country.organizations[1].per_100k", "200"}}});
    FAIL() << "a scenario with more than 65,535 organizations was accepted";
  } catch (const cm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 65535"), std::string::npos) << e.what();
  }
  Scenario sc = load_scenario(kPoland);
  sc.organizations.resize(65536, sc.organizations.back());
  EXPECT_THROW(Simulation(sc, 1), std::invalid_argument);
  Scenario long_run = load_scenario(kPoland);
  long_run.horizon_days = 65535;
  EXPECT_THROW(Simulation(long_run, 1), std::invalid_argument);
}
