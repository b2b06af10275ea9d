#include "engine/stats.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/random/sobol.hpp>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "engine/rng.hpp"

namespace cm::stats {

namespace {

constexpr std::uint64_t kLhsPurpose = purpose_code("stats.lhs");
constexpr std::uint64_t kMorrisPurpose = purpose_code("stats.morris");
constexpr std::uint64_t kMorrisBootstrapPurpose = purpose_code("stats.morris.bootstrap");
constexpr std::uint64_t kSaltelliShiftPurpose = purpose_code("stats.saltelli.shift");
constexpr std::uint64_t kSaltelliPhiloxPurpose = purpose_code("stats.saltelli.philox");
constexpr std::uint64_t kSobolBootstrapPurpose = purpose_code("stats.sobol.bootstrap");

void check_level(double level) {
  if (!(level > 0.0 && level < 1.0))
    throw std::invalid_argument("stats: confidence level must be in (0, 1)");
}

double normal_quantile(double p) {
  return boost::math::quantile(boost::math::normal_distribution<double>(), p);
}

// The mean and sample sd of x (two-pass; x non-empty).
std::pair<double, double> mean_sd(std::span<const double> x) {
  const double n = static_cast<double>(x.size());
  double mean = 0.0;
  for (double v : x) mean += v;
  mean /= n;
  if (x.size() < 2) return {mean, kNaN};
  double ss = 0.0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return {mean, std::sqrt(ss / (n - 1.0))};
}

// Bootstrap standard error and percentile interval of the replicates around `value`.
BootstrapEstimate bootstrap_estimate(double value, std::vector<double>& replicates, double level) {
  BootstrapEstimate e;
  e.value = value;
  if (replicates.size() >= 2) {
    e.se = mean_sd(replicates).second;
    e.ci.low = quantile(replicates, 0.5 * (1.0 - level));
    e.ci.high = quantile(replicates, 0.5 * (1.0 + level));
  }
  return e;
}

// The smallest n >= 2 with ok(n), for ok monotone (false ... false true true ...), starting the
// search from a lower estimate n0 of the answer.
template <class Ok>
std::size_t smallest_n(double n0, Ok ok) {
  if (ok(2)) return 2;
  constexpr std::size_t kLimit = std::size_t{1} << 52;
  std::size_t lo = 2;  // known to fail
  std::size_t hi = 3;
  if (std::isfinite(n0) && n0 > 3.0)
    hi = n0 >= static_cast<double>(kLimit) ? kLimit : static_cast<std::size_t>(std::ceil(n0));
  while (!ok(hi)) {
    if (hi >= kLimit) throw std::overflow_error("stats: replications needed exceed 2^52");
    lo = hi;
    hi = std::min(kLimit, hi * 2);
  }
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (ok(mid) ? hi : lo) = mid;
  }
  return hi;
}

void check_factors(const std::vector<Factor>& factors) {
  if (factors.empty()) throw std::invalid_argument("stats: a design needs at least one factor");
  for (const Factor& f : factors)
    if (f.levels.empty() && !(f.low <= f.high))
      throw std::invalid_argument("stats: factor '" + f.name + "' has low > high");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Samples.

double t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("t_quantile: p must be in (0, 1)");
  if (!(df > 0.0)) throw std::invalid_argument("t_quantile: df must be > 0");
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), p);
}

double quantile(std::span<const double> x, double p) {
  if (x.empty()) throw std::invalid_argument("quantile: empty sample");
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("quantile: p must be in [0, 1]");
  std::vector<double> s(x.begin(), x.end());
  const double h = static_cast<double>(s.size() - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(lo), s.end());
  const double a = s[lo];
  if (lo + 1 >= s.size()) return a;
  const double b = *std::min_element(s.begin() + static_cast<std::ptrdiff_t>(lo) + 1, s.end());
  return a + (h - static_cast<double>(lo)) * (b - a);
}

namespace {
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}
}  // namespace

double spearman(std::span<const double> x, std::span<const double> y) {
  std::vector<double> a, b;
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      a.push_back(x[i]);
      b.push_back(y[i]);
    }
  if (a.size() < 3) return kNaN;
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double n = static_cast<double>(ra.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    ma += ra[i] / n;
    mb += rb[i] / n;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  if (saa <= 0 || sbb <= 0) return kNaN;
  return sab / std::sqrt(saa * sbb);
}

