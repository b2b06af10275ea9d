// Checkpoints that cannot lie (models/socialcare/checkpoint.hpp): forged and damaged
// checkpoints whose plain checksum was recomputed are refused, a checkpoint copied into another
// run's directory is refused, flips made under the right key never crash the restore, and the
// same state gives the same bytes.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/hash.hpp"
#include "engine/yaml_reader.hpp"
#include "models/socialcare/checkpoint.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace cm::care;
using cm::test::read_text;
using cm::test::run_cli;
using cm::test::write_text;

namespace {

const std::string kSmall = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";

struct TempDir : cm::test::TempDir {
  TempDir() : cm::test::TempDir("caremesh_forgery") {}
};

// An interrupted run of training-small: 60 days, stopped after day 30.
fs::path interrupted_run(const TempDir& tmp, const std::string& name, int seed) {
  const fs::path d = tmp / name;
  const auto r = run_cli({"run", kSmall, "--out", d.string(), "--ticks", "60", "--seed",
                          std::to_string(seed), "--stop-after-ticks", "30", "--quiet"});
  EXPECT_EQ(r.status, 130) << r.err;
  EXPECT_TRUE(fs::exists(d / kCheckpointFile));
  return d;
}

// Where the header ends (the checksum's offset): magic, format, byte-order mark, version
// length, version, payload length.
std::size_t checksum_at(const std::string& bytes) {
  std::uint32_t version_size = 0;
  std::memcpy(&version_size, bytes.data() + 16, 4);
  return 20 + version_size + 8;
}

// Recomputes the plain FNV-1a checksum (at offset at, that of the unchanged file) after a
// change, as a forger who read the format would.
void reseal_checksum(std::string& bytes, std::size_t at) {
  cm::Hasher h;
  h.bytes(bytes.data(), at);
  h.bytes(bytes.data() + at + 8, bytes.size() - at - 8);
  const std::uint64_t sum = h.value();
  std::memcpy(bytes.data() + at, &sum, 8);
}

// A deterministic spread of (byte, bit) positions over the whole file, checksum excluded.
std::vector<std::pair<std::size_t, int>> flips(const std::string& bytes, std::size_t n) {
  std::vector<std::pair<std::size_t, int>> v;
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  const std::size_t at = checksum_at(bytes);
  while (v.size() < n) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t pos = static_cast<std::size_t>((x >> 17) % bytes.size());
    if (pos >= at && pos < at + 8) continue;
    v.emplace_back(pos, static_cast<int>((x >> 7) % 8));
  }
  // and every byte of the header, the first bit
  for (std::size_t pos = 0; pos < at; ++pos) v.emplace_back(pos, 0);
  return v;
}

}  // namespace

// 600 single-bit flips spread over an interrupted run's checkpoint (and one in every header
// byte), each with the plain checksum recomputed: none is accepted (Checkpoint::read refuses
// each with a CheckpointError), and 40 of them given to `caremesh resume` exit with status 2,
// write no result and leave the files as they were. Earlier versions resumed flips in the time
// series and the tie history silently, with changed past results.
TEST(CheckpointForgery, BitFlipsWithARecomputedChecksumAreAllRefused) {
  TempDir tmp;
  const fs::path d = interrupted_run(tmp, "run", 3);
  const std::string good = read_text(d / kCheckpointFile);
  ASSERT_NO_THROW(Checkpoint::read(d));
  std::size_t tried = 0, refused = 0, cli_tried = 0;
  for (const auto& [pos, bit] : flips(good, 600)) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << bit));
    reseal_checksum(bad, checksum_at(good));
    write_text(d / kCheckpointFile, bad);
    ++tried;
    try {
      (void)Checkpoint::read(d);
      ADD_FAILURE() << "a flip of bit " << bit << " at byte " << pos << " was accepted";
    } catch (const CheckpointError&) {
      ++refused;
    }
    if (tried % 16 == 0 && cli_tried < 40) {
      ++cli_tried;
      const auto r = run_cli({"resume", d.string(), "--quiet"});
      EXPECT_EQ(r.status, 2) << "byte " << pos << ": " << r.err;
      EXPECT_EQ(r.err.rfind("caremesh: ", 0), 0u) << r.err;
      EXPECT_FALSE(fs::exists(d / "summary.json"));
      EXPECT_EQ(read_text(d / kCheckpointFile), bad);
    }
  }
  write_text(d / kCheckpointFile, good);
  EXPECT_EQ(run_cli({"resume", d.string(), "--quiet"}).status, 0);
  std::cout << "[ measured ] " << tried << " forged checkpoints (checksum recomputed): " << refused
            << " refused; " << cli_tried << " of them given to caremesh resume: all exit 2\n";
}

