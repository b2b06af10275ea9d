// Phase waits: the organizations' waiting times as their partners see them.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "engine/hash.hpp"
#include "engine/parallel.hpp"
#include "models/socialcare/phases/common.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

// What each organization knows of its own queues at the end of the day, published for its
// partners (MODEL.md §12): per service, the expected days until a client referred now would
// start = (clients waiting + 1 if no helper is free) / services started per day (a moving mean
// over decisions.wait_window_days, at least one start per window). Every
// decisions.meeting_interval_days the figures are told at the regular meeting (level 4-6
// partners see those); level 7 partners see them as of today.
void phases::phase_waits(const Scenario& sc, ModelState& st) {
  const DecisionDef& dec = sc.decisions;
  const double window = dec.wait_window_days;
  const bool meeting = st.tick % dec.meeting_interval_days == 0;
  const int cap = sc.helpers.caseload_cap;
  const std::size_t n_stepped = st.own_orgs.size();
  parallel_for_each(
      n_stepped,
      [&](std::size_t i) {
        const std::int32_t o = st.own_orgs[i];
        OrgState& org = st.orgs[o];
        for (int s = 0; s < static_cast<int>(sc.services.size()); ++s) {
          if (!offers(sc, st, o, s)) continue;
          float& rate = org.start_rate[s];
          rate += static_cast<float>((org.started_today[s] - rate) / window);
          org.started_today[s] = 0;
          float& agreed = org.agreement_rate[s];
          agreed += static_cast<float>((org.agreement_today[s] - agreed) / window);
          org.agreement_today[s] = 0;
          const auto waiting = static_cast<double>(org.queues[s].size());
          bool free = false;
          if (waiting == 0) {
            const float hours = static_cast<float>(sc.services[s].hours_per_day);
            st.for_each_staff(o, [&](std::int32_t x) {
              const Helper& h = st.staff.helpers[x];
              free = free || (((h.skills >> s) & 1u) && h.can_take(hours, cap));
            });
          }
          org.wait_now[s] = static_cast<float>((waiting + (free ? 0.0 : 1.0)) /
                                               std::max<double>(rate, 1.0 / window));
          if (meeting) org.wait_meeting[s] = org.wait_now[s];
        }
      },
      16);
}

}  // namespace cm::care
