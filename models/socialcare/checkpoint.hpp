// Checkpoints: the complete state of a run, saved so that `caremesh resume DIR` continues it
// and writes the same files, byte for byte, as the run would have written uninterrupted.
//
// The simulation keeps no random generator state (streams are counter-based, keyed by seed,
// purpose, entity and tick), so its state is plain data: the clients, the active list, the
// staff, the organizations' intake lists and queues, the networks' waiting conferences, the
// ties, the time series and the tie history. Everything derived from the scenario alone is
// rebuilt by constructing the Simulation from the scenario, then the saved state is laid over
// it.
//
// A checkpoint also holds how the run was started (RunSpec): the effective scenario YAML text,
// the scenario file name, the variant and overrides as given, the seed, the target number of
// days and the output options, so that resuming needs nothing but the directory.
//
// File format (all integers little-endian; docs/reliability.md):
//   magic "CMCKPT01", u32 format version, u32 byte-order mark 0x01020304,
//   u32 length + the caremesh version text, u64 payload length, u64 checksum, payload.
// The checksum is 64-bit FNV-1a over the header before it and the whole payload (it tells
// damage from a version mismatch). The payload starts with a layout fingerprint (sizes of the
// saved records), then the RunSpec, then the state, then the state hash at the time of saving,
// then a 32-byte HMAC-SHA-256 (Nettle) over the header without its checksum and the payload
// before it, keyed by SHA-256 of the directory's key (kKeyFile), the SHA-256 of the effective
// scenario, the variant, the overrides and the seed: a checkpoint changed after it was written
// (checksum recomputed or not), or copied from another run or directory, is refused before its
// state is read. Records are written with zeroed padding, so the same state gives the same
// bytes. After restoring, every index and count is checked against the scenario, and the state
// hash must match.
// A checkpoint that is truncated, corrupt, of another format, written by another caremesh
// version or by a build with another memory layout is refused with a CheckpointError saying
// which.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/socialcare/scenario.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care {

inline constexpr const char* kCheckpointFile = "checkpoint.bin";
// Written beside the checkpoint when a run stops before its last day (a human-readable note
// saying how to continue); a complete result has summary.json and neither of these files.
inline constexpr const char* kIncompleteFile = "INCOMPLETE";
// The directory's checkpoint key: 32 random bytes written (mode 0600) with the first checkpoint
// and removed with it when the run completes. Part of the key of the checkpoint's digest, so a
// checkpoint resumes only in the directory that wrote it.
inline constexpr const char* kKeyFile = ".caremesh.key";
// 8: the networks' monitoring (7: the authenticated digest; 6: the networks' debt, routed and
// follow-ups).
inline constexpr std::uint32_t kCheckpointFormat = 8;
// The largest checkpoint read (checked before reading): a run's state is bounded by the memory
// limit (8 GiB by default), and its checkpoint is smaller than its state.
inline constexpr std::uint64_t kMaxCheckpointBytes = 64ull << 30;

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a run was started: everything `resume` needs besides the state.
struct RunSpec {
  std::string scenario_file;   // as reported in summary.json ("scenario.file")
  std::string effective_yaml;  // the scenario as run (variant and overrides applied)
  std::string variant;
  std::vector<std::pair<std::string, std::string>> sets;  // --set overrides as given
  std::uint64_t seed = 0;
  int target_ticks = 0;      // the day the run ends (its --ticks or horizon_days)
  int checkpoint_every = 0;  // days between checkpoints (0: only when stopped)
  bool client_records = true;
  std::string network_format;  // --network-format (graphml, gexf), written after the results
};

class Checkpoint {
 public:
  // The checkpoint file as bytes, its digest keyed by the run (scenario, variant, overrides,
  // seed) and dir_key (directory_key(); empty for a checkpoint that belongs to no directory).
  static std::string encode(const RunSpec& spec, const Simulation& sim,
                            std::string_view dir_key = {});
  // Writes dir/checkpoint.bin atomically (the previous checkpoint stays until the new one is
  // complete). Throws std::runtime_error when the file cannot be written.
  static void write(const std::filesystem::path& dir, const RunSpec& spec, const Simulation& sim);

  // Parses and verifies a checkpoint (name stands for the file in messages); throws
  // CheckpointError.
  // CheckpointError, also when its digest does not verify under the run's key and dir_key.
  static Checkpoint decode(std::string bytes, const std::string& name,
                           std::string_view dir_key = {});
  // For tests of forged checkpoints: bytes with the digest and checksum recomputed under the
  // key of the run it names and dir_key (as someone holding the key could). Throws
  // CheckpointError when the header or RunSpec do not parse.
  static std::string reseal(std::string bytes, std::string_view dir_key = {});
  // The key of dir's checkpoints (kKeyFile), created if create and absent; "" if absent.
  static std::string directory_key(const std::filesystem::path& dir, bool create);
  // Reads dir/checkpoint.bin; throws CheckpointError (also when there is none).
  static Checkpoint read(const std::filesystem::path& dir);

  const RunSpec& spec() const { return spec_; }
  const std::string& version() const { return version_; }  // caremesh version that wrote it
  int tick() const { return tick_; }                       // days done when it was written

  // The scenario as run: loaded from the effective YAML text, with the text and file name
  // exactly as recorded. Throws cm::InputError if this caremesh cannot load it.
  Scenario scenario(double max_memory = 0) const;  // LoadOptions::max_memory
  // Lays the saved state over sim, which must be a fresh Simulation(scenario(), spec().seed)
  // that has not stepped; throws CheckpointError when the state does not fit it.
  void restore(Simulation& sim) const;

 private:
  // Writes (Out) or reads (In) every saved member of the simulation, in one order.
  template <class Sim, class IO>
  static void transfer(Sim& sim, IO& io);
  // The restored state's indices and counts checked against the scenario (checkpoint.cpp).
  struct Shape;
  static std::vector<std::size_t> org_list_sizes(const OrgState& o);
  static Shape shape_of(const Simulation& sim);
  template <class IO>
  static void check_bounds(const Simulation& sim, const Shape& fresh, IO& io);

  std::string name_;
  std::string version_;
  RunSpec spec_;
  int tick_ = 0;
  std::string state_;  // the state part of the payload
};

}  // namespace cm::care
