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
#include <type_traits>
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

// An organization id in 16 bits: a scenario has at most kMaxOrganizations organizations (the
// loader and the Simulation refuse more). Reads as std::int32_t; -1: none.
class OrgId16 {
 public:
  constexpr OrgId16() = default;
  constexpr OrgId16(std::int32_t org)  // NOLINT: converts like the int it stands for
      : v_(org < 0 ? kNone : static_cast<std::uint16_t>(org)) {}
  constexpr operator std::int32_t() const { return v_ == kNone ? -1 : v_; }  // NOLINT

 private:
  static constexpr std::uint16_t kNone = 0xFFFF;
  std::uint16_t v_ = kNone;
};

// A day (tick) in 16 bits: runs last at most kMaxTicks days (the loader allows 36,500; the
// Simulation refuses more than kMaxTicks). Reads as std::int32_t; -1: none (not yet).
class Tick16 {
 public:
  constexpr Tick16() = default;
  constexpr Tick16(std::int32_t tick)  // NOLINT: converts like the int it stands for
      : v_(tick < 0 ? kNone : static_cast<std::uint16_t>(tick)) {}
  constexpr operator std::int32_t() const { return v_ == kNone ? -1 : v_; }  // NOLINT

 private:
  static constexpr std::uint16_t kNone = 0xFFFF;
  std::uint16_t v_ = kNone;
};

// 24 bytes. A client's needs are not in its record: Simulation keeps them in one array, each
// client's n_needs from Client::first_need (most clients have one or two needs).
struct Need {
  std::int32_t helper = -1;    // helper slot serving it
  std::int32_t days_left = 0;  // days left of travel or of the current round of service
  float severity = 0.0f;       // 0..1
  OrgId16 org{};               // organization handling the need now (or referral target)
  OrgId16 from_org{};          // organization that referred it (open referral)
  Tick16 queued_at{};          // tick it entered the current queue
  Tick16 first_service{};      // tick its first service began
  std::uint8_t service = 0;    // service type index
  NeedState state = NeedState::pending;
  std::uint8_t flags = 0;
  std::uint8_t pad_ = 0;  // explicit padding, zeroed (checkpoints copy needs as they are: Tie)
};
static_assert(sizeof(Need) == 24, "Need must have no implicit padding");

inline constexpr int kMaxKnown = 8;      // organizations a client can keep in mind
inline constexpr int kMaxAssessed = 4;   // organizations holding the client's assessment
inline constexpr int kMaxProviders = 6;  // distinct providers tracked for continuity

// Client::fired: which of the risks a client's next wake-up was drawn for happen on that day
// (event-driven stepping, docs/model.md "Event-driven clients").
static_assert(kMaxNeeds <= 6, "fired_bit keeps 6 needs' bits per risk");
namespace fired_bit {
inline constexpr std::uint16_t self_help = 1;      // << need: self-help meets that need
inline constexpr std::uint16_t search = 1 << 6;    // << need: the search finds a door
inline constexpr std::uint16_t dropout = 1 << 12;  // the client gives up
inline constexpr std::uint16_t fresh = 1 << 15;    // every risk is drawn on the day
}  // namespace fired_bit

// 104 bytes. The fields a client's daily step reads and writes come first (its needs are in
// the Simulation's need array, from first_need); what only doors, assessments and the outcome
// record use follows.
struct Client {
  std::uint32_t id = 0;
  std::uint32_t first_need = 0;  // its needs: Simulation's need array [first_need, + n_needs)
  float self_help = 0.0f;        // self- and mutual-help capacity, 0..1
  Tick16 arrival = 0;            // tick the first need arose
  std::uint16_t district = 0;
  std::uint16_t failed_contacts = 0;  // turned away or referral not reached
  ClientKind kind = ClientKind::person;
  Outcome outcome = Outcome::active;
  std::uint8_t n_needs = 0;
  bool awaiting_conference = false;
  std::uint8_t n_known = 0;
  std::uint8_t known_offer = 0;  // bit i: the client knows what known[i] offers
  Tick16 first_contact{};        // tick of the first door reached
  Tick16 first_assessment{};
  Tick16 first_service{};
  Tick16 exit{};  // tick resolved or dropped out
  std::uint8_t n_assessed = 0;
  std::uint8_t n_providers = 0;
  std::uint16_t doors = 0;               // doors knocked on
  std::uint16_t assessments = 0;         // assessments undergone
  std::uint16_t referrals = 0;           // referral funnel: referred
  std::uint16_t referrals_tried = 0;     //   contacted
  std::uint16_t referrals_reached = 0;   // reached
  std::uint16_t referrals_received = 0;  // received a service there
  std::uint16_t episodes = 0;            // service episodes (for continuity)
  std::array<OrgId16, kMaxKnown> known{};
  std::array<OrgId16, kMaxAssessed> assessed_by{};
  std::array<OrgId16, kMaxProviders> provider{};
  std::array<std::uint16_t, kMaxProviders> provider_episodes{};
  // Event-driven stepping: the day of the next event (none: no event before the horizon unless
  // another agent acts), the first day whose countdowns (days_left of a round or a journey)
  // are not yet counted down, and the risks drawn to happen on the wake day (fired_bit).
  Tick16 wake{};
  Tick16 due_from = 0;
  std::uint16_t fired = 0;
  std::uint16_t pad2_ = 0;  // explicit padding, zeroed

  bool knows(std::int32_t org) const;
  int known_slot(std::int32_t org) const;
  void learn(std::int32_t org, bool offer);  // remember an organization (and its offer)
  bool assessed_at(std::int32_t org) const;
  void record_assessment(std::int32_t org, std::int32_t tick);
  void record_episode(std::int32_t provider_id);  // a round of service by a provider
  // needs: the client's needs (Simulation::needs)
  bool searching(const Need* needs) const;  // a need is between seeking and a decision at a door
  int needs_open(const Need* needs) const;  // needs being pursued: seeking to in service
  // Bice–Boxerman continuity of care over service episodes; -1 with fewer than 2 episodes.
  double continuity() const;
};

static_assert(sizeof(Need) == 24 && sizeof(Client) == 104 && std::is_trivially_copyable_v<Client>);

// Draws a new client's traits (kind, needs, self-help, awareness) from its own stream, keyed
// by the client id only, so every variant of a scenario sees the same client (common random
// numbers).
struct ClientFactory {
  const Scenario* scenario;
  const std::vector<std::vector<std::int32_t>>* coordinators_by_district;
  const std::vector<std::vector<std::int32_t>>* orgs_by_district;
  const std::vector<double>* outreach_boost = nullptr;   // per district: added awareness
  const std::vector<double>* self_help_boost = nullptr;  // per district: added self-help
  // The client's needs go to needs[0, n_needs); its first_need is left to the caller.
  Client make(std::uint32_t id, std::uint16_t district, std::int32_t tick, Stream& rng,
              Need* needs) const;
};

// The need a client pursues next (the first pending one), or -1.
int next_pending_need(const Client& c, const Need* needs);

// A service round's length in days: geometric with the need's effective mean.
std::int32_t draw_service_days(const Scenario& sc, const Client& c, const Need& n, Stream& rng);

}  // namespace cm::care
