// Strict YAML (issue 21): explicit tags refused, control characters refused wherever they
// arrive (quoted escapes, --set values), CR-only files read, underflow reported as such.
#include <gtest/gtest.h>

#include <string>

#include "engine/yaml_reader.hpp"
#include "models/socialcare/scenario_loader.hpp"

namespace {

using cm::Diagnostics;
using cm::Document;

std::string report_of(const std::string& text) {
  Diagnostics d;
  Document doc = Document::load_string(text, "s.yaml", d);
  (void)doc.root();
  return d.report();
}

const std::string kSmall = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";

std::string load_error(const cm::care::LoadOptions& opt) {
  try {
    (void)cm::care::load_scenario(kSmall, opt);
  } catch (const cm::InputError& e) {
    return e.diagnostics().report();
  }
  return "";
}

}  // namespace

// Earlier versions ignored them silently (`!!str 7` read as 7, `!!binary` and
// `!!python/object` as plain text).
TEST(StrictYaml, ExplicitTagsAreRefusedWhereTheyAre) {
  EXPECT_EQ(report_of("a: 1\nb: !!str 7\n"),
            "s.yaml:2:4: b: the YAML tag \"!!str\" is not supported, expected an untagged value "
            "(remove the tag; types come from the key)\n");
  EXPECT_NE(report_of("a: !!binary aGVsbG8=\n").find("s.yaml:1:4: a: the YAML tag \"!!binary\""),
            std::string::npos);
  EXPECT_NE(report_of("a:\n  - !!python/object:os.system x\n")
                .find("s.yaml:2:5: a[0]: the YAML tag \"!!python/object:os.system\""),
            std::string::npos);
  EXPECT_NE(report_of("a: !custom {b: 1}\n").find("the YAML tag \"!custom\""), std::string::npos);
  EXPECT_EQ(report_of("a: '7'\nb: \"x\"\nc: plain\n"), "");  // quoting is not a tag
}

TEST(StrictYaml, ControlCharactersFromEscapesAreRefused) {
  EXPECT_EQ(report_of("name: \"a\\0b\"\n"),
            "s.yaml:1:7: name: control character 0x00 in the value (written as an escape?) is "
            "not allowed, expected printable text\n");
  EXPECT_NE(report_of("k: \"\\x1b[31m\"\n").find("control character 0x1B"), std::string::npos);
  EXPECT_EQ(report_of("k: \"tab\\there\"\nl: |\n  two\n  lines\n"), "");
}

TEST(StrictYaml, ControlCharactersAndTagsInSetValuesAreLocatedOnTheCommandLine) {
  cm::care::LoadOptions opt;
  opt.sets = {{"name", "\"x\\0y\""}};
  EXPECT_NE(load_error(opt).find("--set name=\"x\\0y\":1:1: name: control character 0x00"),
            std::string::npos)
      << load_error(opt);
  opt.sets = {{"seed", "!!str 5"}};
  EXPECT_NE(load_error(opt).find("--set seed=!!str 5:1:1: seed: the YAML tag \"!!str\""),
            std::string::npos)
      << load_error(opt);
}

// A file with CR-only line ends (old Mac) was read as one empty line.
TEST(StrictYaml, CrOnlyLineEndsAreRead) {
  Diagnostics d;
  Document doc = Document::load_string("a: 1\rb: 2\r", "s.yaml", d);
  ASSERT_EQ(d.report(), "");
  EXPECT_EQ(doc.root().integer("b", 0, 0, 10), 2);
  EXPECT_EQ(
      report_of("a: 1\rb: 2\ra: 3\r"),
      "s.yaml:3:1: a: duplicate key \"a\" (first defined at line 1), expected each key once\n");
}

// 1e-400 was "too large".
TEST(StrictYaml, UnderflowIsReportedAsUnderflow) {
  cm::care::LoadOptions opt;
  opt.sets = {{"population.annual_incidence", "1e-400"}};
  const std::string err = load_error(opt);
  EXPECT_NE(err.find("too small: it underflows to zero"), std::string::npos) << err;
  opt.sets = {{"population.annual_incidence", "1e400"}};
  EXPECT_NE(load_error(opt).find("(too large)"), std::string::npos) << load_error(opt);
}

// A variant asked of a scenario that declares none was reported at FILE:0:0; it is the
// command line's --variant that is wrong.
TEST(StrictYaml, AnUnknownVariantOfAScenarioWithoutVariantsIsLocatedOnTheCommandLine) {
  const std::string file = std::string(CAREMESH_SCENARIO_DIR) + "/queue-check.yaml";
  cm::care::LoadOptions opt;
  opt.variant = "nosuch";
  try {
    (void)cm::care::load_scenario(file, opt);
    ADD_FAILURE() << "accepted";
  } catch (const cm::InputError& e) {
    EXPECT_EQ(e.diagnostics().report(),
              "--variant nosuch:1:1: variants: no variant named \"nosuch\" in " + file +
                  ", expected none (the scenario declares no variants)\n");
  }
}
