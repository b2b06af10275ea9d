// Times to the next event of daily chances, drawn at once instead of one draw a day.
//
// A daily draw with chance p (or a hazard h(k) that changes with the day k) fires on the first
// day its draw succeeds. Drawing that day directly gives the same distribution,
// P(T > k) = prod over the days j <= k of (1 - h(j)), for a fraction of the draws: inversion
// for a constant chance, thinning for a hazard that grows linearly (docs/model.md,
// "Event-driven clients", shows both are the daily process).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/rng.hpp"

namespace cm::event_times {

inline constexpr std::int64_t kNoDay = std::numeric_limits<std::int32_t>::max();

// The days of failure before the first success of daily Bernoulli(p) draws: geometric on
// {0, 1, ...} by inversion, floor(log U / log(1 - p)) with U uniform on (0, 1] (Devroye 1986,
// "Non-Uniform Random Variate Generation", X.2). kNoDay when p is 0 (never).
inline std::int64_t geometric_failures(double p, Stream& rng) {
  if (!(p > 0.0)) return kNoDay;
  if (p >= 1.0) return 0;
  const double u = 1.0 - rng.uniform();  // (0, 1]
  const double k = std::floor(std::log(u) / std::log1p(-p));
  return k < static_cast<double>(kNoDay) ? static_cast<std::int64_t>(k) : kNoDay;
}

// The first day in [from, cap) on which daily draws with the hazard h(k) = a + b (k - arrival)
// succeed, or kNoDay. Thinning in discrete time (Lewis & Shedler 1979; Devroye 1986, VI.2): in a
// window where h <= hmax, candidate days come from Bernoulli(hmax) draws (geometric gaps) and a
// candidate is kept with chance h(k) / hmax, so each day fires independently with chance h(k),
// as a daily draw does. A window lasts until the hazard has about doubled (at least 16 days), so
// a wait of years costs a few windows, not a draw a day.
inline std::int64_t first_hazard_day(double a, double b, std::int64_t arrival, std::int64_t from,
                                     std::int64_t cap, Stream& rng) {
  const auto h = [&](std::int64_t k) { return a + b * static_cast<double>(k - arrival); };
  std::int64_t k = from;
  while (k < cap) {
    std::int64_t end = cap;
    if (b > 0.0) {
      const double len = std::max(16.0, h(k) / b);
      end = std::min<std::int64_t>(cap, k + static_cast<std::int64_t>(std::min(len, 1.0e9)));
    }
    const double hmax = std::min(1.0, std::max(h(k), h(end - 1)));
    if (hmax > 0.0) {
      while (k < end) {
        const std::int64_t gap = geometric_failures(hmax, rng);
        if (gap >= end - k) break;
        k += gap;
        if (rng.uniform() * hmax < h(k)) return k;
        ++k;
      }
    }
    k = end;
  }
  return kNoDay;
}

}  // namespace cm::event_times
