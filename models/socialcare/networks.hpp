// Networks: named sets of organizations with a governance mode (Provan & Kenis 2008). A
// network with a coordinator (lead organization or network administrative organization) runs
// case conferences for multi-need clients out of the coordinator's limited hours, first come
// first served by priority; when those hours run out, clients wait — the administrative
// bottleneck of Bitterman & Koliba (2020). A shared (participant-governed) network has no
// coordinator: members pay for conferences out of their own intake hours.
#pragma once

#include <cstdint>
#include <vector>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

struct ConferenceRequest {
  std::uint8_t priority;
  std::int32_t tick;
  std::uint32_t client;
  std::int32_t org;        // the assessing organization
  std::uint32_t slot = 0;  // the client's record (Simulation::clients_), or kGone once folded
  bool operator<(const ConferenceRequest& o) const {
    if (priority != o.priority) return priority > o.priority;
    if (tick != o.tick) return tick < o.tick;
    return client < o.client;
  }
};

struct NetworkState {
  double hours_per_day = 0;                // coordinator hours for conferences
  std::vector<ConferenceRequest> waiting;  // conferences not yet held
  std::int64_t conferences = 0;
  double debt = 0;  // coordinator hours owed for yesterday's routing and follow-ups
  std::int64_t routed = 0, follow_ups = 0;  // referrals the coordinator routed, followed up
};

}  // namespace cm::care
