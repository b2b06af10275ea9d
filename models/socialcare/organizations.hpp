// Organizations: public coordinators (OPS/MOPS), public providers, non-public providers and
// intermunicipal coordinators. Each has a territory, services, helpers, an intake policy and,
// at run time, an intake list (clients waiting for assessment or a decision) and one waiting
// queue per service it offers. Helpers take the next case across all its queues by the
// scenario's discipline (decisions.queue_discipline: urgency, then an agreement's reserved
// slot, then days waited, then client id), so the order never depends on threads. What it
// tells partners of its queues (expected days to service) is published once a day.
#pragma once

#include <cstdint>
#include <vector>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

enum class ArrivalMode : std::uint8_t { walk_in, signposted, warm };

struct IntakeEntry {
  std::uint32_t client;
  std::uint8_t need;
  ArrivalMode mode;
  std::uint8_t priority;
  std::int32_t from_org;
  std::int32_t tick;
  std::uint32_t slot = 0;  // the client's record (Simulation::clients_), or kGone once folded
};

namespace queue_flag {
inline constexpr std::uint8_t late_noted = 1;    // the referrer learnt it waited past the standard
inline constexpr std::uint8_t breach_noted = 2;  // ... past the agreement's access time
inline constexpr std::uint8_t started = 4;       // taken today (only within allocate())
}  // namespace queue_flag

struct QueueEntry {
  std::uint8_t priority;  // 2 x urgent + 1 if it goes into a slot an agreement reserves
  std::int32_t tick;
  std::uint32_t client;
  std::uint8_t need;
  std::uint8_t flags = 0;  // queue_flag bits
  std::uint32_t slot = 0;  // the client's record (Simulation::clients_), or kGone once folded
  bool operator<(const QueueEntry& o) const {
    if (priority != o.priority) return priority > o.priority;
    if (tick != o.tick) return tick < o.tick;
    if (client != o.client) return client < o.client;
    return need < o.need;
  }
};

struct OrgState {
  std::int32_t first_helper = 0;  // helper slots [first_helper, first_helper + n_helpers)
  std::int32_t n_helpers = 0;
  std::vector<std::int32_t> contract_staff;  // helper slots funded by current contracts
  std::int32_t network = -1;                 // the coordinated network it belongs to, -1 none
  double collaboration_hours = 0;            // per day, for its ties
  double coordination_hours = 0;             // per day, as a network coordinator
  double intake_hours = 0;                   // per day for assessments and conferences
  double intake_left = 0;                    // today
  double paid_hours = 0;                     // per day
  std::vector<IntakeEntry> intake;
  std::vector<std::vector<QueueEntry>> queues;  // per service index (empty if not offered)
  std::vector<std::int32_t> reserved_in_use;    // per service: cases in reserved slots
  std::vector<std::int32_t> in_use;             // per service: cases of its own helpers
  // Per service: agreement referrals that arrived today, and their moving mean per day (over
  // decisions.wait_window_days), from which it judges how many reserved slots to hold.
  std::vector<std::int32_t> agreement_today;
  std::vector<float> agreement_rate;
  // What it knows of itself and tells partners (published at the end of each day): per
  // service, the expected days until a client referred now would start, and the moving mean
  // of services started per day it rests on; the figures of the last regular meeting.
  std::vector<float> wait_now, wait_meeting, start_rate;
  std::vector<std::int32_t> started_today;  // per service, reset each day
  std::uint32_t backlog = 0;   // services with clients still waiting after its own allocation
  double conference_debt = 0;  // hours owed for conferences it took part in, paid next day
  std::int64_t assessments = 0, referrals_sent = 0, referrals_received = 0, served = 0,
               turned_away = 0, pooled_out = 0, conferences = 0,
               started = 0,     // services started from its queues
      started_in_standard = 0,  // ... within standards.max_days_to_service of queueing
      agreement_referrals = 0,  // referrals received under an agreement (level >= 6)
      agreements_honoured = 0,  // ... started within the guaranteed access time
      agreements_breached = 0,  // ... that waited past it
      referred_late = 0,        // referred clients who waited past the standard
      referred_dropouts = 0,    // referred clients who gave up in its queues
      conference_minutes = 0;   // minutes given to case conferences
};

}  // namespace cm::care
