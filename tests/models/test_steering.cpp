// Steering: the DPZM cycle as mechanisms — diagnosis, budget plans, calls, contracts that fund
// helpers and formalize ties, monitoring that feeds the next cycle.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care {
namespace {

std::string training() {
  return std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";
}

LoadOptions steered(const std::string& variant, const std::string& allocation = "by_need",
                    int budget = 12, const std::string& more = "") {
  LoadOptions o;
  o.variant = variant;
  o.sets = {{"steering", "{authorities: [{name: Town council, period_days: 120, budget_helpers: " +
                             std::to_string(budget) + ", allocation: " + allocation +
                             ", nonpublic_lead: false" + more + "}]}"}};
  return o;
}

Simulation run(const LoadOptions& o, int days = 365) {
  Simulation sim(load_scenario(training(), o), 4);
  sim.run(days);
  sim.finish();
  return sim;
}

std::map<std::string, int> count_decisions(const Simulation& sim) {
  std::map<std::string, int> n;
  for (const auto& r : sim.steering_rows()) ++n[r.phase + "/" + r.decision];
  return n;
}

TEST(Steering, RunsTheWholeCycleEveryPeriod) {
  const Simulation sim = run(steered("networked"));
  const auto n = count_decisions(sim);
  // cycles on days 0, 120, 240 and 360; three districts
  EXPECT_EQ(n.at("diagnose/prior_need"), 3);
  EXPECT_EQ(n.at("diagnose/diagnosed_need"), 9);
  EXPECT_EQ(n.at("plan/budget_allocated"), 12);
  EXPECT_EQ(n.at("ensure/call_issued") + n.count("ensure/no_call"), 12);
  EXPECT_GT(n.at("ensure/contract_signed"), 0);
  EXPECT_GT(n.at("ensure/bid"), n.at("ensure/contract_signed"));  // calls are competitive
  EXPECT_EQ(n.at("monitor/compliance"), n.at("monitor/impact_complete_package"));
  EXPECT_GT(n.at("monitor/compliance"), 0);
  // Every cycle's plan spends exactly the budget.
  std::map<int, double> per_cycle;
  for (const auto& r : sim.steering_rows())
    if (r.decision == "budget_allocated") per_cycle[r.cycle] += r.value;
  for (const auto& [cycle, helpers] : per_cycle) EXPECT_EQ(helpers, 12) << "cycle " << cycle;
}

TEST(Steering, ContractsFundHelpersAndFormalizeMemberTies) {
  const Scenario sc =
      load_scenario(training(), steered("networked", "by_need", 12, ", post_filling_days: 0"));
  Simulation with(sc, 4);
  with.run(1);
  Simulation without(load_scenario(training(), steered("networked", "by_need", 0)), 4);
  without.run(1);
  // 12 funded helpers at hours_per_day each
  EXPECT_NEAR(with.timeseries()[0].paid_hours - without.timeseries()[0].paid_hours,
              12 * sc.helpers.hours_per_day, 1e-9);
  int formal = 0;
  for (const auto& a : with.authorities())
    for (const auto& c : a.contracts)
      for (std::uint32_t t : c.ties) {
        EXPECT_GE(with.ties()[t].level, 6);
        ++formal;
      }
  EXPECT_GT(formal, 0);
}

// Mechanism: a newly funded post is vacant — unpaid, no direct hours, no cases — for
// post_filling_days, then its helper starts.
TEST(Steering, NewPostsStandVacantWhileTheyAreFilled) {
  const Scenario sc =
      load_scenario(training(), steered("networked", "by_need", 12, ", post_filling_days: 30"));
  Simulation with(sc, 4);
  Simulation without(load_scenario(training(), steered("networked", "by_need", 0)), 4);
  with.run(31);
  without.run(31);
  for (int t : {0, 15, 29})
    EXPECT_NEAR(with.timeseries()[t].paid_hours, without.timeseries()[t].paid_hours, 1e-9)
        << "day " << t;
  EXPECT_NEAR(with.timeseries()[30].paid_hours - without.timeseries()[30].paid_hours,
              12 * sc.helpers.hours_per_day, 1e-9);
  int funded = 0;
  for (const auto& a : with.authorities())
    for (const auto& c : a.contracts)
      for (std::int32_t s : c.helper_slots) {
        EXPECT_EQ(with.helpers()[s].starts, 30);
        ++funded;
      }
  EXPECT_EQ(funded, 12);
}

// Mechanism: when a member of an ending contract is funded again by the next call, its posts
// carry over with their helpers (filled, with their cases and personal ties); the others' helpers
// finish their cases and take no new ones. steering.csv counts both.
TEST(Steering, AMemberFundedAgainKeepsItsPostsAndHelpers) {
  const Scenario sc =
      load_scenario(training(), steered("networked", "by_need", 12, ", post_filling_days: 30"));
  Simulation sim(sc, 4);
  sim.run(1);
  std::map<std::int32_t, std::uint32_t> first;  // slot -> helper id, cycle 0
  for (const auto& a : sim.authorities())
    for (const auto& c : a.contracts)
      for (std::int32_t s : c.helper_slots) first[s] = sim.helpers()[s].id;
  sim.run(120);  // through the second cycle, on day 120
  int kept = 0, fresh = 0;
  for (const auto& a : sim.authorities())
    for (const auto& c : a.contracts) {
      ASSERT_EQ(c.cycle, 1);
      for (std::int32_t s : c.helper_slots) {
        const Helper& h = sim.helpers()[s];
        EXPECT_FALSE(h.retired);
        if (first.count(s)) {
          ++kept;
          EXPECT_EQ(h.starts, 30);  // filled long ago: no new vacancy
        } else {
          ++fresh;
          EXPECT_EQ(h.starts, 120 + 30);
        }
      }
    }
  double carried = 0, to_fill = 0;
  for (const auto& r : sim.steering_rows())
    if (r.cycle == 1 && r.decision == "posts_carried_over")
      carried += r.value;
    else if (r.cycle == 1 && r.decision == "posts_to_fill")
      to_fill += r.value;
  EXPECT_EQ(carried, kept);
  EXPECT_EQ(to_fill, fresh);
  EXPECT_EQ(kept + fresh, 12);
  EXPECT_GT(kept, 0) << "the training town's consortia keep some members from cycle to cycle";
  // Posts that did not carry over: their helpers retire.
  int retired = 0;
  for (const auto& [slot, id] : first) retired += sim.helpers()[slot].retired;
  EXPECT_EQ(retired, static_cast<int>(first.size()) - kept);
}

TEST(Steering, BudgetFollowsDiagnosedNeedOrPopulation) {
  auto allocated = [](const Simulation& sim) {
    std::map<std::string, double> m;
    for (const auto& r : sim.steering_rows())
      if (r.decision == "budget_allocated" && r.cycle == 0) m[r.district] = r.value;
    return m;
  };
  const auto equal = allocated(run(steered("fragmented", "equal", 12), 1));
  EXPECT_EQ(equal.at("Centre"), 4);
  EXPECT_EQ(equal.at("North"), 4);
  EXPECT_EQ(equal.at("South"), 4);
  const auto by_pop = allocated(run(steered("fragmented", "by_population", 20), 1));
  EXPECT_EQ(by_pop.at("Centre"), 9);  // 9,000 / 20,000 of 20
  EXPECT_EQ(by_pop.at("North"), 6);
  EXPECT_EQ(by_pop.at("South"), 5);
}

TEST(Steering, FundingMoreHelpersServesMoreNeeds) {
  const auto a = compute_metrics(run(steered("fragmented", "by_need", 0)));
  const auto b = compute_metrics(run(steered("fragmented", "by_need", 12)));
  EXPECT_GT(b["needs_met_share"].get<double>(), a["needs_met_share"].get<double>());
}

}  // namespace
}  // namespace cm::care
