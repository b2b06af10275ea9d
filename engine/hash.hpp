// A streaming 64-bit FNV-1a hash for state fingerprints (determinism tests, result ids).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace cm {

class Hasher {
 public:
  void bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      h_ ^= p[i];
      h_ *= 1099511628211ull;
    }
  }
  // Adds an arithmetic or enum value by its value bits (never padding).
  template <class T>
  void add(T v) {
    static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>);
    bytes(&v, sizeof v);
  }
  void add(std::string_view s) {
    add(s.size());
    bytes(s.data(), s.size());
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 1469598103934665603ull;
};

}  // namespace cm
