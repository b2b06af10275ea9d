// Statistics and design of experiments, free of any domain knowledge.
//
// Design notes
// - Samples are std::span<const double>; design matrices are Eigen::MatrixXd with one row per
//   run and one column per factor. Every design is first built in the unit cube [0, 1]^k and
//   then mapped onto the factors' ranges (scale_to_factors), so the unit matrix is kept for
//   analysis (Morris needs it to know which factor moved, and in which direction).
// - Every random draw (LHS permutations and jitter, Morris base points/directions/orders,
//   Saltelli digital shifts and Philox base samples, bootstrap resamples) comes from a
//   cm::Stream keyed by (seed, purpose, index, 0), where index is the factor, trajectory or
//   bootstrap replicate. Results are therefore a function of the seed alone, and each
//   replicate's stream is independent of the order in which replicates are computed.
// - Intervals: Student t for means (Welch-Satterthwaite df for unpaired differences);
//   percentile bootstrap for sensitivity indices (with the bootstrap standard error as well).
// - Sensitivity estimators: Morris mu, mu* (Campolongo 2007), sigma from elementary effects
//   in unit-cube coordinates (so a linear term b*x on [lo, hi] has EE = b*(hi - lo)); Sobol
//   first order by Saltelli et al. 2010 (Table 2, eq. b), total order by Jansen 1999, both
//   normalised by the variance of the pooled f(A), f(B) outputs.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace cm::stats {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// 1. Samples.

// The p-quantile of Student's t with df degrees of freedom (df may be fractional); p in (0, 1).
double t_quantile(double p, double df);

// The p-quantile of a sample (linear interpolation between order statistics, Hyndman-Fan
// type 7, as R's default); p in [0, 1]. The sample need not be sorted.
double quantile(std::span<const double> x, double p);

struct Interval {
  double low = kNaN;
  double high = kNaN;
  bool contains(double v) const { return low <= v && v <= high; }
  double half_width() const { return 0.5 * (high - low); }
};

struct Summary {
  std::size_t n = 0;
  double mean = kNaN;
  double sd = kNaN;          // sample standard deviation, denominator n - 1
  double se = kNaN;          // sd / sqrt(n)
  double half_width = kNaN;  // t_{(1+level)/2, n-1} * se
  Interval ci;               // mean -/+ half_width
  double level = 0.95;
};

// Welford's one-pass algorithm. Throws std::invalid_argument for an empty sample or a level
// outside (0, 1); with n == 1, sd, se and the interval are NaN.
Summary summarize(std::span<const double> x, double level = 0.95);

// Spearman's rank correlation of paired samples (average ranks for ties): the Pearson
// correlation of the ranks. NaN with fewer than 3 pairs or a sample without spread; pairs with a
// non-finite value are left out.
double spearman(std::span<const double> x, std::span<const double> y);

// ---------------------------------------------------------------------------------------------
// 2. Comparing a variant with a baseline.

// Unpaired difference of means (a - b) with the Welch-Satterthwaite interval.
struct WelchDifference {
  double diff = kNaN;
  double se = kNaN;
  double df = kNaN;
  double half_width = kNaN;
  Interval ci;
  double level = 0.95;
};
// Both samples need n >= 2.
WelchDifference welch_difference(std::span<const double> a, std::span<const double> b,
                                 double level = 0.95);

struct PairedComparison {
  Summary baseline;
  Summary variant;
  Summary difference;         // of d_j = variant_j - baseline_j (the paired, CRN analysis)
  WelchDifference unpaired;   // the same data analysed as if independent, for comparison
  double correlation = kNaN;  // Pearson correlation of baseline and variant (NaN if an sd is 0)
  // Replications per arm an independent (unpaired) design would need for its Welch interval
  // to be as narrow as the paired interval achieved, given the two arms' sds.
  std::size_t unpaired_replications_for_same_precision = 0;
};
// Throws std::invalid_argument unless both have the same length n >= 2.
PairedComparison compare_paired(std::span<const double> baseline, std::span<const double> variant,
                                double level = 0.95);

// The smallest n >= 2 with t_{(1+level)/2, n-1} * sd / sqrt(n) <= half_width (the condition is
// monotone in n; found by doubling then bisection from the normal-theory estimate).
// Returns 2 when sd == 0. Throws std::invalid_argument if half_width <= 0 or sd < 0.
std::size_t replications_needed(double sd, double half_width, double level = 0.95);

// The smallest n >= 2 replications per arm such that an unpaired comparison of two arms with
// sds sd_a and sd_b has a Welch interval half-width t_{(1+level)/2, df} * sqrt((sd_a^2 +
// sd_b^2) / n) <= half_width, with df = (n-1)(va+vb)^2 / (va^2+vb^2).
std::size_t unpaired_replications_needed(double sd_a, double sd_b, double half_width,
                                         double level = 0.95);

// ---------------------------------------------------------------------------------------------
// 3. Designs.

// A factor varied over [low, high]. If levels is not empty the factor is discrete: a grid
// uses exactly these levels, and a unit coordinate u maps to levels[min(m-1, floor(u*m))]
// (m = levels.size()), which for a Morris grid with p == m levels hits each level once.
struct Factor {
  std::string name;
  double low = 0.0;
  double high = 1.0;
  std::vector<double> levels;
};

// The grid levels of a factor: its explicit levels if any, else `count` evenly spaced values
// from low to high (count == 1 gives the midpoint). count must be >= 1.
std::vector<double> factor_levels(const Factor& factor, std::size_t count);

