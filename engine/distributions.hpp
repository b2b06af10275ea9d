// Exact samplers cheaper than the general ones for the shapes a model uses most.
#pragma once

#include <algorithm>

#include "engine/rng.hpp"

namespace cm {

// Beta(2, 2) as the median of three uniforms: the k-th smallest of n independent uniforms is
// Beta(k, n + 1 - k) (David & Nagaraja 2003, "Order Statistics", section 2.2). Three uniform
// draws instead of the two gamma variates (tan, log, exp, rejection) of a general beta sampler.
inline double beta_2_2(Stream& rng) {
  const double a = rng.uniform(), b = rng.uniform(), c = rng.uniform();
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

}  // namespace cm
