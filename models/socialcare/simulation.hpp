// The social-assistance simulation: one run of a scenario with one seed.
//
// A tick is a day. Its phases, in order:
//   arrivals      new clients in each district (Poisson, keyed by district and day)
//   clients       parallel over active clients: self-help, dropping out, service rounds,
//                 referral journeys, choosing a door; sends arrivals and releases to orgs
//   organizations parallel over organizations: releases, intake and assessment with the
//                 day's intake hours, decisions (serve, refer warm, signpost, turn away,
//                 ask for a case conference), allocation of helpers to queues
//   pooling       serial: queues that overflow borrow free helpers of level>=5 partners
//   conferences   serial: coordinators hold case conferences with their limited hours
//   apply         parallel over clients with events from the phases above
//   ties          parallel over ties: trust and, on review days, level changes
//   staff         serial: turnover, personal ties, hours for the next day
//   record        deterministic counts for the time series
// Messages between phases are collected per chunk or per organization and merged in id
// order, so results are identical at any thread count.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/rng.hpp"
#include "models/socialcare/clients.hpp"
#include "models/socialcare/helpers.hpp"
#include "models/socialcare/ledger.hpp"
#include "models/socialcare/networks.hpp"
#include "models/socialcare/organizations.hpp"
#include "models/socialcare/partition.hpp"
#include "models/socialcare/scenario.hpp"
#include "models/socialcare/steering.hpp"
#include "models/socialcare/ties.hpp"

namespace cm::care {

struct TickRecord {
  std::int32_t tick = 0;
  std::int32_t pad_ = 0;  // explicit padding, zeroed (checkpoints copy records as they are)
  std::int64_t arrivals = 0;
  std::int64_t active = 0;                        // clients in the system after the tick
  std::array<std::int64_t, kNeedStates> needs{};  // needs of active clients by state
  std::int64_t resolved = 0, dropped = 0;         // clients leaving today
  std::int64_t queue_length = 0;                  // needs waiting for a helper
  std::int64_t intake_length = 0;                 // needs waiting at intake
  std::int64_t conferences_waiting = 0;
  std::int64_t services_started = 0;
  double wait_days_started = 0;  // total queue wait of services started
  std::int64_t referrals = 0, signposts = 0, turned_away = 0, assessments = 0;
  std::int64_t conflicts = 0;  // second actions on a need in a day, dropped (docs/model.md)
  std::array<std::int64_t, kLevels> ties_by_level{};
  double collaboration_hours = 0;    // helper hours/day on ties and coordination
  double direct_hours_used = 0;      // helper hours/day on current cases
  double direct_hours_capacity = 0;  // helper hours/day available for cases
  double paid_hours = 0;             // helper hours/day paid
};

// A tie's level changed on a day (the history behind network animations and GEXF timelines).
struct TieChange {
  std::int32_t tick;
  std::uint32_t tie;
  std::int8_t from, to;
  TieChangeReason reason = TieChangeReason::none;
  std::uint8_t pad_ = 0;  // explicit padding, zeroed (checkpoints copy changes as they are)
};
static_assert(sizeof(TieChange) == 12, "TieChange must have no implicit padding");

// What a steering authority may look back on of a client (kept only when the scenario has
// authorities): indexed by client id, so in order of arrival.
struct ClientNote {
  std::int32_t arrival = 0;
  std::int32_t exit = -1;
  std::uint16_t district = 0;
  Outcome outcome = Outcome::active;
  std::uint8_t n_needs = 0;
  std::array<std::uint8_t, kMaxNeeds> service{};
};

struct SimOptions {
  // Keep every client's record (clients.csv, tests). Without it a client's record is folded
  // into the outcome tallies on the day it leaves and its memory is reused: memory follows the
  // active clients, and the measures are only available at the end of the planned run.
  bool client_records = true;
  int ticks = 0;  // the run's planned length (the outcome cohort's end); 0: horizon_days
  // A territory-partitioned run (partition.hpp): this process's end of the exchange; every
  // process constructs the simulation with the same scenario and seed. Needs client_records
  // false. After finish() every process holds the same measures and organization counters.
  PartitionComm* partition = nullptr;
};

class Simulation {
 public:
  Simulation(const Scenario& scenario, std::uint64_t seed, SimOptions options = {});

