// The registry of measures (models/socialcare/metrics.hpp): it is the single source of names
// and metadata, so what it lists must be what a run reports, in that order, and each measure
// must be defined in docs/metrics.md.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "models/socialcare/metrics.hpp"
#include "tests/support/run.hpp"

namespace cm::care {
namespace {

TEST(Measures, TheRegistryListsWhatARunReportsInOrder) {
  const Simulation sim =
      cm::test::run_scenario(load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/governance.yaml",
                                           {"nao", {{"horizon_days", "200"}}}),
                             5);
  const auto m = compute_metrics(sim);
  std::vector<std::string> reported;
  for (const auto& [name, v] : scalar_metrics(m)) reported.push_back(name);
  EXPECT_EQ(reported, metric_names());
  // The grouped measures are in every breakdown, and only they are.
  std::set<std::string> grouped;
  for (const auto& rep : measures().all())
    if (rep.info.grouped) grouped.insert(rep.info.name);
  EXPECT_GE(grouped.size(), 5u);
  for (const char* breakdown : {"by_district", "by_kind"})
    for (const auto& [group, values] : m[breakdown].items()) {
      std::set<std::string> keys;
      for (const auto& [k, v] : values.items()) keys.insert(k);
      EXPECT_EQ(keys, grouped) << breakdown << " " << group;
    }
}

TEST(Measures, EveryMeasureHasItsMetadataAndIsDefinedInTheDocs) {
  std::ifstream in(std::string(CAREMESH_TEST_DATA) + "/../../docs/metrics.md");
  ASSERT_TRUE(in) << "docs/metrics.md";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::set<std::string> units = {"share", "days",  "count", "hours",
                                       "level", "ratio", "index", "per client"};
  const std::set<std::string> roles = {"outcome", "network", "efficiency", "context"};
  for (const auto& rep : measures().all()) {
    const ReporterInfo& m = rep.info;
    EXPECT_FALSE(m.label.empty()) << m.name;
    EXPECT_TRUE(units.count(m.unit)) << m.name << ": unit " << m.unit;
    EXPECT_TRUE(roles.count(m.role)) << m.name << ": role " << m.role;
    // Documented by name (`name`), as a member of its group, or by its family's pattern.
    std::string documented = m.name;
    if (const auto dot = m.name.find('.'); dot != std::string::npos)
      documented = m.name.substr(dot + 1);
    for (const char* family : {"ties_level_", "density_level_"})
      if (m.name.starts_with(family)) documented = std::string(family) + "L";
    if (m.name.starts_with("delivery_share_")) documented = "delivery_share_SECTOR";
    EXPECT_NE(doc.find("`" + documented + "`"), std::string::npos)
        << m.name << " is not defined in docs/metrics.md";
  }
}

}  // namespace
}  // namespace cm::care
