// A run's output directory for the tests that compare outputs: one process (at a thread count)
// or a territory-partitioned run with threads standing in for the processes, and the files of a
// directory read back.
#pragma once

#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/parallel.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/outputs.hpp"
#include "models/socialcare/partition.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::test {

inline const care::RunInfo kTestRunInfo{"scenario.yaml", "", {}, false};

// File name → contents.
inline std::map<std::string, std::string> read_dir(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    files[e.path().filename().string()] = text.str();
  }
  return files;
}

// Runs the scenario to its horizon in one process and writes its outputs (clients.csv too when
// client_records is set). Returns the state hash.
inline std::uint64_t write_single(const care::Scenario& sc, std::uint64_t seed, int threads,
                                  const std::filesystem::path& dir, bool client_records = false) {
  care::Simulation sim(sc, seed, care::SimOptions{client_records, sc.horizon_days});
  with_threads(threads, [&] { sim.run(sc.horizon_days); });
  sim.finish();
  care::RunInfo info = kTestRunInfo;
  info.client_records = client_records;
  care::write_run(dir, sim, care::compute_metrics(sim), info);
  return sim.state_hash();
}

// Runs `ranks` partitioned simulations on threads; the first writes the outputs. Returns the
// partition and what each process sent.
inline care::Partition write_partitioned(const care::Scenario& sc, std::uint64_t seed, int ranks,
                                         const std::filesystem::path& dir,
                                         std::vector<std::int64_t>* sent = nullptr) {
  auto comms = care::ThreadPartitionComm::make(ranks);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  care::Partition part;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        care::Simulation sim(sc, seed, care::SimOptions{false, sc.horizon_days, comms[r].get()});
        with_threads(1, [&] { sim.run(sc.horizon_days); });
        sim.finish();
        const auto metrics = care::compute_metrics(sim);
        if (r == 0) {
          care::write_run(dir, sim, metrics, kTestRunInfo);
          part = sim.partition();
        }
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
        comms[r]->abort();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  if (sent != nullptr)
    for (const auto& c : comms) sent->push_back(c->bytes_sent);
  return part;
}

}  // namespace cm::test
