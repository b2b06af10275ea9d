// Counter-based random streams (Random123 Philox4x32-10).
//
// A stream is identified by (run seed, purpose) as the key and (entity id, tick) as the
// counter; draws within one stream advance a draw index held in the counter's last word.
// Nothing depends on a thread index or an array slot, so results do not depend on the
// thread count, and two variants of a scenario that draw "the same" event (resident 4711's
// need on day 93) get the same numbers: common random numbers.
#pragma once

#include <Random123/philox.h>

#include <cstdint>
#include <limits>
#include <string_view>

namespace cm {

// A stable 64-bit code for a purpose name, computed at compile time (FNV-1a).
constexpr std::uint64_t purpose_code(std::string_view name) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// A uniform random bit generator over one (seed, purpose, entity, tick) stream. It satisfies
// the C++ UniformRandomBitGenerator requirements so Boost.Random distributions can use it.
class Stream {
 public:
  using result_type = std::uint32_t;
  using Philox = r123::Philox4x32;

  Stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t entity, std::uint32_t tick) {
    const std::uint64_t mixed = seed ^ (purpose * 0x9E3779B97F4A7C15ull);
    key_ = {{static_cast<std::uint32_t>(mixed), static_cast<std::uint32_t>(mixed >> 32)}};
    ctr_ = {
        {static_cast<std::uint32_t>(entity), static_cast<std::uint32_t>(entity >> 32), tick, 0u}};
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    if (used_ == 4) refill();
    return block_.v[used_++];
  }

  // A double uniform on [0, 1) with 53 random bits.
  double uniform() {
    const std::uint64_t hi = (*this)() >> 5;  // 27 bits
    const std::uint64_t lo = (*this)() >> 6;  // 26 bits
    return static_cast<double>((hi << 26) | lo) * (1.0 / 9007199254740992.0);
  }

  bool bernoulli(double p) { return uniform() < p; }

  // An integer uniform on [0, n) by rejection (no modulo bias); n > 0.
  std::uint32_t below(std::uint32_t n) {
    const std::uint32_t limit = max() - max() % n;
    std::uint32_t x;
    do x = (*this)();
    while (x >= limit);
    return x % n;
  }

 private:
  void refill() {
    block_ = Philox()(ctr_, key_);
    ++ctr_.v[3];
    used_ = 0;
  }

  Philox::key_type key_{};
  Philox::ctr_type ctr_{};
  Philox::ctr_type block_{};
  int used_ = 4;
};

// The factory for a run's streams: holds the run seed.
class Streams {
 public:
  explicit Streams(std::uint64_t seed) : seed_(seed) {}
  Stream operator()(std::uint64_t purpose, std::uint64_t entity, std::uint32_t tick) const {
    return Stream(seed_, purpose, entity, tick);
  }
  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
};

}  // namespace cm
