// The committed corpus of fuzz_checkpoint and fuzz_http (fuzz/corpus/checkpoint/,
// fuzz/corpus/http/) fed to the same code as the fuzzers (fuzz/harness_robust.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/harness_robust.hpp"
#include "tests/support/cli.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> corpus(const std::string& target) {
  const fs::path dir = fs::path(CAREMESH_TEST_DATA) / ".." / ".." / "fuzz" / "corpus" / target;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST(FuzzCorpus, EveryCheckpointInputIsRestoredOrRefused) {
  cm::fuzz::checkpoint_setup();
  const auto files = corpus("checkpoint");
  EXPECT_GE(files.size(), 2u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW(cm::fuzz::checkpoint_input(cm::test::read_text(f)));
  }
}

TEST(FuzzCorpus, EveryHttpInputIsParsedOrRefused) {
  const auto files = corpus("http");
  EXPECT_GE(files.size(), 5u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW(cm::fuzz::http_input(cm::test::read_text(f)));
  }
}
