// A day-bucketed calendar of agents' next events: a timing wheel over the coming days with an
// overflow list for later days (Varghese & Lauck 1987, "Hashed and hierarchical timing wheels").
//
// An agent is scheduled for a day by pushing its index into that day's bucket; taking a day
// hands back its bucket (in no particular order, possibly with repeats and with indices whose
// agent has since been rescheduled: the caller keeps each agent's current day and skips the
// entries that do not match it, "lazy cancellation"). Days are taken in increasing order, one
// at a time; a day already taken cannot be scheduled again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cm {

class TimingWheel {
 public:
  static constexpr std::uint32_t kDrop = 0xFFFFFFFFu;  // renumber(): the entry goes
  static constexpr std::size_t kKeptCapacity = 1024;   // entries a bucket's buffer keeps

  // span: days held in buckets (a power of two); later days wait in the overflow list.
  explicit TimingWheel(std::int32_t first_day = 0, std::size_t span = 1024)
      : buckets_(span), next_(first_day) {
    if (span == 0 || (span & (span - 1)) != 0)
      throw std::invalid_argument("TimingWheel: the span must be a power of two");
  }

  // The first day not yet taken.
  std::int32_t next_day() const { return next_; }

  // Schedules `who` on `day` (>= next_day()).
  void schedule(std::uint32_t who, std::int32_t day) {
    if (day < next_)
      throw std::logic_error("TimingWheel::schedule: day " + std::to_string(day) +
                             " was already taken (next is " + std::to_string(next_) + ")");
    if (static_cast<std::size_t>(day - next_) < buckets_.size())
      buckets_[index(day)].push_back(who);
    else
      far_.emplace_back(day, who);
  }

  // Moves the entries of day next_day() into `out` (its earlier contents are dropped) and
  // advances by one day. The bucket gets out's old buffer if it is small (no allocation once
  // warm); a large one is freed, or every bucket of the wheel would come to hold a busy day's.
  void take(std::vector<std::uint32_t>& out) {
    // At the start of every turn of the wheel, the overflow entries due within the turn move
    // into their buckets (each overflow entry is at least a span ahead when it is added, so it
    // moves at the latest at the turn that contains its day).
    if (index(next_) == 0 && !far_.empty()) {
      std::size_t kept = 0;
      for (const auto& [day, who] : far_) {
        if (static_cast<std::size_t>(day - next_) < buckets_.size())
          buckets_[index(day)].push_back(who);
        else
          far_[kept++] = {day, who};
      }
      far_.resize(kept);
    }
    std::vector<std::uint32_t> spare = std::move(out);
    spare.clear();
    out = std::move(buckets_[index(next_)]);
    buckets_[index(next_)] =
        spare.capacity() <= kKeptCapacity ? std::move(spare) : std::vector<std::uint32_t>{};
    ++next_;
  }

  // Rewrites every pending entry through f(who) → new index, or kDrop to remove it.
  template <class F>
  void renumber(F&& f) {
    for (auto& b : buckets_) {
      std::size_t kept = 0;
      for (std::uint32_t who : b)
        if (const std::uint32_t to = f(who); to != kDrop) b[kept++] = to;
      b.resize(kept);
    }
    std::size_t kept = 0;
    for (const auto& [day, who] : far_)
      if (const std::uint32_t to = f(who); to != kDrop) far_[kept++] = {day, to};
    far_.resize(kept);
  }

  // Forgets every entry and starts again at first_day.
  void reset(std::int32_t first_day) {
    for (auto& b : buckets_) b.clear();
    far_.clear();
    next_ = first_day;
  }

  std::size_t pending() const {
    std::size_t n = far_.size();
    for (const auto& b : buckets_) n += b.size();
    return n;
  }

 private:
  std::size_t index(std::int32_t day) const {
    return static_cast<std::size_t>(day) & (buckets_.size() - 1);
  }

  std::vector<std::vector<std::uint32_t>> buckets_;
  std::vector<std::pair<std::int32_t, std::uint32_t>> far_;
  std::int32_t next_;
};

}  // namespace cm
