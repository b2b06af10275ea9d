// Phase pooling: queues that overflow borrow free helpers of partners at level 5 or more.

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

// Pooling (level >= 5): what is left of organization o's queue for a service after its own
// helpers took their cases goes to helpers of partners at level >= 5 who have hours left after
// their own queues are served: a partner lends a helper only when none of its queues for the
// services that helper delivers has anyone waiting (OrgState::backlog). Among the lenders'
// helpers who can take the case, the one with the most free hours; then partner id, staff order.
bool phases::allocate_pooled(const Scenario& sc, ModelState& st, std::int32_t o, int service,
                             std::vector<Event>& events) {
  auto& queue = st.orgs[o].queues[service];
  if (queue.empty()) return false;
  thread_local std::vector<std::int32_t> lenders;  // scratch, reused call after call
  lenders.clear();
  for (const auto& [p, t] : st.ties.of(o))
    if (st.ties[t].level >= 5 && offers(sc, st, p, service)) lenders.push_back(p);
  if (lenders.empty()) return false;
  const float hours = static_cast<float>(sc.services[service].hours_per_day);
  const int cap = sc.helpers.caseload_cap;
  auto find_helper = [&]() -> std::int32_t {
    std::int32_t best = -1;
    for (std::int32_t p : lenders)
      st.for_each_staff(p, [&](std::int32_t x) {
        const Helper& h = st.staff.helpers[x];
        if (!((h.skills >> service) & 1u) || (st.orgs[p].backlog & h.skills) != 0 ||
            !h.can_take(hours, cap))
          return;
        if (best < 0 || h.free_hours() > st.staff.helpers[best].free_hours()) best = x;
      });
    return best;
  };
  bool any = false;
  for (QueueEntry& q : queue) {
    if (!still_queued(sc, st, o, q)) continue;
    const std::int32_t helper = find_helper();
    if (helper < 0) break;
    Helper& h = st.staff.helpers[helper];
    h.load_hours += hours;
    ++h.cases;
    const Client& c = *st.find_client(q.slot, q.client);
    const Need& n = st.needs_of(c)[q.need];
    Stream days = st.streams(kServiceDays, std::uint64_t{c.id} * kMaxNeeds + q.need,
                             static_cast<std::uint32_t>(st.tick));
    Event ev = Event::on(Event::service_start, q.client, q.slot, q.need, o, helper);
    ev.flags = need_flag::pooled;
    OrgState& org = st.orgs[o];
    ++st.orgs[h.org].in_use[service];
    ++st.orgs[h.org].pooled_out;
    ++org.started_today[service];
    ++org.started;
    if (st.tick - q.tick <= sc.standards.max_days_to_service) {
      ++org.started_in_standard;
      ev.aux |= start_flag::in_standard;
    }
    if (n.from_org >= 0 && (n.flags & need_flag::priority) &&
        !(q.flags & queue_flag::breach_noted)) {
      ++org.agreements_honoured;
      ev.aux |= start_flag::honoured;
    }
    ev.value = draw_service_days(sc, c, n, days);
    events.push_back(ev);
    q.flags |= queue_flag::started;
    any = true;
  }
  std::size_t kept = 0;  // entries still waiting move to the front, in order
  for (const QueueEntry& q : queue)
    if (!(q.flags & queue_flag::started) && still_queued(sc, st, o, q)) queue[kept++] = q;
  queue.resize(kept);
  return any;
}

void phases::phase_pooling(const Scenario& sc, ModelState& st, std::vector<Event>& events,
                           std::vector<TieEvent>& tie_events) {
  bool any_pooling = false;
  for (const Tie& t : st.ties.all()) any_pooling = any_pooling || t.level >= 5;
  if (!any_pooling) return;
  const auto n_services = static_cast<std::uint64_t>(sc.services.size());
  for (std::int32_t o = 0; o < static_cast<std::int32_t>(st.orgs.size()); ++o) {
    if (!st.owns_org(o) || st.orgs[o].backlog == 0) continue;
    for (int s = 0; s < static_cast<int>(sc.services.size()); ++s) {
      if (!((st.orgs[o].backlog >> s) & 1u)) continue;
      const std::size_t before = events.size();
      if (!allocate_pooled(sc, st, o, s, events)) continue;
      // A partitioned run orders the events and tie events of pooling by (organization,
      // service) when it merges them (exchange_events, exchange_tie_events).
      const std::uint64_t key =
          (std::uint64_t{1} << 40) |
          (static_cast<std::uint64_t>(o) * n_services + static_cast<std::uint64_t>(s));
      if (st.comm != nullptr) st.event_keys.resize(events.size(), key);
      for (std::size_t k = before; k < events.size(); ++k) {
        const std::int32_t t = st.ties.find(o, st.staff.helpers[events[k].other].org);
        if (t >= 0) {
          tie_events.push_back({static_cast<std::uint32_t>(t), TieEventKind::joint_case, -1});
          if (st.comm != nullptr) st.tie_keys.push_back(key);
        }
      }
    }
  }
}

}  // namespace cm::care