Summary summarize(std::span<const double> x, double level) {
  if (x.empty()) throw std::invalid_argument("summarize: empty sample");
  check_level(level);
  Summary s;
  s.level = level;
  s.n = x.size();
  // Welford: running mean and sum of squared deviations.
  double mean = 0.0;
  double m2 = 0.0;
  std::size_t k = 0;
  for (double v : x) {
    ++k;
    const double d = v - mean;
    mean += d / static_cast<double>(k);
    m2 += d * (v - mean);
  }
  s.mean = mean;
  if (s.n >= 2) {
    const double n = static_cast<double>(s.n);
    s.sd = std::sqrt(m2 / (n - 1.0));
    s.se = s.sd / std::sqrt(n);
    s.half_width = t_quantile(0.5 * (1.0 + level), n - 1.0) * s.se;
    s.ci = {s.mean - s.half_width, s.mean + s.half_width};
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// 2. Comparisons.

WelchDifference welch_difference(std::span<const double> a, std::span<const double> b,
                                 double level) {
  if (a.size() < 2 || b.size() < 2)
    throw std::invalid_argument("welch_difference: each sample needs n >= 2");
  check_level(level);
  const Summary sa = summarize(a, level);
  const Summary sb = summarize(b, level);
  const double na = static_cast<double>(sa.n);
  const double nb = static_cast<double>(sb.n);
  const double va = sa.sd * sa.sd / na;
  const double vb = sb.sd * sb.sd / nb;
  WelchDifference w;
  w.level = level;
  w.diff = sa.mean - sb.mean;
  w.se = std::sqrt(va + vb);
  if (va + vb > 0.0) {
    w.df = (va + vb) * (va + vb) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    w.half_width = t_quantile(0.5 * (1.0 + level), w.df) * w.se;
  } else {
    w.df = na + nb - 2.0;
    w.half_width = 0.0;
  }
  w.ci = {w.diff - w.half_width, w.diff + w.half_width};
  return w;
}

PairedComparison compare_paired(std::span<const double> baseline, std::span<const double> variant,
                                double level) {
  if (baseline.size() != variant.size())
    throw std::invalid_argument("compare_paired: samples differ in length");
  if (baseline.size() < 2) throw std::invalid_argument("compare_paired: needs n >= 2 pairs");
  PairedComparison c;
  c.baseline = summarize(baseline, level);
  c.variant = summarize(variant, level);
  std::vector<double> d(baseline.size());
  for (std::size_t j = 0; j < d.size(); ++j) d[j] = variant[j] - baseline[j];
  c.difference = summarize(d, level);
  c.unpaired = welch_difference(variant, baseline, level);
  if (c.baseline.sd > 0.0 && c.variant.sd > 0.0) {
    double cov = 0.0;
    for (std::size_t j = 0; j < d.size(); ++j)
      cov += (baseline[j] - c.baseline.mean) * (variant[j] - c.variant.mean);
    cov /= static_cast<double>(d.size() - 1);
    c.correlation = cov / (c.baseline.sd * c.variant.sd);
  }
  const double h = c.difference.half_width;
  if (h > 0.0) {
    c.unpaired_replications_for_same_precision =
        unpaired_replications_needed(c.variant.sd, c.baseline.sd, h, level);
  } else if (c.baseline.sd == 0.0 && c.variant.sd == 0.0) {
    c.unpaired_replications_for_same_precision = 2;
  } else {
    // A zero-width paired interval cannot be matched by any finite unpaired design.
    c.unpaired_replications_for_same_precision = std::numeric_limits<std::size_t>::max();
  }
  return c;
}

std::size_t replications_needed(double sd, double half_width, double level) {
  check_level(level);
  if (!(half_width > 0.0)) throw std::invalid_argument("replications_needed: half_width <= 0");
  if (!(sd >= 0.0)) throw std::invalid_argument("replications_needed: sd < 0");
  if (sd == 0.0) return 2;
  const double q = 0.5 * (1.0 + level);
  const double z = normal_quantile(q) * sd / half_width;
  return smallest_n(z * z, [&](std::size_t n) {
    const double nn = static_cast<double>(n);
    return t_quantile(q, nn - 1.0) * sd / std::sqrt(nn) <= half_width;
  });
}

std::size_t unpaired_replications_needed(double sd_a, double sd_b, double half_width,
                                         double level) {
  check_level(level);
  if (!(half_width > 0.0))
    throw std::invalid_argument("unpaired_replications_needed: half_width <= 0");
  if (!(sd_a >= 0.0 && sd_b >= 0.0))
    throw std::invalid_argument("unpaired_replications_needed: sd < 0");
  const double va = sd_a * sd_a;
  const double vb = sd_b * sd_b;
  if (va + vb == 0.0) return 2;
  const double q = 0.5 * (1.0 + level);
  const double z = normal_quantile(q);
  const double df_per_n = (va + vb) * (va + vb) / (va * va + vb * vb);  // times (n - 1)
  return smallest_n(z * z * (va + vb) / (half_width * half_width), [&](std::size_t n) {
    const double nn = static_cast<double>(n);
    return t_quantile(q, (nn - 1.0) * df_per_n) * std::sqrt((va + vb) / nn) <= half_width;
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Designs.

std::vector<double> factor_levels(const Factor& factor, std::size_t count) {
  if (!factor.levels.empty()) return factor.levels;
  if (count == 0) throw std::invalid_argument("factor_levels: count must be >= 1");
  if (count == 1) return {0.5 * (factor.low + factor.high)};
  std::vector<double> v(count);
  const double span = factor.high - factor.low;
  for (std::size_t i = 0; i < count; ++i)
    v[i] = factor.low + span * (static_cast<double>(i) / static_cast<double>(count - 1));
  v.back() = factor.high;
  return v;
}

Eigen::MatrixXd scale_to_factors(const Eigen::MatrixXd& unit, const std::vector<Factor>& factors) {
  if (static_cast<std::size_t>(unit.cols()) != factors.size())
    throw std::invalid_argument("scale_to_factors: column count differs from factor count");
  Eigen::MatrixXd out(unit.rows(), unit.cols());
  for (Eigen::Index c = 0; c < unit.cols(); ++c) {
    const Factor& f = factors[static_cast<std::size_t>(c)];
    const std::size_t m = f.levels.size();
    for (Eigen::Index r = 0; r < unit.rows(); ++r) {
      const double u = unit(r, c);
      if (m == 0) {
        out(r, c) = f.low + u * (f.high - f.low);
      } else {
        const double pos = std::floor(std::clamp(u, 0.0, 1.0) * static_cast<double>(m));
        out(r, c) = f.levels[std::min(m - 1, static_cast<std::size_t>(pos))];
      }
    }
  }
  return out;
}

Eigen::MatrixXd full_factorial(const std::vector<std::vector<double>>& levels) {
  if (levels.empty()) throw std::invalid_argument("full_factorial: no factors");
  constexpr std::size_t kMaxRows = std::size_t{1} << 31;
  std::size_t rows = 1;
  for (const auto& l : levels) {
    if (l.empty()) throw std::invalid_argument("full_factorial: a factor has no levels");
    if (rows > kMaxRows / l.size()) throw std::length_error("full_factorial: grid too large");
    rows *= l.size();
  }
  const std::size_t k = levels.size();
  Eigen::MatrixXd g(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(k));
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t rest = r;
    for (std::size_t c = k; c-- > 0;) {  // last factor varies fastest
      const std::size_t m = levels[c].size();
      g(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = levels[c][rest % m];
      rest /= m;
    }
  }
  return g;
}

Eigen::MatrixXd full_factorial(const std::vector<Factor>& factors, std::size_t levels_per_factor) {
  check_factors(factors);
  std::vector<std::vector<double>> levels;
  levels.reserve(factors.size());
  for (const Factor& f : factors) levels.push_back(factor_levels(f, levels_per_factor));
  return full_factorial(levels);
}

Eigen::MatrixXd latin_hypercube_unit(std::size_t n, std::size_t k, std::uint64_t seed) {
  if (n == 0 || k == 0) throw std::invalid_argument("latin_hypercube: n and k must be >= 1");
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("latin_hypercube: n too large");
  Eigen::MatrixXd x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(k));
  std::vector<std::uint32_t> perm(n);
  const double nd = static_cast<double>(n);
  for (std::size_t j = 0; j < k; ++j) {
    Stream s(seed, kLhsPurpose, j, 0);
    std::iota(perm.begin(), perm.end(), 0u);
    for (std::size_t i = n; i-- > 1;)  // Fisher-Yates
      std::swap(perm[i], perm[s.below(static_cast<std::uint32_t>(i + 1))]);
    for (std::size_t i = 0; i < n; ++i) {
      const double lo = static_cast<double>(perm[i]);
      // Keep the point inside its stratum even if perm + u rounds up to perm + 1.
      const double v = std::min((lo + s.uniform()) / nd, std::nextafter((lo + 1.0) / nd, 0.0));
      x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v;
    }
  }
  return x;
}

Eigen::MatrixXd latin_hypercube(const std::vector<Factor>& factors, std::size_t n,
                                std::uint64_t seed) {
  check_factors(factors);
  return scale_to_factors(latin_hypercube_unit(n, factors.size(), seed), factors);
}

MorrisDesign morris_design(const std::vector<Factor>& factors, std::size_t trajectories,
                           std::size_t levels, std::uint64_t seed) {
  check_factors(factors);
  if (trajectories == 0) throw std::invalid_argument("morris_design: trajectories must be >= 1");
  if (levels < 2 || levels % 2 != 0 || levels > (std::size_t{1} << 31))
    throw std::invalid_argument("morris_design: levels must be even and >= 2");
  const std::size_t k = factors.size();
  const std::size_t half = levels / 2;  // delta in grid steps
  const double step = 1.0 / static_cast<double>(levels - 1);
  MorrisDesign d;
  d.factors = k;
  d.trajectories = trajectories;
  d.levels = levels;
  d.delta = static_cast<double>(levels) / (2.0 * static_cast<double>(levels - 1));
  d.unit.resize(static_cast<Eigen::Index>(trajectories * (k + 1)), static_cast<Eigen::Index>(k));
  std::vector<std::size_t> idx(k);  // current grid index of each factor
  std::vector<bool> up(k);          // D*: +1 moves base -> base + delta
  std::vector<std::size_t> order(k);
  for (std::size_t t = 0; t < trajectories; ++t) {
    Stream s(seed, kMorrisPurpose, t, 0);
    for (std::size_t j = 0; j < k; ++j) idx[j] = s.below(static_cast<std::uint32_t>(half));
    for (std::size_t j = 0; j < k; ++j) {
      up[j] = s.below(2) == 0;
      if (!up[j]) idx[j] += half;  // start at the upper end, step down
    }
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = k; i-- > 1;)
      std::swap(order[i], order[s.below(static_cast<std::uint32_t>(i + 1))]);
    const std::size_t row0 = t * (k + 1);
    for (std::size_t m = 0; m <= k; ++m) {
      if (m > 0) {
        const std::size_t j = order[m - 1];
        idx[j] = up[j] ? idx[j] + half : idx[j] - half;
      }
      for (std::size_t j = 0; j < k; ++j)
        d.unit(static_cast<Eigen::Index>(row0 + m), static_cast<Eigen::Index>(j)) =
            idx[j] == levels - 1 ? 1.0 : static_cast<double>(idx[j]) * step;
    }
  }
  d.points = scale_to_factors(d.unit, factors);
  return d;
}

SaltelliDesign saltelli_design(const std::vector<Factor>& factors, std::size_t base_samples,
                               std::uint64_t seed, BaseSampler sampler) {
  check_factors(factors);
  if (base_samples < 2) throw std::invalid_argument("saltelli_design: base_samples must be >= 2");
  if (base_samples > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("saltelli_design: base_samples too large");
  const std::size_t k = factors.size();
  const std::size_t n = base_samples;
  const std::size_t dim = 2 * k;
  // The N x 2k base sample: columns [0, k) are A, [k, 2k) are B.
  Eigen::MatrixXd base(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dim));
  constexpr double kTwoM53 = 1.0 / 9007199254740992.0;
  if (sampler == BaseSampler::sobol) {
    if (dim > boost::random::default_sobol_table::max_dimension)
      throw std::invalid_argument("saltelli_design: too many factors for the Sobol table");
    boost::random::sobol gen(static_cast<std::size_t>(dim));
    Stream s(seed, kSaltelliShiftPurpose, 0, 0);
    std::vector<std::uint64_t> shift(dim);
    for (auto& w : shift) {
      const std::uint64_t hi = s();
      w = (hi << 32) | s();
    }
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t c = 0; c < dim; ++c) {
        const std::uint64_t v = static_cast<std::uint64_t>(gen()) ^ shift[c];
        base(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c)) =
            static_cast<double>(v >> 11) * kTwoM53;
      }
  } else {
    for (std::size_t j = 0; j < n; ++j) {
      Stream s(seed, kSaltelliPhiloxPurpose, j, 0);
      for (std::size_t c = 0; c < dim; ++c)
        base(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c)) = s.uniform();
    }
  }
  SaltelliDesign d;
  d.factors = k;
  d.base_samples = n;
  const auto N = static_cast<Eigen::Index>(n);
  const auto K = static_cast<Eigen::Index>(k);
  d.unit.resize(N * (K + 2), K);
  d.unit.topRows(N) = base.leftCols(K);
  d.unit.middleRows(N, N) = base.rightCols(K);
  for (Eigen::Index i = 0; i < K; ++i) {
    auto ab = d.unit.middleRows((2 + i) * N, N);
    ab = base.leftCols(K);
    ab.col(i) = base.col(K + i);
  }
  d.points = scale_to_factors(d.unit, factors);
  return d;
}

