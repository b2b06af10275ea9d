#include "models/cli/mpi_session.hpp"

// The C interface only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace cm::cli {

namespace {

// Whether an MPI launcher started this process, and as one of how many (0: unknown).
bool launched_by_mpi(int& processes) {
  processes = 0;
  if (const char* n = std::getenv("OMPI_COMM_WORLD_SIZE")) {  // Open MPI's mpirun
    processes = std::atoi(n);
    return true;
  }
  if (const char* n = std::getenv("PMI_SIZE")) {  // srun --mpi=pmi2, MPICH-style launchers
    processes = std::atoi(n);
    return true;
  }
  return std::getenv("PMIX_RANK") != nullptr;  // srun --mpi=pmix and other PMIx launchers
}

// Messages over a communicator of their own, so that other MPI traffic cannot mix with them.
class MpiChannel final : public care::Channel {
 public:
  MpiChannel() {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiChannel() override {
    for (auto& [request, message] : sending_) MPI_Wait(&request, MPI_STATUS_IGNORE);
    MPI_Comm_free(&comm_);
  }
  MpiChannel(const MpiChannel&) = delete;
  MpiChannel& operator=(const MpiChannel&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  // Without waiting: a blocking MPI_Send spins until the receiver has taken the message out of
  // shared memory, up to a millisecond per run. Messages from one rank to another still
  // arrive in order (MPI does not let them overtake each other).
  void send(int to, const Message& message) override {
    complete_sends();
    auto& [request, copy] = sending_.emplace_back(MPI_REQUEST_NULL, message);
    MPI_Isend(copy.data(), static_cast<int>(copy.size()), MPI_BYTE, to, kTag, comm_, &request);
  }

  // Probes without blocking and sleeps in between: a blocking MPI_Recv would spin on a core
  // that this process's own runs need. The pause grows from 20 us after a message to 1 ms
  // while none comes, across calls, so an idle process wakes about 1000 times a second.
  std::optional<Message> receive(std::chrono::microseconds wait, int& from) override {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      complete_sends();
      int found = 0;
      MPI_Message handle;
      MPI_Status status;
      MPI_Improbe(MPI_ANY_SOURCE, kTag, comm_, &found, &handle, &status);
      if (found) {
        int count = 0;
        MPI_Get_count(&status, MPI_BYTE, &count);
        Message m(static_cast<std::size_t>(count));
        MPI_Mrecv(m.data(), count, MPI_BYTE, &handle, MPI_STATUS_IGNORE);
        from = status.MPI_SOURCE;
        pause_ = kShortestPause;
        return m;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::nullopt;
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(pause_, deadline - now));
      pause_ = std::min(2 * pause_, kLongestPause);
    }
  }

 private:
  // Forgets the sends that are complete (their buffers may go).
  void complete_sends() {
    while (!sending_.empty()) {
      int done = 0;
      MPI_Test(&sending_.front().first, &done, MPI_STATUS_IGNORE);
      if (!done) return;
      sending_.pop_front();
    }
  }

  static constexpr int kTag = 17;
  static constexpr std::chrono::microseconds kShortestPause{20}, kLongestPause{1000};
  std::chrono::microseconds pause_ = kShortestPause;
  std::deque<std::pair<MPI_Request, Message>> sending_;  // in order; buffers stay put
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
};

// A partitioned run's collective exchanges: MPI_Alltoall of the byte counts, then
// MPI_Alltoallv of the bytes; MPI_Allreduce of int64 sums.
class MpiPartitionComm final : public care::PartitionComm {
 public:
  MpiPartitionComm() : owner_(std::this_thread::get_id()) {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiPartitionComm() override { MPI_Comm_free(&comm_); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::vector<care::Bytes> exchange(const std::vector<care::Bytes>& out) override {
    check_thread();
    const auto t0 = std::chrono::steady_clock::now();
    const auto n = static_cast<std::size_t>(size_);
    if (out.size() != n) throw std::logic_error("PartitionComm::exchange: one buffer per process");
    std::vector<int> send_counts(n), recv_counts(n), send_at(n), recv_at(n);
    std::size_t total = 0;
    for (std::size_t r = 0; r < n; ++r) {
      send_counts[r] = count(out[r].size());
      send_at[r] = count(total);
      total += out[r].size();
      if (static_cast<int>(r) != rank_) bytes_sent += static_cast<std::int64_t>(out[r].size());
    }
    std::vector<std::uint8_t> send(total);
    for (std::size_t r = 0; r < n; ++r)
      std::copy(out[r].begin(), out[r].end(), send.begin() + send_at[r]);
    MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm_);
    std::size_t received = 0;
    for (std::size_t r = 0; r < n; ++r) {
      recv_at[r] = count(received);
      received += static_cast<std::size_t>(recv_counts[r]);
    }
    std::vector<std::uint8_t> recv(std::max<std::size_t>(received, 1));
    MPI_Alltoallv(send.empty() ? nullptr : send.data(), send_counts.data(), send_at.data(),
                  MPI_BYTE, recv.data(), recv_counts.data(), recv_at.data(), MPI_BYTE, comm_);
    std::vector<care::Bytes> in(n);
    for (std::size_t r = 0; r < n; ++r)
      in[r].assign(recv.begin() + recv_at[r], recv.begin() + recv_at[r] + recv_counts[r]);
    ++calls;
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return in;
  }

  void sum(std::vector<std::int64_t>& values) override {
    check_thread();
    const auto t0 = std::chrono::steady_clock::now();
    if (!values.empty())
      MPI_Allreduce(MPI_IN_PLACE, values.data(), count(values.size()), MPI_INT64_T, MPI_SUM, comm_);
    else
      MPI_Barrier(comm_);  // still collective
    ++calls;
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  // The other processes wait in a collective that will never complete: end the job.
  void abort() override { MPI_Abort(MPI_COMM_WORLD, 1); }

 private:
  static int count(std::size_t n) {
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw std::runtime_error("partitioned run: more than 2 GiB in one exchange");
    return static_cast<int>(n);
  }
  void check_thread() const {
    if (std::this_thread::get_id() != owner_)
      throw std::logic_error("partitioned run: MPI called from a thread other than main()'s");
  }
  std::thread::id owner_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
};

bool g_initialized = false;
std::unique_ptr<MpiChannel> g_channel;

}  // namespace

MpiSession::MpiSession(int& argc, char**& argv) {
  int processes = 0;
  if (!launched_by_mpi(processes) || processes == 1) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  g_initialized = true;
  if (provided < MPI_THREAD_FUNNELED) {
    std::fprintf(stderr, "caremesh: the MPI library does not support threads (FUNNELED)\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1) g_channel = std::make_unique<MpiChannel>();
}

MpiSession::~MpiSession() {
  if (!g_initialized) return;
  g_channel.reset();
  MPI_Finalize();
  g_initialized = false;
}

care::Channel* mpi_channel() {
  return g_channel.get();
}

std::unique_ptr<care::PartitionComm> mpi_partition_comm() {
  if (g_channel == nullptr) return nullptr;
  return std::make_unique<MpiPartitionComm>();
}

int mpi_local_processes() {
  if (g_channel == nullptr) return 1;
  for (const char* name :
       {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"})
    if (const char* v = std::getenv(name)) {
      const int n = std::atoi(v);
      if (n >= 1) return n;
    }
  return 1;
}

}  // namespace cm::cli
