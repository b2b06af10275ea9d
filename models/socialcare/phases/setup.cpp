// Setting a run up: the staff, the helpers' personal ties, the referral index, the day's hours.

#include <algorithm>
#include <atomic>
#include <boost/random/poisson_distribution.hpp>
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

void phases::build_route_index(const Scenario& sc, ModelState& st) {
  constexpr std::size_t kIndexedFrom = 32;  // ties; fewer are scanned whole
  st.route_first.assign(sc.organizations.size(), -1);
  for (std::size_t o = 0; o < sc.organizations.size(); ++o) {
    const auto& ties = st.ties.of(static_cast<std::int32_t>(o));
    if (ties.size() < kIndexedFrom) continue;
    st.route_first[o] = static_cast<std::int64_t>(st.route_begin.size());
    for (int d : sc.organizations[o].serves) {
      st.route_begin.push_back(static_cast<std::uint32_t>(st.route_pos.size()));
      for (std::size_t k = 0; k < ties.size(); ++k)
        if (st.ties[ties[k].second].cross_territory || serves(sc, st, ties[k].first, d))
          st.route_pos.push_back(static_cast<std::uint32_t>(k));
    }
    st.route_begin.push_back(static_cast<std::uint32_t>(st.route_pos.size()));
  }
}

void phases::init_staff(const Scenario& sc, ModelState& st) {
  std::size_t n = 0;
  for (const Organization& org : sc.organizations) n += static_cast<std::size_t>(org.helpers);
  st.staff.helpers.reserve(n);
  st.staff.slot_of_id.reserve(n);
  for (std::size_t o = 0; o < sc.organizations.size(); ++o) {
    const Organization& org = sc.organizations[o];
    st.orgs[o].first_helper = static_cast<std::int32_t>(st.staff.helpers.size());
    st.orgs[o].n_helpers = org.helpers;
    for (int i = 0; i < org.helpers; ++i) {
      Helper h;
      h.id = st.staff.next_id++;
      h.org = static_cast<std::int32_t>(o);
      h.skills = org.services & ~st.innovative_mask;  // new forms of service need a contract
      Stream rng = st.streams(kQuality, h.id, 0);
      h.quality = draw_helper_quality(sc.helpers, rng);
      st.staff.slot_of_id.push_back(static_cast<std::int32_t>(st.staff.helpers.size()));
      st.staff.helpers.push_back(h);
    }
  }
}

void phases::init_personal_ties(const Scenario& sc, ModelState& st) {
  const HelperDef& def = sc.helpers;
  if (def.personal_ties_initial <= 0) return;
  for (std::size_t s = 0; s < st.staff.helpers.size(); ++s) {
    const std::int32_t org = st.staff.helpers[s].org;
    const auto& partners = st.ties.of(org);
    if (partners.empty()) continue;
    Stream rng = st.streams(kPersonalInit, s, 0);
    boost::random::poisson_distribution<int, double> count(def.personal_ties_initial);
    const int k = count(rng);
    for (int i = 0; i < k; ++i) {
      const std::int32_t p = partners[rng.below(static_cast<std::uint32_t>(partners.size()))].first;
      if (st.orgs[p].n_helpers == 0) continue;
      Helper& other = st.staff.helpers[st.orgs[p].first_helper +
                                       rng.below(static_cast<std::uint32_t>(st.orgs[p].n_helpers))];
      Helper& self = st.staff.helpers[s];
      if (self.n_personal < def.personal_ties_max && other.n_personal < def.personal_ties_max &&
          self.add_personal(other.id, def.personal_ties_max))
        other.add_personal(self.id, def.personal_ties_max);
    }
  }
}

bool phases::serves(const Scenario& sc, const ModelState& /*st*/, std::int32_t org, int district) {
  const auto& s = sc.organizations[org].serves;
  return std::binary_search(s.begin(), s.end(), district);
}

// Hours for the next day: ties and coordination are paid out of the same staff time that
// serves clients; what remains is split between intake and direct service.
void phases::update_hours(const Scenario& sc, ModelState& st) {
  const HelperDef& def = sc.helpers;
  for (auto& o : st.orgs) o.collaboration_hours = 0;
  for (const Tie& t : st.ties.all()) {
    const double h = tie_hours_per_day(sc.ties, t.level);
    st.orgs[t.a].collaboration_hours += h;
    st.orgs[t.b].collaboration_hours += h;
  }
  parallel_for_each(st.orgs.size(), [&](std::size_t i) {  // each organization on its own
    const auto k = static_cast<std::int32_t>(i);
    OrgState& o = st.orgs[k];
    // Funded posts still being filled are neither paid nor staffed.
    std::size_t vacant = 0;
    for (std::int32_t s : o.contract_staff) vacant += st.staff.helpers[s].starts > st.tick;
    const double staff =
        o.n_helpers + static_cast<double>(o.contract_staff.size()) - static_cast<double>(vacant);
    o.paid_hours = staff * def.hours_per_day;
    const double available = o.paid_hours * (1.0 - def.admin_share);
    const double rest = std::max(0.0, available - o.collaboration_hours - o.coordination_hours);
    o.intake_hours = rest * def.intake_share;
    const double per_helper = staff > 0 ? rest * (1.0 - def.intake_share) / staff : 0;
    st.for_each_staff(k, [&](std::int32_t s) {
      Helper& h = st.staff.helpers[s];
      h.capacity_hours = h.starts > st.tick ? 0.0f : static_cast<float>(per_helper);
    });
  });
  // Helpers of ended contracts finish their cases and take no new ones.
  if (!sc.authorities.empty())
    for (Helper& h : st.staff.helpers)
      if (h.retired) h.capacity_hours = h.load_hours;
}

}  // namespace cm::care