  void step();          // one tick
  void run(int ticks);  // ticks steps (call inside cm::with_threads for a thread count)
  void finish();        // closes the run: clients still active are unmet at the horizon
  int tick() const { return tick_; }
  bool finished() const { return finished_; }
  std::uint64_t state_hash() const;

  const Scenario& scenario() const { return sc_; }
  std::uint64_t seed() const { return streams_.seed(); }
  // Every client so far, by id (only with client records: throws std::logic_error without).
  const std::vector<Client>& clients() const;
  // A client's needs (of a record from clients(), or of an active client).
  std::span<const Need> needs(const Client& c) const { return {needs_of(c), c.n_needs}; }
  bool client_records() const { return keep_records_; }
  int planned_ticks() const { return planned_ticks_; }
  std::size_t clients_created() const { return next_id_; }
  std::size_t client_slots() const { return clients_.size(); }  // client records in memory
  // The outcome tallies of the clients so far; the cohort ends follow_up_days before today.
  // Without client records: only once the planned run is finished (else std::logic_error).
  OutcomeLedger outcome_ledger() const;
  const std::vector<Helper>& helpers() const { return staff_.helpers; }
  const std::vector<OrgState>& organizations() const { return orgs_; }
  const std::vector<NetworkState>& networks() const { return nets_; }
  const TieTable& ties() const { return ties_; }
  const std::vector<TickRecord>& timeseries() const { return series_; }
  // Levels at the start of the run, and every change since, in (day, tie) order.
  const std::vector<std::int8_t>& initial_tie_levels() const { return initial_levels_; }
  const std::vector<TieChange>& tie_history() const { return tie_history_; }
  const std::vector<SteeringRow>& steering_rows() const { return steering_rows_; }
  // The networks' monitoring reports, a row per member per report, in (day, network) order.
  const std::vector<MonitorRow>& monitoring_rows() const { return monitoring_rows_; }
  const std::vector<AuthorityState>& authorities() const { return authorities_; }
  std::size_t active_clients() const { return active_.size(); }  // this process's
  // Needs waiting now in the organization's queues (after finish(), in a partitioned run too).
  std::int64_t waiting_now(std::int32_t org) const;
  bool partitioned() const { return comm_ != nullptr; }
  const Partition& partition() const { return part_; }
  // Room for the clients the horizon is expected to bring (virtual memory until used), so the
  // client array is rarely copied as it grows. The constructor does it; a copy of a simulation
  // (which has no spare room) calls it to step as the original would.
  void reserve_clients();

 private:
  friend class Checkpoint;  // saves and restores the state (checkpoint.hpp)

  struct Msg {
    // follow_up: the coordinator of the network of org followed a failed referral up
    enum Type : std::uint8_t { arrival, release, tie_failure, follow_up } type;
    ArrivalMode mode = ArrivalMode::walk_in;
    std::uint8_t need = 0;
    std::uint8_t priority = 0;
    std::int32_t org = -1;
    std::int32_t from_org = -1;
    std::int32_t helper = -1;
    std::uint32_t client = 0;
    std::uint32_t slot = 0;  // the client's record
    float hours = 0;
    std::uint8_t service = 0;  // release: the service, and whether its slot was reserved
    bool reserved = false;     //   (arrival: the need's service)
    TieEventKind tie_kind = TieEventKind::no_show;  // tie_failure: what the referrer learns
  };

