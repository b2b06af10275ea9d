#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/radix_sort.hpp"
#include "engine/rng.hpp"

namespace cm {
namespace {

struct Item {
  std::uint32_t key = 0;
  std::uint32_t position = 0;  // where it was before sorting: ties must keep this order
  bool operator==(const Item&) const = default;
};

// n items with keys lo + (a draw below span), numbered in their original order.
std::vector<Item> draw_items(std::size_t n, std::uint32_t lo, std::uint32_t span,
                             std::uint64_t seed) {
  Stream rng(seed, 0, 0, 0);
  std::vector<Item> items(n);
  for (std::size_t i = 0; i < n; ++i)
    items[i] = {lo + (span == 0 ? 0 : rng.below(span)), static_cast<std::uint32_t>(i)};
  return items;
}

std::vector<Item> stable_sorted(std::vector<Item> items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.key < b.key; });
  return items;
}

void expect_same_as_stable_sort(std::vector<Item> items) {
  const std::vector<Item> expected = stable_sorted(items);
  std::vector<Item> scratch;
  stable_radix_sort(
      items, [](const Item& t) { return t.key; }, scratch);
  EXPECT_EQ(items, expected);
}

TEST(RadixSort, SortsLikeStableSortWhateverTheSpanOfTheKeys) {
  // One pass (span < 2^11), two (< 2^22), three (the full 32 bits), many ties, few ties.
  for (std::uint32_t span : {2u, 1000u, 2048u, 5000u, 300000u, 4000000u, 0xFFFFFFFFu})
    for (std::size_t n : {64u, 100u, 5000u, 20000u})
      expect_same_as_stable_sort(draw_items(n, 7, span, span + n));
}

TEST(RadixSort, KeysNearTheTopOfTheRange) {
  expect_same_as_stable_sort(draw_items(3000, 0xFFFFF000u, 0xFFFu, 1));
  std::vector<Item> extremes = draw_items(1000, 0, 2, 2);
  extremes[10].key = 0xFFFFFFFFu;
  extremes[500].key = 0xFFFFFFFFu;
  expect_same_as_stable_sort(extremes);
}

TEST(RadixSort, SmallAndDegenerateLists) {
  expect_same_as_stable_sort({});
  expect_same_as_stable_sort(draw_items(1, 5, 10, 3));
  expect_same_as_stable_sort(draw_items(63, 5, 10, 4));    // below the radix threshold
  expect_same_as_stable_sort(draw_items(1000, 42, 0, 5));  // every key equal
  expect_same_as_stable_sort(draw_items(1000, 42, 1, 6));  // every key equal (span 1)
}

TEST(RadixSort, ReusesItsScratchBufferAcrossCalls) {
  std::vector<Item> scratch;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    std::vector<Item> items = draw_items(1000 + 700 * seed, 0, 100000, seed);
    const std::vector<Item> expected = stable_sorted(items);
    stable_radix_sort(
        items, [](const Item& t) { return t.key; }, scratch);
    EXPECT_EQ(items, expected);
  }
}

}  // namespace
}  // namespace cm
