// The one run driver: steps a model to its target tick, polls the stop flag at each tick
// boundary, calls the checkpoint hook on schedule and on a stop, and finishes the run. Every
// place that runs a model to its end uses it: the CLI's `run` and `resume`, partitioned runs
// (whose processes agree on stopping through agree_stop), the experiment executor and the
// workshop. Collecting the results is the caller's (the reporter registry, reporters.hpp).
//
// A model is anything with step() (one tick), tick() (ticks done) and finish() (closes the
// run). Call it inside cm::with_threads for a thread count.
#pragma once

#include <functional>

#include "engine/signals.hpp"

namespace cm {

template <class M>
concept SteppedModel = requires(M& m, const M& cm) {
  m.step();
  { cm.tick() } -> std::convertible_to<int>;
  m.finish();
};

struct RunControl {
  int target_ticks = 0;
  bool watch_signals = false;  // stop at the first tick boundary after SIGINT/SIGTERM
  int stop_after_ticks = 0;    // > 0: stop once this tick is done (testing interruptions)
  int checkpoint_every = 0;    // > 0: call checkpoint every so many ticks
  // Called on schedule and when the run stops early (the state to resume from); may be empty.
  std::function<void()> checkpoint;
  // Partitioned runs: combines this process's wish to stop with the others' (every process
  // calls it every tick) and returns whether all stop. Empty: the local wish decides.
  std::function<bool(bool)> agree_stop;
  // Called after every tick (progress reports); may be empty.
  std::function<void(int)> on_tick;
};

enum class RunEnd { finished, stopped };

// Runs the model from its current tick to control.target_ticks and finishes it, or stops early
// (then it is not finished; the checkpoint hook has saved it).
template <SteppedModel M>
RunEnd drive(M& model, const RunControl& control) {
  while (model.tick() < control.target_ticks) {
    model.step();
    if (control.on_tick) control.on_tick(model.tick());
    if (model.tick() >= control.target_ticks) break;
    bool stop = (control.watch_signals && stop_requested()) ||
                (control.stop_after_ticks > 0 && model.tick() >= control.stop_after_ticks);
    if (control.agree_stop) stop = control.agree_stop(stop);
    if (stop) {
      if (control.checkpoint) control.checkpoint();
      return RunEnd::stopped;
    }
    if (control.checkpoint && control.checkpoint_every > 0 &&
        model.tick() % control.checkpoint_every == 0)
      control.checkpoint();
  }
  model.finish();
  return RunEnd::finished;
}

}  // namespace cm
