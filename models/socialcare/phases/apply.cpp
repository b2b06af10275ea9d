// Phase apply: the day's events on the clients' needs, one action per need.

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
#include "engine/radix_sort.hpp"
#include "models/socialcare/phases/common.hpp"
#include "models/socialcare/phases/exchange.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

void phases::phase_apply(const Scenario& sc, ModelState& st, DayExchange& ex,
                         std::vector<Event>& events, std::vector<TieEvent>& tie_events,
                         TickRecord& rec) {
  thread_local std::vector<Event> sort_scratch;  // reused day after day
  stable_radix_sort(
      events, [](const Event& e) { return e.client; }, sort_scratch);
  std::vector<std::size_t>& groups = st.event_groups;  // reused from day to day
  groups.clear();
  for (std::size_t i = 0; i < events.size(); ++i)
    if (i == 0 || events[i].client != events[i - 1].client) groups.push_back(i);
  groups.push_back(events.size());
  std::atomic<std::int64_t> started{0}, wait_days{0}, conflicts{0};
  // Need-state changes of active clients keep the day's state counts (phase_clients) exact.
  std::array<std::atomic<std::int64_t>, kNeedStates> moved{};
  // A tie event of a started service, with its client (a partitioned run merges them by
  // client), or a dropped start to give back.
  struct Applied {
    std::uint32_t client;
    TieEvent event;
    Undo undo;
  };
  // Event-driven stepping: a client another agent acted on today has its countdowns brought to
  // tomorrow before the events set new ones, and its next wake-up planned again from tomorrow
  // (the risks' chances may have changed; a fresh plan is the same process, docs/model.md).
  const bool events_mode = sc.client_stepping == ClientStepping::events;
  std::vector<std::int32_t>& replanned = st.woken_next;  // per group: its client's next wake-up
  if (events_mode) replanned.assign(groups.size() - 1, -1);
  std::vector<Applied> more = parallel_collect_chunks<Applied>(
      groups.size() - 1,
      [&](std::size_t g0, std::size_t g1, std::vector<Applied>& out) {
        thread_local std::vector<TieEvent> made;  // scratch, reused
        std::array<std::int64_t, kNeedStates> delta{};
        std::int64_t dropped = 0;
        for (std::size_t g = g0; g < g1; ++g) {
          Client& c = st.clients[events[groups[g]].slot];
          const bool counted = c.outcome == Outcome::active;
          if (events_mode && counted) catch_up(st, c, st.tick + 1);
          made.clear();
          // One action per need a day (docs/model.md, "Conflicts"): the first decision on a
          // need in the day's order (organizations by id, pooling, conferences) stands; a
          // start from the queue of the organization that queued it today belongs to it.
          std::array<std::int32_t, kMaxNeeds> claim;
          claim.fill(-1);
          for (std::size_t k = groups[g]; k < groups[g + 1]; ++k) {
            const Event& ev = events[k];
            std::int32_t actor = -1;
            switch (ev.type) {
              case Event::queued:
              case Event::turned_away:
              case Event::service_start:
                actor = ev.org;
                break;
              case Event::referred:
                actor = ev.other;
                break;
              default:
                break;
            }
            if (actor >= 0) {
              std::int32_t& who = claim[ev.need];
              const bool same = ev.type == Event::service_start && who == actor;
              if (who >= 0 && !same) {
                ++dropped;
                if (ev.type == Event::service_start)
                  out.push_back(
                      {c.id,
                       {0, TieEventKind::joint_case, -1},
                       {c.id, ev.need, ev.aux, st.needs_of(c)[ev.need].service,
                        static_cast<bool>(ev.flags & need_flag::reserved), ev.other, ev.org}});
                continue;
              }
              who = actor;
            }
            Need& n = st.needs_of(c)[ev.need];
            const NeedState was = n.state;
            apply_event(sc, st, c, n, ev, made, started, wait_days);
            if (counted && n.state != was) {
              --delta[static_cast<int>(was)];
              ++delta[static_cast<int>(n.state)];
            }
          }
          for (const TieEvent& t : made) out.push_back({c.id, t, {}});
          if (events_mode && counted) replanned[g] = replan_client(sc, st, c, kClientTouch);
        }
        for (int k = 0; k < kNeedStates; ++k)
          if (delta[k] != 0) moved[k].fetch_add(delta[k], std::memory_order_relaxed);
        if (dropped != 0) conflicts.fetch_add(dropped, std::memory_order_relaxed);
      },
      64);
  if (events_mode)
    for (std::size_t g = 0; g + 1 < groups.size(); ++g)
      if (replanned[g] >= 0) st.calendar.schedule(events[groups[g]].slot, replanned[g]);
  std::vector<Undo> undos;
  for (const Applied& t : more) {
    if (t.undo.helper >= 0) {
      undos.push_back(t.undo);
      continue;
    }
    tie_events.push_back(t.event);
    if (st.comm != nullptr) st.tie_keys.push_back((std::uint64_t{2} << 40) | t.client);
  }
  ex.undos(sc, st, undos);
  apply_undos(sc, st, undos);
  rec.services_started = started.load();
  rec.wait_days_started = static_cast<double>(wait_days.load());
  rec.conflicts = conflicts.load();
  for (int k = 0; k < kNeedStates; ++k) {
    st.need_count[k] += moved[k].load();
    rec.needs[k] = st.need_count[k];
  }
}