// ---------------------------------------------------------------------------------------------
// 4. Analysis.

std::vector<std::size_t> MorrisResult::ranking() const {
  std::vector<std::size_t> r(factors.size());
  std::iota(r.begin(), r.end(), std::size_t{0});
  std::stable_sort(r.begin(), r.end(), [&](std::size_t a, std::size_t b) {
    return factors[a].mu_star.value > factors[b].mu_star.value;
  });
  return r;
}

MorrisResult morris_analyze(const MorrisDesign& design, std::span<const double> y,
                            std::size_t bootstrap, std::uint64_t seed, double level) {
  check_level(level);
  const std::size_t k = design.factors;
  const std::size_t r = design.trajectories;
  if (y.size() != r * (k + 1) || static_cast<std::size_t>(design.unit.rows()) != y.size())
    throw std::invalid_argument("morris_analyze: response count differs from design rows");
  if (r > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("morris_analyze: too many trajectories");
  MorrisResult res;
  res.elementary_effects.resize(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k));
  for (std::size_t t = 0; t < r; ++t) {
    std::vector<bool> seen(k, false);
    for (std::size_t m = 1; m <= k; ++m) {
      const auto r0 = static_cast<Eigen::Index>(t * (k + 1) + m - 1);
      const Eigen::RowVectorXd step = design.unit.row(r0 + 1) - design.unit.row(r0);
      Eigen::Index c = -1;
      for (Eigen::Index j = 0; j < step.size(); ++j)
        if (step(j) != 0.0) {
          if (c >= 0) throw std::logic_error("morris_analyze: step moves more than one factor");
          c = j;
        }
      if (c < 0 || seen[static_cast<std::size_t>(c)])
        throw std::logic_error("morris_analyze: not a Morris trajectory");
      seen[static_cast<std::size_t>(c)] = true;
      const double dx = step(c) > 0.0 ? design.delta : -design.delta;
      res.elementary_effects(static_cast<Eigen::Index>(t), c) =
          (y[static_cast<std::size_t>(r0) + 1] - y[static_cast<std::size_t>(r0)]) / dx;
    }
  }
  const Eigen::MatrixXd& ee = res.elementary_effects;
  const Eigen::MatrixXd abs_ee = ee.cwiseAbs();
  std::vector<std::vector<double>> reps(k);
  if (bootstrap > 0) {
    std::vector<Eigen::Index> pick(r);
    for (std::size_t b = 0; b < bootstrap; ++b) {
      Stream s(seed, kMorrisBootstrapPurpose, b, 0);
      for (auto& p : pick) p = static_cast<Eigen::Index>(s.below(static_cast<std::uint32_t>(r)));
      for (std::size_t j = 0; j < k; ++j) {
        double sum = 0.0;
        for (Eigen::Index p : pick) sum += abs_ee(p, static_cast<Eigen::Index>(j));
        reps[j].push_back(sum / static_cast<double>(r));
      }
    }
  }
  res.factors.resize(k);
  for (std::size_t j = 0; j < k; ++j) {
    const auto J = static_cast<Eigen::Index>(j);
    std::vector<double> col(ee.col(J).data(), ee.col(J).data() + r);
    const auto [mu, sigma] = mean_sd(col);
    res.factors[j].mu = mu;
    res.factors[j].sigma = sigma;
    res.factors[j].mu_star = bootstrap_estimate(abs_ee.col(J).mean(), reps[j], level);
  }
  return res;
}

