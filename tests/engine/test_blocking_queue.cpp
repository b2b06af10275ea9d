// cm::BlockingQueue (engine/blocking_queue.hpp): order, bounds, hand-over between threads. The
// suite's name holds "Concurrent", so scripts/sanitizers.sh runs it under ThreadSanitizer as well.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/blocking_queue.hpp"

namespace {

using cm::BlockingQueue;

TEST(BlockingQueueConcurrent, FirstInFirstOut) {
  BlockingQueue<int> c;
  for (int i = 0; i < 5; ++i) c.push(i);
  EXPECT_EQ(c.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.pop(), i);
  int x = -1;
  EXPECT_FALSE(c.try_pop(x));
  EXPECT_EQ(x, -1) << "a failed try_pop leaves its target alone";
  EXPECT_TRUE(c.empty());
}

TEST(BlockingQueueConcurrent, ZeroCapacityIsRefused) {
  EXPECT_THROW(BlockingQueue<int>(0), std::invalid_argument);
}

// A producer that fills a bounded queue waits in push until a consumer makes room.
TEST(BlockingQueueConcurrent, PushWaitsWhileFull) {
  BlockingQueue<int> c(2);
  c.push(1);
  c.push(2);
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    c.push(3);
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pushed.load()) << "push returned while the queue was full";
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(c.pop(), 2);
  EXPECT_EQ(c.pop(), 3);
}

// clear() drops the items and lets a producer waiting for room go on.
TEST(BlockingQueueConcurrent, ClearReleasesAWaitingProducer) {
  BlockingQueue<int> c(1);
  c.push(1);
  std::thread producer([&] { c.push(2); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c.clear();
  producer.join();
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.pop(), 2);
}

// Four producers and three consumers through a small queue: every item arrives exactly once,
// each producer's items in the order it pushed them, and what the producer wrote into an item
// before pushing it is what the consumer reads (ThreadSanitizer checks the hand-over).
TEST(BlockingQueueConcurrent, ManyProducersAndConsumersHandOverEveryItemOnce) {
  constexpr int kProducers = 4, kConsumers = 3, kPerProducer = 2000;
  struct Item {
    int producer = 0, index = 0;
    std::unique_ptr<std::vector<int>> payload;
  };
  BlockingQueue<std::optional<Item>> c(8);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        Item it{p, i, std::make_unique<std::vector<int>>(3, p * kPerProducer + i)};
        c.push(std::move(it));
      }
    });
  std::vector<std::vector<std::vector<int>>> seen(kConsumers,
                                                  std::vector<std::vector<int>>(kProducers));
  std::vector<std::thread> consumers;
  std::atomic<int> bad_payload{0};
  for (int k = 0; k < kConsumers; ++k)
    consumers.emplace_back([&, k] {
      for (;;) {
        std::optional<Item> it = c.pop();
        if (!it) return;
        const int want = it->producer * kPerProducer + it->index;
        for (int v : *it->payload) bad_payload += v != want;
        seen[static_cast<std::size_t>(k)][static_cast<std::size_t>(it->producer)].push_back(
            it->index);
      }
    });
  for (auto& t : threads) t.join();
  for (int k = 0; k < kConsumers; ++k) c.push(std::nullopt);
  for (auto& t : consumers) t.join();
  EXPECT_EQ(bad_payload.load(), 0);
  for (int p = 0; p < kProducers; ++p) {
    std::vector<int> all;
    for (int k = 0; k < kConsumers; ++k) {
      const auto& mine = seen[static_cast<std::size_t>(k)][static_cast<std::size_t>(p)];
      EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()))
          << "consumer " << k << " got producer " << p << "'s items out of order";
      all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<int> want(kPerProducer);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(all, want) << "producer " << p;
  }
  EXPECT_TRUE(c.empty());
}

}  // namespace