  struct Event {
    enum Type : std::uint8_t {
      assessed,
      queued,
      referred,
      turned_away,
      service_start,
      conference_wait,
      conference_done
    } type;
    std::uint8_t need = 0;
    std::uint8_t flags = 0;  // need_flag bits carried by the event
    std::uint8_t aux = 0;    // service_start: start_flag bits (what the start counted as)
    std::uint32_t client = 0;
    std::uint32_t slot = 0;   // the client's record
    std::int32_t org = -1;    // the organization acting (the referral target; the queue's)
    std::int32_t other = -1;  // referring organization, or helper slot
    std::int32_t value = 0;   // days (travel or service)
  };
  struct start_flag {
    static constexpr std::uint8_t in_standard = 1, honoured = 2;
  };
  // A service start dropped because another action on the need came first that day: the
  // helper's case and the counters it took are given back (phase_apply).
  struct Undo {
    std::uint32_t client = 0;
    std::uint8_t need = 0, aux = 0, service = 0;
    bool reserved = false;
    std::int32_t helper = -1, org = -1;  // helper slot; the queue's organization
  };

  struct OrgOutput {
    std::vector<Event> events;
    std::vector<ConferenceRequest> conferences;  // for the org's coordinated network
    std::vector<std::uint32_t> assessed_today;
    std::vector<TieEvent> tie_events;  // late and breached referrals noted by its queues
    std::vector<std::pair<std::int32_t, double>> conference_hours;  // partners' hours owed
    std::int64_t assessments = 0, referrals = 0, signposts = 0, turned_away = 0;
    std::int64_t queue_length = 0, intake_length = 0;
    std::int64_t routed = 0;  // referrals its network's coordinator routed
    void clear() {            // empty, keeping the lists' room
      routed = 0;
      events.clear();
      conferences.clear();
      assessed_today.clear();
      tie_events.clear();
      conference_hours.clear();
      assessments = referrals = signposts = turned_away = queue_length = intake_length = 0;
    }
  };

