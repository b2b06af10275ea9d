// Bounded inputs (engine/input_file.hpp): scenarios, designs and checkpoints are read only from
// regular files of bounded size; a FIFO, a device or an oversized file is refused at once with
// a located message and exit status 2. Every caremesh started here is killed after 20 s, so a
// regression fails instead of hanging.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/support/cli.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using cm::test::read_text;

namespace {

const std::string kSmall = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";

struct Timed {
  int status = -1;  // -2: killed at the deadline
  std::string err;
  double seconds = 0;
};

Timed run_with_deadline(const std::vector<std::string>& args, const fs::path& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = cm::test::spawn_cli(args, dir / "out.txt", dir / "err.txt");
  Timed t;
  int st = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      t.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      break;
    }
    if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(20)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      t.status = -2;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t.err = read_text(dir / "err.txt");
  return t;
}

struct TempDir : cm::test::TempDir {
  TempDir() : cm::test::TempDir("caremesh_inputs") {}
};

void expect_refused(const Timed& t, const std::string& file, const std::string& why) {
  EXPECT_EQ(t.status, 2) << file << ": " << t.err;
  EXPECT_NE(t.err.find(file + ":0:0: "), std::string::npos)
      << "not located at " << file << ": " << t.err;
  EXPECT_NE(t.err.find(why), std::string::npos) << t.err;
}

}  // namespace

// Earlier versions blocked forever opening a FIFO, and read /dev/zero until memory ran out.
TEST(BoundedInputs, AFifoOrADeviceAsTheScenarioIsRefusedAtOnce) {
  TempDir tmp;
  const std::string fifo = (tmp / "scenario.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const auto& [file, why] : std::vector<std::pair<std::string, std::string>>{
           {fifo, "is a FIFO (named pipe), expected a YAML file"},
           {"/dev/zero", "is a character device, expected a YAML file"},
           {"/dev/urandom", "is a character device, expected a YAML file"}}) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"validate", file}, {"run", file, "--out", (tmp / "out").string()}}) {
      const Timed t = run_with_deadline(args, tmp.path);
      expect_refused(t, file, why);
      EXPECT_LT(t.seconds, 5.0) << args[0] << " " << file;
      EXPECT_FALSE(fs::exists(tmp / "out"));
    }
  }
}

TEST(BoundedInputs, AFifoAsTheDesignIsRefusedAtOnce) {
  TempDir tmp;
  const std::string fifo = (tmp / "design.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const Timed t = run_with_deadline(
      {"sweep", kSmall, "--design", fifo, "--out", (tmp / "out").string()}, tmp.path);
  expect_refused(t, fifo, "is a FIFO (named pipe)");
}

// A scenario over the 16 MiB cap is refused from its size, before a byte is parsed.
TEST(BoundedInputs, AScenarioOverTheSizeCapIsRefusedBeforeItIsRead) {
  TempDir tmp;
  const std::string big = (tmp / "big.yaml").string();
  {
    std::string text = read_text(kSmall);
    const std::string comment = "# " + std::string(1022, 'x') + "\n";
    while (text.size() <= (16u << 20)) text += comment;
    cm::test::write_text(big, text);
  }
  const Timed t = run_with_deadline({"validate", big}, tmp.path);
  expect_refused(t, big, "more than the 16777216 bytes (16 MiB) allowed for a YAML file");
  EXPECT_LT(t.seconds, 5.0);
}

// A FIFO (or a device) at checkpoint.bin is refused by resume, which earlier blocked forever.
TEST(BoundedInputs, AFifoAsTheCheckpointIsRefusedAtOnce) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  fs::create_directories(out);
  const std::string fifo = (out / "checkpoint.bin").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const Timed t = run_with_deadline({"resume", out.string()}, tmp.path);
  expect_refused(t, fifo, "is a FIFO (named pipe), expected a caremesh checkpoint");
  fs::remove(fifo);
  fs::create_symlink("/dev/zero", fifo);
  const Timed z = run_with_deadline({"resume", out.string()}, tmp.path);
  expect_refused(z, fifo, "is a character device");
}

// Filesystem errors on the inputs (a loop of symlinks, a name too long) are located at the
// path with exit status 2; `report` on such a path said "filesystem error" with exit 1.
TEST(BoundedInputs, FilesystemErrorsOnInputsAreLocated) {
  TempDir tmp;
  const std::string loop = (tmp / "loop").string();
  fs::create_symlink(tmp / "loop2", loop);
  fs::create_symlink(tmp / "loop", tmp / "loop2");
  const std::string long_name = (tmp / (std::string(300, 'x') + ".yaml")).string();
  for (const auto& [args, file, why] :
       std::vector<std::tuple<std::vector<std::string>, std::string, std::string>>{
           {{"validate", loop}, loop, "Too many levels of symbolic links"},
           {{"validate", long_name}, long_name, "File name too long"},
           {{"sweep", kSmall, "--design", loop, "--out", (tmp / "o").string()},
            loop,
            "Too many levels of symbolic links"},
           {{"report", loop}, loop, "not a directory"}}) {
    const Timed t = run_with_deadline(args, tmp.path);
    expect_refused(t, file, why);
  }
}
