// libFuzzer target: bytes → the scenario loader (load_scenario_text with optional variant and
// overrides, see fuzz/harness.hpp). Seed corpus: fuzz/corpus/scenario/. scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cm::fuzz::scenario_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
