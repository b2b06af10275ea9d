// Outcome, network and efficiency measures of a run (MODEL.md §9; defined in docs/metrics.md).
//
// Client measures are taken over the outcome cohort: clients whose first need arose on or
// after warmup_days and more than follow_up_days before the end of the run, so every cohort
// member had time to be served. Network measures describe the final ties; efficiency measures
// sum the staff hours of every day of the run.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "models/socialcare/simulation.hpp"

namespace cm::care {

// {"complete_package_share": ..., ..., "by_district": {...}, "by_kind": {...}, ...}
nlohmann::ordered_json compute_metrics(const Simulation& sim);

// The scalar metrics of compute_metrics, in order (for experiments and tables).
std::vector<std::pair<std::string, double>> scalar_metrics(const nlohmann::ordered_json& m);

}  // namespace cm::care