namespace {

// Saltelli 2010 first-order and Jansen total indices over the base rows `rows` (with repeats).
struct SobolPoint {
  std::vector<double> first, total;
  double variance;
};

SobolPoint sobol_point(const std::vector<double>& fa, const std::vector<double>& fb,
                       const std::vector<std::vector<double>>& fab,
                       const std::vector<std::uint32_t>* rows) {
  const std::size_t n = rows ? rows->size() : fa.size();
  const std::size_t k = fab.size();
  auto row = [&](std::size_t i) -> std::size_t { return rows ? (*rows)[i] : i; };
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += fa[row(i)] + fb[row(i)];
  mean /= 2.0 * static_cast<double>(n);
  double ss = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = fa[row(i)] - mean;
    const double b = fb[row(i)] - mean;
    ss += a * a + b * b;
  }
  SobolPoint p;
  p.variance = ss / (2.0 * static_cast<double>(n) - 1.0);
  p.first.assign(k, kNaN);
  p.total.assign(k, kNaN);
  if (!(p.variance > 0.0)) return p;
  for (std::size_t c = 0; c < k; ++c) {
    double s1 = 0.0;
    double st = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = row(i);
      const double dab = fab[c][j] - fa[j];
      s1 += fb[j] * dab;
      st += dab * dab;
    }
    p.first[c] = s1 / static_cast<double>(n) / p.variance;
    p.total[c] = st / (2.0 * static_cast<double>(n)) / p.variance;
  }
  return p;
}

}  // namespace

