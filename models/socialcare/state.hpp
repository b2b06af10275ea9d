// The state of one run of the social-assistance model, as plain data: the clients and their
// needs, the staff, the organizations, the networks and their ties, the steering authorities,
// the records kept for the outputs, the day's messages between phases and, in a partitioned
// run, what this process holds of the others. The phases of a day (simulation.hpp) read and
// write it; checkpoints save and restore it (checkpoint.hpp). Its accessors only look at the
// state itself, never at the scenario.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/hash.hpp"
#include "engine/rng.hpp"
#include "engine/timing_wheel.hpp"
#include "models/socialcare/clients.hpp"
#include "models/socialcare/helpers.hpp"
#include "models/socialcare/ledger.hpp"
#include "models/socialcare/networks.hpp"
#include "models/socialcare/organizations.hpp"
#include "models/socialcare/partition.hpp"
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

// Clients are found by their record's slot in clients (the id itself with client records):
// every list that names a client (active, intake lists, queues, conference requests, the
// day's messages and events) carries its slot, and the squeeze (retire_exited) renumbers
// them. A record stays in place until the squeeze, so a client who left is still found
// (outcome not active) until then, and kGone afterwards.
inline constexpr std::uint32_t kGone = 0xFFFFFFFFu;  // slot of a folded client
// In a partitioned run, the slot of a client of another process: lists name it by its id,
// and the organization phases find it among the day's ghosts (find_ghost).
inline constexpr std::uint32_t kRemote = 0xFFFFFFFEu;
inline bool local_slot(std::uint32_t slot) {
  return slot < kRemote;
}

struct ModelState {
  ModelState(const Scenario& sc, std::uint64_t seed, bool client_records, int ticks)
      : streams(seed), keep_records(client_records), planned_ticks(ticks), ledger(sc) {}

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
    // An event on one need of one client's record, by organization org (other: the
    // referring organization or the helper slot).
    static Event on(Type t, std::uint32_t client, std::uint32_t slot, int need, std::int32_t org,
                    std::int32_t other = -1) {
      Event ev{t};
      ev.client = client;
      ev.slot = slot;
      ev.need = static_cast<std::uint8_t>(need);
      ev.org = org;
      ev.other = other;
      return ev;
    }
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

