// A registry of reporters: each measure a model reports, with its name, label, unit, the
// direction in which it is better, its role, and the function that computes it from the
// model's state. The model keeps one registry (like Mesa's DataCollector(model_reporters=...)),
// and outputs, comparisons, reports and interactive pages all read names and metadata from it,
// so a measure is added in one place.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cm {

enum class Direction { higher_is_better, lower_is_better, none };
const char* to_string(Direction d);

struct ReporterInfo {
  std::string name;   // snake_case; "group.name" for a member of a nested group
  std::string label;  // for people
  std::string unit;   // "share", "days", "count", "hours", "level", "ratio", "per client", ...
  Direction direction = Direction::none;
  std::string role;      // the model's classification (e.g. outcome, network, efficiency, context)
  bool integer = false;  // written as a whole number
  bool grouped = false;  // also reported per group (breakdowns) from a group's context
};

// Context: what a reporter reads (built once per evaluation by the model).
template <class Context>
class ReporterRegistry {
 public:
  struct Reporter {
    ReporterInfo info;
    std::function<double(const Context&)> compute;
  };

  // Names must be unique (std::logic_error otherwise: a programming error).
  void add(ReporterInfo info, std::function<double(const Context&)> compute) {
    if (!index_.emplace(info.name, reporters_.size()).second)
      throw std::logic_error("reporter \"" + info.name + "\" registered twice");
    reporters_.push_back({std::move(info), std::move(compute)});
  }
  const std::vector<Reporter>& all() const { return reporters_; }
  const Reporter* find(std::string_view name) const {
    const auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &reporters_[it->second];
  }

 private:
  std::vector<Reporter> reporters_;  // in registration (output) order
  std::unordered_map<std::string, std::size_t> index_;
};

inline const char* to_string(Direction d) {
  switch (d) {
    case Direction::higher_is_better:
      return "higher_is_better";
    case Direction::lower_is_better:
      return "lower_is_better";
    case Direction::none:
      return "none";
  }
  return "none";
}

}  // namespace cm
