// The partition exchange behind one interface: the points of a day where a process of a
// territory-partitioned run (partition.hpp) needs what the other processes hold. The day's step
// calls every point on every day; in a single process (make_exchange without a PartitionComm)
// each call is a no-op, so the phases and the step read the same either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "models/socialcare/scenario.hpp"
#include "models/socialcare/state.hpp"

namespace cm::care::phases {

class DayExchange {
 public:
  virtual ~DayExchange() = default;
  // Before steering: on an authority's cycle day, every process's organization counters (its
  // monitoring reads them).
  virtual void before_steering(const Scenario& sc, ModelState& st) = 0;
  // The notes of today's new clients (arrivals) or of the clients who left today (exits), to
  // every process: the authorities look back on all clients.
  virtual void notes(const Scenario& sc, ModelState& st,
                     const std::vector<std::pair<std::uint32_t, ClientNote>>& mine,
                     bool arrivals) = 0;
  // After the client phase: the messages to organizations owned by other processes, and copies
  // (ghosts) of the clients the messages received here name.
  virtual void after_clients(const Scenario& sc, ModelState& st,
                             std::vector<ModelState::Msg>& msgs) = 0;
  // Before apply: the ghosts are dropped and the day's events go to the clients' owners.
  virtual void before_apply(const Scenario& sc, ModelState& st,
                            std::vector<ModelState::Event>& events) = 0;
  // Inside apply: the starts dropped here, to every process (the queue's owner gives back).
  virtual void undos(const Scenario& sc, ModelState& st, std::vector<ModelState::Undo>& undos) = 0;
  // After apply: the keyed tie events (from pooled_from on) and the caseloads changed today.
  virtual void after_apply(const Scenario& sc, ModelState& st, std::vector<TieEvent>& tie_events,
                           std::size_t pooled_from) = 0;
  // After record: the day's counts summed over the processes.
  virtual void after_record(const Scenario& sc, ModelState& st, TickRecord& rec) = 0;
  // At finish: the outcome tallies, final clients and organization counters of every process.
  virtual void finish(const Scenario& sc, ModelState& st) = 0;
};

// The exchange for st.comm: a no-op one when st.comm is null (one process).
std::unique_ptr<DayExchange> make_exchange(const ModelState& st);

}  // namespace cm::care::phases
