#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>
#include <vector>

#include "engine/rng.hpp"
#include "engine/stats.hpp"

namespace cm::stats {
namespace {

using Eigen::Index;

std::vector<double> responses(const Eigen::MatrixXd& x, double (*f)(const Eigen::RowVectorXd&)) {
  std::vector<double> y(static_cast<std::size_t>(x.rows()));
  for (Index r = 0; r < x.rows(); ++r) y[static_cast<std::size_t>(r)] = f(x.row(r));
  return y;
}

// ---------------------------------------------------------------------------------------------
// Samples.

TEST(Stats, SpearmanRanksWithTiesAndLeavesOutNonFinitePairs) {
  const std::vector<double> x = {1, 2, 3, 4, 5}, up = {10, 20, 30, 40, 50}, down = {5, 4, 3, 2, 1};
  EXPECT_NEAR(spearman(x, up), 1.0, 1e-12);
  EXPECT_NEAR(spearman(x, down), -1.0, 1e-12);
  // ties get average ranks: ranks of y = 1.5, 1.5, 3, 4 -> rho = 0.9487
  EXPECT_NEAR(spearman(std::vector<double>{1, 2, 3, 4}, std::vector<double>{7, 7, 8, 9}),
              3.0 / std::sqrt(10.0), 1e-9);
  const std::vector<double> with_nan = {1, 2, kNaN, 4}, y = {1, 2, 3, 4};
  EXPECT_NEAR(spearman(with_nan, y), 1.0, 1e-12);  // three finite pairs
  EXPECT_TRUE(std::isnan(spearman(std::vector<double>{1, 2}, std::vector<double>{1, 2})));
  EXPECT_TRUE(std::isnan(spearman(x, std::vector<double>{3, 3, 3, 3, 3})));  // no spread
}

TEST(Stats, TQuantilesMatchTables) {
  EXPECT_NEAR(t_quantile(0.975, 1), 12.7062047, 1e-6);
  EXPECT_NEAR(t_quantile(0.975, 10), 2.2281389, 1e-6);
  EXPECT_NEAR(t_quantile(0.975, 30), 2.0422725, 1e-6);
  EXPECT_NEAR(t_quantile(0.025, 10), -2.2281389, 1e-6);
  EXPECT_THROW(t_quantile(1.0, 10), std::invalid_argument);
  EXPECT_THROW(t_quantile(0.5, 0), std::invalid_argument);
}

TEST(Stats, QuantileInterpolatesLikeRType7) {
  const std::vector<double> x = {4, 1, 3, 2};  // sorted 1 2 3 4
  EXPECT_DOUBLE_EQ(quantile(x, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile(x, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile(x, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile(x, 0.25), 1.75);
}

TEST(Stats, SummaryOfHandComputedSample) {
  // mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, var 32/7, se = sqrt(32/7/8) = sqrt(4/7).
  const std::vector<double> x = {2, 4, 4, 4, 5, 5, 7, 9};
  const Summary s = summarize(x);
  EXPECT_EQ(s.n, 8u);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.sd, std::sqrt(32.0 / 7.0), 1e-14);
  EXPECT_NEAR(s.se, std::sqrt(4.0 / 7.0), 1e-14);
  const double t7 = 2.3646242516;  // t_{0.975, 7}
  EXPECT_NEAR(s.half_width, t7 * std::sqrt(4.0 / 7.0), 1e-8);
  EXPECT_NEAR(s.ci.low, 3.2125121, 1e-6);
  EXPECT_NEAR(s.ci.high, 6.7874879, 1e-6);
  // A 90% interval uses t_{0.95, 7} = 1.8945786.
  EXPECT_NEAR(summarize(x, 0.90).half_width, 1.8945786 * std::sqrt(4.0 / 7.0), 1e-6);
}

TEST(Stats, SummaryIsStableForLargeOffsets) {
  // A naive sum-of-squares formula loses every digit here; Welford keeps them.
  std::vector<double> x;
  for (double v : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) x.push_back(1e9 + v);
  const Summary s = summarize(x);
  EXPECT_NEAR(s.mean, 1e9 + 5.0, 1e-6);
  EXPECT_NEAR(s.sd, std::sqrt(32.0 / 7.0), 1e-6);
}

TEST(Stats, SummaryEdgeCases) {
  EXPECT_THROW(summarize(std::vector<double>{}), std::invalid_argument);
  const Summary one = summarize(std::vector<double>{3.0});
  EXPECT_DOUBLE_EQ(one.mean, 3.0);
  EXPECT_TRUE(std::isnan(one.sd));
  EXPECT_TRUE(std::isnan(one.ci.low));
}

// ---------------------------------------------------------------------------------------------
// Comparisons.

TEST(Stats, WelchDifferenceHandComputed) {
  // var a = 2.5, var b = 10, n = 5: se^2 = 0.5 + 2 = 2.5, df = 6.25 / (0.25/4 + 4/4) = 5.882353.
  const std::vector<double> a = {1, 2, 3, 4, 5};
  const std::vector<double> b = {2, 4, 6, 8, 10};
  const WelchDifference w = welch_difference(a, b);
  EXPECT_DOUBLE_EQ(w.diff, -3.0);
  EXPECT_NEAR(w.se, std::sqrt(2.5), 1e-14);
  EXPECT_NEAR(w.df, 6.25 / 1.0625, 1e-12);
  EXPECT_NEAR(w.half_width, t_quantile(0.975, 6.25 / 1.0625) * std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(w.ci.low, -3.0 - w.half_width, 1e-14);
}

TEST(Stats, PairedIsNarrowerThanUnpairedForPositivelyCorrelatedSamples) {
  // Baseline varies a lot between replications; the variant shares that variation (common
  // random numbers) plus a shift of 0.5 and a little noise of its own.
  std::vector<double> base, var;
  for (std::uint64_t j = 0; j < 20; ++j) {
    Stream s(7, purpose_code("test.paired"), j, 0);
    const double common = 10.0 * s.uniform();
    base.push_back(common);
    var.push_back(common + 0.5 + 0.2 * (s.uniform() - 0.5));
  }
  const PairedComparison c = compare_paired(base, var);
  EXPECT_GT(c.correlation, 0.9);
  EXPECT_NEAR(c.difference.mean, c.unpaired.diff, 1e-12);
  EXPECT_NEAR(c.difference.mean, 0.5, 0.1);
  EXPECT_LT(c.difference.half_width, c.unpaired.half_width / 10.0);
  EXPECT_TRUE(c.difference.ci.contains(0.5));
  // An unpaired design needs many more replications per arm to match the paired precision,
  // and the returned n is the smallest that does.
  const std::size_t n_u = c.unpaired_replications_for_same_precision;
  EXPECT_GT(n_u, 20u * 10u);
  auto welch_hw = [&](double n) {
    const double va = c.baseline.sd * c.baseline.sd, vb = c.variant.sd * c.variant.sd;
    const double df = (n - 1.0) * (va + vb) * (va + vb) / (va * va + vb * vb);
    return t_quantile(0.975, df) * std::sqrt((va + vb) / n);
  };
  EXPECT_LE(welch_hw(static_cast<double>(n_u)), c.difference.half_width);
  EXPECT_GT(welch_hw(static_cast<double>(n_u - 1)), c.difference.half_width);
}

TEST(Stats, PairedDifferenceOfIdenticalSamplesIsExactlyZero) {
  const std::vector<double> x = {3.1, 2.7, 9.4, 5.5, 1.2};
  const PairedComparison c = compare_paired(x, x);
  EXPECT_EQ(c.difference.mean, 0.0);
  EXPECT_EQ(c.difference.sd, 0.0);
  EXPECT_EQ(c.difference.ci.low, 0.0);
  EXPECT_EQ(c.difference.ci.high, 0.0);
  EXPECT_GT(c.unpaired.half_width, 0.0);
  EXPECT_THROW(compare_paired(x, std::vector<double>{1, 2}), std::invalid_argument);
}

TEST(Stats, ReplicationsNeededKnownCase) {
  // sd = 1, h = 0.5: t_{15}/4 = 0.5328, t_{16}/sqrt(17) = 0.5142, t_{17}/sqrt(18) = 0.4973.
  EXPECT_EQ(replications_needed(1.0, 0.5), 18u);
  // Scale invariance and the defining condition at n and n - 1.
  EXPECT_EQ(replications_needed(4.0, 2.0), 18u);
  const std::size_t n = replications_needed(2.5, 0.1);
  const auto hw = [](std::size_t m) {
    return t_quantile(0.975, static_cast<double>(m) - 1.0) * 2.5 /
           std::sqrt(static_cast<double>(m));
  };
  EXPECT_LE(hw(n), 0.1);
  EXPECT_GT(hw(n - 1), 0.1);
  EXPECT_EQ(replications_needed(0.0, 0.1), 2u);
  EXPECT_EQ(replications_needed(1.0, 100.0), 2u);
  EXPECT_THROW(replications_needed(1.0, 0.0), std::invalid_argument);
  // Unpaired with sd_b = 0 and sd_a = 1 has df = n - 1: the same as the one-sample case.
  EXPECT_EQ(unpaired_replications_needed(1.0, 0.0, 0.5), 18u);
}

// ---------------------------------------------------------------------------------------------
// Designs.

std::vector<Factor> unit_factors(std::size_t k) {
  std::vector<Factor> f(k);
  for (std::size_t i = 0; i < k; ++i) f[i] = {"x" + std::to_string(i + 1), 0.0, 1.0, {}};
  return f;
}

TEST(Stats, LatinHypercubeHitsEachStratumOnce) {
  const std::size_t n = 37, k = 5;
  const Eigen::MatrixXd x = latin_hypercube_unit(n, k, 11);
  ASSERT_EQ(x.rows(), static_cast<Index>(n));
  ASSERT_EQ(x.cols(), static_cast<Index>(k));
  for (Index j = 0; j < x.cols(); ++j) {
    std::vector<int> hits(n, 0);
    for (Index i = 0; i < x.rows(); ++i) {
      ASSERT_GE(x(i, j), 0.0);
      ASSERT_LT(x(i, j), 1.0);
      ++hits[static_cast<std::size_t>(std::floor(x(i, j) * static_cast<double>(n)))];
    }
    for (int h : hits) EXPECT_EQ(h, 1);
  }
  // Scaled onto [low, high]: the strata of the factor's range.
  std::vector<Factor> f = {{"a", -2.0, 6.0, {}}, {"b", 10.0, 11.0, {}}};
  const Eigen::MatrixXd y = latin_hypercube(f, n, 11);
  for (Index i = 0; i < y.rows(); ++i) {
    EXPECT_NEAR(y(i, 0), -2.0 + 8.0 * x(i, 0), 1e-12);
    EXPECT_NEAR(y(i, 1), 10.0 + x(i, 1), 1e-12);
  }
}

TEST(Stats, DesignsAreReproducibleFromTheSeed) {
  const auto f = unit_factors(4);
  EXPECT_EQ(latin_hypercube_unit(50, 4, 1), latin_hypercube_unit(50, 4, 1));
  EXPECT_NE(latin_hypercube_unit(50, 4, 1), latin_hypercube_unit(50, 4, 2));
  EXPECT_EQ(morris_design(f, 10, 4, 1).unit, morris_design(f, 10, 4, 1).unit);
  EXPECT_NE(morris_design(f, 10, 4, 1).unit, morris_design(f, 10, 4, 2).unit);
  for (BaseSampler s : {BaseSampler::sobol, BaseSampler::philox}) {
    EXPECT_EQ(saltelli_design(f, 64, 1, s).unit, saltelli_design(f, 64, 1, s).unit);
    EXPECT_NE(saltelli_design(f, 64, 1, s).unit, saltelli_design(f, 64, 2, s).unit);
  }
}

TEST(Stats, FullFactorialSizeAndCoverage) {
  std::vector<Factor> f = {{"a", 0.0, 1.0, {}}, {"b", 10.0, 20.0, {}}, {"c", 0, 0, {1.0, 5.0}}};
  const Eigen::MatrixXd g = full_factorial(f, 3);
  ASSERT_EQ(g.rows(), 3 * 3 * 2);
  ASSERT_EQ(g.cols(), 3);
  std::set<std::vector<double>> combos;
  for (Index r = 0; r < g.rows(); ++r) combos.insert({g(r, 0), g(r, 1), g(r, 2)});
  EXPECT_EQ(combos.size(), 18u);
  for (double a : {0.0, 0.5, 1.0})
    for (double b : {10.0, 15.0, 20.0})
      for (double c : {1.0, 5.0}) EXPECT_TRUE(combos.count({a, b, c})) << a << " " << b << " " << c;
  EXPECT_EQ(factor_levels(f[1], 1), std::vector<double>{15.0});
  EXPECT_EQ(full_factorial(f, 2).rows(), 8);
}

TEST(Stats, MainEffectsOfGrid) {
  std::vector<Factor> f = {{"a", 0.0, 2.0, {}}, {"b", -1.0, 1.0, {}}};
  const Eigen::MatrixXd g = full_factorial(f, 3);  // a in {0,1,2}, b in {-1,0,1}
  std::vector<double> y;
  for (Index r = 0; r < g.rows(); ++r) y.push_back(2.0 * g(r, 0) + g(r, 1) * g(r, 1));
  const auto me = main_effects(g, y);
  ASSERT_EQ(me.size(), 2u);
  ASSERT_EQ(me[0].levels, (std::vector<double>{0.0, 1.0, 2.0}));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(me[0].count[i], 3u);
    EXPECT_NEAR(me[0].mean[i], 2.0 * me[0].levels[i] + 2.0 / 3.0, 1e-12);
    EXPECT_NEAR(me[1].mean[i], 2.0 + me[1].levels[i] * me[1].levels[i], 1e-12);
  }
}

TEST(Stats, MorrisTrajectoriesStepOneFactorByDelta) {
  const std::size_t k = 6, r = 25, p = 4;
  const MorrisDesign d = morris_design(unit_factors(k), r, p, 3);
  ASSERT_EQ(d.unit.rows(), static_cast<Index>(r * (k + 1)));
  EXPECT_DOUBLE_EQ(d.delta, 4.0 / 6.0);
  for (Index i = 0; i < d.unit.rows(); ++i)
    for (Index j = 0; j < d.unit.cols(); ++j) {
      const double u = d.unit(i, j);
      ASSERT_GE(u, 0.0);
      ASSERT_LE(u, 1.0);
      const double g = u * (p - 1);  // on the grid {0, 1/3, 2/3, 1}
      EXPECT_NEAR(g, std::round(g), 1e-12);
    }
  for (std::size_t t = 0; t < r; ++t) {
    std::vector<int> moved(k, 0);
    for (std::size_t m = 1; m <= k; ++m) {
      const Eigen::RowVectorXd step = d.unit.row(static_cast<Index>(t * (k + 1) + m)) -
                                      d.unit.row(static_cast<Index>(t * (k + 1) + m - 1));
      int changed = 0;
      for (Index j = 0; j < step.size(); ++j)
        if (step(j) != 0.0) {
          ++changed;
          ++moved[static_cast<std::size_t>(j)];
          EXPECT_NEAR(std::abs(step(j)), d.delta, 1e-12);
        }
      EXPECT_EQ(changed, 1);
    }
    for (int c : moved) EXPECT_EQ(c, 1);  // every factor moves once per trajectory
  }
}

double morris_test_function(const Eigen::RowVectorXd& x) {
  return 5.0 * x(0) + 0.0 * x(1) + x(2) * x(2) + 1.0 * x(3) - 1.5 * x(4);
}

TEST(Stats, MorrisRanksKnownFunction) {
  // x1 in [0, 2]: linear, EE = 5 * 2 = 10. x2: no effect. x3 in [0, 2]: quadratic, EE =
  // 4(2u + delta) in {8/3, 16/3} for p = 4. x4 in [0, 1]: EE = 1. x5 in [0, 1]: EE = -1.5.
  const std::vector<Factor> f = {{"x1", 0.0, 2.0, {}},
                                 {"x2", 0.0, 1.0, {}},
                                 {"x3", 0.0, 2.0, {}},
                                 {"x4", 0.0, 1.0, {}},
                                 {"x5", 0.0, 1.0, {}}};
  const MorrisDesign d = morris_design(f, 30, 4, 5);
  const std::vector<double> y = responses(d.points, morris_test_function);
  const MorrisResult m = morris_analyze(d, y, 500, 9);
  ASSERT_EQ(m.factors.size(), 5u);
  EXPECT_NEAR(m.factors[0].mu_star.value, 10.0, 1e-12);
  EXPECT_NEAR(m.factors[0].mu, 10.0, 1e-12);
  EXPECT_NEAR(m.factors[0].sigma, 0.0, 1e-12);
  EXPECT_EQ(m.factors[1].mu_star.value, 0.0);
  EXPECT_NEAR(m.factors[3].mu_star.value, 1.0, 1e-12);
  EXPECT_NEAR(m.factors[4].mu, -1.5, 1e-12);
  EXPECT_NEAR(m.factors[4].mu_star.value, 1.5, 1e-12);
  EXPECT_GT(m.factors[2].mu_star.value, 8.0 / 3.0 - 1e-12);
  EXPECT_LT(m.factors[2].mu_star.value, 16.0 / 3.0 + 1e-12);
  EXPECT_GT(m.factors[2].sigma, 0.5);  // non-linear: the EE depends on where it is taken
  EXPECT_EQ(m.ranking(), (std::vector<std::size_t>{0, 2, 4, 3, 1}));
  // Bootstrap interval of mu*: degenerate for linear factors, contains the estimate otherwise.
  EXPECT_NEAR(m.factors[0].mu_star.ci.low, 10.0, 1e-12);
  EXPECT_NEAR(m.factors[0].mu_star.ci.high, 10.0, 1e-12);
  EXPECT_TRUE(m.factors[2].mu_star.ci.contains(m.factors[2].mu_star.value));
  EXPECT_GT(m.factors[2].mu_star.ci.half_width(), 0.0);
  EXPECT_LT(m.factors[2].mu_star.ci.low, m.factors[2].mu_star.ci.high);
  EXPECT_THROW(morris_design(f, 10, 3, 1), std::invalid_argument);  // p must be even
}

// ---------------------------------------------------------------------------------------------
// Sobol indices.

TEST(Stats, SaltelliDesignStructure) {
  const std::size_t n = 16, k = 3;
  const SaltelliDesign d = saltelli_design(unit_factors(k), n, 4);
  ASSERT_EQ(d.unit.rows(), static_cast<Index>(n * (k + 2)));
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t c = 0; c < k; ++c) {
        const double want = c == i ? d.unit(d.row_b(j), static_cast<Index>(c))
                                   : d.unit(d.row_a(j), static_cast<Index>(c));
        EXPECT_EQ(d.unit(d.row_ab(i, j), static_cast<Index>(c)), want);
      }
  // A Sobol sequence with a digital shift stratifies: each half of [0, 1) per column of A
  // gets exactly half of the first 16 points.
  for (Index c = 0; c < static_cast<Index>(k); ++c) {
    int low = 0;
    for (std::size_t j = 0; j < n; ++j) low += d.unit(d.row_a(j), c) < 0.5;
    EXPECT_EQ(low, 8);
  }
}

constexpr double kA = 7.0, kB = 0.1;
double ishigami(const Eigen::RowVectorXd& x) {
  return std::sin(x(0)) + kA * std::sin(x(1)) * std::sin(x(1)) +
         kB * std::pow(x(2), 4) * std::sin(x(0));
}

struct Analytic {
  double s1, s2, s3, st1, st2, st3;
};
Analytic ishigami_analytic() {
  const double pi = std::numbers::pi;
  const double v1 = 0.5 * std::pow(1.0 + kB * std::pow(pi, 4) / 5.0, 2);
  const double v2 = kA * kA / 8.0;
  const double v13 = kB * kB * std::pow(pi, 8) * (1.0 / 18.0 - 1.0 / 50.0);
  const double v =
      kA * kA / 8.0 + kB * std::pow(pi, 4) / 5.0 + kB * kB * std::pow(pi, 8) / 18.0 + 0.5;
  return {v1 / v, v2 / v, 0.0, (v1 + v13) / v, v2 / v, v13 / v};
}

TEST(Stats, IshigamiAnalyticValues) {
  const Analytic a = ishigami_analytic();
  EXPECT_NEAR(a.s1, 0.3139, 1e-4);
  EXPECT_NEAR(a.s2, 0.4424, 1e-4);
  EXPECT_NEAR(a.st1, 0.5576, 1e-4);
  EXPECT_NEAR(a.st3, 0.2437, 1e-4);
}

// Ishigami, a = 7, b = 0.1, x in [-pi, pi]^3, with N base samples (N(k+2) = 5N model runs)
// and 500 bootstrap resamples. The bootstrap standard errors at N = 2^14 are at most 0.0115
// (S_1, S_T1; the others 0.003-0.010) whichever sampler is used, because the bootstrap treats
// the base rows as independent draws.
// - Sobol sequence, N = 2^14: tolerance 0.01. The real error of a randomised QMC estimate is
//   far below the bootstrap SE: across seeds 1, 2, 3, 2024 the largest error of any of the six
//   indices was 0.0014. 0.01 still leaves a wide margin, and the 95% bootstrap intervals
//   (width ~0.04) contain the analytic values with room to spare.
// - Philox (plain Monte Carlo), N = 2^15: bootstrap SE <= 0.008, so the tolerance 0.03 is
//   >= 3.75 SE (a spurious failure has probability < 2e-4 per index); the intervals are 99%.
// The test also bounds the bootstrap SE (Sobol: 0.0125; Philox: tol / 3.5) so that the stated
// margins cannot silently stop holding.
void check_ishigami(BaseSampler sampler, std::size_t n, double tol, double max_se, double level) {
  const double pi = std::numbers::pi;
  const std::vector<Factor> f(3, Factor{"x", -pi, pi, {}});
  const SaltelliDesign d = saltelli_design(f, n, 2024, sampler);
  const std::vector<double> y = responses(d.points, ishigami);
  const SobolResult r = sobol_analyze(d, y, 500, 77, level);
  const Analytic a = ishigami_analytic();
  const double s1[] = {a.s1, a.s2, a.s3};
  const double st[] = {a.st1, a.st2, a.st3};
  for (std::size_t i = 0; i < 3; ++i) {
    const SobolFactor& e = r.factors[i];
    SCOPED_TRACE("x" + std::to_string(i + 1));
    EXPECT_NEAR(e.first.value, s1[i], tol);
    EXPECT_NEAR(e.total.value, st[i], tol);
    EXPECT_LT(e.first.se, max_se);
    EXPECT_LT(e.total.se, max_se);
    EXPECT_TRUE(e.first.ci.contains(s1[i])) << e.first.ci.low << " " << e.first.ci.high;
    EXPECT_TRUE(e.total.ci.contains(st[i])) << e.total.ci.low << " " << e.total.ci.high;
  }
  // Total variance of Ishigami: a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 = 13.8446.
  EXPECT_NEAR(r.variance, 13.8446, 0.3);
}

TEST(Stats, SobolIndicesOfIshigamiWithSobolSequence) {
  check_ishigami(BaseSampler::sobol, std::size_t{1} << 14, 0.01, 0.0125, 0.95);
}

TEST(Stats, SobolIndicesOfIshigamiWithPhilox) {
  check_ishigami(BaseSampler::philox, std::size_t{1} << 15, 0.03, 0.03 / 3.5, 0.99);
}

TEST(Stats, SobolAnalysisIsReproducible) {
  const std::vector<Factor> f(3, Factor{"x", -std::numbers::pi, std::numbers::pi, {}});
  const SaltelliDesign d = saltelli_design(f, 256, 1);
  const std::vector<double> y = responses(d.points, ishigami);
  const SobolResult a = sobol_analyze(d, y, 200, 5);
  const SobolResult b = sobol_analyze(d, y, 200, 5);
  const SobolResult c = sobol_analyze(d, y, 200, 6);
  EXPECT_EQ(a.factors[0].first.ci.low, b.factors[0].first.ci.low);
  EXPECT_EQ(a.factors[2].total.ci.high, b.factors[2].total.ci.high);
  EXPECT_EQ(a.factors[0].first.value, c.factors[0].first.value);
  EXPECT_NE(a.factors[0].first.ci.low, c.factors[0].first.ci.low);
}

}  // namespace
}  // namespace cm::stats
