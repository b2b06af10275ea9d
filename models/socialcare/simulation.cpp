#include "models/socialcare/simulation.hpp"

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

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "engine/hash.hpp"
#include "engine/parallel.hpp"
#include "engine/radix_sort.hpp"

namespace cm::care {

namespace {
constexpr std::uint64_t kArrivals = purpose_code("arrivals");
constexpr std::uint64_t kTraits = purpose_code("client-traits");
constexpr std::uint64_t kClientStep = purpose_code("client-step");
constexpr std::uint64_t kServiceDays = purpose_code("service-days");
constexpr std::uint64_t kTurnover = purpose_code("turnover");
constexpr std::uint64_t kQuality = purpose_code("helper-quality");
constexpr std::uint64_t kPersonalInit = purpose_code("personal-ties-init");
constexpr std::uint64_t kPersonalForm = purpose_code("personal-ties-form");
constexpr std::uint64_t kTieReview = purpose_code("tie-review");

constexpr std::size_t kClientGrain = 512;
constexpr int kTrimDays = 30;  // days between returns of freed heap memory to the system

// Queue and intake priority: urgency first, then a slot an agreement reserves (allocate()
// decides which agreement referrals get one), so an agreement never outranks urgency.
std::uint8_t base_priority(const Need& n) {
  return (n.flags & need_flag::urgent) ? 2 : 0;
}
std::uint8_t arrival_priority(const Need& n) {
  return static_cast<std::uint8_t>(base_priority(n) + ((n.flags & need_flag::priority) ? 1 : 0));
}
std::uint64_t need_key(std::uint32_t client, int need) {
  return (std::uint64_t{client} << 8) | static_cast<std::uint64_t>(need);
}
}  // namespace

// ---- set-up --------------------------------------------------------------------------------

Simulation::Simulation(const Scenario& scenario, std::uint64_t seed, SimOptions options)
    : sc_(scenario),
      st_(sc_, seed, options.client_records,
          options.ticks > 0 ? std::min(options.ticks, scenario.horizon_days)
                            : scenario.horizon_days) {
  // Client records hold organization ids and days in 16 bits (clients.hpp); the scenario
  // loader refuses scenarios beyond these limits.
  if (sc_.organizations.size() > static_cast<std::size_t>(kMaxOrganizations))
    throw std::invalid_argument("Simulation: " + std::to_string(sc_.organizations.size()) +
                                " organizations, at most " + std::to_string(kMaxOrganizations));
  if (sc_.horizon_days > kMaxTicks)
    throw std::invalid_argument("Simulation: horizon_days " + std::to_string(sc_.horizon_days) +
                                ", at most " + std::to_string(kMaxTicks));
#if defined(__GLIBC__)
  // The scenario loader's YAML tree is freed by now, but glibc keeps the freed pages in the
  // middle of its heap: give them back, so that a run's memory is its own state.
  malloc_trim(0);
#endif
  const int n_orgs = static_cast<int>(sc_.organizations.size());
  const int n_districts = static_cast<int>(sc_.districts.size());
  st_.coordinators_by_district.assign(n_districts, {});
  st_.others_by_district.assign(n_districts, {});
  st_.serving_by_district.assign(n_districts, {});
  for (int o = 0; o < n_orgs; ++o) {
    const Organization& org = sc_.organizations[o];
    const bool coordinator = org.sector == Sector::public_coordinator ||
                             org.sector == Sector::intermunicipal_coordinator;
    for (int d : org.serves) {
      (coordinator ? st_.coordinators_by_district : st_.others_by_district)[d].push_back(o);
      st_.serving_by_district[d].push_back(o);
    }
  }
  st_.orgs.resize(n_orgs);
  st_.nets.resize(sc_.networks.size());
  st_.routing_net.assign(n_orgs, -1);
  st_.monitored_in.assign(n_orgs, {});
  for (std::size_t k = 0; k < sc_.networks.size(); ++k) {
    const NetworkDef& net = sc_.networks[k];
    if (net.coordinator < 0) {
      // Shared governance: every member coordinates with every other member (Provan & Kenis
      // 2008: its cost grows with the number of members).
      const double others = static_cast<double>(net.members.size()) - 1.0;
      for (int m : net.members)
        st_.orgs[m].coordination_hours += net.coordination_hours_per_member_week * others / 7.0;
      continue;
    }
    if (net.coordinator_hours_per_day > 0 && (net.coordinator_routing || net.follow_up))
      for (int m : net.members)
        if (st_.routing_net[m] < 0) st_.routing_net[m] = static_cast<std::int32_t>(k);
    st_.nets[k].hours_per_day = net.coordinator_hours_per_day;
    st_.orgs[net.coordinator].coordination_hours += net.coordinator_hours_per_day;
    if (net.monitoring && net.coordinator_hours_per_day > 0) {
      st_.monitoring = true;
      st_.nets[k].tally.resize(net.members.size());
      for (std::size_t i = 0; i < net.members.size(); ++i)
        st_.monitored_in[net.members[i]].emplace_back(static_cast<std::int32_t>(k),
                                                      static_cast<std::uint32_t>(i));
    }
    for (int m : net.members)
      if (st_.orgs[m].network < 0) st_.orgs[m].network = static_cast<std::int32_t>(k);
  }
  for (int o = 0; o < n_orgs; ++o) {
    const std::size_t n_services = sc_.services.size();
    st_.orgs[o].queues.resize(n_services);
    st_.orgs[o].reserved_in_use.assign(n_services, 0);
    st_.orgs[o].in_use.assign(n_services, 0);
    st_.orgs[o].agreement_today.assign(n_services, 0);
    st_.orgs[o].agreement_rate.assign(n_services, 0.0f);
    st_.orgs[o].wait_now.assign(n_services, 0.0f);
    st_.orgs[o].wait_meeting.assign(n_services, 0.0f);
    st_.orgs[o].start_rate.assign(n_services, 0.0f);
    st_.orgs[o].started_today.assign(n_services, 0);
  }
  for (std::size_t s = 0; s < sc_.services.size(); ++s)
    if (sc_.services[s].innovative) st_.innovative_mask |= 1u << s;
  st_.outreach_boost.assign(n_districts, 0.0);
  st_.self_help_boost.assign(n_districts, 0.0);
  st_.authorities.resize(sc_.authorities.size());
  for (AuthorityState& a : st_.authorities) {
    a.budget_shift.assign(n_districts, 0.0);
    a.record.assign(n_orgs, 0.5);
  }
  reserve_clients();
  st_.ties.build(sc_);
  for (const Tie& t : st_.ties.all()) st_.initial_levels.push_back(t.level);
  if (options.partition != nullptr) {
    if (st_.keep_records)
      throw std::invalid_argument("a partitioned run keeps no client records (client_records)");
    st_.comm = options.partition;
    st_.rank = st_.comm->rank();
    if (st_.comm->size() > 65535) throw std::invalid_argument("at most 65,535 processes");
    std::vector<std::pair<std::int32_t, std::int32_t>> pairs;
    for (const Tie& t : st_.ties.all()) pairs.emplace_back(t.a, t.b);
    st_.part = partition_territory(sc_, pairs, st_.comm->size());
    for (std::int32_t o = 0; o < static_cast<std::int32_t>(sc_.organizations.size()); ++o)
      if (st_.part.org_rank[o] == st_.rank) st_.own_orgs.push_back(o);
  }
  init_staff();
  init_personal_ties();
  build_route_index();
  update_hours();
}

void Simulation::build_route_index() {
  constexpr std::size_t kIndexedFrom = 32;  // ties; fewer are scanned whole
  st_.route_first.assign(sc_.organizations.size(), -1);
  for (std::size_t o = 0; o < sc_.organizations.size(); ++o) {
    const auto& ties = st_.ties.of(static_cast<std::int32_t>(o));
    if (ties.size() < kIndexedFrom) continue;
    st_.route_first[o] = static_cast<std::int64_t>(st_.route_begin.size());
    for (int d : sc_.organizations[o].serves) {
      st_.route_begin.push_back(static_cast<std::uint32_t>(st_.route_pos.size()));
      for (std::size_t k = 0; k < ties.size(); ++k)
        if (st_.ties[ties[k].second].cross_territory || serves(ties[k].first, d))
          st_.route_pos.push_back(static_cast<std::uint32_t>(k));
    }
    st_.route_begin.push_back(static_cast<std::uint32_t>(st_.route_pos.size()));
  }
}

void Simulation::reserve_clients() {
  // Room (virtual memory until used) for the clients the horizon is expected to bring; without
  // client records the arrays hold the active clients (and those awaiting the squeeze): room for
  // a year's clients at most, so they are seldom copied as they grow (a copy holds both buffers).
  // The active list: a year's clients.
  double per_day = 0, needs_per_client = 0, shares = 0;
  for (const District& d : sc_.districts)
    per_day += static_cast<double>(d.population) * sc_.population.annual_incidence / 365.0;
  for (const ClientKindDef& k : sc_.population.kinds) {
    needs_per_client += k.share * std::min<double>(1.0 + k.mean_extra_needs, kMaxNeeds);
    shares += k.share;
  }
  needs_per_client = shares > 0 ? needs_per_client / shares : 1.0;
  const double year = std::min(per_day * std::min(sc_.horizon_days, 365) * 1.1 + 1024.0, 4.0e9);
  const double expected =
      st_.keep_records ? std::min(per_day * sc_.horizon_days * 1.1 + 1024.0, 4.0e9) : year;
  st_.clients.reserve(static_cast<std::size_t>(expected));
  st_.active.reserve(static_cast<std::size_t>(year));
  st_.needs.reserve(static_cast<std::size_t>(std::min(expected * needs_per_client, 4.0e9)));
}

void Simulation::init_staff() {
  std::size_t n = 0;
  for (const Organization& org : sc_.organizations) n += static_cast<std::size_t>(org.helpers);
  st_.staff.helpers.reserve(n);
  st_.staff.slot_of_id.reserve(n);
  for (std::size_t o = 0; o < sc_.organizations.size(); ++o) {
    const Organization& org = sc_.organizations[o];
    st_.orgs[o].first_helper = static_cast<std::int32_t>(st_.staff.helpers.size());
    st_.orgs[o].n_helpers = org.helpers;
    for (int i = 0; i < org.helpers; ++i) {
      Helper h;
      h.id = st_.staff.next_id++;
      h.org = static_cast<std::int32_t>(o);
      h.skills = org.services & ~st_.innovative_mask;  // new forms of service need a contract
      Stream rng = st_.streams(kQuality, h.id, 0);
      h.quality = draw_helper_quality(sc_.helpers, rng);
      st_.staff.slot_of_id.push_back(static_cast<std::int32_t>(st_.staff.helpers.size()));
      st_.staff.helpers.push_back(h);
    }
  }
}

void Simulation::init_personal_ties() {
  const HelperDef& def = sc_.helpers;
  if (def.personal_ties_initial <= 0) return;
  for (std::size_t s = 0; s < st_.staff.helpers.size(); ++s) {
    const std::int32_t org = st_.staff.helpers[s].org;
    const auto& partners = st_.ties.of(org);
    if (partners.empty()) continue;
    Stream rng = st_.streams(kPersonalInit, s, 0);
    boost::random::poisson_distribution<int, double> count(def.personal_ties_initial);
    const int k = count(rng);
    for (int i = 0; i < k; ++i) {
      const std::int32_t p = partners[rng.below(static_cast<std::uint32_t>(partners.size()))].first;
      if (st_.orgs[p].n_helpers == 0) continue;
      Helper& other =
          st_.staff.helpers[st_.orgs[p].first_helper +
                            rng.below(static_cast<std::uint32_t>(st_.orgs[p].n_helpers))];
      Helper& self = st_.staff.helpers[s];
      if (self.n_personal < def.personal_ties_max && other.n_personal < def.personal_ties_max &&
          self.add_personal(other.id, def.personal_ties_max))
        other.add_personal(self.id, def.personal_ties_max);
    }
  }
}

bool Simulation::serves(std::int32_t org, int district) const {
  const auto& s = sc_.organizations[org].serves;
  return std::binary_search(s.begin(), s.end(), district);
}

// Hours for the next day: ties and coordination are paid out of the same staff time that
// serves clients; what remains is split between intake and direct service.
void Simulation::update_hours() {
  const HelperDef& def = sc_.helpers;
  for (auto& o : st_.orgs) o.collaboration_hours = 0;
  for (const Tie& t : st_.ties.all()) {
    const double h = tie_hours_per_day(sc_.ties, t.level);
    st_.orgs[t.a].collaboration_hours += h;
    st_.orgs[t.b].collaboration_hours += h;
  }
  parallel_for_each(st_.orgs.size(), [&](std::size_t i) {  // each organization on its own
    const auto k = static_cast<std::int32_t>(i);
    OrgState& o = st_.orgs[k];
    // Funded posts still being filled are neither paid nor staffed.
    std::size_t vacant = 0;
    for (std::int32_t s : o.contract_staff) vacant += st_.staff.helpers[s].starts > st_.tick;
    const double staff =
        o.n_helpers + static_cast<double>(o.contract_staff.size()) - static_cast<double>(vacant);
    o.paid_hours = staff * def.hours_per_day;
    const double available = o.paid_hours * (1.0 - def.admin_share);
    const double rest = std::max(0.0, available - o.collaboration_hours - o.coordination_hours);
    o.intake_hours = rest * def.intake_share;
    const double per_helper = staff > 0 ? rest * (1.0 - def.intake_share) / staff : 0;
    st_.for_each_staff(k, [&](std::int32_t s) {
      Helper& h = st_.staff.helpers[s];
      h.capacity_hours = h.starts > st_.tick ? 0.0f : static_cast<float>(per_helper);
    });
  });
  // Helpers of ended contracts finish their cases and take no new ones.
  if (!sc_.authorities.empty())
    for (Helper& h : st_.staff.helpers)
      if (h.retired) h.capacity_hours = h.load_hours;
}

// ---- one tick ------------------------------------------------------------------------------

void Simulation::run(int ticks) {
  for (int i = 0; i < ticks && st_.tick < sc_.horizon_days; ++i) step();
}

void Simulation::step() {
  TickRecord rec;
  rec.tick = st_.tick;
  if (!sc_.authorities.empty()) {
    if (st_.comm != nullptr) {
      bool cycle = false;  // monitoring reads the organizations' counters of every process
      for (const AuthorityDef& a : sc_.authorities)
        cycle = cycle || (st_.tick >= a.first_cycle_day &&
                          (st_.tick - a.first_cycle_day) % a.period_days == 0);
      if (cycle) sync_org_counters(false);
    }
    phase_steering();
    update_hours();  // contracts change staff
  }
  phase_arrivals(rec);
  std::vector<Msg> msgs = phase_clients(rec);
  std::vector<Event>& events = st_.events;  // the day's lists, reused from day to day
  std::vector<TieEvent>& tie_events = st_.tie_events;
  events.clear();
  tie_events.clear();
  if (st_.comm != nullptr) {
    exchange_msgs(msgs);
    fetch_ghosts(msgs);
  }
  phase_organizations(msgs, events, tie_events, rec);
  const std::size_t pooled_from = st_.tie_keyed_from;  // the day's tie events from here on are
                                                       // each one process's (keyed, exchanged)
  phase_pooling(events, tie_events);
  phase_conferences(events, rec);
  if (st_.comm != nullptr) {
    drop_ghosts();
    exchange_events(events);
  }
  phase_apply(events, tie_events, rec);
  if (st_.comm != nullptr) {
    exchange_tie_events(tie_events, pooled_from);
    sync_helpers();
  }
  phase_waits();
  phase_ties(tie_events);
  phase_staff();
  phase_record(rec);
  if (st_.comm != nullptr) sync_record(rec);
  st_.series.push_back(rec);
  retire_exited();
  ++st_.tick;
#if defined(__GLIBC__)
  // The day's short-lived lists come and go in glibc's heap, whose freed pages stay resident:
  // over months they would fill the holes the scenario loader left (a few MB at 10^7 residents,
  // measured). Give them back once a month (a fraction of a millisecond).
  if (st_.tick % kTrimDays == 0) malloc_trim(0);
#endif
}

// New clients: the day's Poisson count of every district (keyed by district and day), then the
// clients themselves in parallel; each one's traits come from a stream keyed by its id alone,
// so the ids (district by district, in order) fix every client whatever the thread count.
void Simulation::phase_arrivals(TickRecord& rec) {
  const ClientFactory factory{&sc_, &st_.coordinators_by_district, &st_.others_by_district,
                              &st_.outreach_boost, &st_.self_help_boost};
  const std::size_t n_districts = sc_.districts.size();
  std::vector<std::int32_t> count(n_districts, 0);
  parallel_for_each(
      n_districts,
      [&](std::size_t d) {
        const double rate = static_cast<double>(sc_.districts[d].population) *
                            sc_.population.annual_incidence / 365.0;
        if (rate <= 0) return;
        Stream rng = st_.streams(kArrivals, d, static_cast<std::uint32_t>(st_.tick));
        boost::random::poisson_distribution<int, double> poisson(rate);
        count[d] = poisson(rng);
      },
      64);
  const std::uint32_t first = st_.next_id;
  std::vector<std::uint16_t> district_of;
  for (std::size_t d = 0; d < n_districts; ++d)
    district_of.insert(district_of.end(), static_cast<std::size_t>(count[d]),
                       static_cast<std::uint16_t>(d));
  const std::size_t k = district_of.size();
  if (static_cast<std::uint64_t>(first) + k >= kGone)
    throw std::runtime_error("more than 4,294,967,294 clients: client ids are 32-bit");
  // A partitioned run creates the clients of its own districts only (the ids of all).
  std::vector<std::uint32_t> mine;  // indices into district_of
  if (st_.comm != nullptr)
    for (std::size_t i = 0; i < k; ++i) {
      const auto r = static_cast<std::uint16_t>(st_.part.district_rank[district_of[i]]);
      st_.id_rank.push_back(r);
      if (r == st_.rank) mine.push_back(static_cast<std::uint32_t>(i));
    }
  const std::size_t n_here = st_.comm != nullptr ? mine.size() : k;
  const auto index = [&](std::size_t j) { return st_.comm != nullptr ? mine[j] : j; };
  // New records go at the end of the array, so it stays in id order (the client pass walks it
  // front to back); without client records, records of clients who left are squeezed out from
  // time to time (retire_exited).
  const auto at = static_cast<std::uint32_t>(st_.clients.size());
  if (st_.clients.size() + n_here > st_.clients.capacity())
    st_.clients.reserve(std::max(st_.clients.size() + n_here, st_.clients.capacity() * 3 / 2));
  st_.clients.resize(st_.clients.size() + n_here);
  std::vector<std::array<Need, kMaxNeeds>> drawn(n_here);
  parallel_for_each(
      n_here,
      [&](std::size_t j) {
        const std::size_t i = index(j);
        const auto id = first + static_cast<std::uint32_t>(i);
        Stream traits = st_.streams(kTraits, id, 0);
        st_.clients[at + j] = factory.make(id, district_of[i], st_.tick, traits, drawn[j].data());
      },
      16);  // a client's traits take ~0.7 µs (beta, binomial draws): small chunks pay
  // Their needs go to the end of the need array, in id order too.
  std::size_t n_new = 0;
  for (std::size_t j = 0; j < n_here; ++j) n_new += st_.clients[at + j].n_needs;
  if (st_.needs.size() + n_new >= kGone)
    throw std::runtime_error("more than 4,294,967,294 client needs: need positions are 32-bit");
  if (st_.needs.size() + n_new > st_.needs.capacity())
    st_.needs.reserve(std::max(st_.needs.size() + n_new, st_.needs.capacity() * 3 / 2));
  for (std::size_t j = 0; j < n_here; ++j) {
    Client& c = st_.clients[at + j];
    c.first_need = static_cast<std::uint32_t>(st_.needs.size());
    st_.needs.insert(st_.needs.end(), drawn[j].begin(), drawn[j].begin() + c.n_needs);
  }
  for (std::size_t j = 0; j < n_here; ++j) st_.active.push_back(at + static_cast<std::uint32_t>(j));
  st_.next_id = first + static_cast<std::uint32_t>(k);
  rec.arrivals += static_cast<std::int64_t>(k);
  if (!sc_.authorities.empty()) {
    st_.district_arrivals.push_back(std::move(count));
    std::vector<std::pair<std::uint32_t, ClientNote>> notes;
    for (std::size_t j = 0; j < n_here; ++j) {
      const Client& c = st_.clients[at + j];
      ClientNote note;
      note.arrival = c.arrival;
      note.district = c.district;
      note.n_needs = c.n_needs;
      for (int i = 0; i < c.n_needs; ++i) note.service[i] = st_.needs_of(c)[i].service;
      if (st_.comm != nullptr)
        notes.emplace_back(c.id, note);
      else
        st_.notes.push_back(note);
    }
    if (st_.comm != nullptr) exchange_notes(notes, true);
  }
}

namespace {
constexpr std::size_t kPrefetchAhead = 8;  // clients
}  // namespace

std::vector<Simulation::Msg> Simulation::phase_clients(TickRecord& rec) {
  // Everything the tick needs from a client is taken while its record is hot: whether it stays
  // active, how it left, and the states of its needs (phase_record). Integer sums do not depend
  // on the order of the chunks, so relaxed atomics keep them thread-count independent.
  const std::size_t n = st_.active.size();
  std::vector<std::uint8_t>& keep = st_.keep;  // reused from day to day
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
          if (i + kPrefetchAhead < end) st_.prefetch_record(st_.active[i + kPrefetchAhead]);
          if (i + kPrefetchAhead / 2 < end)
            st_.prefetch_needs(st_.clients[st_.active[i + kPrefetchAhead / 2]]);
          Client& c = st_.clients[st_.active[i]];
          step_client(c, st_.active[i], out);
          keep[i] = c.outcome == Outcome::active;
          res += c.outcome == Outcome::resolved;
          drop += c.outcome == Outcome::dropped;
          if (keep[i])
            for (int k = 0; k < c.n_needs; ++k) ++count[static_cast<int>(st_.needs_of(c)[k].state)];
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
      st_.active[kept++] = st_.active[i];
    else
      st_.exited.push_back(st_.active[i]);
  }
  st_.active.resize(kept);
  return msgs;
}