  std::uint32_t slot_of(const Client& c) const {
    if (comm != nullptr && id_rank[c.id] != rank) return kRemote;
    return static_cast<std::uint32_t>(&c - clients.data());
  }
  // nullptr once the client has left and its record was folded (no client records). In a
  // partitioned run a client of another process (kRemote) is found by its id among the day's
  // ghosts: its record as it was after today's client pass, or nullptr if it left.
  const Client* find_client(std::uint32_t slot, std::uint32_t id) const {
    if (local_slot(slot)) return &clients[slot];
    return slot == kRemote ? find_ghost(id) : nullptr;
  }
  const Client* find_ghost(std::uint32_t id) const {
    const auto it = std::lower_bound(ghosts.begin(), ghosts.end(), id,
                                     [](const Client& c, std::uint32_t x) { return c.id < x; });
    return it != ghosts.end() && it->id == id ? &*it : nullptr;
  }
  Need* needs_of(const Client& c) { return needs.data() + c.first_need; }
  const Need* needs_of(const Client& c) const { return needs.data() + c.first_need; }
  // Fetches a record's cache lines (a record spans two or three), or its needs, ahead of use.
  void prefetch_record(std::uint32_t slot) const {
    const char* p = reinterpret_cast<const char*>(&clients[slot]);
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + 64, 1);
    __builtin_prefetch(p + sizeof(Client) - 1, 1);
  }
  void prefetch_needs(const Client& c) const {
    const char* p = reinterpret_cast<const char*>(needs_of(c));
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + sizeof(Need) * c.n_needs - 1, 1);
  }
  template <class F>
  void for_each_staff(std::int32_t o, F&& f) const {
    const OrgState& org = orgs[o];
    for (int k = 0; k < org.n_helpers; ++k) f(org.first_helper + k);
    for (std::int32_t s : org.contract_staff) f(s);
  }
  bool owns_org(std::int32_t o) const { return comm == nullptr || part.org_rank[o] == rank; }
  // The records are in id order: a binary search finds one of this process's clients (who may
  // have left today; kGone once squeezed out).
  std::uint32_t local_slot_of_id(std::uint32_t id) const {
    const auto it = std::lower_bound(clients.begin(), clients.end(), id,
                                     [](const Client& c, std::uint32_t x) { return c.id < x; });
    return it != clients.end() && it->id == id ? static_cast<std::uint32_t>(it - clients.begin())
                                               : kGone;
  }
  Streams streams;
  int tick = 0;
  bool finished = false;
  bool keep_records = true;
  int planned_ticks = 0;
  std::vector<Client> clients;        // by id, or (no client records) by slot, in id order
  std::vector<Need> needs;            // the clients' needs, in the order of clients
  std::vector<std::uint32_t> active;  // slots of active clients, ascending (so in id order)
  std::uint32_t next_id = 0;          // clients created so far
  std::vector<std::uint32_t> exited;  // slots of clients who left today
  // Event-driven stepping: the slots of active clients by the day of their next event (each
  // client's Client::wake says which entry is current), and the states of the active clients'
  // needs, kept up to date as they change (the day's counts in the time series).
  TimingWheel calendar;
  std::array<std::int64_t, kNeedStates> need_count{};
  OutcomeLedger ledger;           // no client records: the clients folded so far
  std::vector<ClientNote> notes;  // with authorities: by id
  Staff staff;
  std::vector<OrgState> orgs;
  std::vector<NetworkState> nets;
  TieTable ties;
  std::vector<std::vector<std::int32_t>> coordinators_by_district, others_by_district,
      serving_by_district;
  std::vector<TickRecord> series;
  std::vector<std::int8_t> initial_levels;
  std::uint32_t innovative_mask = 0;  // services only contracts deliver
  std::vector<AuthorityState> authorities;
  std::vector<SteeringRow> steering_rows;
  std::vector<std::vector<std::int32_t>> district_arrivals;  // per day, per district
  std::vector<std::vector<std::int32_t>> district_waiting;   // per day (empty: not diagnosed)
  std::vector<double> outreach_boost, self_help_boost;       // per district
  std::vector<TieChange> tie_history;
  // Ties per level after the day's tie phase, counted in its pass over the ties (the record
  // phase reads it instead of visiting every tie again).
  std::array<std::int64_t, kLevels> ties_by_level{};
  std::vector<MonitorRow> monitoring_rows;
  // Per organization: (network, place among its members) of the networks that monitor it.
  std::vector<std::vector<std::pair<std::int32_t, std::uint32_t>>> monitored_in;
  bool monitoring = false;  // some network runs monitoring
  // The day's scratch lists, kept from day to day so that a day allocates little.
  std::vector<OrgOutput> org_outputs;  // phase_organizations' per-organization output
  std::vector<Event> events;
  std::vector<TieEvent> tie_events;
  std::vector<Msg> sorted_msgs;
  std::vector<std::uint8_t> keep;
  std::vector<std::uint32_t> woken;      // the day's calendar entries (event-driven stepping)
  std::vector<std::int32_t> woken_next;  // their next wake-up (-1: none, or not theirs)
  std::vector<std::size_t> event_groups;
  // For organizations with many ties: per district they serve, the positions in ties.of(o) of
  // the partners who serve that district or are tied across territories (route() scans those
  // instead of every tie). route_first[o] < 0: no index, scan every tie.
  std::vector<std::int64_t> route_first;   // per org: first entry in route_begin
  std::vector<std::uint32_t> route_begin;  // per (org, served district) + 1: into route_pos
  std::vector<std::uint32_t> route_pos;

  // Partitioned runs.
  PartitionComm* comm = nullptr;
  std::int32_t rank = 0;
  bool remote_clients = false;  // another process's client came to one of its organizations
  Partition part;
  std::vector<std::int32_t> own_orgs;  // this process's, ascending (one process: all)
  // Per organization: the network (index) whose coordinator routes its referrals to other
  // members and follows them up (lead organization or NAO with coordinator hours), or -1.
  std::vector<std::int32_t> routing_net;
  bool routed_between(std::int32_t a, std::int32_t b) const {
    return routing_net[a] >= 0 && routing_net[a] == routing_net[b];
  }
  std::vector<std::uint16_t> id_rank;     // client id -> owning process
  std::vector<Client> ghosts;             // by id; their needs at the end of needs
  std::size_t ghost_needs_from = 0;       // where the ghosts' needs begin in needs
  std::vector<std::uint64_t> event_keys;  // per event of the day: its place in the order
  std::vector<std::uint64_t> tie_keys;    // per keyed tie event (organizations' queues,
                                          // pooling, apply): the same
  std::size_t tie_keyed_from = 0;         // the day's first keyed tie event
  std::vector<std::pair<float, std::uint16_t>> helper_sent;  // load and cases last sent
  std::vector<std::int64_t> final_sizes;  // after finish(): per organization, intake and queues
  Bytes final_clients;                    // after finish(): the active clients' hash input
};

}  // namespace cm::care
