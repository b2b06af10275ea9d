// Ties between organizations on Park's (2006) collaboration continuum, levels 0..7.
//
// Each level adds a capability (signposting ≥1, warm referral ≥3, case conferences ≥4,
// capacity pooling ≥5, reserved access ≥6, shared intake 7) and costs helper time every week.
// Trust is the memory of how a partner treated the clients sent to it: it grows with services
// started within the standard and with personal ties, falls when a referred client never
// arrives, waits past the standard, gives up in the partner's queue or waits past an
// agreement's guarantee, and decays without joint work. Each tie is reviewed every review_days
// on its own day (staggered by its pair of organizations). A tie climbs one level when trust
// passes the next threshold and its joint cases would pay for the higher level's cost (the
// formal levels 6–7 need a formal act); it falls one level after reviews_to_fall reviews in a
// row with a shortfall (trust below its level's threshold, or benefit below cost), or at once
// when agreement breaches reach the limit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

struct Tie {
  std::int32_t a = 0, b = 0;  // organizations, a < b
  std::int8_t level = 0;
  std::int8_t floor = 0;            // level a contract keeps it at or above
  std::int8_t ceiling = kMaxLevel;  // highest level allowed (policy, formal acts)
  std::int8_t pad0_ = 0;            // (explicit padding: see the static_assert below)
  float trust = 0.0f;               // 0..1
  std::uint16_t personal = 0;       // personal ties between their helpers
  std::uint16_t joint_cases = 0;    // successful joint cases in the review window
  std::uint16_t failed_cases = 0;   // failed referrals in the review window
  std::uint16_t pad1_ = 0;
  float animation = 0.0f;              // coordinator's monthly chance to link an unlinked pair
  std::int8_t policy_max = kMaxLevel;  // the scenario's highest level (tie_policy.max_level)
  std::int8_t contract_level = 0;      // level held by a current consortium contract, 0 none
  bool cross_territory = false;        // a metanetwork agreement: referrals across territories
  std::int8_t shortfalls = 0;          // consecutive reviews with a shortfall (hysteresis)
  bool suspended = false;              // agreement breached too often: formal floor lifted
  std::int8_t pad2_ = 0;
  std::uint16_t breaches = 0;       // agreement breaches in the review window
  std::uint16_t review_offset = 0;  // its review day within the review period
  bool act_possible = false;        // a common network lets them sign agreements (6-7)
  bool act = false;                 // a signed agreement is in force
  std::uint16_t acts = 0;           // agreements signed or renewed over the run
  std::uint16_t pad3_ = 0;
  std::int32_t act_until = 0;       // the day the agreement in force ends
  std::uint32_t joint_total = 0;    // joint cases over the run
  std::uint32_t referred_by_a = 0;  // referred clients that arrived at b from a, over the run
  std::uint32_t referred_by_b = 0;  // ... at a from b

  // A consortium contract is a formal act: it holds the tie at its level and opens the
  // formal levels, within the scenario's policy.
  int effective_floor() const {
    const int f =
        contract_level > 0 ? std::min<int>(std::max(floor, contract_level), policy_max) : floor;
    return suspended ? std::min(f, 5) : f;  // a breached agreement holds nothing formal
  }
  int effective_ceiling() const { return contract_level > 0 || act ? policy_max : ceiling; }
};
// Ties are saved in checkpoints as they are in memory. Compilers without
// __builtin_clear_padding (clang before 16) copy padding bytes as they happen to be, so the same
// state could give different checkpoint bytes: Tie has no implicit padding (its padding is the
// zero-initialised pad*_ members), which the size shows.
static_assert(sizeof(Tie) == 60 && alignof(Tie) == 4, "Tie must have no implicit padding");

// What happened on a tie: what the referrer (or borrower) learns of its partner.
enum class TieEventKind : std::uint8_t {
  joint_case,     // a referred client's service started within the standard, or a pooled service
  no_show,        // a referred client never arrived (the referral failed)
  late,           // a referred client waited past standards.max_days_to_service in its queue
  dropout,        // a referred client gave up in the partner's queue
  breach,         // an agreement referral waited past the guaranteed access time
  referred_by_a,  // a referred client arrived at b from a (counted, not joint work)
  referred_by_b   // ... at a from b
};

// Why a tie's level changed (tie_changes.csv, column reason).
enum class TieChangeReason : std::uint8_t {
  none,
  climbed,           // a review: trust above the next threshold and the higher level pays
  fell,              // reviews_to_fall reviews in a row with a shortfall
  breach,            // agreement breaches reached decisions.breach_limit: suspended
  animation,         // the coordinator's animation linked an unlinked pair
  contract,          // a consortium contract holds the tie at its level
  agreement_signed,  // the members signed an agreement (a formal act) and the tie rose to 6
  agreement_lapsed   // the agreement's term ended without renewal (or was suspended)
};
const char* to_string(TieChangeReason r);

struct TieEvent {
  std::uint32_t tie;
  TieEventKind kind;
  // The organization whose treatment of a referred client the event reports (the one it was
  // referred to), -1 when none (pooling); a network's monitoring reads it.
  std::int32_t at;
};

// All ties that can exist: pairs of organizations sharing territory (Scenario::territory_ties)
// or a network, explicit ties, metanetwork links and Scenario::tie_pairs.
class TieTable {
 public:
  void build(const Scenario& sc);
  std::size_t size() const { return ties_.size(); }
  Tie& operator[](std::size_t i) { return ties_[i]; }
  const Tie& operator[](std::size_t i) const { return ties_[i]; }
  const std::vector<Tie>& all() const { return ties_; }
  // (partner, tie index) pairs of an organization, sorted by partner.
  const std::vector<std::pair<std::int32_t, std::uint32_t>>& of(std::int32_t org) const {
    return adjacency_[org];
  }
  std::int32_t find(std::int32_t a, std::int32_t b) const;  // tie index or -1
  int level(std::int32_t a, std::int32_t b) const;

  // One day of trust dynamics and, on review days, level changes. events: this tie's events.
  // Returns why the level changed (none if it did not); signed_act: an agreement was signed or
  // renewed today (its two organizations owe TieDef::agreement_act_hours each).
  static TieChangeReason step(Tie& t, const TieDef& def, const DecisionDef& dec,
                              const TieEvent* events, std::size_t n_events, bool review_day,
                              bool dynamics, double uniform_draw, int tick, bool& signed_act);
  // The same on day 0, not telling whether an agreement was signed (for unit tests).
  static TieChangeReason step(Tie& t, const TieDef& def, const DecisionDef& dec,
                              const TieEvent* events, std::size_t n_events, bool review_day,
                              bool dynamics, double uniform_draw) {
    bool signed_act = false;
    return step(t, def, dec, events, n_events, review_day, dynamics, uniform_draw, 0, signed_act);
  }
  // Whether a tie is reviewed at the end of a day: every review_days, on its own day.
  static bool review_due(const Tie& t, int tick, int review_days) {
    return (tick + 1 + t.review_offset) % review_days == 0;
  }

 private:
  std::vector<Tie> ties_;
  std::vector<std::vector<std::pair<std::int32_t, std::uint32_t>>> adjacency_;
};

// Collaboration hours per day an organization spends on a tie at a level.
inline double tie_hours_per_day(const TieDef& def, int level) {
  return def.cost_hours_per_week[level] / 7.0;
}

}  // namespace cm::care
