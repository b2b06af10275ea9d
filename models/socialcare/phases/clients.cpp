// Phase clients: self-help, dropping out, service rounds, referral journeys, choosing a door.

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

#include "engine/event_times.hpp"
#include "engine/hash.hpp"
#include "engine/parallel.hpp"
#include "engine/radix_sort.hpp"
#include "models/socialcare/phases/common.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

namespace {

using cm::event_times::first_hazard_day;
using cm::event_times::geometric_failures;
using cm::event_times::kNoDay;

// A need a self- or mutual-help draw applies to today (step_client's condition).
bool self_help_applies(const Scenario& sc, const Need& n) {
  return (n.state == NeedState::pending || n.state == NeedState::seeking ||
          n.state == NeedState::waiting || n.state == NeedState::intake) &&
         n.severity < sc.services[n.service].self_help_max_severity;
}

bool knows_a_door(const Scenario& sc, const ModelState& st, const Client& c) {
  for (int k = 0; k < c.n_known; ++k)
    if (phases::serves(sc, st, c.known[k], c.district)) return true;
  return false;
}

void count_states(const ModelState& st, const Client& c, std::int64_t sign,
                  std::array<std::int64_t, kNeedStates>& count) {
  for (int k = 0; k < c.n_needs; ++k) count[static_cast<int>(st.needs_of(c)[k].state)] += sign;
}

// A chunk's exits and need-state counts, added to the day's totals. Integer sums do not depend
// on the order of the chunks, so relaxed atomics keep them thread-count independent.
struct DayTotals {
  std::atomic<std::int64_t> resolved{0}, dropped{0};
  std::array<std::atomic<std::int64_t>, kNeedStates> states{};
  void add(std::int64_t res, std::int64_t drop, const std::array<std::int64_t, kNeedStates>& n) {
    resolved.fetch_add(res, std::memory_order_relaxed);
    dropped.fetch_add(drop, std::memory_order_relaxed);
    for (int k = 0; k < kNeedStates; ++k)
      if (n[k] != 0) states[k].fetch_add(n[k], std::memory_order_relaxed);
  }
};

}  // namespace

void phases::catch_up(ModelState& st, Client& c, std::int32_t day) {
  const std::int32_t behind = day - c.due_from;
  if (behind <= 0) return;
  for (int i = 0; i < c.n_needs; ++i) {
    Need& n = st.needs_of(c)[i];
    if (n.state == NeedState::in_service || n.state == NeedState::travelling) n.days_left -= behind;
  }
  c.due_from = day;
}

phases::Wake phases::plan_client(const Scenario& sc, const ModelState& st, const Client& c,
                                 std::int32_t from, Stream& rng) {
  const PopulationDef& pop = sc.population;
  const Need* needs = st.needs_of(c);
  const std::int64_t cap = sc.horizon_days;
  if (from >= cap) return {-1, 0};
  // Days on which something is certain to happen: a round or a journey ends, a door the client
  // knows is chosen, the next need is taken up. On the first of them the day is stepped with
  // every draw made on the day (fired_bit::fresh).
  bool in_service = false, open = false;
  int known_door = -1;  // whether it knows a door serving its district: looked up when needed
  std::int64_t certain = kNoDay;
  for (int i = 0; i < c.n_needs; ++i) {
    const Need& n = needs[i];
    switch (n.state) {
      case NeedState::in_service:
      case NeedState::travelling:
        certain = std::min<std::int64_t>(certain, from + std::max(n.days_left, 1) - 1);
        break;
      case NeedState::seeking:
        if (known_door < 0) known_door = knows_a_door(sc, st, c) ? 1 : 0;
        if (known_door == 1) certain = from;
        break;
      default:
        break;
    }
    in_service = in_service || n.state == NeedState::in_service;
    open = open || (n.state != NeedState::met && n.state != NeedState::unmet);
  }
  if (!open || (!c.searching(needs) && c.needs_open(needs) < pop.needs_pursued_at_once &&
                next_pending_need(c, needs) >= 0))
    certain = from;
  if (certain == from) return {from, fired_bit::fresh};
  // The risks: the first day each fires, from independent draws; the earliest day is the
  // wake-up, and the risks that fire on it are noted (ties are resolved on the day, in the
  // order of the daily step).
  std::int64_t best = std::min(certain, cap);
  std::uint16_t fired = 0;
  const auto candidate = [&](std::int64_t day, std::uint16_t bit) {
    if (day < best) {
      best = day;
      fired = bit;
    } else if (day == best) {
      fired |= bit;
    }
  };
  const double self_help = pop.self_help_rate * c.self_help;
  const bool can_search = !st.serving_by_district[c.district].empty();
  for (int i = 0; i < c.n_needs; ++i) {
    const Need& n = needs[i];
    if (n.state == NeedState::seeking && can_search) {
      const std::int64_t g = geometric_failures(pop.search_rate, rng);
      if (g < kNoDay) candidate(from + g, static_cast<std::uint16_t>(fired_bit::search << i));
    }
    if (self_help_applies(sc, n)) {
      const std::int64_t g = geometric_failures(self_help, rng);
      if (g < kNoDay) candidate(from + g, static_cast<std::uint16_t>(fired_bit::self_help << i));
    }
  }
  if (!in_service) {
    const double a = pop.dropout_base + pop.dropout_per_failed_contact * c.failed_contacts;
    const std::int64_t day = first_hazard_day(a, pop.dropout_per_day_waiting, c.arrival, from,
                                              std::min(best + 1, cap), rng);
    if (day < kNoDay) candidate(day, fired_bit::dropout);
  }
  if (best >= cap) return {-1, 0};
  // A certain day that is also the earliest: stepped with the day's own draws.
  return {static_cast<std::int32_t>(best), best == certain ? fired_bit::fresh : fired};
}

