#include "models/socialcare/country.hpp"

#include <algorithm>
#include <boost/random/gamma_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "engine/rng.hpp"

namespace cm::care {

namespace {

constexpr std::uint64_t kMunicipalitySize = purpose_code("country-municipality-size");
constexpr std::uint64_t kCountySize = purpose_code("country-county-size");
constexpr std::uint64_t kRegionSize = purpose_code("country-region-size");
constexpr std::uint64_t kCityRegion = purpose_code("country-city-region");
constexpr std::uint64_t kOrgCount = purpose_code("country-organization-count");
constexpr std::uint64_t kPartners = purpose_code("country-partners");

// Client records keep their municipality in 16 bits.
constexpr int kMaxMunicipalities = 65535;

std::vector<std::int64_t> city_sizes(const CountryDef& def) {
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(std::max(def.cities, 0)));
  for (std::size_t k = 0; k < sizes.size(); ++k)
    sizes[k] = std::max<std::int64_t>(
        1, std::llround(static_cast<double>(def.largest_city) *
                        std::pow(static_cast<double>(k + 1), -def.city_zipf_exponent)));
  return sizes;
}

// Splits `total` into integers proportional to `weights` (largest remainder; ties to the
// lower index), so the parts sum to `total` exactly.
std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<double>& weights) {
  std::vector<std::int64_t> parts(weights.size(), 0);
  const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (weights.empty() || total <= 0) return parts;
  std::vector<double> rest(weights.size());
  std::int64_t given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double exact = sum > 0 ? static_cast<double>(total) * weights[i] / sum
                                 : static_cast<double>(total) / static_cast<double>(weights.size());
    parts[i] = static_cast<std::int64_t>(std::floor(exact));
    rest[i] = exact - static_cast<double>(parts[i]);
    given += parts[i];
  }
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rest[a] > rest[b]; });
  for (std::size_t k = 0; given < total; k = (k + 1) % order.size(), ++given) ++parts[order[k]];
  for (std::size_t k = order.size(); given > total; --given) {  // rounding overshoot
    k = (k == 0 ? order.size() : k) - 1;
    if (parts[order[k]] > 0) --parts[order[k]];
  }
  return parts;
}

// Gamma(1/cv², 1) weights: mean 1, coefficient of variation cv (all 1 when cv is 0).
std::vector<double> gamma_weights(std::size_t n, double cv, std::uint64_t seed,
                                  std::uint64_t purpose) {
  std::vector<double> w(n, 1.0);
  if (cv <= 0) return w;
  boost::random::gamma_distribution<double> gamma(1.0 / (cv * cv), 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    Stream rng(seed, purpose, i, 0);
    w[i] = gamma(rng);
  }
  return w;
}

// prefix + (k + 1), zero-padded to `width` digits: "R07", "-C03".
std::string label(const char* prefix, std::size_t k, int width) {
  std::string digits_text = std::to_string(k + 1);
  if (static_cast<int>(digits_text.size()) < width)
    digits_text.insert(0, static_cast<std::size_t>(width) - digits_text.size(), '0');
  return prefix + digits_text;
}

int digits(std::size_t n) {
  int d = 2;
  for (std::size_t x = 100; x <= n; x *= 10) ++d;
  return d;
}

struct Unit {
  std::string name;
  std::vector<int> districts;  // ascending
  std::int64_t population = 0;
  int home = 0;  // most populous municipality
};

