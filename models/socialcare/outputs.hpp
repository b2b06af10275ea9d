// The files of a run: summary.json (effective scenario, seed, version, metrics),
// timeseries.csv, network.csv, organizations.csv and clients.csv. Each is written atomically;
// summary.json is written last, so its presence marks a complete result.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "models/socialcare/simulation.hpp"

namespace cm::care {

struct RunInfo {
  std::string scenario_file;
  std::string variant;
  std::vector<std::pair<std::string, std::string>> sets;
  bool client_records = true;
};

// Refuses (std::runtime_error) a directory that already holds a result unless force is set;
// creates it if needed.
void prepare_output_dir(const std::filesystem::path& dir, bool force);

void write_run(const std::filesystem::path& dir, const Simulation& sim,
               const nlohmann::ordered_json& metrics, const RunInfo& info);

// The summary document alone (for tests and experiments).
nlohmann::ordered_json run_summary(const Simulation& sim, const nlohmann::ordered_json& metrics,
                                   const RunInfo& info);

}  // namespace cm::care