// Flips made by someone holding the key (digest and checksum recomputed) reach the restore:
// none crashes or reads out of bounds (those out of range are refused by the bounds checks or
// the state hash; a value in range restores, as it would from any state this run could reach).
TEST(CheckpointForgery, FlipsUnderTheRightKeyNeverCrashTheRestore) {
  const Scenario sc = load_scenario(kSmall);
  Simulation sim(sc, 5);
  sim.run(40);
  RunSpec spec;
  spec.scenario_file = kSmall;
  spec.effective_yaml = sc.effective_yaml;
  spec.seed = 5;
  spec.target_ticks = 80;
  const std::string good = Checkpoint::encode(spec, sim);
  const std::size_t state_from = good.size() / 4;  // past the header and the scenario text
  std::size_t tried = 0, refused = 0, stepped = 0;
  std::uint64_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t pos =
        state_from + static_cast<std::size_t>((x >> 17) % (good.size() - 32 - state_from));
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << ((x >> 7) % 8)));
    bad = Checkpoint::reseal(bad);
    ++tried;
    try {
      const Checkpoint cp = Checkpoint::decode(bad, "forged.bin");
      Simulation restored(cp.scenario(), cp.spec().seed);
      cp.restore(restored);
      restored.run(5);  // and steps on: allocation, referrals and ties read the restored indices
      ++stepped;
    } catch (const CheckpointError&) {
      ++refused;
    } catch (const cm::InputError&) {
      ++refused;
    }
  }
  EXPECT_EQ(refused + stepped, tried);
  std::cout << "[ measured ] " << tried << " flips under the right key: " << refused << " refused, "
            << stepped << " restored and stepped 5 days (values in range), no "
            << "crash\n";
}

// A checkpoint resumes only in the directory that wrote it: copied into the directory of a run
// with another seed, or of a run with the same arguments, it is refused and nothing changes; the
// whole directory copied elsewhere resumes.
TEST(CheckpointForgery, ACheckpointCopiedIntoAnotherRunsDirectoryIsRefused) {
  TempDir tmp;
  const fs::path a = interrupted_run(tmp, "a", 1);
  const fs::path b = interrupted_run(tmp, "b", 2);
  const fs::path c = interrupted_run(tmp, "c", 1);  // the same run as a, another directory
  for (const fs::path& other : {b, c}) {
    const std::string own = read_text(other / kCheckpointFile);
    fs::copy_file(a / kCheckpointFile, other / kCheckpointFile,
                  fs::copy_options::overwrite_existing);
    const auto r = run_cli({"resume", other.string(), "--quiet"});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("not authentic"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(other / "summary.json"));
    write_text(other / kCheckpointFile, own);
  }
  // the key file removed: refused too
  const fs::path key = b / kKeyFile;
  const std::string b_key = read_text(key);
  fs::remove(key);
  EXPECT_EQ(run_cli({"resume", b.string(), "--quiet"}).status, 2);
  write_text(key, b_key);
  // a whole directory moved resumes, and completes like the original
  fs::copy(a, tmp / "a-moved", fs::copy_options::recursive);
  EXPECT_EQ(run_cli({"resume", (tmp / "a-moved").string(), "--quiet"}).status, 0);
  EXPECT_EQ(run_cli({"resume", a.string(), "--quiet"}).status, 0);
  EXPECT_EQ(read_text(a / "summary.json"), read_text(tmp / "a-moved" / "summary.json"));
  EXPECT_FALSE(fs::exists(a / kKeyFile)) << "the key outlived the checkpoint";
}

// Two runs of the same arguments stopped on the same day save the same state bytes: only the
// digest (keyed by each directory) and the checksum over it differ. In one process, two
// simulations of the same state encode to identical files.
TEST(CheckpointForgery, TheSameStateGivesTheSameBytes) {
  TempDir tmp;
  const std::string x = read_text(interrupted_run(tmp, "x", 7) / kCheckpointFile);
  const std::string y = read_text(interrupted_run(tmp, "y", 7) / kCheckpointFile);
  ASSERT_EQ(x.size(), y.size());
  const std::size_t at = checksum_at(x);
  EXPECT_EQ(x.substr(0, at), y.substr(0, at));
  EXPECT_TRUE(x.substr(at + 8, x.size() - at - 8 - 32) == y.substr(at + 8, y.size() - at - 8 - 32))
      << "the state of two identical runs was saved as different bytes";

  const Scenario sc = load_scenario(kSmall);
  RunSpec spec;
  spec.scenario_file = kSmall;
  spec.effective_yaml = sc.effective_yaml;
  spec.seed = 9;
  spec.target_ticks = 50;
  std::string first, second;
  {
    Simulation s1(sc, 9);
    s1.run(25);
    first = Checkpoint::encode(spec, s1);
  }
  {
    std::vector<char> noise(1 << 20, '\x5a');  // dirty the heap the second run allocates from
    Simulation s2(sc, 9);
    s2.run(25);
    second = Checkpoint::encode(spec, s2);
  }
  EXPECT_TRUE(first == second);
}
