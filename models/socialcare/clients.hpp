// Clients: persons, families and communities with a bundle of needs.
//
// A client is created when its first need arises (latent residents are an aggregate, never
// stepped one by one). Each need runs its own journey
//   pending → seeking → (travelling on a referral) → intake → waiting → in service → met
// or ends unmet (the client dropped out, or the horizon came). The client record keeps what the
// outcome measures need: doors knocked on, assessments (repeats are duplication), waits, the
// referral funnel and the providers seen (continuity).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/rng.hpp"
#include "models/socialcare/scenario.hpp"

namespace cm::care {

enum class NeedState : std::uint8_t {
  pending,     // arisen, not yet pursued (the client handles one search at a time)
  seeking,     // looking for a door
  travelling,  // on the way to a referred organization
  intake,      // at an organization, waiting for assessment or a decision
  waiting,     // assessed and queued for a helper
  in_service,  // served by a helper
  met,         // resolved, by a service or by self-help
  unmet        // given up (client dropped out)
};
inline constexpr int kNeedStates = 8;
const char* to_string(NeedState s);

enum class Outcome : std::uint8_t { active, resolved, dropped, unmet_at_horizon };
const char* to_string(Outcome o);

namespace need_flag {
inline constexpr std::uint8_t urgent = 1;     // served first
inline constexpr std::uint8_t warm = 2;       // current referral is a warm hand-over
inline constexpr std::uint8_t priority = 4;   // referred under a formal agreement (level >= 6)
inline constexpr std::uint8_t self_help = 8;  // met by self- or mutual help
inline constexpr std::uint8_t pooled = 16;    // served by a partner's helper (level >= 5)
inline constexpr std::uint8_t referred = 32;  // reached its provider through a referral
inline constexpr std::uint8_t reserved = 64;  // served in a slot reserved by an agreement
}  // namespace need_flag

struct Need {
  std::int32_t org = -1;            // organization handling the need now (or referral target)
  std::int32_t helper = -1;         // helper slot serving it
  std::int32_t from_org = -1;       // organization that referred it (open referral)
  std::int32_t days_left = 0;       // days left of travel or of the current round of service
  std::int32_t queued_at = -1;      // tick it entered the current queue
  std::int32_t first_service = -1;  // tick its first service began
  float severity = 0.0f;            // 0..1
  std::uint8_t service = 0;         // service type index
  NeedState state = NeedState::pending;
  std::uint8_t flags = 0;
};

inline constexpr int kMaxKnown = 8;      // organizations a client can keep in mind
inline constexpr int kMaxAssessed = 4;   // organizations holding the client's assessment
inline constexpr int kMaxProviders = 6;  // distinct providers tracked for continuity

// The fields a client's daily step reads and writes come first, then its needs, so that the
// step of a client with one or two needs touches the record's first two cache lines; what only
// doors, assessments and the outcome record use follows.
struct Client {
  std::uint32_t id = 0;
  std::int32_t arrival = 0;  // tick the first need arose
  std::uint16_t district = 0;
  ClientKind kind = ClientKind::person;
  Outcome outcome = Outcome::active;
  std::uint8_t n_needs = 0;
  bool awaiting_conference = false;
  std::uint16_t failed_contacts = 0;  // turned away or referral not reached
  float self_help = 0.0f;             // self- and mutual-help capacity, 0..1
  std::array<Need, kMaxNeeds> needs{};
  std::int32_t first_contact = -1;  // tick of the first door reached
  std::int32_t first_assessment = -1;
  std::int32_t first_service = -1;
  std::int32_t exit = -1;  // tick resolved or dropped out
  std::uint8_t n_known = 0;
  std::uint8_t known_offer = 0;  // bit i: the client knows what known[i] offers
  std::uint8_t n_assessed = 0;
  std::uint8_t n_providers = 0;
  std::uint16_t doors = 0;               // doors knocked on
  std::uint16_t assessments = 0;         // assessments undergone
  std::uint16_t referrals = 0;           // referral funnel: referred
  std::uint16_t referrals_tried = 0;     //   contacted
  std::uint16_t referrals_reached = 0;   // reached
  std::uint16_t referrals_received = 0;  // received a service there
  std::uint16_t episodes = 0;            // service episodes (for continuity)
  std::array<std::int32_t, kMaxKnown> known{};
  std::array<std::int32_t, kMaxAssessed> assessed_by{};
  std::array<std::uint32_t, kMaxProviders> provider{};  // organization ids
  std::array<std::uint16_t, kMaxProviders> provider_episodes{};

  bool knows(std::int32_t org) const;
  int known_slot(std::int32_t org) const;
  void learn(std::int32_t org, bool offer);  // remember an organization (and its offer)
  bool assessed_at(std::int32_t org) const;
  void record_assessment(std::int32_t org, std::int32_t tick);
  void record_episode(std::uint32_t provider_id);  // a round of service by a provider
  int needs_in(NeedState s) const;
  bool searching() const;  // a need is between seeking and a decision at a door
  int needs_open() const;  // needs being pursued: seeking to in service
  // Bice–Boxerman continuity of care over service episodes; -1 with fewer than 2 episodes.
  double continuity() const;
};

// Draws a new client's traits (kind, needs, self-help, awareness) from its own stream, keyed
// by the client id only, so every variant of a scenario sees the same client (common random
// numbers).
struct ClientFactory {
  const Scenario* scenario;
  const std::vector<std::vector<std::int32_t>>* coordinators_by_district;
  const std::vector<std::vector<std::int32_t>>* orgs_by_district;
  const std::vector<double>* outreach_boost = nullptr;   // per district: added awareness
  const std::vector<double>* self_help_boost = nullptr;  // per district: added self-help
  Client make(std::uint32_t id, std::uint16_t district, std::int32_t tick, Stream& rng) const;
};

// The need a client pursues next (the first pending one), or -1.
int next_pending_need(const Client& c);

// A service round's length in days: geometric with the need's effective mean.
std::int32_t draw_service_days(const Scenario& sc, const Client& c, const Need& n, Stream& rng);

}  // namespace cm::care
