// The social-assistance simulation: one run of a scenario with one seed. Simulation is the
// scenario, the model's state (state.hpp, plain data) and the day's exchange; each phase is a
// function of the scenario and the state, in its own file under phases/ (phases.hpp).
//
// A tick is a day. Its phases, in order:
//   steering      the authorities' diagnose-plan-ensure-monitor cycle on its days (steering.cpp)
//   arrivals      new clients in each district (Poisson, keyed by district and day)
//   clients       parallel over active clients: self-help, dropping out, service rounds,
//                 referral journeys, choosing a door; sends arrivals and releases to orgs
//   organizations parallel over organizations: releases, intake and assessment with the
//                 day's intake hours, decisions (serve, refer warm, signpost, turn away,
//                 ask for a case conference), allocation of helpers to queues
//   pooling       serial: queues that overflow borrow free helpers of level>=5 partners
//   conferences   serial: coordinators hold case conferences with their limited hours
//   apply         parallel over clients with events from the phases above
//   waits         parallel over organizations: the wait estimates partners may read
//   ties          parallel over ties: trust and, on review days, level changes
//   staff         serial: turnover, personal ties, hours for the next day
//   record        deterministic counts for the time series; clients who left are retired
// Messages between phases are collected per chunk or per organization and merged in id
// order, so results are identical at any thread count. Between phases, a partitioned run
// exchanges what other processes need (phases/exchange.hpp: a no-op in one process).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/rng.hpp"
#include "models/socialcare/clients.hpp"
#include "models/socialcare/helpers.hpp"
#include "models/socialcare/ledger.hpp"
#include "models/socialcare/networks.hpp"
#include "models/socialcare/organizations.hpp"
#include "models/socialcare/partition.hpp"
#include "models/socialcare/scenario.hpp"
#include "models/socialcare/state.hpp"
#include "models/socialcare/steering.hpp"
#include "models/socialcare/ties.hpp"

namespace cm::care {

namespace phases {
class DayExchange;
}

struct SimOptions {
  // Keep every client's record (clients.csv, tests). Without it a client's record is folded
  // into the outcome tallies on the day it leaves and its memory is reused: memory follows the
  // active clients, and the measures are only available at the end of the planned run.
  bool client_records = true;
  int ticks = 0;  // the run's planned length (the outcome cohort's end); 0: horizon_days
  // A territory-partitioned run (partition.hpp): this process's end of the exchange; every
  // process constructs the simulation with the same scenario and seed. Needs client_records
  // false. After finish() every process holds the same measures and organization counters.
  PartitionComm* partition = nullptr;
  // A day with fewer active clients than this runs its loops on the calling thread, without
  // handing chunks to other threads (engine/parallel.hpp SerialScope): below it a second thread
  // costs more in hand-overs than it takes over. Measured (bench_small training_small_xN against
  // training_small_xN_t2, 2 cores): two threads took 1.7x the one-thread time at ~140 active
  // clients, 1.4x at ~580, 1.15x at ~2,300, the same at ~9,100 and 0.89x at ~36,000
  // (docs/performance.md, "When a loop is handed to a second thread"). Results do not depend
  // on it (the chunks are the same); the determinism tests set 0 to step every day in parallel.
  std::size_t parallel_min_active = 10'000;
};

class Simulation {
 public:
  Simulation(const Scenario& scenario, std::uint64_t seed, SimOptions options = {});
  ~Simulation();
  Simulation(const Simulation& other);  // the same state (benchmarks start from one copy)
  Simulation& operator=(const Simulation&) = delete;

  void step();          // one tick
  void run(int ticks);  // ticks steps (call inside cm::with_threads for a thread count)
  void finish();        // closes the run: clients still active are unmet at the horizon
  int tick() const { return st_.tick; }
  bool finished() const { return st_.finished; }
  std::uint64_t state_hash() const;

  const Scenario& scenario() const { return sc_; }
  std::uint64_t seed() const { return st_.streams.seed(); }
  // Every client so far, by id (only with client records: throws std::logic_error without).
  const std::vector<Client>& clients() const;
  // A client's needs (of a record from clients(), or of an active client).
  std::span<const Need> needs(const Client& c) const { return {st_.needs_of(c), c.n_needs}; }
  bool client_records() const { return st_.keep_records; }
  int planned_ticks() const { return st_.planned_ticks; }
  std::size_t clients_created() const { return st_.next_id; }
  std::size_t client_slots() const { return st_.clients.size(); }  // client records in memory
  // The outcome tallies of the clients so far; the cohort ends follow_up_days before today.
  // Without client records: only once the planned run is finished (else std::logic_error).
  OutcomeLedger outcome_ledger() const;
  const std::vector<Helper>& helpers() const { return st_.staff.helpers; }
  const std::vector<OrgState>& organizations() const { return st_.orgs; }
  const std::vector<NetworkState>& networks() const { return st_.nets; }
  const TieTable& ties() const { return st_.ties; }
  const std::vector<TickRecord>& timeseries() const { return st_.series; }
  // Levels at the start of the run, and every change since, in (day, tie) order.
  const std::vector<std::int8_t>& initial_tie_levels() const { return st_.initial_levels; }
  const std::vector<TieChange>& tie_history() const { return st_.tie_history; }
  const std::vector<SteeringRow>& steering_rows() const { return st_.steering_rows; }
  // The networks' monitoring reports, a row per member per report, in (day, network) order.
  const std::vector<MonitorRow>& monitoring_rows() const { return st_.monitoring_rows; }
  const std::vector<AuthorityState>& authorities() const { return st_.authorities; }
  std::size_t active_clients() const { return st_.active.size(); }  // this process's
  // Needs waiting now in the organization's queues (after finish(), in a partitioned run too).
  std::int64_t waiting_now(std::int32_t org) const;
  bool partitioned() const { return st_.comm != nullptr; }
  const Partition& partition() const { return st_.part; }
  // Room for the clients the horizon is expected to bring (virtual memory until used), so the
  // client array is rarely copied as it grows. The constructor does it; a copy of a simulation
  // (which has no spare room) calls it to step as the original would.
  void reserve_clients();

 private:
  friend class Checkpoint;  // saves and restores the state (checkpoint.hpp)

  using Msg = ModelState::Msg;
  using Event = ModelState::Event;
  using start_flag = ModelState::start_flag;
  using Undo = ModelState::Undo;
  using OrgOutput = ModelState::OrgOutput;

  const Scenario sc_;
  ModelState st_;
  std::size_t parallel_min_active_;                // SimOptions
  std::unique_ptr<phases::DayExchange> exchange_;  // no-op in one process (phases/exchange.hpp)
};

}  // namespace cm::care
