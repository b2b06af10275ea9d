// Running a scenario to its horizon (or for `days`) on two threads, finished, for model tests.
#pragma once

#include <cstdint>
#include <string>

#include "engine/parallel.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::test {

inline care::Simulation run_scenario(const care::Scenario& sc, std::uint64_t seed, int days = -1) {
  care::Simulation sim(sc, seed);
  with_threads(2, [&] { sim.run(days < 0 ? sc.horizon_days : days); });
  sim.finish();
  return sim;
}

// The same for a scenario given as YAML text.
inline care::Simulation run_scenario_text(const std::string& text, std::uint64_t seed = 3) {
  return run_scenario(care::load_scenario_text(text, "test.yaml"), seed);
}

}  // namespace cm::test
