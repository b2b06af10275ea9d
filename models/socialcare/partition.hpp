// A territory-partitioned run: one simulation split over several processes (docs/distributed.md,
// section 6). This header is MPI-free: the processes talk through a PartitionComm, supplied
// over MPI by the caremesh executable (models/cli/mpi_session.cpp) and in memory, with threads
// as processes, by ThreadPartitionComm (tests).
//
// What each process owns:
//   districts   split by territory (Partition below); a process steps the clients living in
//               its districts and keeps their records
//   orgs        the organizations of the clusters of collaboration it was given: organizations
//               joined by a tie or a coordinated network, and the districts they serve, stay
//               together, so pooling, case conferences and tie work never cross processes
//   everything else (ties, helpers, staff turnover, steering) is replicated: every process
//               computes it from the same inputs, exchanged at tick boundaries.
#pragma once

#include <atomic>
#include <barrier>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "models/socialcare/scenario.hpp"

namespace cm::care {

using Bytes = std::vector<std::uint8_t>;

// The processes of a partitioned run. Every call is collective: all processes make the same
// calls in the same order.
class PartitionComm {
 public:
  virtual ~PartitionComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // out[r] goes to process r (out.size() == size()); returns what every process sent to this
  // one, by sender.
  virtual std::vector<Bytes> exchange(const std::vector<Bytes>& out) = 0;
  // Element-wise sums over the processes, in place; every process gets the sums.
  virtual void sum(std::vector<std::int64_t>& values) = 0;
  // This process failed and will make no more calls: the others must not wait for it (they
  // fail too, or the whole job is ended).
  virtual void abort() = 0;

  // What the exchanges cost this process so far.
  double seconds = 0;           // wall time inside exchange() and sum()
  std::int64_t bytes_sent = 0;  // to other processes
  std::int64_t calls = 0;
};

// Which process owns each district, organization and coordinated network.
struct Partition {
  std::vector<std::int32_t> district_rank, org_rank, network_rank;
  int ranks = 1;
  int clusters = 0;        // clusters of collaboration (connected organizations and districts)
  int split_clusters = 0;  // clusters whose districts were spread over several processes
};

// Splits the territory over `ranks` processes. Organizations and districts joined by ties
// (given as pairs of organization indices), coordinated networks or service (an organization
// serves a district) form clusters; clusters go whole to the least loaded process, largest
// first (load: residents). A cluster larger than a process's share keeps its organizations on
// one process and spreads its districts over the others: their clients are then served across
// the boundary (messages every day).
Partition partition_territory(const Scenario& sc,
                              const std::vector<std::pair<std::int32_t, std::int32_t>>& ties,
                              int ranks);

// Threads of one process standing in for processes (tests): make(n) gives the n ends.
class ThreadPartitionComm final : public PartitionComm {
 public:
  static std::vector<std::unique_ptr<ThreadPartitionComm>> make(int n);
  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(shared_->n); }
  std::vector<Bytes> exchange(const std::vector<Bytes>& out) override;
  void sum(std::vector<std::int64_t>& values) override;
  // This end fails (its thread threw): the others' exchanges throw instead of waiting for it.
  void abort() override;

 private:
  struct Shared {
    explicit Shared(std::size_t k) : n(k), sync(static_cast<std::ptrdiff_t>(k)), box(k * k) {}
    std::size_t n;
    std::barrier<> sync;
    std::vector<Bytes> box;  // box[from * n + to]
    std::vector<std::vector<std::int64_t>> sums;
    std::mutex mutex;
    std::atomic<bool> aborted{false};
  };
  void check() const;
  ThreadPartitionComm(std::shared_ptr<Shared> shared, int rank)
      : shared_(std::move(shared)), rank_(rank) {}
  std::shared_ptr<Shared> shared_;
  int rank_ = 0;
};

}  // namespace cm::care