std::int32_t phases::replan_client(const Scenario& sc, ModelState& st, Client& c,
                                   std::uint64_t purpose) {
  Stream rng = st.streams(purpose, c.id, static_cast<std::uint32_t>(st.tick));
  const Wake w = plan_client(sc, st, c, st.tick + 1, rng);
  c.wake = w.day;
  c.fired = w.fired;
  return w.day;
}

void phases::rebuild_calendar(const Scenario& sc, ModelState& st) {
  st.calendar.reset(st.tick);
  st.need_count.fill(0);
  for (std::uint32_t slot : st.active) {
    const Client& c = st.clients[slot];
    count_states(st, c, 1, st.need_count);
    if (sc.client_stepping == ClientStepping::events && c.wake >= st.tick)
      st.calendar.schedule(slot, c.wake);
  }
}

std::vector<phases::Msg> phases::phase_clients(const Scenario& sc, ModelState& st,
                                               TickRecord& rec) {
  if (sc.client_stepping == ClientStepping::events) return phase_clients_events(sc, st, rec);
  // Everything the tick needs from a client is taken while its record is hot: whether it stays
  // active, how it left, and the states of its needs (phase_record).
  const std::size_t n = st.active.size();
  std::vector<std::uint8_t>& keep = st.keep;  // reused from day to day
  keep.assign(n, 0);
  DayTotals totals;
  std::vector<Msg> msgs = parallel_collect_chunks<Msg>(
      n,
      [&](std::size_t begin, std::size_t end, std::vector<Msg>& out) {
        std::int64_t res = 0, drop = 0;
        std::array<std::int64_t, kNeedStates> count{};
        for (std::size_t i = begin; i < end; ++i) {
          // The records are visited in memory order but far apart in time: fetch a few ahead
          // (the record's cache lines), and the needs of a client half as far ahead, whose
          // record was fetched then.
          if (i + kPrefetchAhead < end) st.prefetch_record(st.active[i + kPrefetchAhead]);
          if (i + kPrefetchAhead / 2 < end)
            st.prefetch_needs(st.clients[st.active[i + kPrefetchAhead / 2]]);
          Client& c = st.clients[st.active[i]];
          step_client(sc, st, c, st.active[i], fired_bit::fresh, out);
          keep[i] = c.outcome == Outcome::active;
          res += c.outcome == Outcome::resolved;
          drop += c.outcome == Outcome::dropped;
          if (keep[i]) count_states(st, c, 1, count);
        }
        totals.add(res, drop, count);
      },
      kClientGrain);
  rec.resolved = totals.resolved.load();
  rec.dropped = totals.dropped.load();
  for (int k = 0; k < kNeedStates; ++k) st.need_count[k] = totals.states[k].load();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (keep[i])
      st.active[kept++] = st.active[i];
    else
      st.exited.push_back(st.active[i]);
  }
  st.active.resize(kept);
  return msgs;
}

