// MPI for distributed experiments (docs/distributed.md), kept out of the engine and the model:
// experiments.hpp defines the protocol over an abstract Channel, this file supplies the Channel
// over MPI.
//
// MPI is started only when the process was launched by an MPI launcher (mpirun, mpiexec, or
// srun with PMI/PMIx) with more than one process, so a plain `caremesh run` never pays MPI's
// start-up or prints its warnings, and `mpirun -np 1` behaves exactly as one process. All MPI
// calls are made on the thread that called main() (MPI_THREAD_FUNNELED).
#pragma once

#include <memory>

#include "models/socialcare/experiments/experiments.hpp"
#include "models/socialcare/partition.hpp"

namespace cm::cli {

class MpiSession {
 public:
  // Initializes MPI if the process was launched as one of several by an MPI launcher.
  MpiSession(int& argc, char**& argv);
  // Finalizes MPI if it was initialized.
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

// The channel between the processes of this MPI job, or null when this process runs alone.
care::Channel* mpi_channel();

// The exchange of a territory-partitioned run (partition.hpp) between the processes of this MPI
// job, over a communicator of its own; null when this process runs alone. Collective: every
// process calls it. Its calls must come from the thread that called main().
std::unique_ptr<care::PartitionComm> mpi_partition_comm();

// How many processes of this MPI job run on this machine (1 when not under MPI): a run's default
// thread count divides the cores among them.
int mpi_local_processes();

}  // namespace cm::cli