// Maps a unit-cube design (values in [0, 1]) onto the factors (one column per factor).
Eigen::MatrixXd scale_to_factors(const Eigen::MatrixXd& unit, const std::vector<Factor>& factors);

// Full factorial grid of the given level lists: prod(sizes) rows, first factor varying slowest.
// Throws std::length_error if the grid would be absurdly large (> 2^31 rows).
Eigen::MatrixXd full_factorial(const std::vector<std::vector<double>>& levels);
// Full factorial over the factors with factor_levels(f, levels_per_factor) for each.
Eigen::MatrixXd full_factorial(const std::vector<Factor>& factors, std::size_t levels_per_factor);

// Latin hypercube: n points in [0, 1)^k; for each factor, point i lies in stratum perm_j(i) of
// n equal strata, uniformly within it. Philox streams, purpose "stats.lhs", entity = factor.
Eigen::MatrixXd latin_hypercube_unit(std::size_t n, std::size_t k, std::uint64_t seed);
Eigen::MatrixXd latin_hypercube(const std::vector<Factor>& factors, std::size_t n,
                                std::uint64_t seed);

// Morris (1991) one-at-a-time trajectories on a p-level grid {0, 1/(p-1), ..., 1} with
// delta = p / (2(p-1)): B* = (J x* + (delta/2)[(2B - J) D* + J]) P*, with x* uniform on
// {0, ..., 1 - delta}, D* random signs and P* a random factor order. Trajectory t (k+1 rows)
// occupies rows [t(k+1), (t+1)(k+1)). p must be even and >= 2. Philox streams, purpose
// "stats.morris", entity = trajectory.
struct MorrisDesign {
  std::size_t factors = 0;
  std::size_t trajectories = 0;
  std::size_t levels = 0;
  double delta = 0.0;
  Eigen::MatrixXd unit;    // r(k+1) x k, grid values in [0, 1]
  Eigen::MatrixXd points;  // scale_to_factors(unit)
};
MorrisDesign morris_design(const std::vector<Factor>& factors, std::size_t trajectories,
                           std::size_t levels, std::uint64_t seed);

// Saltelli (2010) sampling: base matrices A and B (N x k each) and AB_i = A with column i taken
// from B. Row layout of unit/points: A in rows [0, N), B in [N, 2N), AB_i in [(2+i)N, (3+i)N),
// N(k+2) rows in all. The 2k-dimensional base sample is either a Sobol sequence (Joe-Kuo
// directions from Boost, points 1..N, i.e. without the origin) with a random digital shift
// (XOR of each coordinate with a seeded 64-bit word), or plain Philox uniforms.
enum class BaseSampler { sobol, philox };
struct SaltelliDesign {
  std::size_t factors = 0;
  std::size_t base_samples = 0;
  Eigen::MatrixXd unit;
  Eigen::MatrixXd points;
  Eigen::Index row_a(std::size_t j) const { return static_cast<Eigen::Index>(j); }
  Eigen::Index row_b(std::size_t j) const { return static_cast<Eigen::Index>(base_samples + j); }
  Eigen::Index row_ab(std::size_t i, std::size_t j) const {
    return static_cast<Eigen::Index>((2 + i) * base_samples + j);
  }
};
SaltelliDesign saltelli_design(const std::vector<Factor>& factors, std::size_t base_samples,
                               std::uint64_t seed, BaseSampler sampler = BaseSampler::sobol);

// ---------------------------------------------------------------------------------------------
// 4. Analysis.

// A point estimate with its bootstrap standard error and percentile interval.
struct BootstrapEstimate {
  double value = kNaN;
  double se = kNaN;
  Interval ci;
};

struct MorrisFactor {
  double mu = kNaN;           // mean elementary effect
  BootstrapEstimate mu_star;  // mean |elementary effect|
  double sigma = kNaN;        // sd of elementary effects (denominator r - 1)
};
struct MorrisResult {
  std::vector<MorrisFactor> factors;
  Eigen::MatrixXd elementary_effects;  // r x k, in unit-cube coordinates
  // Factor indices by decreasing mu* (ties by index).
  std::vector<std::size_t> ranking() const;
};
// y[row] is the response at design.points.row(row). Bootstrap: `bootstrap` resamples of the r
// trajectories (Philox, purpose "stats.morris.bootstrap", entity = replicate); 0 disables.
MorrisResult morris_analyze(const MorrisDesign& design, std::span<const double> y,
                            std::size_t bootstrap = 1000, std::uint64_t seed = 0,
                            double level = 0.95);

struct SobolFactor {
  BootstrapEstimate first;  // S_i, Saltelli 2010
  BootstrapEstimate total;  // S_Ti, Jansen 1999
};
struct SobolResult {
  std::vector<SobolFactor> factors;
  double variance = kNaN;  // of the pooled f(A), f(B)
};
// y[row] is the response at design.points.row(row). Bootstrap: `bootstrap` resamples of the N
// base rows j (A_j, B_j and every AB_i,j move together; Philox, purpose
// "stats.sobol.bootstrap", entity = replicate); 0 disables.
SobolResult sobol_analyze(const SaltelliDesign& design, std::span<const double> y,
                          std::size_t bootstrap = 1000, std::uint64_t seed = 0,
                          double level = 0.95);

// Mean response at each distinct value of each column of a design (e.g. a full factorial);
// rows whose value in a column is NaN are left out of that column.
struct MainEffect {
  std::vector<double> levels;      // distinct values, ascending
  std::vector<double> mean;        // mean of y over rows at that level
  std::vector<std::size_t> count;  // rows at that level
};
std::vector<MainEffect> main_effects(const Eigen::MatrixXd& design, std::span<const double> y);

}  // namespace cm::stats