// Event-driven: only the clients whose next event is today are stepped; each draws its next
// wake-up when its day is done (plan_client), and another agent's action on it re-plans it
// (phase_apply).
std::vector<phases::Msg> phases::phase_clients_events(const Scenario& sc, ModelState& st,
                                                      TickRecord& rec) {
  if (st.calendar.next_day() != st.tick)
    throw std::logic_error("the client calendar is at day " +
                           std::to_string(st.calendar.next_day()) + ", the run at day " +
                           std::to_string(st.tick));
  std::vector<std::uint32_t>& due = st.woken;
  st.calendar.take(due);
  thread_local std::vector<std::uint32_t> sort_scratch;  // reused day after day
  stable_radix_sort(
      due, [](std::uint32_t slot) { return slot; }, sort_scratch);
  due.erase(std::unique(due.begin(), due.end()), due.end());
  const std::size_t n = due.size();
  std::vector<std::uint8_t>& keep = st.keep;
  keep.assign(n, 1);
  std::vector<std::int32_t>& next = st.woken_next;
  next.assign(n, -1);
  DayTotals totals;  // its need-state counts: changes
  std::vector<Msg> msgs = parallel_collect_chunks<Msg>(
      n,
      [&](std::size_t begin, std::size_t end, std::vector<Msg>& out) {
        std::int64_t res = 0, drop = 0;
        std::array<std::int64_t, kNeedStates> delta{};
        for (std::size_t i = begin; i < end; ++i) {
          if (i + kPrefetchAhead < end) st.prefetch_record(due[i + kPrefetchAhead]);
          if (i + kPrefetchAhead / 2 < end)
            st.prefetch_needs(st.clients[due[i + kPrefetchAhead / 2]]);
          Client& c = st.clients[due[i]];
          // An entry is current when the client is active and today is its wake-up (a later
          // plan leaves the earlier entries behind).
          if (c.outcome != Outcome::active || c.wake != st.tick) continue;
          catch_up(st, c, st.tick);
          count_states(st, c, -1, delta);
          step_client(sc, st, c, due[i], c.fired, out);
          c.due_from = st.tick + 1;
          if (c.outcome != Outcome::active) {
            keep[i] = 0;
            res += c.outcome == Outcome::resolved;
            drop += c.outcome == Outcome::dropped;
            continue;
          }
          count_states(st, c, 1, delta);
          next[i] = replan_client(sc, st, c, kClientWake);
        }
        totals.add(res, drop, delta);
      },
      kClientGrain);
  rec.resolved = totals.resolved.load();
  rec.dropped = totals.dropped.load();
  for (int k = 0; k < kNeedStates; ++k) st.need_count[k] += totals.states[k].load();
  for (std::size_t i = 0; i < n; ++i)
    if (next[i] >= 0) st.calendar.schedule(due[i], next[i]);
  // Those who left go from the active list (both lists ascending: one merge pass).
  const std::size_t first_exit = st.exited.size();
  for (std::size_t i = 0; i < n; ++i)
    if (!keep[i]) st.exited.push_back(due[i]);
  if (st.exited.size() > first_exit) {
    auto gone = st.exited.begin() + static_cast<std::ptrdiff_t>(first_exit);
    std::size_t kept = 0;
    for (std::uint32_t slot : st.active) {
      if (gone != st.exited.end() && *gone == slot) {
        ++gone;
        continue;
      }
      st.active[kept++] = slot;
    }
    st.active.resize(kept);
  }
  return msgs;
}

