// Networks: named sets of organizations with a governance mode (Provan & Kenis 2008). A
// network with a coordinator (lead organization or network administrative organization) runs
// case conferences for multi-need clients out of the coordinator's limited hours, first come
// first served by priority; when those hours run out, clients wait — the administrative
// bottleneck of Bitterman & Koliba (2020). A shared (participant-governed) network has no
// coordinator: members pay for conferences out of their own intake hours. A coordinator may run
// the network's monitoring (default: NAO): a periodic report on how each member treated the
// clients referred to it, which every member reads (docs/model.md "Networks and governance",
// network monitoring).
#pragma once

#include <cstdint>
#include <vector>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

struct ConferenceRequest {
  std::uint8_t priority;
  std::uint8_t pad_[3] = {};  // explicit padding, zeroed (checkpoints
                              // copy requests as they are)
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

// What a network's monitoring counts of one member since its last report: the outcomes of the
// clients other members referred to it (MODEL.md §12: what trust remembers).
struct MonitorTally {
  std::uint32_t joint = 0;     // started within the standard
  std::uint32_t late = 0;      // waited past the standard in its queue
  std::uint32_t dropouts = 0;  // gave up in its queue
  std::uint32_t no_shows = 0;  // never arrived
  std::uint32_t breaches = 0;  // waited past an agreement's guaranteed access time
  MonitorTally& operator+=(const MonitorTally& o) {
    joint += o.joint;
    late += o.late;
    dropouts += o.dropouts;
    no_shows += o.no_shows;
    breaches += o.breaches;
    return *this;
  }
};

// One member's line of a monitoring report (network_monitoring.csv).
struct MonitorRow {
  std::int32_t tick;
  std::int32_t network;
  std::int32_t org;
  MonitorTally tally;
  float record;  // the trust the tally would teach (TieDef's gains and losses), NaN if none
};

struct NetworkState {
  double hours_per_day = 0;                // coordinator hours for conferences
  std::vector<ConferenceRequest> waiting;  // conferences not yet held
  std::int64_t conferences = 0;
  double debt = 0;  // coordinator hours owed for yesterday's routing and follow-ups
  std::int64_t routed = 0, follow_ups = 0;  // referrals the coordinator routed, followed up
  std::vector<MonitorTally> tally;          // monitoring: per member, since the last report
  std::int64_t reports = 0;                 // monitoring reports made
};

}  // namespace cm::care
