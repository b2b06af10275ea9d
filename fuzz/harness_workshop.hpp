// What fuzz_workshop does with one input, shared with the regression test
// (tests/models/test_reliability.cpp, FuzzCorpus.EveryWorkshopRequestIsAnswered): the body of a
// POST /api/compare request, optionally preceded by a line "Content-Type: VALUE", goes to
// handle_compare of a Workshop over a tiny scenario. The contract: every request gets a JSON
// reply with status 200 or a 4xx/503 refusal naming a code; a 500 (an exception the handler
// did not expect), a crash, a hang or running out of memory is a finding.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "models/socialcare/workshop/workshop.hpp"

namespace cm::fuzz {

// A small town run for 40 days: a comparison takes milliseconds.
inline const char* const kWorkshopScenario = R"(name: fuzz-workshop
seed: 3
horizon_days: 40
warmup_days: 5
follow_up_days: 5
districts:
  - {name: Centre, population: 3000}
  - {name: North, population: 2000}
services:
  - {name: social_work, share: 0.6, mean_days: 10, hours_per_day: 0.4}
  - {name: therapy, share: 0.4, mean_days: 8, hours_per_day: 0.3}
population: {annual_incidence: 0.05, max_needs: 2}
organizations:
  - {name: OPS, sector: public_coordinator, district: Centre, serves: all, services: [social_work], helpers: 4}
  - {name: Clinic, sector: public_provider, district: North, serves: all, services: [therapy], helpers: 2}
  - {name: Foundation, sector: nonpublic, district: North, serves: [North], services: [social_work, therapy], helpers: 1}
variants:
  - name: networked
    set:
      tie_policy.initial_level: 3
      networks: [{name: Net, members: all, governance: lead_organization, coordinator: OPS, coordinator_hours_per_day: 2}]
)";

inline const care::workshop::Workshop& fuzz_workshop() {
  static const std::unique_ptr<care::workshop::Workshop> w = [] {
    const auto file = std::filesystem::temp_directory_path() /
                      ("caremesh-fuzz-workshop-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(file) << kWorkshopScenario;
    care::workshop::WorkshopOptions opt;
    opt.replications = 1;
    opt.threads = 1;
    auto made = std::make_unique<care::workshop::Workshop>(file.string(), opt);
    std::filesystem::remove(file);
    return made;
  }();
  return *w;
}

inline void workshop_input(std::string_view data) {
  std::string content_type = "application/json";
  std::string body(data);
  constexpr std::string_view kHeader = "Content-Type: ";
  if (data.substr(0, kHeader.size()) == kHeader) {
    const std::size_t end = data.find('\n');
    content_type = std::string(
        data.substr(kHeader.size(), end == data.npos ? data.npos : end - kHeader.size()));
    body = end == data.npos ? std::string() : std::string(data.substr(end + 1));
  }
  const care::workshop::HttpReply r =
      care::workshop::handle_compare(fuzz_workshop(), body, content_type);
  if (r.status == 500 || (r.status != 200 && (r.status < 400 || r.status > 503))) {
    std::fprintf(stderr, "fuzz finding: status %d: %s\n", r.status, r.body.c_str());
    std::abort();
  }
  const auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    std::fprintf(stderr, "fuzz finding: a reply that is not JSON: %s\n", r.body.c_str());
    std::abort();
  }
  if (r.status != 200 && !(j.is_object() && j.contains("error"))) {
    std::fprintf(stderr, "fuzz finding: a refusal without an error object: %s\n", r.body.c_str());
    std::abort();
  }
}

}  // namespace cm::fuzz
