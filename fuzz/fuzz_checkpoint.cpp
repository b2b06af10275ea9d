// libFuzzer target: bytes → a checkpoint, resealed, decoded, restored and stepped (see
// fuzz/harness_robust.hpp). Seed corpus: fuzz/corpus/checkpoint/. scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness_robust.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cm::fuzz::checkpoint_setup();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cm::fuzz::checkpoint_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
