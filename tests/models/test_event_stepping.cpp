// Event-driven clients against daily stepping (issue 20, docs/model.md "Event-driven clients"):
// the two are meant to be the same random process with different draws, so over independent
// replications every outcome's distribution must agree. The measures are compared by the paired
// t statistic over replications with the same seeds, and the clients' own times (to dropping
// out, to resolution, to the first door, to the first service) by two-sample
// Kolmogorov–Smirnov over all clients (conservative here: the samples share their arrivals).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "tests/support/run.hpp"

namespace cm::care {
namespace {

constexpr std::uint64_t kFirstSeed = 5000;

struct Sample {
  std::vector<std::vector<double>> metrics;  // per metric, per replication
  std::vector<double> dropout_days, first_contact_days, first_service_days, exit_days;
  std::vector<double> active;  // mean active clients per replication
};

const std::vector<std::string> kMetrics = {"complete_package_share",
                                           "needs_met_share",
                                           "dropout_share",
                                           "self_help_share",
                                           "reached_door_share",
                                           "served_share",
                                           "mean_doors_per_client",
                                           "mean_days_to_first_service",
                                           "mean_days_to_first_contact",
                                           "mean_days_to_complete_package"};

Sample sample(Scenario sc, ClientStepping how, int replications) {
  sc.client_stepping = how;
  Sample s;
  s.metrics.resize(kMetrics.size());
  for (int r = 0; r < replications; ++r) {
    const Simulation sim = cm::test::run_scenario(sc, kFirstSeed + r);
    const auto m = compute_metrics(sim);
    for (std::size_t k = 0; k < kMetrics.size(); ++k)
      s.metrics[k].push_back(m.at(kMetrics[k]).is_null() ? 0.0 : m.at(kMetrics[k]).get<double>());
    for (const Client& c : sim.clients()) {
      if (c.outcome == Outcome::dropped) s.dropout_days.push_back(c.exit - c.arrival);
      if (c.outcome == Outcome::resolved) s.exit_days.push_back(c.exit - c.arrival);
      if (c.first_contact >= 0) s.first_contact_days.push_back(c.first_contact - c.arrival);
      if (c.first_service >= 0) s.first_service_days.push_back(c.first_service - c.arrival);
    }
    double active = 0;
    for (const TickRecord& t : sim.timeseries()) active += static_cast<double>(t.active);
    s.active.push_back(active / static_cast<double>(sim.timeseries().size()));
  }
  return s;
}

// The paired t statistic of the replications' differences. Both steppings see the same
// arrivals and traits (common random numbers: the same seeds), so the pairs share much of
// their noise; under the same process the differences have mean zero.
double paired_t(const std::vector<double>& a, const std::vector<double>& b) {
  const auto n = static_cast<double>(a.size());
  double m = 0, v = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m += (a[i] - b[i]) / n;
  for (std::size_t i = 0; i < a.size(); ++i) v += (a[i] - b[i] - m) * (a[i] - b[i] - m) / (n - 1);
  if (v == 0) return m == 0 ? 0.0 : INFINITY;
  return m / std::sqrt(v / n);
}

// The two-sample Kolmogorov–Smirnov distance, and its critical value at level 1e-4
// (c(alpha) = sqrt(-ln(alpha / 2) / 2) = 2.23).
std::pair<double, double> ks(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  double d = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    d = std::max(d, std::abs(static_cast<double>(i) / static_cast<double>(a.size()) -
                             static_cast<double>(j) / static_cast<double>(b.size())));
  }
  const double n = static_cast<double>(a.size()), m = static_cast<double>(b.size());
  return {d, 2.23 * std::sqrt((n + m) / (n * m))};
}

void expect_same_process(const Scenario& sc, const std::string& what, int replications) {
  const Sample daily = sample(sc, ClientStepping::daily, replications);
  const Sample events = sample(sc, ClientStepping::events, replications);
  // A paired |t| above 4.5 on 40 or more pairs: less than 1 in 10^4 by chance per measure.
  for (std::size_t k = 0; k < kMetrics.size(); ++k)
    EXPECT_LT(std::abs(paired_t(daily.metrics[k], events.metrics[k])), 4.5)
        << what << ": " << kMetrics[k];
  EXPECT_LT(std::abs(paired_t(daily.active, events.active)), 4.5)
      << what << ": mean active clients";
  const struct {
    const char* name;
    const std::vector<double>& a;
    const std::vector<double>& b;
  } times[] = {{"days to dropping out", daily.dropout_days, events.dropout_days},
               {"days to resolution", daily.exit_days, events.exit_days},
               {"days to the first door", daily.first_contact_days, events.first_contact_days},
               {"days to the first service", daily.first_service_days, events.first_service_days}};
  for (const auto& t : times) {
    ASSERT_GT(t.a.size(), 100u) << what << ": " << t.name;
    ASSERT_GT(t.b.size(), 100u) << what << ": " << t.name;
    const auto [d, critical] = ks(t.a, t.b);
    EXPECT_LT(d, critical) << what << ": " << t.name << " (" << t.a.size() << " and " << t.b.size()
                           << " clients)";
  }
}

Scenario training(const std::string& variant) {
  return load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml", {variant, {}});
}

// The fragmented town: doors found by search, dropout growing with days and failed contacts,
// self-help, signposting.
TEST(EventStepping, FragmentedTownIsTheSameProcessAsDailyStepping) {
  expect_same_process(training(""), "training-small", 40);
}

// The networked town: warm referrals with their journeys, case conferences, pooled helpers,
// follow-up of no-shows, ties moving along the continuum.
TEST(EventStepping, NetworkedTownIsTheSameProcessAsDailyStepping) {
  expect_same_process(training("networked"), "training-small/networked", 160);
}

// A harsher case for the hazards: dropout that grows fast, searching clients, much self-help;
// 160 pairs, so that a dropout hazard 15% off (tried: t = 3.7 on 40 pairs) fails clearly.
TEST(EventStepping, StrongHazardsAreTheSameProcessAsDailyStepping) {
  LoadOptions opt;
  for (const char* s :
       {"population.dropout_per_day_waiting=0.002", "population.dropout_per_failed_contact=0.05",
        "population.self_help_rate=0.05", "population.search_rate=0.03",
        "population.awareness_coordinator=0.2"})
    opt.sets.push_back(parse_override(s));
  expect_same_process(
      load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml", opt),
      "training-small with strong hazards", 160);
}

}  // namespace
}  // namespace cm::care