// Gives back what dropped starts took (in (client, need) order, so float sums do not depend
// on threads or processes): the helper's hours and case, the organizations' counters.
void phases::apply_undos(const Scenario& sc, ModelState& st, std::vector<Undo>& undos) {
  std::sort(undos.begin(), undos.end(), [](const Undo& a, const Undo& b) {
    return std::tie(a.client, a.need, a.helper) < std::tie(b.client, b.need, b.helper);
  });
  for (const Undo& u : undos) {
    Helper& h = st.staff.helpers[u.helper];
    if (!st.owns_org(u.org)) continue;  // the queue's (and the helper's) process gives it back
    OrgState& q = st.orgs[u.org];
    const int s = u.service;
    h.load_hours = std::max(0.0f, h.load_hours - static_cast<float>(sc.services[s].hours_per_day));
    if (h.cases > 0) --h.cases;
    if (st.orgs[h.org].in_use[s] > 0) --st.orgs[h.org].in_use[s];
    if (u.reserved && q.reserved_in_use[s] > 0) --q.reserved_in_use[s];
    --q.started_today[s];
    --q.started;
    if (u.aux & start_flag::in_standard) --q.started_in_standard;
    if (u.aux & start_flag::honoured) --q.agreements_honoured;
    if (h.org != u.org) --st.orgs[h.org].pooled_out;
  }
}

void phases::apply_event(const Scenario& sc, ModelState& st, Client& c, Need& n, const Event& ev,
                         std::vector<TieEvent>& out, std::atomic<std::int64_t>& started,
                         std::atomic<std::int64_t>& wait_days) {
  switch (ev.type) {
    case Event::assessed:
      c.record_assessment(ev.org, st.tick);
      c.learn(ev.org, true);
      break;
    case Event::queued:
      n.state = NeedState::waiting;
      n.org = ev.org;
      n.queued_at = st.tick;
      break;
    case Event::referred:
      n.state = NeedState::travelling;
      n.from_org = ev.other;
      n.org = ev.org;
      n.days_left = ev.value;
      n.flags = static_cast<std::uint8_t>((n.flags & ~(need_flag::warm | need_flag::priority)) |
                                          ev.flags);
      ++c.referrals;
      c.learn(ev.org, true);
      break;
    case Event::turned_away:
      n.state = NeedState::seeking;
      n.org = -1;
      ++c.failed_contacts;
      break;
    case Event::service_start: {
      const std::int32_t home = ev.org;  // the queue's organization
      const std::int32_t provider = st.staff.helpers[ev.other].org;
      if (n.queued_at < 0) n.queued_at = st.tick;
      const int waited = st.tick - n.queued_at;
      started.fetch_add(1, std::memory_order_relaxed);
      wait_days.fetch_add(waited, std::memory_order_relaxed);
      n.state = NeedState::in_service;
      n.helper = ev.other;
      n.org = provider;
      n.days_left = ev.value;
      n.flags |= ev.flags;
      if (n.first_service < 0) n.first_service = st.tick;
      if (c.first_service < 0) c.first_service = st.tick;
      c.record_episode(provider);
      if (n.from_org >= 0) {
        ++c.referrals_received;
        n.flags |= need_flag::referred;
        // A joint case that went well: the referred client started within the standard (a
        // late start was noted as late when it passed the standard, and earns nothing).
        const std::int32_t t = st.ties.find(n.from_org, home);
        if (t >= 0 && waited <= sc.standards.max_days_to_service)
          out.push_back({static_cast<std::uint32_t>(t), TieEventKind::joint_case, home});
        n.from_org = -1;
      }
      break;
    }
    case Event::conference_wait:
      c.awaiting_conference = true;
      break;
    case Event::conference_done:
      c.awaiting_conference = false;
      break;
  }
}

}  // namespace cm::care
