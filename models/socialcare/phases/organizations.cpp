// Phase organizations: releases, intake and assessment, decisions (serve, refer, signpost, turn
// away, ask for a case conference), allocation of helpers.

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

void phases::phase_organizations(const Scenario& sc, ModelState& st, std::vector<Msg>& msgs,
                                 std::vector<Event>& events, std::vector<TieEvent>& tie_events,
                                 TickRecord& rec) {
  const std::size_t n_orgs = st.orgs.size();
  // Bucket messages by organization, keeping client order within each bucket.
  std::vector<std::size_t> start(n_orgs + 1, 0);
  for (const Msg& m : msgs) {
    if (m.type == Msg::follow_up) {
      NetworkState& net = st.nets[st.routing_net[m.org]];
      ++net.follow_ups;
      net.debt += sc.networks[st.routing_net[m.org]].follow_up_hours;
      continue;
    }
    if (m.type == Msg::tie_failure) {
      const std::int32_t t = st.ties.find(m.org, m.from_org);
      if (t >= 0) tie_events.push_back({static_cast<std::uint32_t>(t), m.tie_kind, m.from_org});
      if (m.tie_kind == TieEventKind::dropout) ++st.orgs[m.from_org].referred_dropouts;
      continue;
    }
    ++start[m.org + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<Msg>& sorted = st.sorted_msgs;  // reused from day to day
  sorted.resize(start[n_orgs]);
  std::vector<std::size_t> fill(start.begin(), start.end() - 1);
  for (const Msg& m : msgs)
    if (m.type != Msg::tie_failure && m.type != Msg::follow_up) sorted[fill[m.org]++] = m;

  std::vector<OrgOutput>& outputs = st.org_outputs;  // reused from day to day (no reallocation)
  outputs.resize(n_orgs);
  for (OrgOutput& out : outputs) out.clear();
  // A partitioned run steps its own organizations (the others' messages went to their owners).
  const std::size_t n_stepped = st.own_orgs.size();
  parallel_for_each(
      n_stepped,
      [&](std::size_t i) {
        const auto o = static_cast<std::size_t>(st.own_orgs[i]);
        step_organization(sc, st, static_cast<std::int32_t>(o), sorted.data() + start[o],
                          start[o + 1] - start[o], outputs[o]);
      },
      1);
  st.event_keys.clear();
  st.tie_keys.clear();
  st.tie_keyed_from = tie_events.size();
  for (std::size_t o = 0; o < n_orgs; ++o) {
    OrgOutput& out = outputs[o];
    events.insert(events.end(), out.events.begin(), out.events.end());
    // Late and breached referrals its queues noted (a partitioned run merges them by org).
    tie_events.insert(tie_events.end(), out.tie_events.begin(), out.tie_events.end());
    if (st.comm != nullptr) st.tie_keys.insert(st.tie_keys.end(), out.tie_events.size(), o);
    for (const auto& [p, h] : out.conference_hours) {
      st.orgs[p].conference_debt += h;
      st.orgs[p].conference_minutes += std::llround(h * 60);
    }
    if (st.comm != nullptr) st.event_keys.insert(st.event_keys.end(), out.events.size(), o);
    if (out.routed > 0) {
      NetworkState& rn = st.nets[st.routing_net[o]];
      rn.routed += out.routed;
      rn.debt += static_cast<double>(out.routed) * sc.networks[st.routing_net[o]].routing_hours;
    }
    const std::int32_t net = st.orgs[o].network;
    for (const auto& r : out.conferences) st.nets[net].waiting.push_back(r);
    rec.assessments += out.assessments;
    rec.referrals += out.referrals;
    rec.signposts += out.signposts;
    rec.turned_away += out.turned_away;
    rec.intake_length += out.intake_length;
    st.orgs[o].assessments += out.assessments;
    st.orgs[o].referrals_sent += out.referrals + out.signposts;
    st.orgs[o].turned_away += out.turned_away;
  }
}

void phases::step_organization(const Scenario& sc, ModelState& st, std::int32_t o, const Msg* msgs,
                               std::size_t n, OrgOutput& out) {
  OrgState& org = st.orgs[o];
  for (std::size_t i = 0; i < n; ++i) {
    const Msg& m = msgs[i];
    if (m.type == Msg::release) {
      Helper& h = st.staff.helpers[m.helper];
      h.load_hours = std::max(0.0f, h.load_hours - m.hours);
      if (h.cases > 0) --h.cases;
      if (org.in_use[m.service] > 0) --org.in_use[m.service];
      if (m.reserved && org.reserved_in_use[m.service] > 0) --org.reserved_in_use[m.service];
    } else {
      if (m.mode != ArrivalMode::walk_in) {
        ++org.referrals_received;
        if (m.from_org >= 0) {
          const std::int32_t t = st.ties.find(m.from_org, o);
          if (t >= 0)
            out.tie_events.push_back(
                {static_cast<std::uint32_t>(t),
                 m.from_org < o ? TieEventKind::referred_by_a : TieEventKind::referred_by_b, o});
        }
        if (m.priority & 1) {  // under an agreement
          ++org.agreement_referrals;
          ++org.agreement_today[m.service];
        }
      }
      org.intake.push_back({m.client, m.need, m.mode, m.priority, m.from_org, st.tick, m.slot});
    }
  }
  // Unused intake hours carry over only far enough that a small organization, whose daily
  // intake time is shorter than one assessment, still completes assessments. Hours owed for
  // yesterday's case conferences are paid first.
  org.intake_left =
      std::min(org.intake_left + org.intake_hours,
               std::max(org.intake_hours, sc.helpers.assessment_hours + sc.ties.conference_hours));
  if (org.conference_debt > 0) {
    const double paid = std::min(org.conference_debt, org.intake_left);
    org.intake_left -= paid;
    org.conference_debt -= paid;
  }
  std::sort(org.intake.begin(), org.intake.end(), [](const IntakeEntry& a, const IntakeEntry& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.tick != b.tick) return a.tick < b.tick;
    if (a.client != b.client) return a.client < b.client;
    return a.need < b.need;
  });
  const double hours = sc.helpers.assessment_hours;
  std::size_t kept = 0;  // entries still waiting move to the front, in order
  const std::size_t n_intake = org.intake.size();
  for (std::size_t i = 0; i < n_intake; ++i) {
    if (i + kPrefetchAhead < n_intake && local_slot(org.intake[i + kPrefetchAhead].slot))
      st.prefetch_record(org.intake[i + kPrefetchAhead].slot);
    if (i + kPrefetchAhead / 2 < n_intake && local_slot(org.intake[i + kPrefetchAhead / 2].slot))
      st.prefetch_needs(st.clients[org.intake[i + kPrefetchAhead / 2].slot]);
    const IntakeEntry& e = org.intake[i];
    const Client* found = st.find_client(e.slot, e.client);
    if (found == nullptr) continue;
    const Client& c = *found;
    const Need& need = st.needs_of(c)[e.need];
    if (c.outcome != Outcome::active || need.state != NeedState::intake || need.org != o) continue;
    bool assessed = e.mode == ArrivalMode::warm || c.assessed_at(o) ||
                    std::find(out.assessed_today.begin(), out.assessed_today.end(), c.id) !=
                        out.assessed_today.end();
    // Shared intake (level 7): an assessment held by a strategic partner counts here too.
    for (int k = 0; k < c.n_assessed && !assessed; ++k)
      assessed = st.ties.level(o, c.assessed_by[k]) >= 7;
    if (!assessed) {
      if (org.intake_left + 1e-9 < hours) {
        org.intake[kept++] = e;
        continue;
      }
      org.intake_left -= hours;
      ++out.assessments;
      out.assessed_today.push_back(c.id);
      Event ev{Event::assessed};
      ev.client = c.id;
      ev.slot = e.slot;
      ev.org = o;
      out.events.push_back(ev);
    }
    dispatch(sc, st, o, c, e, out);
  }
  org.intake.resize(kept);
  out.intake_length = static_cast<std::int64_t>(org.intake.size());
  allocate(sc, st, o, out);
}

// After assessment: serve what the organization offers, refer or signpost the presented need
// it does not, and ask for a case conference for the rest of a multi-need bundle.
void phases::dispatch(const Scenario& sc, ModelState& st, std::int32_t o, const Client& c,
                      const IntakeEntry& e, OrgOutput& out) {
  const Need& presented = st.needs_of(c)[e.need];
  auto enqueue = [&](int i, std::uint8_t priority) {
    st.orgs[o].queues[st.needs_of(c)[i].service].push_back(
        {priority, st.tick, c.id, static_cast<std::uint8_t>(i), 0, st.slot_of(c)});
    out.events.push_back(Event::on(Event::queued, c.id, st.slot_of(c), i, o));
  };
  if (offers(sc, st, o, presented.service))
    enqueue(e.need, e.priority);
  else
    route(sc, st, o, c, e.need, true, 1, out);
  std::uint32_t elsewhere = 0;  // services of pending needs it does not offer
  for (int i = 0; i < c.n_needs; ++i) {
    if (i == e.need || st.needs_of(c)[i].state != NeedState::pending) continue;
    if (offers(sc, st, o, st.needs_of(c)[i].service))
      enqueue(i, base_priority(st.needs_of(c)[i]));
    else
      elsewhere |= 1u << st.needs_of(c)[i].service;
  }
  // A case conference needs a partner at level >= 4 (regular meetings) that offers one of the
  // client's other needs: without one there is nothing to plan together.
  if (elsewhere == 0 || !conference_partner(sc, st, o, c, elsewhere)) return;
  const std::int32_t net = st.orgs[o].network;
  if (net >= 0 && sc.networks[net].coordinator >= 0) {
    out.conferences.push_back({base_priority(presented), {}, st.tick, c.id, o, st.slot_of(c)});
    Event ev{Event::conference_wait};
    ev.client = c.id;
    ev.slot = st.slot_of(c);
    out.events.push_back(ev);
  } else if (st.orgs[o].intake_left + 1e-9 >= sc.ties.conference_hours) {
    st.orgs[o].intake_left -= sc.ties.conference_hours;  // it chairs the conference
    st.orgs[o].conference_minutes += std::llround(sc.ties.conference_hours * 60);
    ++st.orgs[o].conferences;
    hold_conference(sc, st, o, c, out, nullptr);
  }
}

// The ties of organization o to scan for a client of a district, in partner order: all of
// them, or (an organization with many ties) those whose partner serves the district or that
// cross territories. pos: positions into st_.ties.of(o), or nullptr for all.
std::span<const std::pair<std::int32_t, std::uint32_t>> phases::ties_in_district(
    const Scenario& sc, const ModelState& st, std::int32_t o, int district,
    const std::uint32_t*& pos) {
  const auto& all = st.ties.of(o);
  pos = nullptr;
  std::size_t n_pos = all.size();
  if (st.route_first[o] >= 0) {
    const auto& s = sc.organizations[o].serves;
    const auto it = std::lower_bound(s.begin(), s.end(), district);
    if (it != s.end() && *it == district) {
      const std::size_t j =
          static_cast<std::size_t>(st.route_first[o]) + static_cast<std::size_t>(it - s.begin());
      pos = st.route_pos.data() + st.route_begin[j];
      n_pos = st.route_begin[j + 1] - st.route_begin[j];
    }
  }
  return {all.data(), pos != nullptr ? n_pos : all.size()};
}

bool phases::conference_partner(const Scenario& sc, const ModelState& st, std::int32_t o,
                                const Client& c, std::uint32_t services) {
  const std::uint32_t* pos = nullptr;
  const auto ties = ties_in_district(sc, st, o, c.district, pos);
  const auto& all = st.ties.of(o);
  for (std::size_t k = 0; k < ties.size(); ++k) {
    const auto& [p, t] = pos != nullptr ? all[pos[k]] : all[k];
    const Tie& tie = st.ties[t];
    // Through a coordinator (lead organization, NAO) every member can take part.
    const int level = coordinator_routes(sc, st, o, p) ? std::max<int>(tie.level, 4) : tie.level;
    if (level < 4 || (sc.organizations[p].services & services) == 0) continue;
    if (serves(sc, st, p, c.district) || tie.cross_territory) return true;
  }
  return false;
}

// Refers need i of client c from organization o to the partner where the client is expected
// to start soonest, as far as the tie lets o see it (MODEL.md §12, docs/model.md "Referral"):
// expected days = (travel days + the partner's expected wait) / chance the referral completes,
// plus trust_weight_days x (1 - trust). The wait is known at level >= 4 as of the last regular
// meeting, at level 7 as of today; an agreement (level >= 6) promises at most its access time;
// at levels 1-3 the referrer knows only the offer, so the wait does not tell partners apart.
// Warm at level >= 3, signposted at 1-2 (or through a personal tie). Ties go to the first
// partner in id order.
void phases::route(const Scenario& sc, ModelState& st, std::int32_t o, const Client& c, int i,
                   bool presented, int min_level, OrgOutput& out) {
  const Need& n = st.needs_of(c)[i];
  const TieDef& td = sc.ties;
  const DecisionDef& dec = sc.decisions;
  const bool signpost_ok = sc.organizations[o].intake_policy == IntakePolicy::signpost;
  std::int32_t best = -1;
  int best_level = -1;
  bool best_formal = false, best_routed = false;
  double best_score = std::numeric_limits<double>::infinity();
  const std::uint32_t* pos = nullptr;
  const auto ties = ties_in_district(sc, st, o, c.district, pos);
  const auto& all = st.ties.of(o);
  for (std::size_t k = 0; k < ties.size(); ++k) {
    const auto& [p, t] = pos != nullptr ? all[pos[k]] : all[k];
    const Tie& tie = st.ties[t];
    // Members of a network whose coordinator routes (lead organization, NAO) are referred
    // through it: warm, with its live view of every member's waits.
    const bool routed = coordinator_routes(sc, st, o, p);
    const int level = routed ? std::max<int>(tie.level, 3) : tie.level;
    if (level < min_level && !(min_level <= 1 && tie.personal > 0)) continue;
    if (level < 3 && !signpost_ok) continue;
    if (!offers(sc, st, p, n.service) || (!serves(sc, st, p, c.district) && !tie.cross_territory))
      continue;
    const bool warm = level >= 3;
    const double completes =
        std::max(1e-6, warm ? td.warm_try * td.warm_reach : td.signpost_try * td.signpost_reach);
    double wait = 0;
    if (level >= 7 || routed)
      wait = st.orgs[p].wait_now[n.service];
    else if (level >= 4)
      wait = st.orgs[p].wait_meeting[n.service];
    if (tie.level >= 6) wait = std::min<double>(wait, dec.agreement_access_days);
    const double travel = warm ? td.warm_days : td.signpost_days;
    const double score = (travel + wait) / completes +
                         dec.trust_weight_days * (1.0 - static_cast<double>(tie.trust));
    if (score < best_score) {
      best = p;
      best_level = level;
      best_formal = tie.level >= 6;
      best_routed = routed;
      best_score = score;
    }
  }
  if (best >= 0) {
    out.routed += best_routed;
    Event ev = Event::on(Event::referred, c.id, st.slot_of(c), i, best, o);
    const bool warm = best_level >= 3;
    ev.flags = static_cast<std::uint8_t>((warm ? need_flag::warm : 0) |
                                         (best_formal ? need_flag::priority : 0));
    ev.value = warm ? sc.ties.warm_days : sc.ties.signpost_days;
    out.events.push_back(ev);
    ++(warm ? out.referrals : out.signposts);
    return;
  }
  if (!presented) return;
  out.events.push_back(Event::on(Event::turned_away, c.id, st.slot_of(c), i, o));
  ++out.turned_away;
}

// A case conference plans the whole bundle: every pending need the convening organization o
// does not offer is referred warm, at once, to a partner at level >= 3 chosen as route() does.
// Every organization that takes part (the partners that receive a need) gives
// decisions.conference_member_hours, paid from its next day's intake hours. claimed: the
// day's (client, need) keys another action already took, which the conference leaves alone.
void phases::hold_conference(const Scenario& sc, ModelState& st, std::int32_t o, const Client& c,
                             OrgOutput& out, const std::vector<std::uint64_t>* claimed) {
  const std::size_t first = out.events.size();
  for (int i = 0; i < c.n_needs; ++i) {
    if (st.needs_of(c)[i].state != NeedState::pending ||
        offers(sc, st, o, st.needs_of(c)[i].service))
      continue;
    if (claimed != nullptr &&
        std::binary_search(claimed->begin(), claimed->end(), need_key(c.id, i)))
      continue;
    route(sc, st, o, c, i, false, 3, out);
  }
  const double hours = sc.decisions.conference_member_hours;
  if (hours <= 0) return;
  for (std::size_t k = first; k < out.events.size(); ++k) {
    const std::int32_t p = out.events[k].org;
    bool seen = false;
    for (std::size_t j = first; j < k && !seen; ++j) seen = out.events[j].org == p;
    if (!seen) out.conference_hours.emplace_back(p, hours);
  }
}

// Whether a queue entry still stands: the need waits at this organization, or it was queued
// today and the event that marks it waiting is not applied yet.
bool phases::still_queued(const Scenario& /*sc*/, const ModelState& st, std::int32_t o,
                          const QueueEntry& q) {
  const Client* found = st.find_client(q.slot, q.client);
  if (found == nullptr || found->outcome != Outcome::active) return false;
  const Client& c = *found;
  const Need& n = st.needs_of(c)[q.need];
  if (n.state == NeedState::waiting) return n.org == o;
  if (q.tick != st.tick) return false;
  return n.state == NeedState::pending || (n.state == NeedState::intake && n.org == o);
}

namespace {
// A helper who may take a case, in a heap whose top is the one a scan of the staff would pick:
// the most free hours, then the first in staff order. Free hours only fall during a day's
// allocation, so an entry whose helper took a case of another service meanwhile is stale: it is
// checked when it reaches the top and pushed back with its hours of now.
struct Candidate {
  float free;
  std::int32_t order, slot;
};
bool worse(const Candidate& a, const Candidate& b) {
  return a.free < b.free || (a.free == b.free && a.order > b.order);
}
}  // namespace

// Gives waiting clients of organization o's queues to its free helpers, across all its
// services, in the order of the scenario's queue discipline (decisions.queue_discipline):
// urgency, then a slot an agreement reserves, then days waited, then client id. An agreement
// (level >= 6) reserves ties.reserved_share of the case slots for each service. Of the free
// reserved slots, as many are held for agreement referrals as those waiting now and those
// expected within decisions.reserved_release_days at the recent rate would take; the rest are
// released to everyone. Referrals that wait past
// the standard, or past an agreement's access time, are noted for the referrer (tie events).
void phases::allocate(const Scenario& sc, ModelState& st, std::int32_t o, OrgOutput& out) {
  OrgState& org = st.orgs[o];
  const DecisionDef& dec = sc.decisions;
  const int n_services = static_cast<int>(sc.services.size());
  const int cap = sc.helpers.caseload_cap;
  const QueueDiscipline discipline = dec.queue_discipline;
  thread_local std::vector<std::size_t> referred;  // scratch lists, reused call after call
  thread_local std::vector<std::vector<Candidate>> heaps;
  thread_local std::vector<std::size_t> head;
  thread_local std::vector<int> general_room, reserved_room;
  thread_local std::vector<std::uint8_t> built, exhausted;
  heaps.resize(static_cast<std::size_t>(n_services));
  head.assign(static_cast<std::size_t>(n_services), 0);
  general_room.assign(static_cast<std::size_t>(n_services), 0);
  reserved_room.assign(static_cast<std::size_t>(n_services), 0);
  built.assign(static_cast<std::size_t>(n_services), 0);
  exhausted.assign(static_cast<std::size_t>(n_services), 1);
  org.backlog = 0;
  bool any_waiting = false;
  for (int s = 0; s < n_services; ++s) {
    auto& queue = org.queues[s];
    if (queue.empty() || !offers(sc, st, o, s)) continue;
    // Entries that no longer stand (the client left, or the need moved on) go first, so that
    // they take no reserved slot.
    std::erase_if(queue, [&](const QueueEntry& q) { return !still_queued(sc, st, o, q); });
    if (queue.empty()) continue;
    const float hours = static_cast<float>(sc.services[s].hours_per_day);
    // Case slots of its staff for the service, and the free ones now.
    int slots = 0, free_slots = 0;
    st.for_each_staff(o, [&](std::int32_t x) {
      const Helper& h = st.staff.helpers[x];
      if (!((h.skills >> s) & 1u)) return;
      slots += std::min(cap, static_cast<int>(std::floor(h.capacity_hours / hours + 1e-6)));
      free_slots += std::max(
          0, std::min(cap - h.cases, static_cast<int>(std::floor(h.free_hours() / hours + 1e-6))));
    });
    const bool agreements = discipline != QueueDiscipline::fifo;
    const int reserved_free =
        agreements ? std::max(0, static_cast<int>(std::floor(sc.ties.reserved_share * slots)) -
                                     org.reserved_in_use[s])
                   : 0;
    reserved_room[s] = reserved_free;
    referred.clear();
    for (std::size_t i = 0; i < queue.size(); ++i) {
      QueueEntry& q = queue[i];
      const Need& n = st.needs_of(*st.find_client(q.slot, q.client))[q.need];
      const int waited = st.tick - q.tick;
      const bool open_referral = n.from_org >= 0;
      const bool agreement = open_referral && (n.flags & need_flag::priority);
      if (open_referral && !(q.flags & queue_flag::late_noted) &&
          waited > sc.standards.max_days_to_service) {
        q.flags |= queue_flag::late_noted;
        ++org.referred_late;
        const std::int32_t t = st.ties.find(n.from_org, o);
        if (t >= 0)
          out.tie_events.push_back({static_cast<std::uint32_t>(t), TieEventKind::late, o});
      }
      if (agreement && !(q.flags & queue_flag::breach_noted) &&
          waited > dec.agreement_access_days) {
        q.flags |= queue_flag::breach_noted;
        ++org.agreements_breached;
        const std::int32_t t = st.ties.find(n.from_org, o);
        if (t >= 0)
          out.tie_events.push_back({static_cast<std::uint32_t>(t), TieEventKind::breach, o});
      }
      q.priority = discipline == QueueDiscipline::fifo ? 0 : base_priority(n);
      if (agreement && reserved_free > 0) referred.push_back(i);
    }
    // The reserved slots go to agreement referrals first come, first served.
    std::sort(referred.begin(), referred.end(), [&](std::size_t x, std::size_t y) {
      return std::tie(queue[x].tick, queue[x].client, queue[x].need) <
             std::tie(queue[y].tick, queue[y].client, queue[y].need);
    });
    for (std::size_t k = 0; k < referred.size() && static_cast<int>(k) < reserved_free; ++k)
      queue[referred[k]].priority += 1;
    // Held for agreement referrals: the free reserved slots the ones waiting now and the ones
    // expected within decisions.reserved_release_days (at the recent rate) would take.
    const double expected =
        std::ceil(static_cast<double>(org.agreement_rate[s]) * dec.reserved_release_days - 1e-6);
    const int held = static_cast<int>(
        std::min<double>(reserved_free, static_cast<double>(referred.size()) + expected));
    general_room[s] = held > 0 ? free_slots - held : std::numeric_limits<int>::max();
    std::sort(queue.begin(), queue.end());
    exhausted[s] = 0;
    any_waiting = true;
  }
  if (!any_waiting) return;
  // The helper of the organization's own staff who takes the next case of a service, or -1.
  auto own_helper = [&](int s) -> std::int32_t {
    auto& heap = heaps[s];
    const float hours = static_cast<float>(sc.services[s].hours_per_day);
    if (!built[s]) {
      heap.clear();
      std::int32_t order = 0;
      st.for_each_staff(o, [&](std::int32_t x) {
        const Helper& h = st.staff.helpers[x];
        if (((h.skills >> s) & 1u) && h.can_take(hours, cap))
          heap.push_back({h.free_hours(), order, x});
        ++order;
      });
      std::make_heap(heap.begin(), heap.end(), worse);
      built[s] = 1;
    }
    while (!heap.empty()) {
      const Candidate top = heap.front();
      const Helper& h = st.staff.helpers[top.slot];
      if (h.can_take(hours, cap) && h.free_hours() == top.free) return top.slot;
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.pop_back();
      if (h.can_take(hours, cap)) {  // stale: back in with its hours of now
        heap.push_back({h.free_hours(), top.order, top.slot});
        std::push_heap(heap.begin(), heap.end(), worse);
      }
    }
    return -1;
  };
  // Whether the head of service s's queue goes before the head of service r's.
  auto before = [&](int s, int r) {
    if (discipline == QueueDiscipline::by_service) return s < r;
    const QueueEntry& a = org.queues[s][head[s]];
    const QueueEntry& b = org.queues[r][head[r]];
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.tick != b.tick) return a.tick < b.tick;
    if (a.client != b.client) return a.client < b.client;
    return a.need < b.need;
  };
  for (;;) {
    int s = -1;
    for (int r = 0; r < n_services; ++r) {
      if (exhausted[r]) continue;
      // Skip entries this service cannot take now (general clients while the free slots are
      // held for agreement referrals).
      auto& queue = org.queues[r];
      while (head[r] < queue.size() && !(queue[head[r]].priority & 1) && general_room[r] <= 0)
        ++head[r];
      if (head[r] >= queue.size()) {
        exhausted[r] = 1;
        continue;
      }
      if (s < 0 || before(r, s)) s = r;
    }
    if (s < 0) break;
    auto& queue = org.queues[s];
    QueueEntry& q = queue[head[s]];
    const std::int32_t helper = own_helper(s);
    if (helper < 0) {
      exhausted[s] = 1;
      continue;
    }
    const float hours = static_cast<float>(sc.services[s].hours_per_day);
    Helper& h = st.staff.helpers[helper];
    h.load_hours += hours;
    ++h.cases;
    {  // the top of the heap: back in with its new free hours, if it can
      auto& heap = heaps[s];
      const std::int32_t order = heap.front().order;
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.pop_back();
      if (h.can_take(hours, cap)) {
        heap.push_back({h.free_hours(), order, helper});
        std::push_heap(heap.begin(), heap.end(), worse);
      }
    }
    const Client& c = *st.find_client(q.slot, q.client);  // it stands
    const Need& n = st.needs_of(c)[q.need];
    Stream days = st.streams(kServiceDays, std::uint64_t{c.id} * kMaxNeeds + q.need,
                             static_cast<std::uint32_t>(st.tick));
    Event ev = Event::on(Event::service_start, q.client, q.slot, q.need, o, helper);
    if ((q.priority & 1) && discipline != QueueDiscipline::fifo) {
      ev.flags |= need_flag::reserved;
      ++org.reserved_in_use[s];
      --reserved_room[s];
    } else {
      --general_room[s];
    }
    ++org.in_use[s];
    ++org.started_today[s];
    ++org.started;
    const int waited = st.tick - q.tick;
    if (waited <= sc.standards.max_days_to_service) {
      ++org.started_in_standard;
      ev.aux |= start_flag::in_standard;
    }
    if (n.from_org >= 0 && (n.flags & need_flag::priority) &&
        !(q.flags & queue_flag::breach_noted)) {
      ++org.agreements_honoured;
      ev.aux |= start_flag::honoured;
    }
    ev.value = draw_service_days(sc, c, n, days);
    out.events.push_back(ev);
    q.flags |= queue_flag::started;
    ++head[s];
  }
  for (int s = 0; s < n_services; ++s) {
    auto& queue = org.queues[s];
    if (queue.empty()) continue;
    // Entries still waiting move to the front, in order (those passed over while free slots
    // were held for agreement referrals included).
    std::size_t kept = 0;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      if (queue[i].flags & queue_flag::started) continue;
      queue[kept++] = queue[i];
    }
    queue.resize(kept);
    if (kept > 0) org.backlog |= 1u << s;
  }
}

}  // namespace cm::care
