// What the day's phases share: the purposes of their random streams, priorities and keys, the
// grain of their parallel loops, and what the state hash takes of a client.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/hash.hpp"
#include "engine/rng.hpp"
#include "models/socialcare/clients.hpp"

namespace cm::care {

inline constexpr std::uint64_t kArrivals = purpose_code("arrivals");
inline constexpr std::uint64_t kTraits = purpose_code("client-traits");
inline constexpr std::uint64_t kClientStep = purpose_code("client-step");
inline constexpr std::uint64_t kClientWake = purpose_code("client-wake");
inline constexpr std::uint64_t kClientTouch = purpose_code("client-touch");
inline constexpr std::uint64_t kServiceDays = purpose_code("service-days");
inline constexpr std::uint64_t kTurnover = purpose_code("turnover");
inline constexpr std::uint64_t kQuality = purpose_code("helper-quality");
inline constexpr std::uint64_t kPersonalInit = purpose_code("personal-ties-init");
inline constexpr std::uint64_t kPersonalForm = purpose_code("personal-ties-form");
inline constexpr std::uint64_t kTieReview = purpose_code("tie-review");

inline constexpr std::size_t kClientGrain = 512;
inline constexpr int kTrimDays = 30;  // days between returns of freed heap memory to the system
// Returning freed heap memory costs a small model more than it saves: its day's lists are a few
// kB, and every trim makes the next days fault their pages in again (queue-check.yaml: a fifth
// of its time, measured with perf). Only a state with this many active clients trims.
inline constexpr std::size_t kTrimMinActive = 20'000;

// Queue and intake priority: urgency first, then a slot an agreement reserves (allocate()
// decides which agreement referrals get one), so an agreement never outranks urgency.
inline std::uint8_t base_priority(const Need& n) {
  return (n.flags & need_flag::urgent) ? 2 : 0;
}
inline std::uint8_t arrival_priority(const Need& n) {
  return static_cast<std::uint8_t>(base_priority(n) + ((n.flags & need_flag::priority) ? 1 : 0));
}
inline std::uint64_t need_key(std::uint32_t client, int need) {
  return (std::uint64_t{client} << 8) | static_cast<std::uint64_t>(need);
}
inline constexpr std::size_t kPrefetchAhead = 8;  // clients
// What the state hash takes of a client (into a Hasher, or into ClientHashBytes to be hashed on
// another process).
template <class H>
inline void hash_client_into(H& h, const Client& c, const Need* needs) {
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

}  // namespace cm::care
