// What the checkpoint and HTTP fuzz targets do with one input, shared with the regression test
// that feeds their committed corpus to the same code in the normal test suite
// (tests/models/test_fuzz_robust.cpp, FuzzCorpus.*).
//
// checkpoint_input: bytes as a checkpoint file, resealed (digest and checksum recomputed, as
// someone holding the directory's key could) so that the decoder and the restore are reached:
// decoded and restored and stepped a day, or refused with CheckpointError or InputError.
// http_input: bytes as what a client sends: each request parsed (pipelined ones too) or
// refused with a status; a complete request consumes some bytes and no more than there are.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/http_server.hpp"
#include "engine/yaml_reader.hpp"
#include "fuzz/harness.hpp"
#include "models/socialcare/checkpoint.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::fuzz {

inline void checkpoint_setup() {
  // a forged scenario may ask for a country: refused by the memory estimate, not run
  ::setenv("CAREMESH_MAX_MEMORY", "268435456", 0);
}

inline void checkpoint_input(std::string_view data) {
  try {
    const care::Checkpoint cp =
        care::Checkpoint::decode(care::Checkpoint::reseal(std::string(data)), "fuzz.bin");
    const care::Scenario sc = cp.scenario();
    care::Simulation sim(sc, cp.spec().seed,
                         care::SimOptions{cp.spec().client_records, cp.spec().target_ticks});
    cp.restore(sim);
    if (sim.tick() < cp.spec().target_ticks) sim.run(1);
  } catch (const care::CheckpointError& e) {
    if (std::string_view(e.what()).empty()) finding("CheckpointError without a message");
  } catch (const InputError& e) {
    check_refusal(e);
  } catch (const std::invalid_argument&) {
    // the Simulation refuses a scenario made in code beyond its limits (documented)
  }
}

inline void http_input(std::string_view data) {
  const http::Limits limits;
  std::string_view rest = data;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    http::Request req;
    const http::ParseResult r = http::parse_request(rest, limits, req);
    if (r.kind == http::ParseResult::incomplete) return;
    if (r.kind == http::ParseResult::error) {
      if (r.status < 400 || r.status > 505 || r.message.empty()) finding("bad refusal");
      return;
    }
    if (r.consumed == 0 || r.consumed > rest.size()) finding("complete request of bad length");
    if (req.body.size() > limits.max_body_bytes) finding("body over the limit accepted");
    if (req.version == "HTTP/1.1" && req.header("host") == nullptr) finding("no Host accepted");
    rest.remove_prefix(r.consumed);
  }
}

}  // namespace cm::fuzz
