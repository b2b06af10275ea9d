// libFuzzer target: bytes → the sweep design loader (load_design_text) and, for designs of a
// modest size, the planner (plan_design); see fuzz/harness.hpp. Seed corpus:
// fuzz/corpus/design/. scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cm::fuzz::design_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
