// libFuzzer target: bytes → the workshop server's request parser, pipelined requests included
// (engine/http_server.hpp; see fuzz/harness_robust.hpp). Seed corpus: fuzz/corpus/http/.
// scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness_robust.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cm::fuzz::http_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
