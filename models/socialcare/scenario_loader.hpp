// YAML scenario → validated Scenario.
//
// Every problem is reported as FILE:LINE:COL: yaml.path: message (engine/yaml_reader.hpp),
// all at once, by throwing cm::InputError. Variants (named override sets declared in the
// file under `variants:`) and command-line overrides (`--set path=value`) are applied to the
// YAML tree before it is read, so they are validated exactly like the file itself.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

struct LoadOptions {
  std::string variant;                                    // empty: the baseline
  std::vector<std::pair<std::string, std::string>> sets;  // (yaml.path, yaml value)
  // A scenario whose clients and helpers would need more memory than this (bytes) is refused
  // (docs/reliability.md); 0: kDefaultMaxMemory. The CLI sets it from --max-memory or
  // $CAREMESH_MAX_MEMORY.
  double max_memory = 0;
};

inline constexpr double kDefaultMaxMemory = 8.0 * 1024 * 1024 * 1024;  // 8 GiB

// A memory size: bytes, or a number with a K, M, G or T suffix (powers of 1024, optionally
// followed by B or iB); nullopt if it is not one.
std::optional<double> parse_memory_size(const std::string& text);

// Reads and validates a scenario file; throws cm::InputError listing every problem.
Scenario load_scenario(const std::string& path, const LoadOptions& options = {});
// The same from text (name stands for the file in messages).
Scenario load_scenario_text(const std::string& text, const std::string& name,
                            const LoadOptions& options = {});

// The names of the variants a scenario file declares, baseline first (empty if none).
std::vector<std::string> scenario_variants(const std::string& path);

// Splits "a.b[2].c=value" into ("a.b[2].c", "value"); throws std::invalid_argument.
std::pair<std::string, std::string> parse_override(const std::string& text);

}  // namespace cm::care
