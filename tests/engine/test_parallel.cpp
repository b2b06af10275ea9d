// engine/parallel.hpp: loops give the same results however they run, and run on the calling
// thread alone when they are one chunk, in a one-thread arena, or under a SerialScope.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

#include "engine/parallel.hpp"

namespace cm {
namespace {

// Whether every call of a loop over n items ran on the calling thread, and the loop's output.
struct LoopRun {
  bool on_caller = true;
  std::vector<std::uint64_t> out;
};

LoopRun run_loop(std::size_t n, std::size_t grain) {
  LoopRun r;
  r.out.assign(n, 0);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> elsewhere{false};
  parallel_for_each(
      n,
      [&](std::size_t i) {
        if (std::this_thread::get_id() != caller) elsewhere = true;
        std::uint64_t x = i * 0x9E3779B97F4A7C15ull;
        for (int k = 0; k < 200; ++k) x ^= x >> 13, x *= 0xff51afd7ed558ccdull;  // some work
        r.out[i] = x;
      },
      grain);
  r.on_caller = !elsewhere;
  return r;
}

TEST(Parallel, ASerialScopeKeepsEveryLoopOnTheCallingThreadWithTheSameResults) {
  const LoopRun spread = with_threads(2, [] { return run_loop(1 << 16, 64); });
  const LoopRun alone = with_threads(2, [] {
    const SerialScope serial;
    EXPECT_TRUE(serial_arena());
    return run_loop(1 << 16, 64);
  });
  EXPECT_TRUE(alone.on_caller);
  EXPECT_EQ(spread.out, alone.out);
  // Without the scope the same loop does reach the second thread (else the check above would
  // prove nothing); scheduling decides, so a few tries.
  bool reached = !spread.on_caller;
  for (int attempt = 0; attempt < 20 && !reached; ++attempt)
    reached = !with_threads(2, [] { return run_loop(1 << 16, 64); }).on_caller;
  EXPECT_TRUE(reached);
  // The scope ends with its block: the thread's loops may spread again.
  with_threads(2, [] { EXPECT_FALSE(serial_arena()); });
}

TEST(Parallel, ScopesNestAndEndInOrder) {
  with_threads(2, [] {
    const SerialScope outer;
    {
      const SerialScope inner;
      EXPECT_TRUE(serial_arena());
    }
    EXPECT_TRUE(serial_arena());  // the outer scope still holds
  });
  with_threads(2, [] { EXPECT_FALSE(serial_arena()); });
}

TEST(Parallel, OneChunkAndOneThreadRunOnTheCaller) {
  EXPECT_TRUE(with_threads(2, [] { return run_loop(64, 64); }).on_caller);
  EXPECT_TRUE(with_threads(1, [] { return run_loop(1 << 14, 64); }).on_caller);
  EXPECT_TRUE(with_threads(1, [] { return serial_arena(); }));
}

TEST(Parallel, CollectedChunksConcatenateInIndexOrderHoweverTheyRun) {
  const auto collect = [] {
    return parallel_collect<std::uint32_t>(
        5000,
        [](std::size_t i, std::vector<std::uint32_t>& out) {
          for (std::size_t k = 0; k < i % 3; ++k) out.push_back(static_cast<std::uint32_t>(i));
        },
        16);
  };
  const auto spread = with_threads(2, collect);
  const auto alone = with_threads(2, [&] {
    const SerialScope serial;
    return collect();
  });
  const auto one = with_threads(1, collect);
  ASSERT_FALSE(spread.empty());
  EXPECT_TRUE(std::is_sorted(spread.begin(), spread.end()));
  EXPECT_EQ(spread, alone);
  EXPECT_EQ(spread, one);
}

}  // namespace
}  // namespace cm