void Simulation::step_client(Client& c, std::uint32_t slot, std::vector<Msg>& out) {
  const PopulationDef& pop = sc_.population;
  const TieDef& tdef = sc_.ties;
  Stream rng = st_.streams(kClientStep, c.id, static_cast<std::uint32_t>(st_.tick));
  bool any_in_service = false, any_open = false;
  for (int i = 0; i < c.n_needs; ++i) {
    Need& n = st_.needs_of(c)[i];
    switch (n.state) {
      case NeedState::in_service:
        if (--n.days_left <= 0) {
          const Helper& h = st_.staff.helpers[n.helper];
          if (rng.bernoulli(h.quality)) {
            n.state = NeedState::met;
            Msg m{Msg::release};
            m.org = n.org;
            m.helper = n.helper;
            m.client = c.id;
            m.slot = slot;
            m.hours = static_cast<float>(sc_.services[n.service].hours_per_day);
            m.service = n.service;
            m.reserved = n.flags & need_flag::reserved;
            out.push_back(m);
          } else {
            Stream days = st_.streams(kServiceDays, std::uint64_t{c.id} * kMaxNeeds + i,
                                      static_cast<std::uint32_t>(st_.tick));
            n.days_left = draw_service_days(sc_, c, n, days);
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
          if (!reached && n.from_org >= 0 && n.org >= 0 && st_.routed_between(n.from_org, n.org)) {
            const NetworkDef& net = sc_.networks[st_.routing_net[n.from_org]];
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
        n.severity < sc_.services[n.service].self_help_max_severity &&
        rng.bernoulli(pop.self_help_rate * c.self_help)) {
      n.state = NeedState::met;
      n.flags |= need_flag::self_help;
    }
    any_in_service = any_in_service || n.state == NeedState::in_service;
    any_open = any_open || (n.state != NeedState::met && n.state != NeedState::unmet);
  }
  if (!any_open) {
    c.outcome = Outcome::resolved;
    c.exit = st_.tick;
    return;
  }
  // Giving up: a hazard that grows with failed contacts and days since the need arose.
  if (!any_in_service) {
    const double hazard = pop.dropout_base + pop.dropout_per_failed_contact * c.failed_contacts +
                          pop.dropout_per_day_waiting * (st_.tick - c.arrival);
    if (rng.bernoulli(hazard)) {
      for (int i = 0; i < c.n_needs; ++i) {
        Need& n = st_.needs_of(c)[i];
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
      c.exit = st_.tick;
      return;
    }
  }
  // On its own a client pursues few needs at once (one, by default): the next need waits
  // until an earlier one is met or given up. A case conference plans the rest in parallel.
  if (!c.searching(st_.needs_of(c)) &&
      c.needs_open(st_.needs_of(c)) < sc_.population.needs_pursued_at_once) {
    const int next = next_pending_need(c, st_.needs_of(c));
    if (next >= 0) {
      st_.needs_of(c)[next].state = NeedState::seeking;
    }
  }
  for (int i = 0; i < c.n_needs; ++i)
    if (st_.needs_of(c)[i].state == NeedState::seeking) choose_door(c, slot, i, rng, out);
}

// The client goes to a door: one whose offer it knows, else (knowing the offer with some
// chance) a known one that offers the service, else any known one; knowing none, it searches.
void Simulation::choose_door(Client& c, std::uint32_t slot, int need, Stream& rng,
                             std::vector<Msg>& out) {
  Need& n = st_.needs_of(c)[need];
  std::int32_t door = -1;
  for (int k = 0; k < c.n_known && door < 0; ++k)
    if ((c.known_offer >> k & 1u) && offers(c.known[k], n.service) &&
        serves(c.known[k], c.district))
      door = c.known[k];
  if (door < 0 && c.n_known > 0) {
    std::int32_t right[kMaxKnown], any[kMaxKnown];
    int n_right = 0, n_any = 0;
    for (int k = 0; k < c.n_known; ++k) {
      if (!serves(c.known[k], c.district)) continue;
      any[n_any++] = c.known[k];
      if (offers(c.known[k], n.service)) right[n_right++] = c.known[k];
    }
    if (n_right > 0 && rng.bernoulli(sc_.population.offer_knowledge))
      door = right[rng.below(n_right)];
    else if (n_any > 0)
      door = any[rng.below(n_any)];
  }
  if (door < 0) {
    const auto& serving = st_.serving_by_district[c.district];
    if (serving.empty() || !rng.bernoulli(sc_.population.search_rate)) return;
    door = serving[rng.below(static_cast<std::uint32_t>(serving.size()))];
    c.learn(door, false);
  }
  ++c.doors;
  if (c.first_contact < 0) c.first_contact = st_.tick;
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

void Simulation::phase_organizations(std::vector<Msg>& msgs, std::vector<Event>& events,
                                     std::vector<TieEvent>& tie_events, TickRecord& rec) {
  const std::size_t n_orgs = st_.orgs.size();
  // Bucket messages by organization, keeping client order within each bucket.
  std::vector<std::size_t> start(n_orgs + 1, 0);
  for (const Msg& m : msgs) {
    if (m.type == Msg::follow_up) {
      NetworkState& net = st_.nets[st_.routing_net[m.org]];
      ++net.follow_ups;
      net.debt += sc_.networks[st_.routing_net[m.org]].follow_up_hours;
      continue;
    }
    if (m.type == Msg::tie_failure) {
      const std::int32_t t = st_.ties.find(m.org, m.from_org);
      if (t >= 0) tie_events.push_back({static_cast<std::uint32_t>(t), m.tie_kind, m.from_org});
      if (m.tie_kind == TieEventKind::dropout) ++st_.orgs[m.from_org].referred_dropouts;
      continue;
    }
    ++start[m.org + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<Msg>& sorted = st_.sorted_msgs;  // reused from day to day
  sorted.resize(start[n_orgs]);
  std::vector<std::size_t> fill(start.begin(), start.end() - 1);
  for (const Msg& m : msgs)
    if (m.type != Msg::tie_failure && m.type != Msg::follow_up) sorted[fill[m.org]++] = m;

  std::vector<OrgOutput>& outputs = st_.org_outputs;  // reused from day to day (no reallocation)
  outputs.resize(n_orgs);
  for (OrgOutput& out : outputs) out.clear();
  // A partitioned run steps its own organizations (the others' messages went to their owners).
  const std::size_t n_stepped = st_.comm != nullptr ? st_.own_orgs.size() : n_orgs;
  parallel_for_each(
      n_stepped,
      [&](std::size_t i) {
        const std::size_t o = st_.comm != nullptr ? static_cast<std::size_t>(st_.own_orgs[i]) : i;
        step_organization(static_cast<std::int32_t>(o), sorted.data() + start[o],
                          start[o + 1] - start[o], outputs[o]);
      },
      1);
  st_.event_keys.clear();
  st_.tie_keys.clear();
  st_.tie_keyed_from = tie_events.size();
  for (std::size_t o = 0; o < n_orgs; ++o) {
    OrgOutput& out = outputs[o];
    events.insert(events.end(), out.events.begin(), out.events.end());
    // Late and breached referrals its queues noted (a partitioned run merges them by org).
    tie_events.insert(tie_events.end(), out.tie_events.begin(), out.tie_events.end());
    if (st_.comm != nullptr) st_.tie_keys.insert(st_.tie_keys.end(), out.tie_events.size(), o);
    for (const auto& [p, h] : out.conference_hours) {
      st_.orgs[p].conference_debt += h;
      st_.orgs[p].conference_minutes += std::llround(h * 60);
    }
    if (st_.comm != nullptr) st_.event_keys.insert(st_.event_keys.end(), out.events.size(), o);
    if (out.routed > 0) {
      NetworkState& rn = st_.nets[st_.routing_net[o]];
      rn.routed += out.routed;
      rn.debt += static_cast<double>(out.routed) * sc_.networks[st_.routing_net[o]].routing_hours;
    }
    const std::int32_t net = st_.orgs[o].network;
    for (const auto& r : out.conferences) st_.nets[net].waiting.push_back(r);
    rec.assessments += out.assessments;
    rec.referrals += out.referrals;
    rec.signposts += out.signposts;
    rec.turned_away += out.turned_away;
    rec.intake_length += out.intake_length;
    st_.orgs[o].assessments += out.assessments;
    st_.orgs[o].referrals_sent += out.referrals + out.signposts;
    st_.orgs[o].turned_away += out.turned_away;
  }
}

void Simulation::step_organization(std::int32_t o, const Msg* msgs, std::size_t n, OrgOutput& out) {
  OrgState& org = st_.orgs[o];
  for (std::size_t i = 0; i < n; ++i) {
    const Msg& m = msgs[i];
    if (m.type == Msg::release) {
      Helper& h = st_.staff.helpers[m.helper];
      h.load_hours = std::max(0.0f, h.load_hours - m.hours);
      if (h.cases > 0) --h.cases;
      if (org.in_use[m.service] > 0) --org.in_use[m.service];
      if (m.reserved && org.reserved_in_use[m.service] > 0) --org.reserved_in_use[m.service];
    } else {
      if (m.mode != ArrivalMode::walk_in) {
        ++org.referrals_received;
        if (m.from_org >= 0) {
          const std::int32_t t = st_.ties.find(m.from_org, o);
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
      org.intake.push_back({m.client, m.need, m.mode, m.priority, m.from_org, st_.tick, m.slot});
    }
  }
  // Unused intake hours carry over only far enough that a small organization, whose daily
  // intake time is shorter than one assessment, still completes assessments. Hours owed for
  // yesterday's case conferences are paid first.
  org.intake_left = std::min(
      org.intake_left + org.intake_hours,
      std::max(org.intake_hours, sc_.helpers.assessment_hours + sc_.ties.conference_hours));
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
  const double hours = sc_.helpers.assessment_hours;
  std::size_t kept = 0;  // entries still waiting move to the front, in order
  const std::size_t n_intake = org.intake.size();
  for (std::size_t i = 0; i < n_intake; ++i) {
    if (i + kPrefetchAhead < n_intake && local_slot(org.intake[i + kPrefetchAhead].slot))
      st_.prefetch_record(org.intake[i + kPrefetchAhead].slot);
    if (i + kPrefetchAhead / 2 < n_intake && local_slot(org.intake[i + kPrefetchAhead / 2].slot))
      st_.prefetch_needs(st_.clients[org.intake[i + kPrefetchAhead / 2].slot]);
    const IntakeEntry& e = org.intake[i];
    const Client* found = st_.find_client(e.slot, e.client);
    if (found == nullptr) continue;
    const Client& c = *found;
    const Need& need = st_.needs_of(c)[e.need];
    if (c.outcome != Outcome::active || need.state != NeedState::intake || need.org != o) continue;
    bool assessed = e.mode == ArrivalMode::warm || c.assessed_at(o) ||
                    std::find(out.assessed_today.begin(), out.assessed_today.end(), c.id) !=
                        out.assessed_today.end();
    // Shared intake (level 7): an assessment held by a strategic partner counts here too.
    for (int k = 0; k < c.n_assessed && !assessed; ++k)
      assessed = st_.ties.level(o, c.assessed_by[k]) >= 7;
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
    dispatch(o, c, e, out);
  }
  org.intake.resize(kept);
  out.intake_length = static_cast<std::int64_t>(org.intake.size());
  allocate(o, out);
}

// After assessment: serve what the organization offers, refer or signpost the presented need
// it does not, and ask for a case conference for the rest of a multi-need bundle.
void Simulation::dispatch(std::int32_t o, const Client& c, const IntakeEntry& e, OrgOutput& out) {
  const Need& presented = st_.needs_of(c)[e.need];
  auto enqueue = [&](int i, std::uint8_t priority) {
    st_.orgs[o].queues[st_.needs_of(c)[i].service].push_back(
        {priority, st_.tick, c.id, static_cast<std::uint8_t>(i), 0, st_.slot_of(c)});
    Event ev{Event::queued};
    ev.client = c.id;
    ev.slot = st_.slot_of(c);
    ev.need = static_cast<std::uint8_t>(i);
    ev.org = o;
    out.events.push_back(ev);
  };
  if (offers(o, presented.service))
    enqueue(e.need, e.priority);
  else
    route(o, c, e.need, true, 1, out);
  std::uint32_t elsewhere = 0;  // services of pending needs it does not offer
  for (int i = 0; i < c.n_needs; ++i) {
    if (i == e.need || st_.needs_of(c)[i].state != NeedState::pending) continue;
    if (offers(o, st_.needs_of(c)[i].service))
      enqueue(i, base_priority(st_.needs_of(c)[i]));
    else
      elsewhere |= 1u << st_.needs_of(c)[i].service;
  }
  // A case conference needs a partner at level >= 4 (regular meetings) that offers one of the
  // client's other needs: without one there is nothing to plan together.
  if (elsewhere == 0 || !conference_partner(o, c, elsewhere)) return;
  const std::int32_t net = st_.orgs[o].network;
  if (net >= 0 && sc_.networks[net].coordinator >= 0) {
    out.conferences.push_back({base_priority(presented), {}, st_.tick, c.id, o, st_.slot_of(c)});
    Event ev{Event::conference_wait};
    ev.client = c.id;
    ev.slot = st_.slot_of(c);
    out.events.push_back(ev);
  } else if (st_.orgs[o].intake_left + 1e-9 >= sc_.ties.conference_hours) {
    st_.orgs[o].intake_left -= sc_.ties.conference_hours;  // it chairs the conference
    st_.orgs[o].conference_minutes += std::llround(sc_.ties.conference_hours * 60);
    ++st_.orgs[o].conferences;
    hold_conference(o, c, out, nullptr);
  }
}

// The ties of organization o to scan for a client of a district, in partner order: all of
// them, or (an organization with many ties) those whose partner serves the district or that
// cross territories. pos: positions into st_.ties.of(o), or nullptr for all.
std::span<const std::pair<std::int32_t, std::uint32_t>> Simulation::ties_in_district(
    std::int32_t o, int district, const std::uint32_t*& pos) const {
  const auto& all = st_.ties.of(o);
  pos = nullptr;
  std::size_t n_pos = all.size();
  if (st_.route_first[o] >= 0) {
    const auto& s = sc_.organizations[o].serves;
    const auto it = std::lower_bound(s.begin(), s.end(), district);
    if (it != s.end() && *it == district) {
      const std::size_t j =
          static_cast<std::size_t>(st_.route_first[o]) + static_cast<std::size_t>(it - s.begin());
      pos = st_.route_pos.data() + st_.route_begin[j];
      n_pos = st_.route_begin[j + 1] - st_.route_begin[j];
    }
  }
  return {all.data(), pos != nullptr ? n_pos : all.size()};
}

bool Simulation::conference_partner(std::int32_t o, const Client& c, std::uint32_t services) const {
  const std::uint32_t* pos = nullptr;
  const auto ties = ties_in_district(o, c.district, pos);
  const auto& all = st_.ties.of(o);
  for (std::size_t k = 0; k < ties.size(); ++k) {
    const auto& [p, t] = pos != nullptr ? all[pos[k]] : all[k];
    const Tie& tie = st_.ties[t];
    // Through a coordinator (lead organization, NAO) every member can take part.
    const int level = coordinator_routes(o, p) ? std::max<int>(tie.level, 4) : tie.level;
    if (level < 4 || (sc_.organizations[p].services & services) == 0) continue;
    if (serves(p, c.district) || tie.cross_territory) return true;
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
void Simulation::route(std::int32_t o, const Client& c, int i, bool presented, int min_level,
                       OrgOutput& out) {
  const Need& n = st_.needs_of(c)[i];
  const TieDef& td = sc_.ties;
  const DecisionDef& dec = sc_.decisions;
  const bool signpost_ok = sc_.organizations[o].intake_policy == IntakePolicy::signpost;
  std::int32_t best = -1;
  int best_level = -1;
  bool best_formal = false, best_routed = false;
  double best_score = std::numeric_limits<double>::infinity();
  const std::uint32_t* pos = nullptr;
  const auto ties = ties_in_district(o, c.district, pos);
  const auto& all = st_.ties.of(o);
  for (std::size_t k = 0; k < ties.size(); ++k) {
    const auto& [p, t] = pos != nullptr ? all[pos[k]] : all[k];
    const Tie& tie = st_.ties[t];
    // Members of a network whose coordinator routes (lead organization, NAO) are referred
    // through it: warm, with its live view of every member's waits.
    const bool routed = coordinator_routes(o, p);
    const int level = routed ? std::max<int>(tie.level, 3) : tie.level;
    if (level < min_level && !(min_level <= 1 && tie.personal > 0)) continue;
    if (level < 3 && !signpost_ok) continue;
    if (!offers(p, n.service) || (!serves(p, c.district) && !tie.cross_territory)) continue;
    const bool warm = level >= 3;
    const double completes =
        std::max(1e-6, warm ? td.warm_try * td.warm_reach : td.signpost_try * td.signpost_reach);
    double wait = 0;
    if (level >= 7 || routed)
      wait = st_.orgs[p].wait_now[n.service];
    else if (level >= 4)
      wait = st_.orgs[p].wait_meeting[n.service];
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
    Event ev{Event::referred};
    ev.client = c.id;
    ev.slot = st_.slot_of(c);
    ev.need = static_cast<std::uint8_t>(i);
    ev.org = best;
    ev.other = o;
    const bool warm = best_level >= 3;
    ev.flags = static_cast<std::uint8_t>((warm ? need_flag::warm : 0) |
                                         (best_formal ? need_flag::priority : 0));
    ev.value = warm ? sc_.ties.warm_days : sc_.ties.signpost_days;
    out.events.push_back(ev);
    ++(warm ? out.referrals : out.signposts);
    return;
  }
  if (!presented) return;
  Event ev{Event::turned_away};
  ev.client = c.id;
  ev.slot = st_.slot_of(c);
  ev.need = static_cast<std::uint8_t>(i);
  ev.org = o;
  out.events.push_back(ev);
  ++out.turned_away;
}

// A case conference plans the whole bundle: every pending need the convening organization o
// does not offer is referred warm, at once, to a partner at level >= 3 chosen as route() does.
// Every organization that takes part (the partners that receive a need) gives
// decisions.conference_member_hours, paid from its next day's intake hours. claimed: the
// day's (client, need) keys another action already took, which the conference leaves alone.
void Simulation::hold_conference(std::int32_t o, const Client& c, OrgOutput& out,
                                 const std::vector<std::uint64_t>* claimed) {
  const std::size_t first = out.events.size();
  for (int i = 0; i < c.n_needs; ++i) {
    if (st_.needs_of(c)[i].state != NeedState::pending || offers(o, st_.needs_of(c)[i].service))
      continue;
    if (claimed != nullptr &&
        std::binary_search(claimed->begin(), claimed->end(), need_key(c.id, i)))
      continue;
    route(o, c, i, false, 3, out);
  }
  const double hours = sc_.decisions.conference_member_hours;
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
bool Simulation::still_queued(std::int32_t o, const QueueEntry& q) const {
  const Client* found = st_.find_client(q.slot, q.client);
  if (found == nullptr || found->outcome != Outcome::active) return false;
  const Client& c = *found;
  const Need& n = st_.needs_of(c)[q.need];
  if (n.state == NeedState::waiting) return n.org == o;
  if (q.tick != st_.tick) return false;
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
void Simulation::allocate(std::int32_t o, OrgOutput& out) {
  OrgState& org = st_.orgs[o];
  const DecisionDef& dec = sc_.decisions;
  const int n_services = static_cast<int>(sc_.services.size());
  const int cap = sc_.helpers.caseload_cap;
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
    if (queue.empty() || !offers(o, s)) continue;
    // Entries that no longer stand (the client left, or the need moved on) go first, so that
    // they take no reserved slot.
    std::erase_if(queue, [&](const QueueEntry& q) { return !still_queued(o, q); });
    if (queue.empty()) continue;
    const float hours = static_cast<float>(sc_.services[s].hours_per_day);
    // Case slots of its staff for the service, and the free ones now.
    int slots = 0, free_slots = 0;
    st_.for_each_staff(o, [&](std::int32_t x) {
      const Helper& h = st_.staff.helpers[x];
      if (!((h.skills >> s) & 1u)) return;
      slots += std::min(cap, static_cast<int>(std::floor(h.capacity_hours / hours + 1e-6)));
      free_slots += std::max(
          0, std::min(cap - h.cases, static_cast<int>(std::floor(h.free_hours() / hours + 1e-6))));
    });
    const bool agreements = discipline != QueueDiscipline::fifo;
    const int reserved_free =
        agreements ? std::max(0, static_cast<int>(std::floor(sc_.ties.reserved_share * slots)) -
                                     org.reserved_in_use[s])
                   : 0;
    reserved_room[s] = reserved_free;
    referred.clear();
    for (std::size_t i = 0; i < queue.size(); ++i) {
      QueueEntry& q = queue[i];
      const Need& n = st_.needs_of(*st_.find_client(q.slot, q.client))[q.need];
      const int waited = st_.tick - q.tick;
      const bool open_referral = n.from_org >= 0;
      const bool agreement = open_referral && (n.flags & need_flag::priority);
      if (open_referral && !(q.flags & queue_flag::late_noted) &&
          waited > sc_.standards.max_days_to_service) {
        q.flags |= queue_flag::late_noted;
        ++org.referred_late;
        const std::int32_t t = st_.ties.find(n.from_org, o);
        if (t >= 0)
          out.tie_events.push_back({static_cast<std::uint32_t>(t), TieEventKind::late, o});
      }
      if (agreement && !(q.flags & queue_flag::breach_noted) &&
          waited > dec.agreement_access_days) {
        q.flags |= queue_flag::breach_noted;
        ++org.agreements_breached;
        const std::int32_t t = st_.ties.find(n.from_org, o);
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
    const float hours = static_cast<float>(sc_.services[s].hours_per_day);
    if (!built[s]) {
      heap.clear();
      std::int32_t order = 0;
      st_.for_each_staff(o, [&](std::int32_t x) {
        const Helper& h = st_.staff.helpers[x];
        if (((h.skills >> s) & 1u) && h.can_take(hours, cap))
          heap.push_back({h.free_hours(), order, x});
        ++order;
      });
      std::make_heap(heap.begin(), heap.end(), worse);
      built[s] = 1;
    }
    while (!heap.empty()) {
      const Candidate top = heap.front();
      const Helper& h = st_.staff.helpers[top.slot];
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
    const float hours = static_cast<float>(sc_.services[s].hours_per_day);
    Helper& h = st_.staff.helpers[helper];
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
    const Client& c = *st_.find_client(q.slot, q.client);  // it stands
    const Need& n = st_.needs_of(c)[q.need];
    Stream days = st_.streams(kServiceDays, std::uint64_t{c.id} * kMaxNeeds + q.need,
                              static_cast<std::uint32_t>(st_.tick));
    Event ev{Event::service_start};
    ev.client = q.client;
    ev.slot = q.slot;
    ev.need = q.need;
    ev.org = o;
    ev.other = helper;
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
    const int waited = st_.tick - q.tick;
    if (waited <= sc_.standards.max_days_to_service) {
      ++org.started_in_standard;
      ev.aux |= start_flag::in_standard;
    }
    if (n.from_org >= 0 && (n.flags & need_flag::priority) &&
        !(q.flags & queue_flag::breach_noted)) {
      ++org.agreements_honoured;
      ev.aux |= start_flag::honoured;
    }
    ev.value = draw_service_days(sc_, c, n, days);
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

// Pooling (level >= 5): what is left of organization o's queue for a service after its own
// helpers took their cases goes to helpers of partners at level >= 5 who have hours left after
// their own queues are served: a partner lends a helper only when none of its queues for the
// services that helper delivers has anyone waiting (OrgState::backlog). Among the lenders'
// helpers who can take the case, the one with the most free hours; then partner id, staff order.
bool Simulation::allocate_pooled(std::int32_t o, int service, std::vector<Event>& events) {
  auto& queue = st_.orgs[o].queues[service];
  if (queue.empty()) return false;
  thread_local std::vector<std::int32_t> lenders;  // scratch, reused call after call
  lenders.clear();
  for (const auto& [p, t] : st_.ties.of(o))
    if (st_.ties[t].level >= 5 && offers(p, service)) lenders.push_back(p);
  if (lenders.empty()) return false;
  const float hours = static_cast<float>(sc_.services[service].hours_per_day);
  const int cap = sc_.helpers.caseload_cap;
  auto find_helper = [&]() -> std::int32_t {
    std::int32_t best = -1;
    for (std::int32_t p : lenders)
      st_.for_each_staff(p, [&](std::int32_t x) {
        const Helper& h = st_.staff.helpers[x];
        if (!((h.skills >> service) & 1u) || (st_.orgs[p].backlog & h.skills) != 0 ||
            !h.can_take(hours, cap))
          return;
        if (best < 0 || h.free_hours() > st_.staff.helpers[best].free_hours()) best = x;
      });
    return best;
  };
  bool any = false;
  for (QueueEntry& q : queue) {
    if (!still_queued(o, q)) continue;
    const std::int32_t helper = find_helper();
    if (helper < 0) break;
    Helper& h = st_.staff.helpers[helper];
    h.load_hours += hours;
    ++h.cases;
    const Client& c = *st_.find_client(q.slot, q.client);
    const Need& n = st_.needs_of(c)[q.need];
    Stream days = st_.streams(kServiceDays, std::uint64_t{c.id} * kMaxNeeds + q.need,
                              static_cast<std::uint32_t>(st_.tick));
    Event ev{Event::service_start};
    ev.client = q.client;
    ev.slot = q.slot;
    ev.need = q.need;
    ev.org = o;
    ev.other = helper;
    ev.flags = need_flag::pooled;
    OrgState& org = st_.orgs[o];
    ++st_.orgs[h.org].in_use[service];
    ++st_.orgs[h.org].pooled_out;
    ++org.started_today[service];
    ++org.started;
    if (st_.tick - q.tick <= sc_.standards.max_days_to_service) {
      ++org.started_in_standard;
      ev.aux |= start_flag::in_standard;
    }
    if (n.from_org >= 0 && (n.flags & need_flag::priority) &&
        !(q.flags & queue_flag::breach_noted)) {
      ++org.agreements_honoured;
      ev.aux |= start_flag::honoured;
    }
    ev.value = draw_service_days(sc_, c, n, days);
    events.push_back(ev);
    q.flags |= queue_flag::started;
    any = true;
  }
  std::size_t kept = 0;  // entries still waiting move to the front, in order
  for (const QueueEntry& q : queue)
    if (!(q.flags & queue_flag::started) && still_queued(o, q)) queue[kept++] = q;
  queue.resize(kept);
  return any;
}

void Simulation::phase_pooling(std::vector<Event>& events, std::vector<TieEvent>& tie_events) {
  bool any_pooling = false;
  for (const Tie& t : st_.ties.all()) any_pooling = any_pooling || t.level >= 5;
  if (!any_pooling) return;
  const auto n_services = static_cast<std::uint64_t>(sc_.services.size());
  for (std::int32_t o = 0; o < static_cast<std::int32_t>(st_.orgs.size()); ++o) {
    if (!st_.owns_org(o) || st_.orgs[o].backlog == 0) continue;
    for (int s = 0; s < static_cast<int>(sc_.services.size()); ++s) {
      if (!((st_.orgs[o].backlog >> s) & 1u)) continue;
      const std::size_t before = events.size();
      if (!allocate_pooled(o, s, events)) continue;
      // A partitioned run orders the events and tie events of pooling by (organization,
      // service) when it merges them (exchange_events, exchange_tie_events).
      const std::uint64_t key =
          (std::uint64_t{1} << 40) |
          (static_cast<std::uint64_t>(o) * n_services + static_cast<std::uint64_t>(s));
      if (st_.comm != nullptr) st_.event_keys.resize(events.size(), key);
      for (std::size_t k = before; k < events.size(); ++k) {
        const std::int32_t t = st_.ties.find(o, st_.staff.helpers[events[k].other].org);
        if (t >= 0) {
          tie_events.push_back({static_cast<std::uint32_t>(t), TieEventKind::joint_case, -1});
          if (st_.comm != nullptr) st_.tie_keys.push_back(key);
        }
      }
    }
  }
}

void Simulation::phase_conferences(std::vector<Event>& events, TickRecord& rec) {
  bool any = false;
  for (NetworkState& net : st_.nets) {
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
  for (NetworkState& net : st_.nets) {
    if (net.waiting.empty()) continue;
    std::sort(net.waiting.begin(), net.waiting.end());
    // Routing and follow-ups come out of the coordinator's hours first.
    double left = net.hours_per_day - net.debt;
    net.debt = std::max(0.0, -left);
    left = std::max(0.0, left);
    const double routing_hours = sc_.networks[&net - st_.nets.data()].routing_hours;
    std::size_t kept = 0;  // requests still waiting move to the front, in order
    for (const ConferenceRequest& r : net.waiting) {
      const Client* found = st_.find_client(r.slot, r.client);
      if (found == nullptr || found->outcome != Outcome::active) continue;
      const Client& c = *found;
      if (left + 1e-9 < sc_.ties.conference_hours) {
        net.waiting[kept++] = r;
        continue;
      }
      left -= sc_.ties.conference_hours;
      ++net.conferences;
      out.clear();
      hold_conference(r.org, c, out, &claimed);
      net.routed += out.routed;
      left = std::max(0.0, left - static_cast<double>(out.routed) * routing_hours);
      // The convening organization takes part too.
      if (!out.events.empty() && sc_.decisions.conference_member_hours > 0)
        out.conference_hours.emplace_back(r.org, sc_.decisions.conference_member_hours);
      for (const auto& [p, h] : out.conference_hours) {
        st_.orgs[p].conference_debt += h;
        st_.orgs[p].conference_minutes += std::llround(h * 60);
      }
      events.insert(events.end(), out.events.begin(), out.events.end());
      rec.referrals += out.referrals;
      rec.signposts += out.signposts;
      st_.orgs[r.org].referrals_sent += out.referrals + out.signposts;
      Event done{Event::conference_done};
      done.client = c.id;
      done.slot = r.slot;
      events.push_back(done);
      if (st_.comm != nullptr)
        st_.event_keys.resize(
            events.size(),
            (std::uint64_t{2} << 40) | static_cast<std::uint64_t>(&net - st_.nets.data()));
    }
    net.waiting.resize(kept);
    rec.conferences_waiting += static_cast<std::int64_t>(net.waiting.size());
  }
}

void Simulation::phase_apply(std::vector<Event>& events, std::vector<TieEvent>& tie_events,
                             TickRecord& rec) {
  thread_local std::vector<Event> sort_scratch;  // reused day after day
  stable_radix_sort(
      events, [](const Event& e) { return e.client; }, sort_scratch);
  std::vector<std::size_t>& groups = st_.event_groups;  // reused from day to day
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
  std::vector<Applied> more = parallel_collect_chunks<Applied>(
      groups.size() - 1,
      [&](std::size_t g0, std::size_t g1, std::vector<Applied>& out) {
        thread_local std::vector<TieEvent> made;  // scratch, reused
        std::array<std::int64_t, kNeedStates> delta{};
        std::int64_t dropped = 0;
        for (std::size_t g = g0; g < g1; ++g) {
          Client& c = st_.clients[events[groups[g]].slot];
          const bool counted = c.outcome == Outcome::active;
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
                       {c.id, ev.need, ev.aux, st_.needs_of(c)[ev.need].service,
                        static_cast<bool>(ev.flags & need_flag::reserved), ev.other, ev.org}});
                continue;
              }
              who = actor;
            }
            Need& n = st_.needs_of(c)[ev.need];
            const NeedState was = n.state;
            apply_event(c, n, ev, made, started, wait_days);
            if (counted && n.state != was) {
              --delta[static_cast<int>(was)];
              ++delta[static_cast<int>(n.state)];
            }
          }
          for (const TieEvent& t : made) out.push_back({c.id, t, {}});
        }
        for (int k = 0; k < kNeedStates; ++k)
          if (delta[k] != 0) moved[k].fetch_add(delta[k], std::memory_order_relaxed);
        if (dropped != 0) conflicts.fetch_add(dropped, std::memory_order_relaxed);
      },
      64);
  std::vector<Undo> undos;
  for (const Applied& t : more) {
    if (t.undo.helper >= 0) {
      undos.push_back(t.undo);
      continue;
    }
    tie_events.push_back(t.event);
    if (st_.comm != nullptr) st_.tie_keys.push_back((std::uint64_t{2} << 40) | t.client);
  }
  if (st_.comm != nullptr) exchange_undos(undos);
  apply_undos(undos);
  rec.services_started = started.load();
  rec.wait_days_started = static_cast<double>(wait_days.load());
  rec.conflicts = conflicts.load();
  for (int k = 0; k < kNeedStates; ++k) rec.needs[k] += moved[k].load();
}

// Gives back what dropped starts took (in (client, need) order, so float sums do not depend
// on threads or processes): the helper's hours and case, the organizations' counters.
void Simulation::apply_undos(std::vector<Undo>& undos) {
  std::sort(undos.begin(), undos.end(), [](const Undo& a, const Undo& b) {
    return std::tie(a.client, a.need, a.helper) < std::tie(b.client, b.need, b.helper);
  });
  for (const Undo& u : undos) {
    Helper& h = st_.staff.helpers[u.helper];
    if (!st_.owns_org(u.org)) continue;  // the queue's (and the helper's) process gives it back
    OrgState& q = st_.orgs[u.org];
    const int s = u.service;
    h.load_hours = std::max(0.0f, h.load_hours - static_cast<float>(sc_.services[s].hours_per_day));
    if (h.cases > 0) --h.cases;
    if (st_.orgs[h.org].in_use[s] > 0) --st_.orgs[h.org].in_use[s];
    if (u.reserved && q.reserved_in_use[s] > 0) --q.reserved_in_use[s];
    --q.started_today[s];
    --q.started;
    if (u.aux & start_flag::in_standard) --q.started_in_standard;
    if (u.aux & start_flag::honoured) --q.agreements_honoured;
    if (h.org != u.org) --st_.orgs[h.org].pooled_out;
  }
}

void Simulation::apply_event(Client& c, Need& n, const Event& ev, std::vector<TieEvent>& out,
                             std::atomic<std::int64_t>& started,
                             std::atomic<std::int64_t>& wait_days) {
  switch (ev.type) {
    case Event::assessed:
      c.record_assessment(ev.org, st_.tick);
      c.learn(ev.org, true);
      break;
    case Event::queued:
      n.state = NeedState::waiting;
      n.org = ev.org;
      n.queued_at = st_.tick;
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
      const std::int32_t provider = st_.staff.helpers[ev.other].org;
      if (n.queued_at < 0) n.queued_at = st_.tick;
      const int waited = st_.tick - n.queued_at;
      started.fetch_add(1, std::memory_order_relaxed);
      wait_days.fetch_add(waited, std::memory_order_relaxed);
      n.state = NeedState::in_service;
      n.helper = ev.other;
      n.org = provider;
      n.days_left = ev.value;
      n.flags |= ev.flags;
      if (n.first_service < 0) n.first_service = st_.tick;
      if (c.first_service < 0) c.first_service = st_.tick;
      c.record_episode(provider);
      if (n.from_org >= 0) {
        ++c.referrals_received;
        n.flags |= need_flag::referred;
        // A joint case that went well: the referred client started within the standard (a
        // late start was noted as late when it passed the standard, and earns nothing).
        const std::int32_t t = st_.ties.find(n.from_org, home);
        if (t >= 0 && waited <= sc_.standards.max_days_to_service)
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

void Simulation::phase_ties(std::vector<TieEvent>& tie_events) {
  std::stable_sort(tie_events.begin(), tie_events.end(),
                   [](const TieEvent& a, const TieEvent& b) { return a.tie < b.tie; });
  const std::size_t n = st_.ties.size();
  std::vector<std::size_t> start(n + 1, 0);
  for (const TieEvent& e : tie_events) ++start[e.tie + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  const int period = sc_.ties.review_days;
  std::vector<std::int8_t> before(n);
  std::vector<TieChangeReason> why(n);
  std::vector<std::uint8_t> acted(n);
  parallel_for_each(n, [&](std::size_t i) {
    Tie& t = st_.ties[i];
    before[i] = t.level;
    const bool review = TieTable::review_due(t, st_.tick, period);
    double draw = 1.0;
    if (review) draw = st_.streams(kTieReview, i, static_cast<std::uint32_t>(st_.tick)).uniform();
    bool signed_act = false;
    why[i] = TieTable::step(t, sc_.ties, sc_.decisions, tie_events.data() + start[i],
                            start[i + 1] - start[i], review, sc_.tie_policy.dynamics, draw,
                            st_.tick, signed_act);
    acted[i] = signed_act;
  });
  for (std::size_t i = 0; i < n; ++i) {
    if (st_.ties[i].level != before[i])
      st_.tie_history.push_back(
          {st_.tick, static_cast<std::uint32_t>(i), before[i], st_.ties[i].level, why[i]});
    // Signing (or renewing) an agreement costs both organizations hours, owed from the next
    // day's intake hours as conference hours are.
    if (acted[i] && sc_.ties.agreement_act_hours > 0)
      for (const std::int32_t o : {st_.ties[i].a, st_.ties[i].b})
        if (st_.comm == nullptr || st_.owns_org(o))
          st_.orgs[o].conference_debt += sc_.ties.agreement_act_hours;
  }
  network_monitoring(tie_events);
}

namespace {
// The trust a referrer would settle at if it sent the tallied clients itself: the fixed point of
// TieTable::step's updates over that mix of outcomes (gain x (1 - T) per joint case = the
// losses x T per failure), NaN without outcomes.
double taught_trust(const MonitorTally& m, const TieDef& def) {
  const double gain = def.trust_gain * m.joint;
  const double loss = def.trust_loss_late * m.late + def.trust_loss_dropout * m.dropouts +
                      def.trust_loss * m.no_shows + def.trust_loss_breach * m.breaches;
  return gain + loss > 0 ? gain / (gain + loss) : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

// The network's monitoring (docs/model.md "Networks and governance"): the coordinator tallies, for
// each member, what became of the clients other members referred to it; every
// monitoring_interval_days it reports the tallies to all members, at monitoring_hours_per_member
// of its hours per member. Each tie between two members (level >= 1) then moves
// monitoring_weight of the way from its trust toward the trust the two members' records would
// teach (their tallies pooled), so a member learns from the network's experience of a partner,
// not only from its own. Ties and their events are every process's, so every process makes the
// same report; the coordinator's process pays its hours.
void Simulation::network_monitoring(const std::vector<TieEvent>& tie_events) {
  if (!st_.monitoring) return;
  for (const TieEvent& e : tie_events) {
    if (e.at < 0 || st_.monitored_in[e.at].empty()) continue;
    const Tie& t = st_.ties[e.tie];
    const std::int32_t from = t.a == e.at ? t.b : t.a;
    for (const auto& [k, place] : st_.monitored_in[e.at]) {
      const std::vector<int>& members = sc_.networks[k].members;
      if (!std::binary_search(members.begin(), members.end(), from)) continue;
      MonitorTally& m = st_.nets[k].tally[place];
      switch (e.kind) {
        case TieEventKind::joint_case:
          ++m.joint;
          break;
        case TieEventKind::late:
          ++m.late;
          break;
        case TieEventKind::dropout:
          ++m.dropouts;
          break;
        case TieEventKind::no_show:
          ++m.no_shows;
          break;
        case TieEventKind::breach:
          ++m.breaches;
          break;
        default:
          break;
      }
    }
  }
  for (std::size_t k = 0; k < st_.nets.size(); ++k) {
    NetworkState& st = st_.nets[k];
    const NetworkDef& def = sc_.networks[k];
    if (st.tally.empty() || (st_.tick + 1) % def.monitoring_interval_days != 0) continue;
    ++st.reports;
    if (st_.comm == nullptr || st_.owns_org(def.coordinator))
      st.debt += def.monitoring_hours_per_member * static_cast<double>(def.members.size());
    const auto ticks = static_cast<std::int32_t>(st_.tick);
    for (std::size_t i = 0; i < def.members.size(); ++i)
      st_.monitoring_rows.push_back({ticks, static_cast<std::int32_t>(k), def.members[i],
                                     st.tally[i],
                                     static_cast<float>(taught_trust(st.tally[i], sc_.ties))});
    if (def.monitoring_weight > 0) {
      for (std::size_t i = 0; i < def.members.size(); ++i)
        for (const auto& [p, ti] : st_.ties.of(def.members[i])) {
          if (p <= def.members[i]) continue;  // each pair once, from its lower member
          const auto it = std::lower_bound(def.members.begin(), def.members.end(), p);
          if (it == def.members.end() || *it != p) continue;
          Tie& t = st_.ties[ti];
          if (t.level < 1) continue;
          MonitorTally both = st.tally[i];
          both += st.tally[static_cast<std::size_t>(it - def.members.begin())];
          const double target = taught_trust(both, sc_.ties);
          if (std::isnan(target)) continue;
          const double trust = t.trust;
          t.trust = static_cast<float>(
              std::clamp(trust + def.monitoring_weight * (target - trust), 0.0, 1.0));
        }
    }
    std::fill(st.tally.begin(), st.tally.end(), MonitorTally{});
  }
}

// What each organization knows of its own queues at the end of the day, published for its
// partners (MODEL.md §12): per service, the expected days until a client referred now would
// start = (clients waiting + 1 if no helper is free) / services started per day (a moving mean
// over decisions.wait_window_days, at least one start per window). Every
// decisions.meeting_interval_days the figures are told at the regular meeting (level 4-6
// partners see those); level 7 partners see them as of today.
void Simulation::phase_waits() {
  const DecisionDef& dec = sc_.decisions;
  const double window = dec.wait_window_days;
  const bool meeting = st_.tick % dec.meeting_interval_days == 0;
  const int cap = sc_.helpers.caseload_cap;
  const std::size_t n_stepped = st_.comm != nullptr ? st_.own_orgs.size() : st_.orgs.size();
  parallel_for_each(
      n_stepped,
      [&](std::size_t i) {
        const auto o = static_cast<std::int32_t>(st_.comm != nullptr ? st_.own_orgs[i] : i);
        OrgState& org = st_.orgs[o];
        for (int s = 0; s < static_cast<int>(sc_.services.size()); ++s) {
          if (!offers(o, s)) continue;
          float& rate = org.start_rate[s];
          rate += static_cast<float>((org.started_today[s] - rate) / window);
          org.started_today[s] = 0;
          float& agreed = org.agreement_rate[s];
          agreed += static_cast<float>((org.agreement_today[s] - agreed) / window);
          org.agreement_today[s] = 0;
          const auto waiting = static_cast<double>(org.queues[s].size());
          bool free = false;
          if (waiting == 0) {
            const float hours = static_cast<float>(sc_.services[s].hours_per_day);
            st_.for_each_staff(o, [&](std::int32_t x) {
              const Helper& h = st_.staff.helpers[x];
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

// Turnover, personal ties forming at regular meetings, and the next day's hours.
//
// Tie::personal counts the personal ties between the helpers of a tie's two organizations. It
// is counted in full at the end of the first day and then kept up to date: a tie formed adds
// one, a helper who leaves takes its ties along. A leaver's id stays in its partners' lists
// until the day's meetings are over (a place is freed the next day), then it is dropped.
void Simulation::phase_staff() {
  const HelperDef& def = sc_.helpers;
  const double leave = def.turnover_per_year / 365.0;
  std::vector<std::uint32_t> partners_of_leavers;  // helper ids
  if (leave > 0) {
    const std::size_t n = st_.staff.helpers.size();
    std::vector<std::uint8_t> leaves(n);
    parallel_for_each(
        n,
        [&](std::size_t s) {
          Stream rng = st_.streams(kTurnover, s, static_cast<std::uint32_t>(st_.tick));
          leaves[s] = rng.bernoulli(leave);
        },
        1024);
    for (std::size_t s = 0; s < n; ++s) {
      if (!leaves[s]) continue;
      Helper& h = st_.staff.helpers[s];
      for (int k = 0; k < h.n_personal; ++k) {
        const std::int32_t other = st_.staff.slot(h.personal[k]);
        if (other < 0) continue;  // left earlier today: the pair is already gone
        const Helper& o = st_.staff.helpers[other];
        partners_of_leavers.push_back(o.id);
        if (o.org == h.org) continue;
        const std::int32_t t = st_.ties.find(h.org, o.org);
        if (t >= 0 && st_.ties[t].personal > 0) --st_.ties[t].personal;
      }
      Stream q = st_.streams(kQuality, st_.staff.next_id, 0);
      st_.staff.replace(static_cast<std::int32_t>(s), draw_helper_quality(def, q));
    }
  }
  if (def.personal_tie_per_meeting_day > 0) {
    // Who meets whom is drawn per tie from the tie's own stream (in parallel); the ties then
    // form in tie order, as helpers' lists fill up.
    struct Meeting {
      std::int32_t x = -1, y = -1;  // helper slots
    };
    std::vector<Meeting> meetings(st_.ties.size());
    parallel_for_each(
        st_.ties.size(),
        [&](std::size_t i) {
          const Tie& t = st_.ties[i];
          if (t.level < 4 || st_.orgs[t.a].n_helpers == 0 || st_.orgs[t.b].n_helpers == 0) return;
          Stream rng = st_.streams(kPersonalForm, i, static_cast<std::uint32_t>(st_.tick));
          if (!rng.bernoulli(def.personal_tie_per_meeting_day)) return;
          meetings[i].x = st_.orgs[t.a].first_helper +
                          static_cast<std::int32_t>(rng.below(st_.orgs[t.a].n_helpers));
          meetings[i].y = st_.orgs[t.b].first_helper +
                          static_cast<std::int32_t>(rng.below(st_.orgs[t.b].n_helpers));
        },
        1024);
    for (std::size_t i = 0; i < st_.ties.size(); ++i) {
      if (meetings[i].x < 0) continue;
      Helper& x = st_.staff.helpers[meetings[i].x];
      Helper& y = st_.staff.helpers[meetings[i].y];
      if (x.n_personal < def.personal_ties_max && y.n_personal < def.personal_ties_max &&
          x.add_personal(y.id, def.personal_ties_max) &&
          y.add_personal(x.id, def.personal_ties_max) && st_.ties[i].personal < 0xffff)
        ++st_.ties[i].personal;
    }
  }
  if (st_.tick == 0) {
    recount_personal_ties();
  } else {
    for (std::uint32_t id : partners_of_leavers) {
      const std::int32_t s = st_.staff.slot(id);
      if (s >= 0) drop_departed_partners(st_.staff.helpers[s]);
    }
  }
  update_hours();
}

void Simulation::drop_departed_partners(Helper& h) const {
  int kept = 0;
  for (int k = 0; k < h.n_personal; ++k)
    if (st_.staff.slot(h.personal[k]) >= 0) h.personal[kept++] = h.personal[k];
  h.n_personal = static_cast<std::uint8_t>(kept);
}

void Simulation::recount_personal_ties() {
  for (std::size_t i = 0; i < st_.ties.size(); ++i) st_.ties[i].personal = 0;
  for (Helper& h : st_.staff.helpers) {
    drop_departed_partners(h);
    for (int k = 0; k < h.n_personal; ++k) {
      const Helper& o = st_.staff.helpers[st_.staff.slot(h.personal[k])];
      if (o.org == h.org || h.id > o.id) continue;
      const std::int32_t t = st_.ties.find(h.org, o.org);
      if (t >= 0 && st_.ties[t].personal < 0xffff) ++st_.ties[t].personal;
    }
  }
}

void Simulation::phase_record(TickRecord& rec) {
  // rec.needs: counted in phase_clients and kept up to date by phase_apply.
  // Waiting lists per district, for the authorities' map of problems: only on the days a
  // diagnosis will read (diagnosis_delay_days + 1 before a planning day); empty otherwise.
  bool diagnosed_later = false;
  for (const AuthorityDef& a : sc_.authorities) {
    const int day = st_.tick + 1 + a.diagnosis_delay_days;
    diagnosed_later = diagnosed_later ||
                      (day >= a.first_cycle_day && (day - a.first_cycle_day) % a.period_days == 0);
  }
  if (!sc_.authorities.empty() && !diagnosed_later) st_.district_waiting.emplace_back();
  if (diagnosed_later) {
    // Integer counts: the same at any thread count.
    using Counts = std::vector<std::int32_t>;
    const ForkJoin fork_join;
    const auto count = fork_join([&](const tbb::blocked_range<std::size_t>& r, Counts acc) {
      if (acc.empty()) acc.assign(sc_.districts.size(), 0);
      for (std::size_t i = r.begin(); i != r.end(); ++i) {
        const Client& c = st_.clients[st_.active[i]];
        for (int k = 0; k < c.n_needs; ++k)
          acc[c.district] += st_.needs_of(c)[k].state == NeedState::waiting ||
                             st_.needs_of(c)[k].state == NeedState::intake;
      }
      return acc;
    });
    const auto add = fork_join([](Counts a, const Counts& b) {
      if (a.empty()) return b;
      for (std::size_t d = 0; d < b.size(); ++d) a[d] += b[d];
      return a;
    });
    st_.district_waiting.push_back(tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, st_.active.size(), 16384), Counts(), count, add));
    st_.district_waiting.back().resize(sc_.districts.size(), 0);
  }
  rec.active = static_cast<std::int64_t>(st_.active.size());
  for (const OrgState& o : st_.orgs) {
    for (const auto& q : o.queues) rec.queue_length += static_cast<std::int64_t>(q.size());
    rec.collaboration_hours += o.collaboration_hours + o.coordination_hours;
    rec.paid_hours += o.paid_hours;
  }
  for (const Helper& h : st_.staff.helpers) {
    rec.direct_hours_used += h.load_hours;
    rec.direct_hours_capacity += h.capacity_hours;
  }
  for (const Tie& t : st_.ties.all()) ++rec.ties_by_level[t.level];
}

namespace {
// What the state hash takes of a client (into a Hasher, or into ClientHashBytes to be hashed on
// another process).
template <class H>
void hash_client_into(H& h, const Client& c, const Need* needs) {
  h.add(c.id);
  h.add(c.outcome);
  h.add(static_cast<std::int32_t>(c.first_contact));
  h.add(static_cast<std::int32_t>(c.first_assessment));
  h.add(static_cast<std::int32_t>(c.first_service));
  h.add(static_cast<std::int32_t>(c.exit));
  h.add(c.doors);
  h.add(c.assessments);
  h.add(c.failed_contacts);
  h.add(c.referrals);
  h.add(c.referrals_received);
  h.add(c.episodes);
  for (int i = 0; i < c.n_needs; ++i) {
    const Need& n = needs[i];
    h.add(n.state);
    h.add(static_cast<std::int32_t>(n.org));
    h.add(n.helper);
    h.add(n.days_left);
    h.add(n.flags);
  }
}
}  // namespace

// ---- partitioned runs (partition.hpp) ----------------------------------------------------------

namespace {
template <class T>
void put(Bytes& b, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
  b.insert(b.end(), p, p + sizeof(T));
}

template <class T>
void take(const Bytes& b, std::vector<T>& to) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (b.size() % sizeof(T) != 0)
    throw std::runtime_error("partitioned run: a message of " + std::to_string(b.size()) +
                             " bytes is not a whole number of records");
  const std::size_t at = to.size();
  to.resize(at + b.size() / sizeof(T));
  if (!b.empty()) std::memcpy(static_cast<void*>(to.data() + at), b.data(), b.size());
}

// The ledger's counts as one vector and back (its tallies hold int64 counts only).
void tally_counts(OutcomeTally& t, std::vector<std::int64_t>& v, std::size_t& at, bool back) {
  static_assert(sizeof(OutcomeTally) % sizeof(std::int64_t) == 0);
  constexpr std::size_t n = sizeof(OutcomeTally) / sizeof(std::int64_t);
  if (back) {
    std::memcpy(static_cast<void*>(&t), v.data() + at, sizeof t);
  } else {
    v.resize(at + n);
    std::memcpy(v.data() + at, static_cast<const void*>(&t), sizeof t);
  }
  at += n;
}

void ledger_counts(OutcomeLedger& l, std::vector<std::int64_t>& v, bool back) {
  std::size_t at = 0;
  if (!back) v.clear();
  auto one = [&](std::int64_t& x) {
    if (back)
      x = v[at];
    else
      v.push_back(x);
    ++at;
  };
  tally_counts(l.all, v, at, back);
  for (OutcomeTally& t : l.by_district) tally_counts(t, v, at, back);
  for (OutcomeTally& t : l.by_kind) tally_counts(t, v, at, back);
  for (ServiceTally& s : l.by_service) {
    one(s.needs);
    one(s.met);
    one(s.served);
    one(s.days);
  }
  for (std::int64_t& x : l.by_sector) one(x);
  one(l.needs_served_met);
  one(l.innovative_needs);
  one(l.innovative_served);
  one(l.innovation_clients);
}

// Merges the sorted runs v[at[k], at[k + 1]) into one sorted list, stably (pairwise, in log2(k)
// rounds): the lists each process sends are in order already.
template <class T, class Less>
void merge_runs(std::vector<T>& v, std::vector<std::size_t> at, Less less) {
  while (at.size() > 2) {
    std::vector<std::size_t> next = {at[0]};
    for (std::size_t k = 0; k + 2 < at.size(); k += 2) {
      std::inplace_merge(v.begin() + static_cast<std::ptrdiff_t>(at[k]),
                         v.begin() + static_cast<std::ptrdiff_t>(at[k + 1]),
                         v.begin() + static_cast<std::ptrdiff_t>(at[k + 2]), less);
      next.push_back(at[k + 2]);
    }
    if (at.size() % 2 == 0) next.push_back(at.back());  // an odd run out waits a round
    at.swap(next);
  }
}

struct ClientHashBytes {  // hash_client_into's bytes, to be hashed by another process
  Bytes& out;
  template <class T>
  void add(T v) {
    put(out, v);
  }
};
}  // namespace

// New clients' notes (arrivals), or the outcomes of the clients who left today, to every
// process: the authorities of every process look back on all clients.
void Simulation::exchange_notes(const std::vector<std::pair<std::uint32_t, ClientNote>>& mine,
                                bool arrivals) {
  struct IdNote {
    std::uint32_t id;
    ClientNote note;
  };
  Bytes payload;
  for (const auto& [id, note] : mine) put(payload, IdNote{id, note});
  const std::vector<Bytes> in =
      st_.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st_.comm->size()), payload));
  std::vector<IdNote> all;
  for (const Bytes& b : in) take(b, all);
  if (arrivals) st_.notes.resize(st_.next_id);
  for (const auto& [id, note] : all) {
    if (arrivals) {
      st_.notes[id] = note;
    } else {
      st_.notes[id].outcome = note.outcome;
      st_.notes[id].exit = note.exit;
    }
  }
}

// The client pass's messages to the processes owning their organizations (a tie failure to
// every process: ties are everyone's), merged in client order as one process makes them.
// Another process's client is named by its id (slot kRemote).
void Simulation::exchange_msgs(std::vector<Msg>& msgs) {
  const auto n = static_cast<std::size_t>(st_.comm->size());
  std::vector<Bytes> out(n);
  for (const Msg& m : msgs) {
    if (m.type == Msg::tie_failure)
      for (Bytes& b : out) put(b, m);
    else
      put(out[static_cast<std::size_t>(st_.part.org_rank[m.org])], m);
  }
  const std::vector<Bytes> in = st_.comm->exchange(out);
  msgs.clear();
  std::vector<std::size_t> runs = {0};  // each process's messages are in client order already
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t from = msgs.size();
    take(in[r], msgs);
    runs.push_back(msgs.size());
    if (static_cast<std::int32_t>(r) == st_.rank) continue;
    for (std::size_t i = from; i < msgs.size(); ++i) {
      msgs[i].slot = kRemote;
      st_.remote_clients = st_.remote_clients || msgs[i].type == Msg::arrival;
    }
  }
  merge_runs(msgs, std::move(runs), [](const Msg& a, const Msg& b) { return a.client < b.client; });
}

// The records (and needs) of other processes' clients that this process's organizations and
// networks hold in their intake, queues and conference lists or received today, as they are
// after today's client pass: the day's ghosts, read by the organization phases. Their needs go
// after the clients' needs in st_.needs until drop_ghosts().
void Simulation::fetch_ghosts(const std::vector<Msg>& msgs) {
  const auto n = static_cast<std::size_t>(st_.comm->size());
  std::vector<std::vector<std::uint32_t>> want(n);
  auto need = [&](std::uint32_t slot, std::uint32_t id) {
    if (slot == kRemote) want[st_.id_rank[id]].push_back(id);
  };
  // Only an arrival from another process's client puts one in this process's lists.
  if (st_.remote_clients)
    for (std::int32_t o : st_.own_orgs) {
      for (const IntakeEntry& e : st_.orgs[o].intake) need(e.slot, e.client);
      for (const auto& q : st_.orgs[o].queues)
        for (const QueueEntry& e : q) need(e.slot, e.client);
    }
  for (const Msg& m : msgs)
    if (m.type == Msg::arrival) need(m.slot, m.client);
  for (std::size_t k = 0; k < st_.nets.size() && st_.remote_clients; ++k)
    if (st_.part.network_rank[k] == st_.rank)
      for (const ConferenceRequest& r : st_.nets[k].waiting) need(r.slot, r.client);
  std::vector<Bytes> ask(n);
  for (std::size_t r = 0; r < n; ++r) {
    std::sort(want[r].begin(), want[r].end());
    want[r].erase(std::unique(want[r].begin(), want[r].end()), want[r].end());
    for (std::uint32_t id : want[r]) put(ask[r], id);
  }
  const std::vector<Bytes> asked = st_.comm->exchange(ask);
  std::vector<Bytes> reply(n);
  for (std::size_t r = 0; r < n; ++r) {
    std::vector<std::uint32_t> ids;
    take(asked[r], ids);
    for (std::uint32_t id : ids) {
      const std::uint32_t slot = st_.local_slot_of_id(id);
      if (slot == kGone) continue;  // left, and squeezed out: not found
      const Client& c = st_.clients[slot];
      put(reply[r], c);
      for (int k = 0; k < c.n_needs; ++k) put(reply[r], st_.needs_of(c)[k]);
    }
  }
  const std::vector<Bytes> got = st_.comm->exchange(reply);
  st_.ghosts.clear();
  st_.ghost_needs_from = st_.needs.size();
  for (const Bytes& b : got)  // each process's reply is in id order, and ids are unique
    for (std::size_t at = 0; at < b.size();) {
      Client c;
      if (at + sizeof c > b.size())
        throw std::runtime_error("partitioned run: a truncated client record");
      std::memcpy(static_cast<void*>(&c), b.data() + at, sizeof c);
      at += sizeof c;
      const std::size_t bytes = sizeof(Need) * c.n_needs;
      if (c.n_needs > kMaxNeeds || at + bytes > b.size())
        throw std::runtime_error("partitioned run: a truncated client record");
      c.first_need = static_cast<std::uint32_t>(st_.needs.size());
      st_.needs.resize(st_.needs.size() + c.n_needs);
      std::memcpy(static_cast<void*>(st_.needs.data() + c.first_need), b.data() + at, bytes);
      at += bytes;
      st_.ghosts.push_back(c);
    }
  std::sort(st_.ghosts.begin(), st_.ghosts.end(),
            [](const Client& a, const Client& b) { return a.id < b.id; });
}

void Simulation::drop_ghosts() {
  st_.ghosts.clear();
  st_.needs.resize(st_.ghost_needs_from);
}

// The day's events to the processes owning their clients, in the order one process applies
// them: by client, then as made (organizations in order, pooling, conferences).
void Simulation::exchange_events(std::vector<Event>& events) {
  struct Keyed {
    Event event;
    std::uint64_t key;
    std::uint32_t seq;
  };
  if (st_.event_keys.size() != events.size())
    throw std::logic_error("partitioned run: events and their keys out of step");
  const auto n = static_cast<std::size_t>(st_.comm->size());
  std::vector<Bytes> out(n);
  std::vector<Keyed> all;  // this process's own first: not serialized
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Keyed k{events[i], st_.event_keys[i], static_cast<std::uint32_t>(i)};
    if (st_.id_rank[events[i].client] == st_.rank)
      all.push_back(k);
    else
      put(out[st_.id_rank[events[i].client]], k);
  }
  const std::vector<Bytes> in = st_.comm->exchange(out);
  // A process makes its events in (key, seq) order; merged so, they are then sorted by client
  // (stably: phase_apply), which is the order of one process.
  std::vector<std::size_t> runs = {0, all.size()};
  for (const Bytes& b : in) {
    take(b, all);
    if (all.size() > runs.back()) runs.push_back(all.size());
  }
  merge_runs(all, std::move(runs), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.key, a.seq) < std::tie(b.key, b.seq);
  });
  events.clear();
  for (Keyed& k : all) {
    if (!local_slot(k.event.slot)) {
      k.event.slot = st_.local_slot_of_id(k.event.client);
      if (k.event.slot == kGone)
        throw std::logic_error("partitioned run: an event for client " +
                               std::to_string(k.event.client) + ", not held here");
    }
    events.push_back(k.event);
  }
}

// Tie events of pooling and of started services to every process (ties are replicated), in
// one process's order; the tie failures before them came with the messages.
void Simulation::exchange_tie_events(std::vector<TieEvent>& tie_events, std::size_t pooled_from) {
  struct Keyed {
    TieEvent event;
    std::uint64_t key;
    std::uint32_t seq;
  };
  if (st_.tie_keys.size() != tie_events.size() - pooled_from)
    throw std::logic_error("partitioned run: tie events and their keys out of step");
  Bytes payload;
  for (std::size_t i = 0; i < st_.tie_keys.size(); ++i)
    put(payload,
        Keyed{tie_events[pooled_from + i], st_.tie_keys[i], static_cast<std::uint32_t>(i)});
  const std::vector<Bytes> in =
      st_.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st_.comm->size()), payload));
  std::vector<Keyed> all;
  std::vector<std::size_t> runs = {0};  // each process's in (key, seq) order already
  for (const Bytes& b : in) {
    take(b, all);
    runs.push_back(all.size());
  }
  merge_runs(all, std::move(runs), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.key, a.seq) < std::tie(b.key, b.seq);
  });
  tie_events.resize(pooled_from);
  for (const Keyed& k : all) tie_events.push_back(k.event);
}

// Dropped starts to every process: the queue's owner gives back what they took.
void Simulation::exchange_undos(std::vector<Undo>& undos) {
  Bytes payload;
  for (const Undo& u : undos) put(payload, u);
  const std::vector<Bytes> in =
      st_.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st_.comm->size()), payload));
  undos.clear();
  for (const Bytes& b : in) take(b, undos);
}

// Caseloads changed by this process's organizations today, to every other process.
void Simulation::sync_helpers() {
  struct Load {
    std::int32_t slot;
    float hours;
    std::uint16_t cases;
  };
  st_.helper_sent.resize(st_.staff.helpers.size(), {0.0f, std::uint16_t{0}});
  Bytes payload;
  for (std::int32_t o : st_.own_orgs)
    st_.for_each_staff(o, [&](std::int32_t s) {
      const Helper& h = st_.staff.helpers[s];
      auto& sent = st_.helper_sent[s];
      if (h.load_hours == sent.first && h.cases == sent.second) return;
      sent = {h.load_hours, h.cases};
      put(payload, Load{s, h.load_hours, h.cases});
    });
  std::vector<Bytes> out(static_cast<std::size_t>(st_.comm->size()), payload);
  out[st_.rank].clear();
  const std::vector<Bytes> in = st_.comm->exchange(out);
  std::vector<Load> all;
  for (const Bytes& b : in) take(b, all);
  for (const Load& l : all) {
    Helper& h = st_.staff.helpers[l.slot];
    h.load_hours = l.hours;
    h.cases = l.cases;
  }
}

// The day's counts that each process made for its own clients and organizations, summed.
void Simulation::sync_record(TickRecord& rec) {
  std::vector<std::int64_t> v = {rec.resolved,
                                 rec.dropped,
                                 rec.queue_length,
                                 rec.intake_length,
                                 rec.conferences_waiting,
                                 rec.services_started,
                                 std::llround(rec.wait_days_started),
                                 rec.referrals,
                                 rec.signposts,
                                 rec.turned_away,
                                 rec.assessments,
                                 rec.active,
                                 rec.conflicts};
  v.insert(v.end(), rec.needs.begin(), rec.needs.end());
  const std::size_t fixed = v.size();
  const bool waiting = !st_.district_waiting.empty() && !st_.district_waiting.back().empty();
  if (waiting)
    v.insert(v.end(), st_.district_waiting.back().begin(), st_.district_waiting.back().end());
  st_.comm->sum(v);
  std::size_t k = 0;
  for (std::int64_t* x : {&rec.resolved, &rec.dropped, &rec.queue_length, &rec.intake_length,
                          &rec.conferences_waiting, &rec.services_started})
    *x = v[k++];
  rec.wait_days_started = static_cast<double>(v[k++]);
  for (std::int64_t* x : {&rec.referrals, &rec.signposts, &rec.turned_away, &rec.assessments,
                          &rec.active, &rec.conflicts})
    *x = v[k++];
  for (std::int64_t& x : rec.needs) x = v[k++];
  if (waiting)
    for (std::size_t d = 0; d < st_.district_waiting.back().size(); ++d)
      st_.district_waiting.back()[d] = static_cast<std::int32_t>(v[fixed + d]);
}

// Organization counters from their owners to every process: services started (monitoring), or
// at the end all counters, conferences and waiting lists (the outputs).
void Simulation::sync_org_counters(bool final) {
  std::vector<std::int64_t> v;
  for (std::size_t o = 0; o < st_.orgs.size(); ++o) {
    OrgState& st = st_.orgs[o];
    const bool own = st_.part.org_rank[o] == st_.rank;
    auto add = [&](std::int64_t x) { v.push_back(own ? x : 0); };
    add(st.started);
    add(st.started_in_standard);
    add(st.agreements_honoured);
    add(st.agreements_breached);
    if (!final) continue;
    for (std::int64_t x : {st.assessments, st.referrals_sent, st.referrals_received, st.served,
                           st.turned_away, st.pooled_out, st.conferences, st.agreement_referrals,
                           st.referred_late, st.referred_dropouts, st.conference_minutes})
      add(x);
    add(static_cast<std::int64_t>(st.intake.size()));
    for (const auto& q : st.queues) add(static_cast<std::int64_t>(q.size()));
  }
  if (final)
    for (std::size_t k = 0; k < st_.nets.size(); ++k)
      v.push_back(st_.part.network_rank[k] == st_.rank ? st_.nets[k].conferences : 0);
  st_.comm->sum(v);
  std::size_t i = 0;
  const std::size_t per_org = 1 + sc_.services.size();  // intake, then each queue
  if (final) st_.final_sizes.assign(st_.orgs.size() * per_org, 0);
  for (std::size_t o = 0; o < st_.orgs.size(); ++o) {
    OrgState& st = st_.orgs[o];
    st.started = v[i++];
    st.started_in_standard = v[i++];
    st.agreements_honoured = v[i++];
    st.agreements_breached = v[i++];
    if (!final) continue;
    for (std::int64_t* x :
         {&st.assessments, &st.referrals_sent, &st.referrals_received, &st.served, &st.turned_away,
          &st.pooled_out, &st.conferences, &st.agreement_referrals, &st.referred_late,
          &st.referred_dropouts, &st.conference_minutes})
      *x = v[i++];
    for (std::size_t k = 0; k < per_org; ++k) st_.final_sizes[o * per_org + k] = v[i++];
  }
  if (final)
    for (NetworkState& net : st_.nets) net.conferences = v[i++];
}

std::int64_t Simulation::waiting_now(std::int32_t org) const {
  if (!st_.final_sizes.empty()) {
    const std::size_t per_org = 1 + sc_.services.size();
    std::int64_t waiting = 0;
    for (std::size_t k = 1; k < per_org; ++k) waiting += st_.final_sizes[org * per_org + k];
    return waiting;
  }
  std::int64_t waiting = 0;
  for (const auto& q : st_.orgs[org].queues) waiting += static_cast<std::int64_t>(q.size());
  return waiting;
}

// The end of a partitioned run: the ledger and the organizations' counters summed, and the state
// hash's input of every process's active clients, in id order, on every process.
void Simulation::finish_partitioned() {
  std::vector<std::int64_t> counts;
  ledger_counts(st_.ledger, counts, false);
  st_.comm->sum(counts);
  ledger_counts(st_.ledger, counts, true);
  sync_org_counters(true);
  Bytes mine;
  for (std::uint32_t slot : st_.active) {
    const Client& c = st_.clients[slot];
    Bytes one;
    ClientHashBytes sink{one};
    hash_client_into(sink, c, st_.needs_of(c));
    put(mine, c.id);
    put(mine, static_cast<std::uint32_t>(one.size()));
    mine.insert(mine.end(), one.begin(), one.end());
  }
  const std::vector<Bytes> all =
      st_.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st_.comm->size()), mine));
  struct Piece {
    std::uint32_t id;
    const std::uint8_t* data;
    std::uint32_t size;
  };
  std::vector<Piece> pieces;
  for (const Bytes& b : all)
    for (std::size_t at = 0; at + 8 <= b.size();) {
      Piece p{0, nullptr, 0};
      std::memcpy(&p.id, b.data() + at, 4);
      std::memcpy(&p.size, b.data() + at + 4, 4);
      p.data = b.data() + at + 8;
      at += 8 + p.size;
      pieces.push_back(p);
    }
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& x, const Piece& y) { return x.id < y.id; });
  st_.final_clients.clear();
  for (const Piece& p : pieces)
    st_.final_clients.insert(st_.final_clients.end(), p.data, p.data + p.size);
}

bool Simulation::in_cohort(const Client& c) const {
  const int ran = st_.keep_records ? st_.tick : st_.planned_ticks;
  return c.arrival >= sc_.warmup_days && c.arrival < ran - sc_.follow_up_days;
}

void Simulation::retire_exited() {
  if (st_.keep_records && st_.notes.empty()) {  // nothing to note, nothing to fold
    st_.exited.clear();
    return;
  }
  std::vector<std::pair<std::uint32_t, ClientNote>> exits;  // partitioned, with authorities
  for (std::size_t i = 0; i < st_.exited.size(); ++i) {
    if (i + kPrefetchAhead < st_.exited.size()) st_.prefetch_record(st_.exited[i + kPrefetchAhead]);
    if (i + kPrefetchAhead / 2 < st_.exited.size())
      st_.prefetch_needs(st_.clients[st_.exited[i + kPrefetchAhead / 2]]);
    const Client& c = st_.clients[st_.exited[i]];
    if (!st_.notes.empty()) {
      st_.notes[c.id].outcome = c.outcome;
      st_.notes[c.id].exit = c.exit;
      if (st_.comm != nullptr) exits.emplace_back(c.id, st_.notes[c.id]);
    }
    if (!st_.keep_records) st_.ledger.add(c, st_.needs_of(c), sc_, in_cohort(c));
  }
  st_.exited.clear();
  if (st_.comm != nullptr && !sc_.authorities.empty()) exchange_notes(exits, false);
  // Without client records: once records of clients who left (folded) make up a sixteenth of
  // the active ones (at least 1,024), the active ones and their needs move to the front, in id
  // order (the records after the first that left move: each squeeze moves about all of them,
  // so a client's record is copied about 16 times per turnover of the active clients; clients
  // leave at every age, so the first hole is near the front), and every list naming a client is
  // renumbered.
  const std::size_t n = st_.active.size();
  if (st_.keep_records || st_.clients.size() - n <= std::max<std::size_t>(n / 16, 1024)) return;
  // Lists naming a client first: a slot's new number is its position in st_.active.
  const auto renumber = [this](auto& list) {
    for (auto& e : list) {
      if (!local_slot(e.slot)) continue;  // folded, or another process's client
      const auto it = std::lower_bound(st_.active.begin(), st_.active.end(), e.slot);
      e.slot = it != st_.active.end() && *it == e.slot
                   ? static_cast<std::uint32_t>(it - st_.active.begin())
                   : kGone;
    }
  };
  for (OrgState& o : st_.orgs) {
    renumber(o.intake);
    for (auto& q : o.queues) renumber(q);
  }
  for (NetworkState& net : st_.nets) renumber(net.waiting);
  // Records before the first one that left stay where they are: st_.active[i] == i up to it (a
  // strictly increasing list of slots, each at least its position).
  std::size_t stay = 0, past = n;
  while (stay < past) {
    const std::size_t mid = stay + (past - stay) / 2;
    if (st_.active[mid] == mid)
      stay = mid + 1;
    else
      past = mid;
  }
  std::uint32_t m =
      stay == 0 ? 0 : st_.clients[stay - 1].first_need + st_.clients[stay - 1].n_needs;
  for (std::size_t i = stay; i < n;) {
    // A run of active records in consecutive slots whose needs follow each other moves as one
    // block (records and needs), instead of record by record (about 16 records per run).
    const std::uint32_t first = st_.active[i];
    const std::uint32_t need_begin = st_.clients[first].first_need;
    std::uint32_t need_end = need_begin + st_.clients[first].n_needs;
    std::size_t end = i + 1;
    while (end < n && st_.active[end] == first + (end - i) &&
           st_.clients[st_.active[end]].first_need == need_end) {
      need_end += st_.clients[st_.active[end]].n_needs;
      ++end;
    }
    if (need_begin != m)
      std::copy(st_.needs.begin() + need_begin, st_.needs.begin() + need_end,
                st_.needs.begin() + m);
    if (first != i)
      std::copy(st_.clients.begin() + first, st_.clients.begin() + first + (end - i),
                st_.clients.begin() + i);
    for (std::size_t k = i; k < end; ++k) {
      st_.clients[k].first_need -= need_begin - m;
      st_.active[k] = static_cast<std::uint32_t>(k);
    }
    m += need_end - need_begin;
    i = end;
  }
  st_.clients.resize(n);
  st_.needs.resize(m);
}

void Simulation::finish() {
  if (st_.finished) return;
  for (std::uint32_t slot : st_.active) st_.clients[slot].outcome = Outcome::unmet_at_horizon;
  if (!st_.keep_records) {
    if (st_.tick != st_.planned_ticks)
      throw std::logic_error(
          "Simulation::finish: a run without client records ends on its planned day " +
          std::to_string(st_.planned_ticks) + ", not on day " + std::to_string(st_.tick));
    for (std::uint32_t slot : st_.active) {
      const Client& c = st_.clients[slot];
      st_.ledger.add(c, st_.needs_of(c), sc_, in_cohort(c));
    }
  }
  if (st_.comm != nullptr) finish_partitioned();
  st_.finished = true;
}

const std::vector<Client>& Simulation::clients() const {
  if (!st_.keep_records)
    throw std::logic_error("Simulation::clients: this run keeps no client records");
  return st_.clients;
}

OutcomeLedger Simulation::outcome_ledger() const {
  if (!st_.keep_records) {
    if (!st_.finished)
      throw std::logic_error(
          "Simulation::outcome_ledger: a run without client records has its measures only once "
          "it is finished");
    return st_.ledger;
  }
  OutcomeLedger ledger(sc_);
  for (const Client& c : st_.clients) ledger.add(c, st_.needs_of(c), sc_, in_cohort(c));
  return ledger;
}

std::uint64_t Simulation::state_hash() const {
  Hasher h;
  h.add(st_.tick);
  h.add(st_.next_id);
  const auto hash_client = [&h, this](const Client& c) { hash_client_into(h, c, st_.needs_of(c)); };
  if (st_.keep_records) {
    for (const Client& c : st_.clients) hash_client(c);
  } else {
    if (st_.comm != nullptr && st_.finished)
      h.bytes(st_.final_clients.data(), st_.final_clients.size());  // every process's, in id order
    else
      for (std::uint32_t slot : st_.active) hash_client(st_.clients[slot]);
    for (const OutcomeTally* t :
         {&st_.ledger.all, &st_.ledger.by_kind[0], &st_.ledger.by_kind[1], &st_.ledger.by_kind[2]})
      h.bytes(t, sizeof *t);
    h.add(st_.ledger.needs_served_met);
  }
  for (const Helper& x : st_.staff.helpers) {
    h.add(x.id);
    h.add(x.load_hours);
    h.add(x.capacity_hours);
    h.add(x.cases);
    h.add(x.n_personal);
    h.add(x.starts);
    h.add(x.retired);
  }
  for (const Tie& t : st_.ties.all()) {
    h.add(t.level);
    h.add(t.trust);
    h.add(t.personal);
    h.add(t.floor);
    h.add(t.ceiling);
    h.add(t.contract_level);
    h.add(t.shortfalls);
    h.add(t.suspended);
    h.add(t.act);
    h.add(t.act_until);
    h.add(t.acts);
    h.add(t.joint_cases);
    h.add(t.failed_cases);
    h.add(t.breaches);
    h.add(t.joint_total);
    h.add(t.referred_by_a);
    h.add(t.referred_by_b);
  }
  // The past a checkpoint carries: every day's record and every change of a tie's level.
  for (const TickRecord& r : st_.series) {
    h.add(r.tick);
    h.add(r.arrivals);
    h.add(r.active);
    for (std::int64_t n : r.needs) h.add(n);
    h.add(r.resolved);
    h.add(r.dropped);
    h.add(r.queue_length);
    h.add(r.intake_length);
    h.add(r.conferences_waiting);
    h.add(r.services_started);
    h.add(r.wait_days_started);
    h.add(r.referrals);
    h.add(r.signposts);
    h.add(r.turned_away);
    h.add(r.assessments);
    h.add(r.conflicts);
    for (std::int64_t n : r.ties_by_level) h.add(n);
    h.add(r.collaboration_hours);
    h.add(r.direct_hours_used);
    h.add(r.direct_hours_capacity);
    h.add(r.paid_hours);
  }
  for (const TieChange& c : st_.tie_history) {
    h.add(c.tick);
    h.add(c.tie);
    h.add(c.from);
    h.add(c.to);
    h.add(c.reason);
  }
  const auto hash_tally = [&h](const MonitorTally& m) {
    h.add(m.joint);
    h.add(m.late);
    h.add(m.dropouts);
    h.add(m.no_shows);
    h.add(m.breaches);
  };
  for (const NetworkState& n : st_.nets) {
    for (const MonitorTally& m : n.tally) hash_tally(m);
    h.add(n.reports);
  }
  for (const MonitorRow& r : st_.monitoring_rows) {
    h.add(r.tick);
    h.add(r.network);
    h.add(r.org);
    hash_tally(r.tally);
  }
  if (!st_.final_sizes.empty()) {
    for (std::int64_t n : st_.final_sizes) h.add(static_cast<std::size_t>(n));
  } else {
    for (const OrgState& o : st_.orgs) {
      h.add(o.intake.size());
      for (const auto& q : o.queues) h.add(q.size());
    }
  }
  return h.value();
}

}  // namespace cm::care
