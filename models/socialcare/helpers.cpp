#include "models/socialcare/helpers.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>

namespace cm::care {

bool Helper::has_personal(std::uint32_t other) const {
  return std::find(personal.begin(), personal.begin() + n_personal, other) !=
         personal.begin() + n_personal;
}

bool Helper::add_personal(std::uint32_t other, int max_ties) {
  if (n_personal >= std::min(max_ties, kMaxPersonalTies) || has_personal(other)) return false;
  personal[n_personal++] = other;
  return true;
}

float draw_helper_quality(const HelperDef& def, Stream& rng) {
  if (def.quality_sd <= 0) return static_cast<float>(def.quality_mean);
  boost::random::normal_distribution<double> normal(def.quality_mean, def.quality_sd);
  return static_cast<float>(std::clamp(normal(rng), 0.01, 1.0));
}

void Staff::replace(std::int32_t s, float quality) {
  Helper& h = helpers[s];
  slot_of_id[h.id] = -1;
  h.id = next_id++;
  slot_of_id.push_back(s);
  h.quality = quality;
  h.n_personal = 0;
}

}  // namespace cm::care
