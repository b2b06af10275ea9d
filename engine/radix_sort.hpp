// Stable sort by a 32-bit unsigned key in linear time (least-significant-digit radix sort).
//
// A day's lists of a simulation (events, messages) hold thousands of entries whose keys (client
// ids) span a few hundred thousand values; std::stable_sort compares O(n log n) times. Counting
// passes over digits of (key - smallest key), at most 11 bits each, sort them in O(n): two
// passes for keys spanning up to 2^22 values. The sort is stable, so the result is exactly
// std::stable_sort's with the same key (and independent of the thread count: it is serial).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cm {

// Sorts items by key(item) (a std::uint32_t), keeping the order of items with equal keys.
// scratch: a buffer for the passes, reused call after call (its contents are overwritten; after
// the call it may hold the items' former storage).
template <class T, class Key>
void stable_radix_sort(std::vector<T>& items, Key key, std::vector<T>& scratch) {
  constexpr std::size_t kSmall = 64;  // fewer items: std::stable_sort
  const std::size_t n = items.size();
  if (n < kSmall) {
    std::stable_sort(items.begin(), items.end(),
                     [&](const T& a, const T& b) { return key(a) < key(b); });
    return;
  }
  std::uint32_t lo = key(items[0]), hi = lo;
  for (const T& t : items) {
    const std::uint32_t k = key(t);
    lo = std::min(lo, k);
    hi = std::max(hi, k);
  }
  const int bits = std::bit_width(hi - lo);
  if (bits == 0) return;  // all keys equal
  constexpr int kMaxDigitBits = 11;
  const int passes = (bits + kMaxDigitBits - 1) / kMaxDigitBits;
  const int digit_bits = (bits + passes - 1) / passes;
  const std::uint32_t mask = (std::uint32_t{1} << digit_bits) - 1;
  scratch.resize(n);
  std::array<std::size_t, (std::size_t{1} << kMaxDigitBits) + 1> start{};
  for (int p = 0; p < passes; ++p) {
    const int shift = p * digit_bits;
    const std::size_t buckets = std::size_t{mask} + 1;
    std::fill(start.begin(), start.begin() + static_cast<std::ptrdiff_t>(buckets) + 1, 0);
    for (const T& t : items) ++start[((key(t) - lo) >> shift & mask) + 1];
    for (std::size_t b = 1; b <= buckets; ++b) start[b] += start[b - 1];
    for (const T& t : items) scratch[start[(key(t) - lo) >> shift & mask]++] = t;
    items.swap(scratch);
  }
}

}  // namespace cm