// Over 80 lines on purpose: the day's rules for one client in their order (rounds, journeys,
// self-help, giving up, the next need, doors), shared by daily and event-driven stepping, whose
// equivalence rests on that order being one piece of code (docs/model.md, "Event-driven clients").
// fired: fired_bit::fresh draws every risk on the day, as daily stepping does; otherwise the
// risks the wake-up was planned for (those that applied at the start of the day, with the same
// chance as then) take their outcome from `fired`, and only a risk that the day itself opened
// or changed is drawn (docs/model.md "Event-driven clients").
void phases::step_client(const Scenario& sc, ModelState& st, Client& c, std::uint32_t slot,
                         std::uint16_t fired, std::vector<Msg>& out) {
  const PopulationDef& pop = sc.population;
  const TieDef& tdef = sc.ties;
  Stream rng = st.streams(kClientStep, c.id, static_cast<std::uint32_t>(st.tick));
  const bool planned = !(fired & fired_bit::fresh);
  std::uint8_t self_help_planned = 0, search_planned = 0;
  bool dropout_planned = false;
  const std::uint16_t failed_before = c.failed_contacts;
  if (planned) {
    dropout_planned = true;
    for (int i = 0; i < c.n_needs; ++i) {
      const Need& n = st.needs_of(c)[i];
      if (self_help_applies(sc, n)) self_help_planned |= static_cast<std::uint8_t>(1u << i);
      if (n.state == NeedState::seeking) search_planned |= static_cast<std::uint8_t>(1u << i);
      if (n.state == NeedState::in_service) dropout_planned = false;
    }
  }
  bool any_in_service = false, any_open = false;
  for (int i = 0; i < c.n_needs; ++i) {
    Need& n = st.needs_of(c)[i];
    switch (n.state) {
      case NeedState::in_service:
        if (--n.days_left <= 0) {
          const Helper& h = st.staff.helpers[n.helper];
          if (rng.bernoulli(h.quality)) {
            n.state = NeedState::met;
            Msg m{Msg::release};
            m.org = n.org;
            m.helper = n.helper;
            m.client = c.id;
            m.slot = slot;
            m.hours = static_cast<float>(sc.services[n.service].hours_per_day);
            m.service = n.service;
            m.reserved = n.flags & need_flag::reserved;
            out.push_back(m);
          } else {
            Stream days = st.streams(kServiceDays, std::uint64_t{c.id} * kMaxNeeds + i,
                                     static_cast<std::uint32_t>(st.tick));
            n.days_left = draw_service_days(sc, c, n, days);
            c.record_episode(n.org);  // another round, same provider
          }
        }
        break;
      case NeedState::travelling:
        if (--n.days_left <= 0) {
          const bool warm = n.flags & need_flag::warm;
          const bool tried = rng.bernoulli(warm ? tdef.warm_try : tdef.signpost_try);
          bool reached = tried && rng.bernoulli(warm ? tdef.warm_reach : tdef.signpost_reach);
          // A network's coordinator that follows referrals up (NAO by default) calls a client
          // who did not arrive and brings it there with follow_up_success (Boyum et al. 2016:
          // continuation rose from 45% to 89% when referrers heard of no-shows).
          if (!reached && n.from_org >= 0 && n.org >= 0 && st.routed_between(n.from_org, n.org)) {
            const NetworkDef& net = sc.networks[st.routing_net[n.from_org]];
            if (net.follow_up) {
              Msg f{Msg::follow_up};
              f.org = n.from_org;
              f.client = c.id;
              out.push_back(f);
              reached = rng.bernoulli(net.follow_up_success);
            }
          }
          c.referrals_tried += tried || reached;
          c.referrals_reached += reached;
          if (reached) {
            n.state = NeedState::intake;
            ++c.doors;
            Msg m{Msg::arrival};
            m.mode = warm ? ArrivalMode::warm : ArrivalMode::signposted;
            m.need = static_cast<std::uint8_t>(i);
            m.priority = arrival_priority(n);
            m.service = n.service;
            m.org = n.org;
            m.from_org = n.from_org;
            m.client = c.id;
            m.slot = slot;
            out.push_back(m);
          } else {
            Msg m{Msg::tie_failure};
            m.org = n.from_org;
            m.from_org = n.org;
            m.client = c.id;  // orders the messages of a partitioned run
            m.tie_kind = TieEventKind::no_show;
            out.push_back(m);
            ++c.failed_contacts;
            n.state = NeedState::seeking;
            n.org = n.from_org = -1;
          }
        }
        break;
      default:
        break;
    }
    // Self- and mutual help can meet a light need at any point before service.
    if (self_help_applies(sc, n) &&
        ((self_help_planned >> i & 1u) ? (fired & (fired_bit::self_help << i)) != 0
                                       : rng.bernoulli(pop.self_help_rate * c.self_help))) {
      n.state = NeedState::met;
      n.flags |= need_flag::self_help;
    }
    any_in_service = any_in_service || n.state == NeedState::in_service;
    any_open = any_open || (n.state != NeedState::met && n.state != NeedState::unmet);
  }
  if (!any_open) {
    c.outcome = Outcome::resolved;
    c.exit = st.tick;
    return;
  }
  // Giving up: a hazard that grows with failed contacts and days since the need arose.
  if (!any_in_service) {
    const double hazard = pop.dropout_base + pop.dropout_per_failed_contact * c.failed_contacts +
                          pop.dropout_per_day_waiting * (st.tick - c.arrival);
    const bool gives_up = dropout_planned && c.failed_contacts == failed_before
                              ? (fired & fired_bit::dropout) != 0
                              : rng.bernoulli(hazard);
    if (gives_up) {
      for (int i = 0; i < c.n_needs; ++i) {
        Need& n = st.needs_of(c)[i];
        // Giving up in the queue (or at the intake) of an organization it was referred to: the
        // referrer learns how its partner treated the client.
        if ((n.state == NeedState::waiting || n.state == NeedState::intake) && n.from_org >= 0 &&
            n.org >= 0) {
          Msg m{Msg::tie_failure};
          m.org = n.from_org;
          m.from_org = n.org;
          m.client = c.id;
          m.tie_kind = TieEventKind::dropout;
          out.push_back(m);
        }
        if (n.state != NeedState::met) n.state = NeedState::unmet;
      }
      c.outcome = Outcome::dropped;
      c.exit = st.tick;
      return;
    }
  }
  // On its own a client pursues few needs at once (one, by default): the next need waits
  // until an earlier one is met or given up. A case conference plans the rest in parallel.
  if (!c.searching(st.needs_of(c)) &&
      c.needs_open(st.needs_of(c)) < sc.population.needs_pursued_at_once) {
    const int next = next_pending_need(c, st.needs_of(c));
    if (next >= 0) {
      st.needs_of(c)[next].state = NeedState::seeking;
    }
  }
  for (int i = 0; i < c.n_needs; ++i)
    if (st.needs_of(c)[i].state == NeedState::seeking)
      choose_door(sc, st, c, slot, i, rng,
                  (search_planned >> i & 1u) ? (fired & (fired_bit::search << i)) != 0 : -1, out);
}

