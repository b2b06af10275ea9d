// Phase conferences: coordinators hold case conferences with their limited hours.

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

void phases::phase_conferences(const Scenario& sc, ModelState& st, std::vector<Event>& events,
                               TickRecord& rec) {
  bool any = false;
  for (NetworkState& net : st.nets) {
    any = any || !net.waiting.empty();
    // Routing and follow-ups come out of the coordinator's hours first.
    if (net.waiting.empty()) net.debt = std::max(0.0, net.debt - net.hours_per_day);
  }
  if (!any) return;
  // One action per need a day: what the organizations already did today with a need (queued
  // it, started it, referred or turned it away) stands, and the conference leaves it alone.
  std::vector<std::uint64_t> claimed;
  for (const Event& ev : events)
    if (ev.type == Event::queued || ev.type == Event::referred || ev.type == Event::turned_away ||
        ev.type == Event::service_start)
      claimed.push_back(need_key(ev.client, ev.need));
  std::sort(claimed.begin(), claimed.end());
  OrgOutput out;
  for (NetworkState& net : st.nets) {
    if (net.waiting.empty()) continue;
    std::sort(net.waiting.begin(), net.waiting.end());
    // Routing and follow-ups come out of the coordinator's hours first.
    double left = net.hours_per_day - net.debt;
    net.debt = std::max(0.0, -left);
    left = std::max(0.0, left);
    const double routing_hours = sc.networks[&net - st.nets.data()].routing_hours;
    std::size_t kept = 0;  // requests still waiting move to the front, in order
    for (const ConferenceRequest& r : net.waiting) {
      const Client* found = st.find_client(r.slot, r.client);
      if (found == nullptr || found->outcome != Outcome::active) continue;
      const Client& c = *found;
      if (left + 1e-9 < sc.ties.conference_hours) {
        net.waiting[kept++] = r;
        continue;
      }
      left -= sc.ties.conference_hours;
      ++net.conferences;
      out.clear();
      hold_conference(sc, st, r.org, c, out, &claimed);
      net.routed += out.routed;
      left = std::max(0.0, left - static_cast<double>(out.routed) * routing_hours);
      // The convening organization takes part too.
      if (!out.events.empty() && sc.decisions.conference_member_hours > 0)
        out.conference_hours.emplace_back(r.org, sc.decisions.conference_member_hours);
      for (const auto& [p, h] : out.conference_hours) {
        st.orgs[p].conference_debt += h;
        st.orgs[p].conference_minutes += std::llround(h * 60);
      }
      events.insert(events.end(), out.events.begin(), out.events.end());
      rec.referrals += out.referrals;
      rec.signposts += out.signposts;
      st.orgs[r.org].referrals_sent += out.referrals + out.signposts;
      Event done{Event::conference_done};
      done.client = c.id;
      done.slot = r.slot;
      events.push_back(done);
      if (st.comm != nullptr)
        st.event_keys.resize(events.size(), (std::uint64_t{2} << 40) |
                                                static_cast<std::uint64_t>(&net - st.nets.data()));
    }
    net.waiting.resize(kept);
    rec.conferences_waiting += static_cast<std::int64_t>(net.waiting.size());
  }
}

}  // namespace cm::care