  // Clients are found by their record's slot in clients_ (the id itself with client records):
  // every list that names a client (active_, intake lists, queues, conference requests, the
  // day's messages and events) carries its slot, and the squeeze (retire_exited) renumbers
  // them. A record stays in place until the squeeze, so a client who left is still found
  // (outcome not active) until then, and kGone afterwards.
  static constexpr std::uint32_t kGone = 0xFFFFFFFFu;  // slot of a folded client
  // In a partitioned run, the slot of a client of another process: lists name it by its id,
  // and the organization phases find it among the day's ghosts (find_ghost).
  static constexpr std::uint32_t kRemote = 0xFFFFFFFEu;
  static bool local_slot(std::uint32_t slot) { return slot < kRemote; }
  std::uint32_t slot_of(const Client& c) const {
    if (comm_ != nullptr && id_rank_[c.id] != rank_) return kRemote;
    return static_cast<std::uint32_t>(&c - clients_.data());
  }
  // nullptr once the client has left and its record was folded (no client records). In a
  // partitioned run a client of another process (kRemote) is found by its id among the day's
  // ghosts: its record as it was after today's client pass, or nullptr if it left.
  const Client* find_client(std::uint32_t slot, std::uint32_t id) const {
    if (local_slot(slot)) return &clients_[slot];
    return slot == kRemote ? find_ghost(id) : nullptr;
  }
  const Client* find_ghost(std::uint32_t id) const;
  Need* needs_of(const Client& c) { return needs_.data() + c.first_need; }
  const Need* needs_of(const Client& c) const { return needs_.data() + c.first_need; }
  // Fetches a record's cache lines (a record spans two or three), or its needs, ahead of use.
  void prefetch_record(std::uint32_t slot) const {
    const char* p = reinterpret_cast<const char*>(&clients_[slot]);
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + 64, 1);
    __builtin_prefetch(p + sizeof(Client) - 1, 1);
  }
  void prefetch_needs(const Client& c) const {
    const char* p = reinterpret_cast<const char*>(needs_of(c));
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + sizeof(Need) * c.n_needs - 1, 1);
  }
  bool in_cohort(const Client& c) const;
  void retire_exited();  // end of a tick: the clients who left today

  void init_staff();
  void init_personal_ties();
  void update_hours();
  void phase_steering();  // steering.cpp
  void diagnose(int a, std::vector<double>& need, std::vector<std::vector<double>>& demand);
  void monitor(int a, Contract& contract);
  void fund_fixed_posts(int a, std::vector<std::int32_t>& ending);
  void ensure(int a, const std::vector<int>& districts, int helpers, int innovative_helpers,
              const std::vector<std::vector<double>>& demand, std::vector<std::int32_t>& ending);
  std::int32_t add_contract_helper(std::int32_t org, std::uint32_t skills, std::int32_t starts);
  void apply_contract_ties();
  template <class F>
  void for_each_staff(std::int32_t o, F&& f) const {
    const OrgState& org = orgs_[o];
    for (int k = 0; k < org.n_helpers; ++k) f(org.first_helper + k);
    for (std::int32_t s : org.contract_staff) f(s);
  }
  void phase_arrivals(TickRecord& rec);
  std::vector<Msg> phase_clients(TickRecord& rec);
  void step_client(Client& c, std::uint32_t slot, std::vector<Msg>& out);
  void choose_door(Client& c, std::uint32_t slot, int need, Stream& rng, std::vector<Msg>& out);
  void phase_organizations(std::vector<Msg>& msgs, std::vector<Event>& events,
                           std::vector<TieEvent>& tie_events, TickRecord& rec);
  void step_organization(std::int32_t o, const Msg* msgs, std::size_t n, OrgOutput& out);
  void dispatch(std::int32_t o, const Client& c, const IntakeEntry& e, OrgOutput& out);
  void route(std::int32_t o, const Client& c, int need, bool presented, int min_level,
             OrgOutput& out);
  std::span<const std::pair<std::int32_t, std::uint32_t>> ties_in_district(
      std::int32_t o, int district, const std::uint32_t*& pos) const;
  bool conference_partner(std::int32_t o, const Client& c, std::uint32_t services) const;
  void hold_conference(std::int32_t o, const Client& c, OrgOutput& out,
                       const std::vector<std::uint64_t>* claimed);
  bool still_queued(std::int32_t o, const QueueEntry& q) const;
  void allocate(std::int32_t o, OrgOutput& out);
  bool allocate_pooled(std::int32_t o, int service, std::vector<Event>& events);
  void phase_pooling(std::vector<Event>& events, std::vector<TieEvent>& tie_events);
  void phase_waits();
  void phase_conferences(std::vector<Event>& events, TickRecord& rec);
  void phase_apply(std::vector<Event>& events, std::vector<TieEvent>& tie_events, TickRecord& rec);
  void apply_event(Client& c, Need& n, const Event& ev, std::vector<TieEvent>& out,
                   std::atomic<std::int64_t>& started, std::atomic<std::int64_t>& wait_days);
  void phase_ties(std::vector<TieEvent>& tie_events);
  void network_monitoring(const std::vector<TieEvent>& tie_events);
  void phase_staff();
  void drop_departed_partners(Helper& h) const;
  void recount_personal_ties();
  void phase_record(TickRecord& rec);

  bool offers(std::int32_t org, int service) const {
    return (sc_.organizations[org].services >> service) & 1u;
  }
  bool serves(std::int32_t org, int district) const;
  void build_route_index();

  // Partitioned runs (partition.hpp): the exchanges at the day's phase boundaries.
  bool owns_org(std::int32_t o) const { return comm_ == nullptr || part_.org_rank[o] == rank_; }
  std::uint32_t local_slot_of_id(std::uint32_t id) const;  // kGone if not held here
  void exchange_notes(const std::vector<std::pair<std::uint32_t, ClientNote>>& mine, bool arrivals);
  void exchange_msgs(std::vector<Msg>& msgs);
  void fetch_ghosts(const std::vector<Msg>& msgs);
  void drop_ghosts();
  void exchange_events(std::vector<Event>& events);
  void exchange_tie_events(std::vector<TieEvent>& tie_events, std::size_t pooled_from);
  void exchange_undos(std::vector<Undo>& undos);
  void apply_undos(std::vector<Undo>& undos);
  void sync_helpers();
  void sync_record(TickRecord& rec);
  void sync_org_counters(bool final);
  void finish_partitioned();

  const Scenario sc_;
  Streams streams_;
  int tick_ = 0;
  bool finished_ = false;
  bool keep_records_ = true;
  int planned_ticks_ = 0;
  std::vector<Client> clients_;        // by id, or (no client records) by slot, in id order
  std::vector<Need> needs_;            // the clients' needs, in the order of clients_
  std::vector<std::uint32_t> active_;  // slots of active clients, ascending (so in id order)
  std::uint32_t next_id_ = 0;          // clients created so far
  std::vector<std::uint32_t> exited_;  // slots of clients who left today
  OutcomeLedger ledger_;               // no client records: the clients folded so far
  std::vector<ClientNote> notes_;      // with authorities: by id
  Staff staff_;
  std::vector<OrgState> orgs_;
  std::vector<NetworkState> nets_;
  TieTable ties_;
  std::vector<std::vector<std::int32_t>> coordinators_by_district_, others_by_district_,
      serving_by_district_;
  std::vector<TickRecord> series_;
  std::vector<std::int8_t> initial_levels_;
  std::uint32_t innovative_mask_ = 0;  // services only contracts deliver
  std::vector<AuthorityState> authorities_;
  std::vector<SteeringRow> steering_rows_;
  std::vector<std::vector<std::int32_t>> district_arrivals_;  // per day, per district
  std::vector<std::vector<std::int32_t>> district_waiting_;   // per day (empty: not diagnosed)
  std::vector<double> outreach_boost_, self_help_boost_;      // per district
  std::vector<TieChange> tie_history_;
  std::vector<MonitorRow> monitoring_rows_;
  // Per organization: (network, place among its members) of the networks that monitor it.
  std::vector<std::vector<std::pair<std::int32_t, std::uint32_t>>> monitored_in_;
  bool monitoring_ = false;  // some network runs monitoring
  // The day's scratch lists, kept from day to day so that a day allocates little.
  std::vector<OrgOutput> org_outputs_;  // phase_organizations' per-organization output
  std::vector<Event> events_;
  std::vector<TieEvent> tie_events_;
  std::vector<Msg> sorted_msgs_;
  std::vector<std::uint8_t> keep_;
  std::vector<std::size_t> event_groups_;
  // For organizations with many ties: per district they serve, the positions in ties_.of(o) of
  // the partners who serve that district or are tied across territories (route() scans those
  // instead of every tie). route_first_[o] < 0: no index, scan every tie.
  std::vector<std::int64_t> route_first_;   // per org: first entry in route_begin_
  std::vector<std::uint32_t> route_begin_;  // per (org, served district) + 1: into route_pos_
  std::vector<std::uint32_t> route_pos_;

  // Partitioned runs.
  PartitionComm* comm_ = nullptr;
  std::int32_t rank_ = 0;
  bool remote_clients_ = false;  // another process's client came to one of its organizations
  Partition part_;
  std::vector<std::int32_t> own_orgs_;  // ascending
  // Per organization: the network (index) whose coordinator routes its referrals to other
  // members and follows them up (lead organization or NAO with coordinator hours), or -1.
  std::vector<std::int32_t> routing_net_;
  bool routed_between(std::int32_t a, std::int32_t b) const {
    return routing_net_[a] >= 0 && routing_net_[a] == routing_net_[b];
  }
  // ... and that coordinator routes referrals (and so conferences) between them.
  bool coordinator_routes(std::int32_t a, std::int32_t b) const {
    return routed_between(a, b) && sc_.networks[routing_net_[a]].coordinator_routing;
  }
  std::vector<std::uint16_t> id_rank_;     // client id -> owning process
  std::vector<Client> ghosts_;             // by id; their needs at the end of needs_
  std::size_t ghost_needs_from_ = 0;       // where the ghosts' needs begin in needs_
  std::vector<std::uint64_t> event_keys_;  // per event of the day: its place in the order
  std::vector<std::uint64_t> tie_keys_;    // per keyed tie event (organizations' queues,
                                           // pooling, apply): the same
  std::size_t tie_keyed_from_ = 0;         // the day's first keyed tie event
  std::vector<std::pair<float, std::uint16_t>> helper_sent_;  // load and cases last sent
  std::vector<std::int64_t> final_sizes_;  // after finish(): per organization, intake and queues
  Bytes final_clients_;                    // after finish(): the active clients' hash input
};

}  // namespace cm::care