// The client goes to a door: one whose offer it knows, else (knowing the offer with some
// chance) a known one that offers the service, else any known one; knowing none, it searches.
// found: the outcome of a search planned for the day (1 found, 0 not), or -1 to draw it.
void phases::choose_door(const Scenario& sc, ModelState& st, Client& c, std::uint32_t slot,
                         int need, Stream& rng, int found, std::vector<Msg>& out) {
  Need& n = st.needs_of(c)[need];
  std::int32_t door = -1;
  for (int k = 0; k < c.n_known && door < 0; ++k)
    if ((c.known_offer >> k & 1u) && offers(sc, st, c.known[k], n.service) &&
        serves(sc, st, c.known[k], c.district))
      door = c.known[k];
  if (door < 0 && c.n_known > 0) {
    std::int32_t right[kMaxKnown], any[kMaxKnown];
    int n_right = 0, n_any = 0;
    for (int k = 0; k < c.n_known; ++k) {
      if (!serves(sc, st, c.known[k], c.district)) continue;
      any[n_any++] = c.known[k];
      if (offers(sc, st, c.known[k], n.service)) right[n_right++] = c.known[k];
    }
    if (n_right > 0 && rng.bernoulli(sc.population.offer_knowledge))
      door = right[rng.below(n_right)];
    else if (n_any > 0)
      door = any[rng.below(n_any)];
  }
  if (door < 0) {
    const auto& serving = st.serving_by_district[c.district];
    if (serving.empty()) return;
    if (found >= 0 ? found == 0 : !rng.bernoulli(sc.population.search_rate)) return;
    door = serving[rng.below(static_cast<std::uint32_t>(serving.size()))];
    c.learn(door, false);
  }
  ++c.doors;
  if (c.first_contact < 0) c.first_contact = st.tick;
  n.state = NeedState::intake;
  n.org = door;
  Msg m{Msg::arrival};
  m.mode = ArrivalMode::walk_in;
  m.need = static_cast<std::uint8_t>(need);
  m.priority = base_priority(n);
  m.org = door;
  m.client = c.id;
  m.slot = slot;
  out.push_back(m);
}

}  // namespace cm::care
