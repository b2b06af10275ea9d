// Helpers: social workers, family assistants, therapists and carers employed by one
// organization. A helper's paid day is split between other duties, collaboration work (the
// cost of the organization's ties, shared among its helpers), intake and direct service; the
// direct hours and the caseload cap bound how many cases the helper carries. Helpers hold
// personal ties with helpers of other organizations (the informal levels 1–2 of the
// continuum); a helper who leaves takes those ties along.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/rng.hpp"
#include "models/socialcare/scenario.hpp"

namespace cm::care {

inline constexpr int kMaxPersonalTies = 6;

struct Helper {
  std::uint32_t id = 0;  // stable id; a replacement after turnover gets a new one
  std::int32_t org = -1;
  std::uint32_t skills = 0;     // mask of service indices
  float quality = 0.8f;         // chance a round of service meets the need
  float capacity_hours = 0.0f;  // direct-service hours per day after collaboration and intake
  float load_hours = 0.0f;      // hours per day taken by current cases
  std::int32_t starts = 0;      // day a funded post is filled: vacant (unpaid, no cases) before
  std::uint16_t cases = 0;
  bool retired = false;  // a contract ended: finishes its cases, takes no new ones
  std::uint8_t n_personal = 0;
  std::array<std::uint32_t, kMaxPersonalTies> personal{};  // helper ids in other organizations

  float free_hours() const { return capacity_hours - load_hours; }
  bool can_take(float hours, int caseload_cap) const {
    return cases < caseload_cap && free_hours() + 1e-6f >= hours;
  }
  bool has_personal(std::uint32_t other) const;
  bool add_personal(std::uint32_t other, int max_ties);
};

// Helper quality drawn from the scenario's distribution, clamped to [0.01, 1].
float draw_helper_quality(const HelperDef& def, Stream& rng);

// Staff of the whole system with id → slot lookup that survives turnover.
struct Staff {
  std::vector<Helper> helpers;           // by slot; an organization's helpers are contiguous
  std::vector<std::int32_t> slot_of_id;  // helper id → slot, -1 once the helper left
  std::uint32_t next_id = 0;

  std::int32_t slot(std::uint32_t id) const { return id < slot_of_id.size() ? slot_of_id[id] : -1; }
  // Replaces the helper in slot s by a newcomer with a new id and no personal ties.
  void replace(std::int32_t s, float quality);
};

}  // namespace cm::care
