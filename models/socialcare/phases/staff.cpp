// Phase staff: turnover, personal ties, hours for the next day.

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

// Turnover, personal ties forming at regular meetings, and the next day's hours.
//
// Tie::personal counts the personal ties between the helpers of a tie's two organizations. It
// is counted in full at the end of the first day and then kept up to date: a tie formed adds
// one, a helper who leaves takes its ties along. A leaver's id stays in its partners' lists
// until the day's meetings are over (a place is freed the next day), then it is dropped.
void phases::phase_staff(const Scenario& sc, ModelState& st) {
  const HelperDef& def = sc.helpers;
  const double leave = def.turnover_per_year / 365.0;
  std::vector<std::uint32_t> partners_of_leavers;  // helper ids
  if (leave > 0) {
    const std::size_t n = st.staff.helpers.size();
    std::vector<std::uint8_t> leaves(n);
    parallel_for_each(
        n,
        [&](std::size_t s) {
          Stream rng = st.streams(kTurnover, s, static_cast<std::uint32_t>(st.tick));
          leaves[s] = rng.bernoulli(leave);
        },
        1024);
    for (std::size_t s = 0; s < n; ++s) {
      if (!leaves[s]) continue;
      Helper& h = st.staff.helpers[s];
      for (int k = 0; k < h.n_personal; ++k) {
        const std::int32_t other = st.staff.slot(h.personal[k]);
        if (other < 0) continue;  // left earlier today: the pair is already gone
        const Helper& o = st.staff.helpers[other];
        partners_of_leavers.push_back(o.id);
        if (o.org == h.org) continue;
        const std::int32_t t = st.ties.find(h.org, o.org);
        if (t >= 0 && st.ties[t].personal > 0) --st.ties[t].personal;
      }
      Stream q = st.streams(kQuality, st.staff.next_id, 0);
      st.staff.replace(static_cast<std::int32_t>(s), draw_helper_quality(def, q));
    }
  }
  if (def.personal_tie_per_meeting_day > 0) {
    // Who meets whom is drawn per tie from the tie's own stream (in parallel); the ties then
    // form in tie order, as helpers' lists fill up.
    struct Meeting {
      std::int32_t x = -1, y = -1;  // helper slots
    };
    std::vector<Meeting> meetings(st.ties.size());
    parallel_for_each(
        st.ties.size(),
        [&](std::size_t i) {
          const Tie& t = st.ties[i];
          if (t.level < 4 || st.orgs[t.a].n_helpers == 0 || st.orgs[t.b].n_helpers == 0) return;
          Stream rng = st.streams(kPersonalForm, i, static_cast<std::uint32_t>(st.tick));
          if (!rng.bernoulli(def.personal_tie_per_meeting_day)) return;
          meetings[i].x = st.orgs[t.a].first_helper +
                          static_cast<std::int32_t>(rng.below(st.orgs[t.a].n_helpers));
          meetings[i].y = st.orgs[t.b].first_helper +
                          static_cast<std::int32_t>(rng.below(st.orgs[t.b].n_helpers));
        },
        1024);
    for (std::size_t i = 0; i < st.ties.size(); ++i) {
      if (meetings[i].x < 0) continue;
      Helper& x = st.staff.helpers[meetings[i].x];
      Helper& y = st.staff.helpers[meetings[i].y];
      if (x.n_personal < def.personal_ties_max && y.n_personal < def.personal_ties_max &&
          x.add_personal(y.id, def.personal_ties_max) &&
          y.add_personal(x.id, def.personal_ties_max) && st.ties[i].personal < 0xffff)
        ++st.ties[i].personal;
    }
  }
  if (st.tick == 0) {
    recount_personal_ties(sc, st);
  } else {
    for (std::uint32_t id : partners_of_leavers) {
      const std::int32_t s = st.staff.slot(id);
      if (s >= 0) drop_departed_partners(sc, st, st.staff.helpers[s]);
    }
  }
  update_hours(sc, st);
}

void phases::drop_departed_partners(const Scenario& /*sc*/, const ModelState& st, Helper& h) {
  int kept = 0;
  for (int k = 0; k < h.n_personal; ++k)
    if (st.staff.slot(h.personal[k]) >= 0) h.personal[kept++] = h.personal[k];
  h.n_personal = static_cast<std::uint8_t>(kept);
}

void phases::recount_personal_ties(const Scenario& sc, ModelState& st) {
  for (std::size_t i = 0; i < st.ties.size(); ++i) st.ties[i].personal = 0;
  for (Helper& h : st.staff.helpers) {
    drop_departed_partners(sc, st, h);
    for (int k = 0; k < h.n_personal; ++k) {
      const Helper& o = st.staff.helpers[st.staff.slot(h.personal[k])];
      if (o.org == h.org || h.id > o.id) continue;
      const std::int32_t t = st.ties.find(h.org, o.org);
      if (t >= 0 && st.ties[t].personal < 0xffff) ++st.ties[t].personal;
    }
  }
}

}  // namespace cm::care