void finish_unit(Unit& u, const std::vector<District>& districts) {
  u.population = 0;
  u.home = u.districts.front();
  for (int d : u.districts) {
    u.population += districts[d].population;
    if (districts[d].population > districts[u.home].population) u.home = d;
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> country_problems(const CountryDef& def) {
  std::vector<std::pair<std::string, std::string>> p;
  auto n = [](std::int64_t x) { return std::to_string(x); };
  if (def.municipalities > kMaxMunicipalities)
    p.push_back({"municipalities", "at most " + n(kMaxMunicipalities) + " are supported"});
  if (def.regions < 1) p.push_back({"regions", "expected at least 1 region"});
  if (def.counties < def.regions)
    p.push_back({"counties", "expected at least one county per region (" + n(def.regions) +
                                 "), got " + n(def.counties)});
  if (def.cities >= def.counties)
    p.push_back({"cities.count", "cities are counties of their own: expected fewer than the " +
                                     n(def.counties) + " counties, got " + n(def.cities)});
  const std::int64_t land = def.counties - def.cities;
  const std::int64_t others = def.municipalities - def.cities;
  if (land >= 1 && others < land)
    p.push_back({"municipalities", "the " + n(land) + " land counties (counties - cities.count) " +
                                       "need at least one municipality each besides the " +
                                       n(def.cities) + " cities: expected at least " +
                                       n(land + def.cities) + ", got " + n(def.municipalities)});
  if (land >= 1 && land < def.regions - def.cities)
    p.push_back({"counties", "regions without a city need a land county each: expected at least " +
                                 n(def.regions) + " counties"});
  if (def.municipality_min > def.municipality_median)
    p.push_back({"municipality_min", "must not exceed municipality_median"});
  if (!p.empty() || others < 1) return p;
  std::int64_t in_cities = 0;
  for (std::int64_t s : city_sizes(def)) in_cities += s;
  const std::int64_t rest = def.population - in_cities;
  const double mean = static_cast<double>(rest) / static_cast<double>(others);
  if (mean <= def.municipality_median)
    p.push_back(
        {"municipality_median", "the " + n(others) + " municipalities that are not cities share " +
                                    n(rest) + " residents (population minus the cities' " +
                                    n(in_cities) + "), a mean of " + n(std::llround(mean)) +
                                    "; a lognormal size needs a median below that mean: lower "
                                    "municipality_median or cities.largest, or raise population"});
  if (def.organizations.empty())
    p.push_back({"organizations", "expected at least one organization type"});
  return p;
}

CountryLayout expand_country(const CountryDef& def) {
  if (const auto problems = country_problems(def); !problems.empty())
    throw std::invalid_argument("country." + problems.front().first + ": " +
                                problems.front().second);
  const std::uint64_t seed = def.seed;
  const auto n_cities = static_cast<std::size_t>(def.cities);
  const auto n_regions = static_cast<std::size_t>(def.regions);
  const auto n_land = static_cast<std::size_t>(def.counties - def.cities);
  const auto n_others = static_cast<std::size_t>(def.municipalities - def.cities);

  // Municipality sizes: Zipf cities, lognormal others (at least the minimum), exact total.
  const std::vector<std::int64_t> cities = city_sizes(def);
  const std::int64_t rest =
      def.population - std::accumulate(cities.begin(), cities.end(), std::int64_t{0});
  const double mean = static_cast<double>(rest) / static_cast<double>(n_others);
  const double sigma = std::sqrt(2.0 * std::log(mean / def.municipality_median));
  const double lo = static_cast<double>(def.municipality_min);
  std::vector<double> excess(n_others);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t i = 0; i < n_others; ++i) {
    Stream rng(seed, kMunicipalitySize, i, 0);
    excess[i] = std::max(lo, def.municipality_median * std::exp(sigma * normal(rng))) - lo;
  }
  const std::vector<std::int64_t> extra =
      apportion(rest - def.municipality_min * static_cast<std::int64_t>(n_others), excess);

  // Municipalities per land county, land counties per region, cities to regions.
  const std::vector<std::int64_t> per_county =
      apportion(static_cast<std::int64_t>(n_others - n_land),
                gamma_weights(n_land, def.county_size_cv, seed, kCountySize));
  std::vector<std::size_t> city_region(n_cities);
  std::vector<std::int64_t> land_per_region(n_regions, 0);
  for (std::size_t k = 0; k < n_cities; ++k) {
    Stream rng(seed, kCityRegion, k, 0);
    city_region[k] = k < n_regions ? k : rng.below(static_cast<std::uint32_t>(n_regions));
  }
  std::int64_t base = 0;
  for (std::size_t r = n_cities; r < n_regions; ++r, ++base) land_per_region[r] = 1;
  const std::vector<std::int64_t> share =
      apportion(static_cast<std::int64_t>(n_land) - base,
                gamma_weights(n_regions, def.region_size_cv, seed, kRegionSize));
  for (std::size_t r = 0; r < n_regions; ++r) land_per_region[r] += share[r];

  // Districts in region order: the region's cities by rank, then its land counties.
  CountryLayout out;
  out.districts.reserve(static_cast<std::size_t>(def.municipalities));
  std::vector<Unit> regions(n_regions), counties, municipalities;
  std::vector<std::size_t> county_region;
  const int w_region = digits(n_regions);
  std::size_t next_county = 0, next_municipality = 0;
  for (std::size_t r = 0; r < n_regions; ++r) {
    Unit& region = regions[r];
    region.name = label("R", r, w_region);
    std::size_t city_no = 0;
    for (std::size_t k = 0; k < n_cities; ++k) {
      if (city_region[k] != r) continue;
      Unit county;
      county.name = region.name + label("-U", city_no++, 2);
      county.districts = {static_cast<int>(out.districts.size())};
      out.districts.push_back({county.name, cities[k], county.name, region.name});
      counties.push_back(std::move(county));
      county_region.push_back(r);
    }
    for (std::int64_t c = 0; c < land_per_region[r]; ++c, ++next_county) {
      Unit county;
      county.name = region.name + label("-C", static_cast<std::size_t>(c), 2);
      const auto n_mun = static_cast<std::size_t>(1 + per_county[next_county]);
      for (std::size_t m = 0; m < n_mun; ++m, ++next_municipality) {
        county.districts.push_back(static_cast<int>(out.districts.size()));
        out.districts.push_back({county.name + label("-M", m, 2),
                                 def.municipality_min + extra[next_municipality], county.name,
                                 region.name});
      }
      counties.push_back(std::move(county));
      county_region.push_back(r);
    }
  }
  for (std::size_t c = 0; c < counties.size(); ++c) {
    finish_unit(counties[c], out.districts);
    auto& in_region = regions[county_region[c]].districts;
    in_region.insert(in_region.end(), counties[c].districts.begin(), counties[c].districts.end());
  }
  for (Unit& r : regions) finish_unit(r, out.districts);
  municipalities.resize(out.districts.size());
  for (std::size_t d = 0; d < out.districts.size(); ++d) {
    municipalities[d].name = out.districts[d].name;
    municipalities[d].districts = {static_cast<int>(d)};
    finish_unit(municipalities[d], out.districts);
  }

  // Organizations, type by type, unit by unit.
  for (std::size_t t = 0; t < def.organizations.size(); ++t) {
    const CountryOrgType& type = def.organizations[t];
    const std::vector<Unit>& units = type.level == CountryLevel::municipality ? municipalities
                                     : type.level == CountryLevel::county     ? counties
                                                                              : regions;
    for (std::size_t u = 0; u < units.size(); ++u) {
      const Unit& unit = units[u];
      const double residents = static_cast<double>(unit.population);
      std::int64_t n = type.count;
      if (type.per_100k > 0) {
        const double expected = type.per_100k * residents / 100000.0;
        Stream rng(seed, kOrgCount, u, static_cast<std::uint32_t>(t));
        n = static_cast<std::int64_t>(std::floor(expected)) +
            (rng.uniform() < expected - std::floor(expected) ? 1 : 0);
        n = std::max<std::int64_t>(n, type.min_count);
      }
      if (n <= 0) continue;
      std::int64_t total = type.helpers * n;
      if (type.helpers_per_10k > 0)
        total = std::max<std::int64_t>(type.min_helpers * n,
                                       std::llround(type.helpers_per_10k * residents / 10000.0));
      for (std::int64_t k = 0; k < n; ++k) {
        Organization org;
        org.name = type.name + " " + unit.name;
        if (n > 1) org.name += " #" + std::to_string(k + 1);
        org.sector = type.sector;
        org.district = unit.home;
        org.serves = unit.districts;
        org.services = type.services;
        org.helpers = static_cast<int>(total / n + (k < total % n ? 1 : 0));
        org.intake_policy = type.intake_policy;
        out.organizations.push_back(std::move(org));
      }
    }
  }

  // Ties: to the coordinators of every municipality served, and a few random partners among
  // the organizations serving the home municipality.
  const auto n_orgs = static_cast<std::int32_t>(out.organizations.size());
  std::vector<std::vector<std::int32_t>> serving(out.districts.size()),
      coordinators(serving.size());
  for (std::int32_t o = 0; o < n_orgs; ++o) {
    const Organization& org = out.organizations[o];
    const bool coordinator = org.sector == Sector::public_coordinator ||
                             org.sector == Sector::intermunicipal_coordinator;
    for (int d : org.serves) {
      serving[d].push_back(o);
      if (coordinator) coordinators[d].push_back(o);
    }
  }
  auto tie = [&](std::int32_t a, std::int32_t b) {
    if (a != b) out.ties.push_back({std::min(a, b), std::max(a, b)});
  };
  for (std::int32_t o = 0; o < n_orgs; ++o) {
    const Organization& org = out.organizations[o];
    for (int d : org.serves)
      for (std::int32_t c : coordinators[d]) tie(o, c);
    const auto& pool = serving[org.district];
    const std::size_t k =
        std::min(static_cast<std::size_t>(std::max(def.partners_per_organization, 0)),
                 pool.size() - 1);  // pool holds o itself
    std::vector<std::int32_t> chosen;
    Stream rng(seed, kPartners, static_cast<std::uint64_t>(o), 0);
    while (chosen.size() < k) {
      const std::int32_t p = pool[rng.below(static_cast<std::uint32_t>(pool.size()))];
      if (p == o || std::find(chosen.begin(), chosen.end(), p) != chosen.end()) continue;
      chosen.push_back(p);
      tie(o, p);
    }
  }
  std::sort(out.ties.begin(), out.ties.end());
  out.ties.erase(std::unique(out.ties.begin(), out.ties.end()), out.ties.end());
  return out;
}

}  // namespace cm::care
