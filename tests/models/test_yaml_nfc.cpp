// Names compare after Unicode normalization (NFC): "ó" written precomposed (U+00F3) and as "o"
// with a combining acute accent (U+0301) is one name.
#include <gtest/gtest.h>

#include <string>

#include "engine/yaml_reader.hpp"
#include "models/socialcare/scenario_loader.hpp"

namespace cm::care {
namespace {

const std::string kPrecomposed = "Mokot\xC3\xB3w";  // U+00F3
const std::string kDecomposed = "Mokoto\xCC\x81w";  // o + U+0301

std::string city(const std::string& first, const std::string& second, const std::string& home) {
  return "name: nfc\n"
         "districts:\n"
         "  - {name: \"" +
         first + "\", population: 1000}\n" +
         (second.empty() ? "" : "  - {name: \"" + second + "\", population: 1000}\n") +
         "services: [{name: s, share: 1, mean_days: 10, hours_per_day: 0.5}]\n"
         "organizations:\n"
         "  - {name: A, sector: public_coordinator, district: \"" +
         home + "\", services: [s], helpers: 2}\n";
}

TEST(Nfc, TwoSpellingsOfOneDistrictNameAreADuplicateWithALocatedError) {
  try {
    load_scenario_text(city(kPrecomposed, kDecomposed, kPrecomposed), "nfc.yaml");
    FAIL() << "accepted two districts that differ only in Unicode normalization";
  } catch (const cm::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("nfc.yaml:4:"), std::string::npos) << what;
    EXPECT_NE(what.find("defined twice"), std::string::npos) << what;
  }
}

TEST(Nfc, AReferenceSpelledTheOtherWayFindsTheName) {
  const Scenario sc = load_scenario_text(city(kPrecomposed, "", kDecomposed), "nfc.yaml");
  ASSERT_EQ(sc.districts.size(), 1u);
  EXPECT_EQ(sc.districts[0].name, kPrecomposed);
  EXPECT_EQ(sc.organizations[0].district, 0);
}

}  // namespace
}  // namespace cm::care
