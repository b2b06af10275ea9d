// What each fuzz target does with one input, shared with the regression test that feeds the
// committed corpus (fuzz/corpus/*/) to the same code in the normal test suite
// (tests/models/test_reliability.cpp, FuzzCorpus.*).
//
// The contract under test: any bytes given as a scenario or a design are either loaded or
// refused with located diagnostics (cm::InputError). Anything else escaping — another
// exception, a crash, a sanitizer report, a timeout or running out of memory — is a finding.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/yaml_reader.hpp"
#include "models/socialcare/experiments/experiments.hpp"
#include "models/socialcare/scenario_loader.hpp"

namespace cm::fuzz {

// A finding that is not a crash by itself (a broken invariant): abort so the fuzzer keeps it.
[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  std::abort();
}

// A refusal must say why, and where.
inline void check_refusal(const InputError& e) {
  if (e.diagnostics().empty()) finding("InputError without diagnostics");
  for (const Diagnostic& d : e.diagnostics().items())
    if (d.where.file.empty() || d.message.empty()) finding("diagnostic without file or message");
}

// A scenario input: YAML text, optionally preceded by comment lines that choose how it is
// loaded, as the command line would:
//   #variant NAME
//   #set PATH=VALUE
// A scenario that loads must load again from its effective YAML (what summary.json and
// checkpoints keep) to the same effective YAML.
inline void scenario_input(std::string_view data) {
  const std::string text(data);
  care::LoadOptions options;
  std::size_t pos = 0;
  while (pos < text.size() && text[pos] == '#') {
    const std::size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end == std::string::npos ? end : end - pos);
    if (line.rfind("#variant ", 0) == 0) options.variant = line.substr(9);
    if (line.rfind("#set ", 0) == 0) {
      try {
        options.sets.push_back(care::parse_override(line.substr(5)));
      } catch (const std::invalid_argument&) {
        // the command line refuses it (exit 2); nothing more to load
        return;
      }
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  care::Scenario sc;
  try {
    sc = care::load_scenario_text(text, "fuzz.yaml", options);
  } catch (const InputError& e) {
    check_refusal(e);
    return;
  }
  care::Scenario again;
  try {
    again = care::load_scenario_text(sc.effective_yaml, "effective.yaml");
  } catch (const InputError&) {
    finding("the effective scenario of a valid scenario does not load");
  }
  if (again.effective_yaml != sc.effective_yaml)
    finding("the effective scenario does not reload to itself");
}

// A design input: YAML text for `caremesh sweep --design`. A design that loads is planned too
// when its size is modest (the planner's statistics code is fuzzed as well).
inline void design_input(std::string_view data) {
  care::SweepDesign d;
  try {
    d = care::load_design_text(std::string(data), "design.yaml");
  } catch (const InputError& e) {
    check_refusal(e);
    return;
  }
  const double k = static_cast<double>(d.factors.size());
  double rows = 1;
  if (d.method == "grid") {
    for (const auto& f : d.factors)
      rows *= static_cast<double>(f.levels.empty() ? d.levels : f.levels.size());
  } else if (d.method == "lhs") {
    rows = static_cast<double>(d.samples);
  } else if (d.method == "morris") {
    rows = static_cast<double>(d.samples) * (k + 1);
  } else {
    rows = static_cast<double>(d.samples) * (k + 2);
  }
  if (rows * std::max(k, 1.0) > 20000) return;
  try {
    const care::DesignPlan plan = care::plan_design(d, d.seed.value_or(1));
    if (static_cast<std::size_t>(plan.values.cols()) != d.factors.size())
      finding("a plan with another number of factors than the design");
  } catch (const std::invalid_argument&) {
    // a design the planner refuses (documented); not a finding
  }
}

}  // namespace cm::fuzz