SobolResult sobol_analyze(const SaltelliDesign& design, std::span<const double> y,
                          std::size_t bootstrap, std::uint64_t seed, double level) {
  check_level(level);
  const std::size_t k = design.factors;
  const std::size_t n = design.base_samples;
  if (y.size() != n * (k + 2) || static_cast<std::size_t>(design.unit.rows()) != y.size())
    throw std::invalid_argument("sobol_analyze: response count differs from design rows");
  std::vector<double> fa(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<double> fb(y.begin() + static_cast<std::ptrdiff_t>(n),
                         y.begin() + static_cast<std::ptrdiff_t>(2 * n));
  std::vector<std::vector<double>> fab(k);
  for (std::size_t i = 0; i < k; ++i)
    fab[i].assign(y.begin() + static_cast<std::ptrdiff_t>((2 + i) * n),
                  y.begin() + static_cast<std::ptrdiff_t>((3 + i) * n));
  const SobolPoint est = sobol_point(fa, fb, fab, nullptr);
  std::vector<std::vector<double>> rep_first(k), rep_total(k);
  if (bootstrap > 0) {
    std::vector<std::uint32_t> rows(n);
    for (std::size_t b = 0; b < bootstrap; ++b) {
      Stream s(seed, kSobolBootstrapPurpose, b, 0);
      for (auto& r : rows) r = s.below(static_cast<std::uint32_t>(n));
      const SobolPoint p = sobol_point(fa, fb, fab, &rows);
      for (std::size_t i = 0; i < k; ++i) {
        if (std::isnan(p.first[i])) continue;  // degenerate resample (zero variance)
        rep_first[i].push_back(p.first[i]);
        rep_total[i].push_back(p.total[i]);
      }
    }
  }
  SobolResult res;
  res.variance = est.variance;
  res.factors.resize(k);
  for (std::size_t i = 0; i < k; ++i) {
    res.factors[i].first = bootstrap_estimate(est.first[i], rep_first[i], level);
    res.factors[i].total = bootstrap_estimate(est.total[i], rep_total[i], level);
  }
  return res;
}

std::vector<MainEffect> main_effects(const Eigen::MatrixXd& design, std::span<const double> y) {
  if (static_cast<std::size_t>(design.rows()) != y.size())
    throw std::invalid_argument("main_effects: response count differs from design rows");
  std::vector<MainEffect> out(static_cast<std::size_t>(design.cols()));
  for (Eigen::Index c = 0; c < design.cols(); ++c) {
    std::map<double, std::pair<double, std::size_t>> acc;  // level -> (sum, count)
    for (Eigen::Index r = 0; r < design.rows(); ++r) {
      if (std::isnan(design(r, c))) continue;
      auto& a = acc[design(r, c)];
      a.first += y[static_cast<std::size_t>(r)];
      ++a.second;
    }
    MainEffect& e = out[static_cast<std::size_t>(c)];
    for (const auto& [level, a] : acc) {
      e.levels.push_back(level);
      e.mean.push_back(a.first / static_cast<double>(a.second));
      e.count.push_back(a.second);
    }
  }
  return out;
}

}  // namespace cm::stats
