// Outcome, network and efficiency measures of a run (MODEL.md §9; defined in docs/metrics.md),
// as one registry of reporters (engine/reporters.hpp): every measure's name, label, unit,
// direction, role and the function that computes it, in output order. summary.json, the
// experiments' stores and comparisons, the reports and the workshop all take names and metadata
// from it; adding a measure is one `add` in metrics.cpp (and its definition in docs/metrics.md,
// which a test checks).
//
// Client measures are taken over the outcome cohort: clients whose first need arose on or
// after warmup_days and more than follow_up_days before the end of the run, so every cohort
// member had time to be served. Network measures describe the final ties; efficiency measures
// sum the staff hours of every day of the run.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/graph.hpp"
#include "engine/reporters.hpp"
#include "models/socialcare/ledger.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care {

// The network as a collaboration (its own value and quality Y; docs/metrics.md).
struct NetworkEvaluation {
  double mean_trust = 0, joint_cases = 0, tie_stability = 0, referral_reciprocity = 0,
         agreement_compliance = 0, agreements_signed = 0, monitoring_reports = 0,
         coordination_hours_per_joint_case = 0, benefit_hours_per_tie = 0, cost_hours_per_tie = 0,
         mean_density = 0, mean_degree_centralization = 0;
};

// What the reporters read: the run, its outcome tallies, the tally of the group being reported
// (the whole cohort, or a district or client kind for the breakdowns), and what several
// reporters share, computed once.
struct MeasureContext {
  const Simulation* sim = nullptr;
  const OutcomeLedger* ledger = nullptr;
  const OutcomeTally* tally = nullptr;
  bool any_innovative = false;
  LevelSummary levels;  // of the final ties
  double degree_centralization = 0, betweenness_centralization = 0, components = 0, fragility = 0,
         core_periphery_fit = 0, multiplexity = 0;
  double conferences = 0, pooled = 0;
  NetworkEvaluation y;
  double paid_hours = 0, collaboration_hours = 0, direct_used = 0, direct_capacity = 0;
  std::vector<OutcomeTally> by_district;
};

using MeasureRegistry = ReporterRegistry<MeasureContext>;
const MeasureRegistry& measures();

// {"complete_package_share": ..., ..., "by_district": {...}, "by_kind": {...}, ...}
nlohmann::ordered_json compute_metrics(const Simulation& sim);

// The scalar metrics of compute_metrics, in order (for experiments and tables).
std::vector<std::pair<std::string, double>> scalar_metrics(const nlohmann::ordered_json& m);

// The names scalar_metrics gives, in its order, from the registry (no run needed).
std::vector<std::string> metric_names();

}  // namespace cm::care
