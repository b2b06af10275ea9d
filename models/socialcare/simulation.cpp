#include "models/socialcare/simulation.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "engine/hash.hpp"
#include "engine/heap.hpp"
#include "engine/parallel.hpp"
#include "models/socialcare/phases/common.hpp"
#include "models/socialcare/phases/exchange.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

namespace {

// New clients a day the scenario expects (residents × annual incidence / 365, over districts).
double expected_arrivals_per_day(const Scenario& sc) {
  double per_day = 0;
  for (const District& d : sc.districts)
    per_day += static_cast<double>(d.population) * sc.population.annual_incidence / 365.0;
  return per_day;
}

}  // namespace

Simulation::Simulation(const Scenario& scenario, std::uint64_t seed, SimOptions options)
    : sc_(scenario),
      st_(sc_, seed, options.client_records,
          options.ticks > 0 ? std::min(options.ticks, scenario.horizon_days)
                            : scenario.horizon_days),
      parallel_min_active_(options.parallel_min_active) {
  // Client records hold organization ids and days in 16 bits (clients.hpp); the scenario
  // loader refuses scenarios beyond these limits.
  if (sc_.organizations.size() > static_cast<std::size_t>(kMaxOrganizations))
    throw std::invalid_argument("Simulation: " + std::to_string(sc_.organizations.size()) +
                                " organizations, at most " + std::to_string(kMaxOrganizations));
  if (sc_.horizon_days > kMaxTicks)
    throw std::invalid_argument("Simulation: horizon_days " + std::to_string(sc_.horizon_days) +
                                ", at most " + std::to_string(kMaxTicks));
  // The scenario loader's YAML tree is freed by now, but glibc keeps the freed pages in the
  // middle of its heap: give them back, so that a run's memory is its own state. Only for a
  // large model (a year's arrivals of at least kTrimMinActive): a small one's run would fault
  // the returned pages in again, and an experiment builds thousands of them.
  if (expected_arrivals_per_day(sc_) * 365.0 >= static_cast<double>(kTrimMinActive))
    return_free_heap();
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
  }
  for (std::int32_t o = 0; o < static_cast<std::int32_t>(sc_.organizations.size()); ++o)
    if (st_.owns_org(o)) st_.own_orgs.push_back(o);
  exchange_ = phases::make_exchange(st_);
  phases::init_staff(sc_, st_);
  phases::init_personal_ties(sc_, st_);
  phases::build_route_index(sc_, st_);
  phases::update_hours(sc_, st_);
}

Simulation::~Simulation() = default;

Simulation::Simulation(const Simulation& other)
    : sc_(other.sc_),
      st_(other.st_),
      parallel_min_active_(other.parallel_min_active_),
      exchange_(phases::make_exchange(st_)) {}

void Simulation::reserve_clients() {
  // Room (virtual memory until used) for the clients the horizon is expected to bring; without
  // client records the arrays hold the active clients (and those awaiting the squeeze): room for
  // a year's clients at most, so they are seldom copied as they grow (a copy holds both buffers).
  // The active list: a year's clients.
  const double per_day = expected_arrivals_per_day(sc_);
  double needs_per_client = 0, shares = 0;
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
  // The time series: one record a day up to the horizon, so it is never copied as it grows.
  st_.series.reserve(static_cast<std::size_t>(std::max(sc_.horizon_days, st_.planned_ticks)));
}

void Simulation::run(int ticks) {
  for (int i = 0; i < ticks && st_.tick < sc_.horizon_days; ++i) step();
}

void Simulation::step() {
  // A small day runs on this thread only: same chunks, same results, no hand-overs.
  std::optional<SerialScope> serial;
  if (st_.active.size() < parallel_min_active_) serial.emplace();
  TickRecord rec;
  rec.tick = st_.tick;
  phases::DayExchange& ex = *exchange_;
  if (!sc_.authorities.empty()) {
    ex.before_steering(sc_, st_);
    phases::phase_steering(sc_, st_);
    phases::update_hours(sc_, st_);  // contracts change staff
  }
  phases::phase_arrivals(sc_, st_, ex, rec);
  std::vector<Msg> msgs = phases::phase_clients(sc_, st_, rec);
  std::vector<Event>& events = st_.events;  // the day's lists, reused from day to day
  std::vector<TieEvent>& tie_events = st_.tie_events;
  events.clear();
  tie_events.clear();
  ex.after_clients(sc_, st_, msgs);
  phases::phase_organizations(sc_, st_, msgs, events, tie_events, rec);
  const std::size_t pooled_from = st_.tie_keyed_from;  // the day's tie events from here on are
                                                       // each one process's (keyed, exchanged)
  phases::phase_pooling(sc_, st_, events, tie_events);
  phases::phase_conferences(sc_, st_, events, rec);
  ex.before_apply(sc_, st_, events);
  phases::phase_apply(sc_, st_, ex, events, tie_events, rec);
  ex.after_apply(sc_, st_, tie_events, pooled_from);
  phases::phase_waits(sc_, st_);
  phases::phase_ties(sc_, st_, tie_events);
  phases::phase_staff(sc_, st_);
  phases::phase_record(sc_, st_, rec);
  ex.after_record(sc_, st_, rec);
  st_.series.push_back(rec);
  phases::retire_exited(sc_, st_, ex);
  ++st_.tick;
  // The day's short-lived lists come and go in glibc's heap, whose freed pages stay resident:
  // over months they would fill the holes the scenario loader left (a few MB at 10^7 residents,
  // measured). Give them back once a month (a fraction of a millisecond), in a large state only.
  if (st_.tick % kTrimDays == 0 && st_.active.size() >= kTrimMinActive) return_free_heap();
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

void Simulation::finish() {
  if (st_.finished) return;
  for (std::uint32_t slot : st_.active) {
    Client& c = st_.clients[slot];
    c.outcome = Outcome::unmet_at_horizon;
    // Event-driven: the countdowns of clients not stepped lately, counted to the last day.
    if (sc_.client_stepping == ClientStepping::events) phases::catch_up(st_, c, st_.tick);
  }
  if (!st_.keep_records) {
    if (st_.tick != st_.planned_ticks)
      throw std::logic_error(
          "Simulation::finish: a run without client records ends on its planned day " +
          std::to_string(st_.planned_ticks) + ", not on day " + std::to_string(st_.tick));
    for (std::uint32_t slot : st_.active) {
      const Client& c = st_.clients[slot];
      st_.ledger.add(c, st_.needs_of(c), sc_, phases::in_cohort(sc_, st_, c));
    }
  }
  exchange_->finish(sc_, st_);
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
  for (const Client& c : st_.clients)
    ledger.add(c, st_.needs_of(c), sc_, phases::in_cohort(sc_, st_, c));
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
