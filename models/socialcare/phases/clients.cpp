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

#include "engine/hash.hpp"
#include "engine/parallel.hpp"
#include "models/socialcare/phases/common.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

std::vector<phases::Msg> phases::phase_clients(const Scenario& sc, ModelState& st,
                                               TickRecord& rec) {
  // Everything the tick needs from a client is taken while its record is hot: whether it stays
  // active, how it left, and the states of its needs (phase_record). Integer sums do not depend
  // on the order of the chunks, so relaxed atomics keep them thread-count independent.
  const std::size_t n = st.active.size();
  std::vector<std::uint8_t>& keep = st.keep;  // reused from day to day
  keep.assign(n, 0);
  std::atomic<std::int64_t> resolved{0}, dropped{0};
  std::array<std::atomic<std::int64_t>, kNeedStates> states{};
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
          step_client(sc, st, c, st.active[i], out);
          keep[i] = c.outcome == Outcome::active;
          res += c.outcome == Outcome::resolved;
          drop += c.outcome == Outcome::dropped;
          if (keep[i])
            for (int k = 0; k < c.n_needs; ++k) ++count[static_cast<int>(st.needs_of(c)[k].state)];
        }
        resolved.fetch_add(res, std::memory_order_relaxed);
        dropped.fetch_add(drop, std::memory_order_relaxed);
        for (int k = 0; k < kNeedStates; ++k)
          if (count[k] != 0) states[k].fetch_add(count[k], std::memory_order_relaxed);
      },
      kClientGrain);
  rec.resolved = resolved.load();
  rec.dropped = dropped.load();
  for (int k = 0; k < kNeedStates; ++k) rec.needs[k] = states[k].load();
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

void phases::step_client(const Scenario& sc, ModelState& st, Client& c, std::uint32_t slot,
                         std::vector<Msg>& out) {
  const PopulationDef& pop = sc.population;
  const TieDef& tdef = sc.ties;
  Stream rng = st.streams(kClientStep, c.id, static_cast<std::uint32_t>(st.tick));
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
    if ((n.state == NeedState::pending || n.state == NeedState::seeking ||
         n.state == NeedState::waiting || n.state == NeedState::intake) &&
        n.severity < sc.services[n.service].self_help_max_severity &&
        rng.bernoulli(pop.self_help_rate * c.self_help)) {
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
    if (rng.bernoulli(hazard)) {
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
    if (st.needs_of(c)[i].state == NeedState::seeking) choose_door(sc, st, c, slot, i, rng, out);
}

// The client goes to a door: one whose offer it knows, else (knowing the offer with some
// chance) a known one that offers the service, else any known one; knowing none, it searches.
void phases::choose_door(const Scenario& sc, ModelState& st, Client& c, std::uint32_t slot,
                         int need, Stream& rng, std::vector<Msg>& out) {
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
    if (serving.empty() || !rng.bernoulli(sc.population.search_rate)) return;
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
