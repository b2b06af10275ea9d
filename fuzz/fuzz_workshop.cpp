// libFuzzer target: bytes → the workshop server's request handling (handle_compare: content
// type, body size, JSON, lever validation, the comparison), see fuzz/harness_workshop.hpp.
// Seed corpus: fuzz/corpus/workshop/. scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness_workshop.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cm::fuzz::fuzz_workshop();  // the baseline runs once, before fuzzing starts
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cm::fuzz::workshop_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
