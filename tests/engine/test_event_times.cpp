// Times to the next event (engine/event_times.hpp) against the exact distribution of the
// daily draws they replace, and the calendar they are kept in (engine/timing_wheel.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "engine/distributions.hpp"
#include "engine/event_times.hpp"
#include "engine/rng.hpp"
#include "engine/timing_wheel.hpp"

namespace cm {
namespace {

using event_times::first_hazard_day;
using event_times::geometric_failures;
using event_times::kNoDay;

// Pearson's chi-square of observed counts against expected probabilities (bins with an
// expected count below 5 are merged into their neighbour), with its degrees of freedom.
std::pair<double, int> chi_square(const std::vector<double>& observed, const std::vector<double>& p,
                                  double n) {
  double chi = 0, obs = 0, exp = 0;
  int bins = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    obs += observed[k];
    exp += p[k] * n;
    if (exp >= 5.0 || k + 1 == p.size()) {
      chi += (obs - exp) * (obs - exp) / std::max(exp, 1e-12);
      ++bins;
      obs = exp = 0;
    }
  }
  return {chi, bins - 1};
}

// A chi-square this far above its degrees of freedom (about 6 standard deviations) would
// happen by chance less than once in 10^7 draws of the test.
bool plausible(std::pair<double, int> c) {
  return c.first < c.second + 6.0 * std::sqrt(2.0 * c.second);
}

// The exact law of the first success of daily draws with chance h(k) on the days [from, cap):
// P(T = k) = h(k) prod_{from <= j < k} (1 - h(j)); the last entry is "none before cap".
std::vector<double> exact_first_day(double a, double b, std::int64_t origin, std::int64_t from,
                                    std::int64_t cap) {
  std::vector<double> p;
  double survive = 1.0;
  for (std::int64_t k = from; k < cap; ++k) {
    const double h = std::clamp(a + b * static_cast<double>(k - origin), 0.0, 1.0);
    p.push_back(survive * h);
    survive *= 1.0 - h;
  }
  p.push_back(survive);
  return p;
}

std::vector<double> sampled_first_day(double a, double b, std::int64_t origin, std::int64_t from,
                                      std::int64_t cap, int n, std::uint64_t purpose) {
  std::vector<double> count(static_cast<std::size_t>(cap - from + 1), 0.0);
  for (int i = 0; i < n; ++i) {
    Stream rng(42, purpose, static_cast<std::uint64_t>(i), 0);
    const std::int64_t t = first_hazard_day(a, b, origin, from, cap, rng);
    if (t == kNoDay) {
      count.back() += 1;
    } else {
      EXPECT_GE(t, from);
      EXPECT_LT(t, cap);
      count[static_cast<std::size_t>(t - from)] += 1;
    }
  }
  return count;
}

TEST(EventTimes, GeometricIsTheFirstSuccessOfDailyDraws) {
  for (const double p : {0.3, 0.05, 0.002}) {
    constexpr int kN = 200000;
    const int days = static_cast<int>(std::ceil(12.0 / p));
    std::vector<double> count(static_cast<std::size_t>(days) + 1, 0.0), exact;
    double mean = 0;
    for (int i = 0; i < kN; ++i) {
      Stream rng(7, purpose_code("geometric-test"), static_cast<std::uint64_t>(i), 0);
      const std::int64_t g = geometric_failures(p, rng);
      ASSERT_GE(g, 0);
      count[static_cast<std::size_t>(std::min<std::int64_t>(g, days))] += 1;
      mean += static_cast<double>(g) / kN;
    }
    for (int k = 0; k < days; ++k) exact.push_back(std::pow(1 - p, k) * p);
    exact.push_back(std::pow(1 - p, days));
    const auto c = chi_square(count, exact, kN);
    EXPECT_TRUE(plausible(c)) << "p " << p << ": chi-square " << c.first << " on " << c.second;
    // The mean number of failures is (1 - p) / p, within 6 standard errors.
    const double sd = std::sqrt(1 - p) / p;
    EXPECT_NEAR(mean, (1 - p) / p, 6 * sd / std::sqrt(kN)) << "p " << p;
  }
  Stream rng(7, 1, 1, 0);
  EXPECT_EQ(geometric_failures(0.0, rng), kNoDay);
  EXPECT_EQ(geometric_failures(1.0, rng), 0);
}

TEST(EventTimes, ThinnedHazardIsTheFirstSuccessOfDailyDraws) {
  struct Case {
    double a, b;
    std::int64_t origin, from, cap;
  };
  // The model's dropout defaults from arrival, a client with failed contacts who has waited,
  // a hazard that reaches 1 (every later day fires), a constant hazard, and a cap that cuts.
  for (const Case& k :
       {Case{0.002, 0.00005, 0, 0, 3000}, Case{0.032, 0.00005, 0, 120, 2000},
        Case{0.1, 0.05, 0, 0, 100}, Case{0.01, 0.0, 0, 5, 900}, Case{0.002, 0.0005, 0, 30, 60}}) {
    constexpr int kN = 100000;
    const auto count =
        sampled_first_day(k.a, k.b, k.origin, k.from, k.cap, kN, purpose_code("hazard-test"));
    const auto exact = exact_first_day(k.a, k.b, k.origin, k.from, k.cap);
    const auto c = chi_square(count, exact, kN);
    EXPECT_TRUE(plausible(c)) << "a " << k.a << " b " << k.b << " from " << k.from
                              << ": chi-square " << c.first << " on " << c.second
                              << " degrees of freedom";
  }
  // A hazard of 1 fires at once; a hazard of 0 never does.
  Stream rng(1, 2, 3, 4);
  EXPECT_EQ(first_hazard_day(1.0, 0.0, 0, 17, 100, rng), 17);
  EXPECT_EQ(first_hazard_day(0.0, 0.0, 0, 17, 100, rng), kNoDay);
  EXPECT_EQ(first_hazard_day(0.5, 0.1, 0, 100, 100, rng), kNoDay);  // no days left
}

// Beta(2, 2) as the median of three uniforms: the chi-square over 40 bins of 200,000 draws
// against F(x) = 3x^2 - 2x^3, and the mean.
TEST(Distributions, Beta22IsTheMedianOfThreeUniforms) {
  constexpr int kN = 200000, kBins = 40;
  std::vector<double> count(kBins, 0.0), p;
  double mean = 0;
  for (int i = 0; i < kN; ++i) {
    Stream rng(3, purpose_code("beta-test"), static_cast<std::uint64_t>(i), 0);
    const double x = beta_2_2(rng);
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    count[static_cast<std::size_t>(x * kBins)] += 1;
    mean += x / kN;
  }
  const auto cdf = [](double x) { return 3 * x * x - 2 * x * x * x; };
  for (int k = 0; k < kBins; ++k) p.push_back(cdf((k + 1.0) / kBins) - cdf(k * 1.0 / kBins));
  const auto c = chi_square(count, p, kN);
  EXPECT_TRUE(plausible(c)) << "chi-square " << c.first << " on " << c.second;
  EXPECT_NEAR(mean, 0.5, 6 * std::sqrt(0.05 / kN));  // the variance of Beta(2, 2) is 1/20
}

TEST(TimingWheel, HandsBackEachDaysEntriesNearAndFar) {
  TimingWheel w(0, 8);  // a small span, so that most days go through the overflow list
  std::multimap<std::int32_t, std::uint32_t> expected;
  std::uint32_t who = 0;
  for (std::int32_t day = 0; day < 200; ++day) {
    // Before the day is taken: entries for today, soon, and far ahead.
    for (const std::int32_t ahead : {0, 1, 7, 8, 9, 31, 64, 150}) {
      if (day + ahead >= 200) continue;
      w.schedule(who, day + ahead);
      expected.emplace(day + ahead, who++);
    }
    std::vector<std::uint32_t> got;
    w.take(got);
    std::sort(got.begin(), got.end());
    std::vector<std::uint32_t> want;
    for (auto [it, end] = expected.equal_range(day); it != end; ++it) want.push_back(it->second);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "day " << day;
    EXPECT_EQ(w.next_day(), day + 1);
  }
  EXPECT_EQ(w.pending(), 0u);
  EXPECT_THROW(w.schedule(1, 150), std::logic_error);  // a day already taken
  EXPECT_THROW(TimingWheel(0, 6), std::invalid_argument);
}

TEST(TimingWheel, RenumberRewritesAndDropsPendingEntries) {
  TimingWheel w(10, 4);
  w.schedule(1, 10);
  w.schedule(2, 11);
  w.schedule(3, 40);  // overflow
  w.schedule(4, 41);  // overflow
  w.renumber([](std::uint32_t x) { return x % 2 == 0 ? TimingWheel::kDrop : x * 10; });
  EXPECT_EQ(w.pending(), 2u);
  std::vector<std::uint32_t> got;
  std::set<std::uint32_t> seen;
  while (w.next_day() <= 41) {
    const std::int32_t day = w.next_day();
    w.take(got);
    for (std::uint32_t x : got) {
      seen.insert(x);
      EXPECT_EQ(day, x == 10 ? 10 : 40);
    }
  }
  EXPECT_EQ(seen, (std::set<std::uint32_t>{10, 30}));
  w.reset(5);
  EXPECT_EQ(w.pending(), 0u);
  EXPECT_EQ(w.next_day(), 5);
}

}  // namespace
}  // namespace cm
