// Atomic output files: the temporary file is created exclusively under a random name and a
// symlink planted where a temporary file would go is never written through.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/output.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Dir {
  fs::path path = fs::temp_directory_path() / ("caremesh_output_" + std::to_string(::getpid()));
  Dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

// Earlier versions wrote NAME.tmp.PID with O_CREAT|O_TRUNC: a symlink planted there made them
// overwrite its target.
TEST(AtomicFile, DoesNotWriteThroughASymlinkPlantedAtAPredictableTemporaryName) {
  Dir d;
  const fs::path victim = d.path / "victim.txt", target = d.path / "summary.json";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, fs::path(target.string() + ".tmp." + std::to_string(::getpid())));
  cm::write_file_atomically(target, "result\n");
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_EQ(slurp(target), "result\n");
  EXPECT_FALSE(fs::is_symlink(target));
}

TEST(AtomicFile, TheTemporaryFileIsNewRandomAndRemovedUnlessCommitted) {
  Dir d;
  const fs::path target = d.path / "a.csv";
  fs::path first, second;
  {
    cm::AtomicFile f(target);
    first = f.temporary();
    EXPECT_EQ(first.parent_path(), d.path);
    EXPECT_TRUE(cm::is_temporary_file_name(first.filename().string())) << first;
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(first)));
    cm::AtomicFile g(target);  // two writers of one name never share a temporary file
    second = g.temporary();
    EXPECT_NE(first, second);
    f.stream() << "one";
    f.commit();
  }
  EXPECT_FALSE(fs::exists(first));
  EXPECT_FALSE(fs::exists(second)) << "an uncommitted temporary file was left behind";
  EXPECT_EQ(slurp(target), "one");
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(d.path)) n += e.path() != target;
  EXPECT_EQ(n, 0u);
}

TEST(AtomicFile, TemporaryFileNames) {
  EXPECT_TRUE(cm::is_temporary_file_name("clients.csv.tmp.12345"));
  EXPECT_TRUE(cm::is_temporary_file_name("summary.json.tmp.aZ09xQ"));
  EXPECT_FALSE(cm::is_temporary_file_name("summary.json"));
  EXPECT_FALSE(cm::is_temporary_file_name("a.tmp."));
  EXPECT_FALSE(cm::is_temporary_file_name(".tmp.123"));
  EXPECT_FALSE(cm::is_temporary_file_name("a.tmp.12-3"));
}
