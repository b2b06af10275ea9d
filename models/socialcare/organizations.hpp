// Organizations: public coordinators (OPS/MOPS), public providers, non-public providers and
// intermunicipal coordinators. Each has a territory, services, helpers, an intake policy and,
// at run time, an intake list (clients waiting for assessment or a decision) and one waiting
// queue per service it offers. Queues are served by priority, then by the tick the client
// joined, then by client id, so the order never depends on threads.
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

struct QueueEntry {
  std::uint8_t priority;
  std::int32_t tick;
  std::uint32_t client;
  std::uint8_t need;
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
  std::int64_t assessments = 0, referrals_sent = 0, referrals_received = 0, served = 0,
               turned_away = 0, pooled_out = 0, conferences = 0,
               started = 0,     // services started from its queues
      started_in_standard = 0;  // ... within standards.max_days_to_service of queueing  // held
                                // with its own hours (shared governance)
};

}  // namespace cm::care
