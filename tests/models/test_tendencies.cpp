// Tendencies the model should reproduce (MODEL.md §10), as consequences of its mechanisms under
// stated parameters — nothing here is written into the model. Each test compares designs on
// the same residents and needs (common random numbers: the same seed in every design) over
// several replications, and says which mechanism carries the tendency. The referral-leakage
// funnel and Park's density are in test_model_behaviour.cpp.
//
// Provan & Milward's "centralized integration with stable funding beats a dense shared network
// with fragmented funding" is tested in its part that emerges (centralized beats shared under the
// same funding); stable funding adds nothing here (docs/model.md "Tendencies").
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care {
namespace {

constexpr int kReplications = 12;
constexpr std::uint64_t kFirstSeed = 100;

std::string training() {
  return std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";
}

Simulation run(const Scenario& sc, std::uint64_t seed) {
  Simulation sim(sc, seed);
  sim.run(sc.horizon_days);
  sim.finish();
  return sim;
}

bool in_cohort(const Scenario& sc, const Client& c, int ran) {
  return c.arrival >= sc.warmup_days && c.arrival < ran - sc.follow_up_days;
}

// Complete-package share of cohort clients with one need, and with two or more.
struct ByBundle {
  double single = 0, multi = 0;
};
ByBundle complete_by_bundle(const Simulation& sim) {
  double n1 = 0, r1 = 0, n2 = 0, r2 = 0;
  for (const Client& c : sim.clients()) {
    if (!in_cohort(sim.scenario(), c, sim.tick())) continue;
    const bool resolved = c.outcome == Outcome::resolved;
    if (c.n_needs == 1) {
      ++n1;
      r1 += resolved;
    } else {
      ++n2;
      r2 += resolved;
    }
  }
  return {r1 / n1, r2 / n2};
}

double metric(const Simulation& sim, const char* name) {
  return compute_metrics(sim).at(name).get<double>();
}

// Leutz (1999): full integration pays for multi-need clients, not for everyone.
// Mechanism: in the networked design a case conference (level >= 4) plans a multi-need
// client's whole bundle and refers every other need warm at once, so the needs run in parallel
// instead of one search after another; a single-need client gains only the warm referral of a
// need the first door does not offer. Both pay for the network out of the same staff time
// (collaboration hours), so the single-need gain is small.
TEST(Tendencies, LeutzFullIntegrationPaysMoreForMultiNeedClients) {
  const Scenario frag = load_scenario(training(), {"fragmented", {}});
  const Scenario net = load_scenario(training(), {"networked", {}});
  double gain_single = 0, gain_multi = 0;
  int multi_gains_more = 0;
  for (int r = 0; r < kReplications; ++r) {
    const ByBundle a = complete_by_bundle(run(frag, kFirstSeed + r));
    const ByBundle b = complete_by_bundle(run(net, kFirstSeed + r));
    gain_single += (b.single - a.single) / kReplications;
    gain_multi += (b.multi - a.multi) / kReplications;
    multi_gains_more += (b.multi - a.multi) > (b.single - a.single);
  }
  EXPECT_GT(gain_multi, 0.0);
  EXPECT_GT(gain_multi, gain_single + 0.02) << "single " << gain_single << ", multi " << gain_multi;
  EXPECT_GE(multi_gains_more, kReplications * 3 / 4);
}

// Provan & Milward (1995): resources matter only together with integration — an
// interaction, not a main effect. A 2 x 2 design on the same clients: {fragmented, networked}
// x {no contracts, 8 contracted posts}, where capacity binds (helpers paid 5 hours a day, as in
// the Leutz test below). interaction = (networked funded - networked unfunded) - (fragmented
// funded - fragmented unfunded). Measured (40 paired replications, 2026-12-03): the money adds
// +0.032 complete packages fragmented and +0.072 networked, interaction +0.040 ± 0.011 (95%);
// at 4 hours +0.030 ± 0.016. With spare capacity (8 hours) money adds little anywhere (+0.006
// and +0.008, interaction +0.002 ± 0.008), so there it is not tested. Mechanism: contracted
// posts add capacity to queues, but a fragmented system loses clients between doors
// (signposting, repeat assessments, sequential searches) before the capacity reaches them,
// while a network routes them to it (referral by expected wait at level >= 4, conferences).
// Money does not change repeat assessments.
TEST(Tendencies, ProvanMilwardResourcesHelpMoreTogetherWithIntegration) {
  auto steered = [](const std::string& variant, int budget) {
    LoadOptions o;
    o.variant = variant;
    o.sets = {{"steering", "{authorities: [{name: Council, period_days: 365, budget_helpers: " +
                               std::to_string(budget) +
                               ", call_scope: territory, nonpublic_lead: false}]}"},
              {"helpers.hours_per_day", "5"}};
    return load_scenario(training(), o);
  };
  const Scenario frag0 = steered("fragmented", 0), frag8 = steered("fragmented", 8);
  const Scenario net0 = steered("networked", 0), net8 = steered("networked", 8);
  // An interaction is a difference of differences: four times the variance of one contrast, so
  // it takes more replications than the other tendencies to resolve.
  constexpr int kPairs = 40;
  double gain_frag = 0, gain_net = 0;
  std::vector<double> interaction;
  double repeat_funded = 0, repeat_unfunded = 0;
  for (int r = 0; r < kPairs; ++r) {
    const Simulation a = run(frag0, kFirstSeed + r);
    const Simulation b = run(frag8, kFirstSeed + r);
    const double f0 = metric(a, "complete_package_share");
    const double f8 = metric(b, "complete_package_share");
    const double n0 = metric(run(net0, kFirstSeed + r), "complete_package_share");
    const double n8 = metric(run(net8, kFirstSeed + r), "complete_package_share");
    interaction.push_back((n8 - n0) - (f8 - f0));
    gain_frag += (f8 - f0) / kPairs;
    gain_net += (n8 - n0) / kPairs;
    repeat_unfunded += metric(a, "repeat_assessment_share") / kPairs;
    repeat_funded += metric(b, "repeat_assessment_share") / kPairs;
  }
  double mean = 0, var = 0;
  for (double x : interaction) mean += x / kPairs;
  for (double x : interaction) var += (x - mean) * (x - mean) / (kPairs - 1);
  const double half_width = 2.2 * std::sqrt(var / kPairs);  // t(0.975, 11) = 2.20
  EXPECT_GT(mean - half_width, 0.0)
      << "interaction " << mean << " ± " << half_width << "; money: fragmented " << gain_frag
      << ", networked " << gain_net;
  // Money does not stop clients telling their story again at every door.
  EXPECT_NEAR(repeat_funded, repeat_unfunded, 0.02);
}

// Provan & Milward (1995), centralization: on training-small with an 8-post yearly territory
// contract, the lead-organization network (a core agency routing referrals with a live view of
// every member's waits) resolves more complete packages than the dense shared network. Measured
// (20 paired replications, 2026-12-03): +0.014 ± 0.007. The full claim — centralized with stable
// funding against shared with fragmented (quarterly, per-district) funding — gives +0.0035 ±
// 0.0044: its sign, not distinguishable from 0, because stable funding adds nothing here (most
// posts carry over from call to call).
TEST(Tendencies, ProvanMilwardCentralizedIntegrationBeatsADenseSharedNetwork) {
  LoadOptions o;
  o.sets = {{"steering",
             "{authorities: [{name: Council, period_days: 365, budget_helpers: 8, call_scope: "
             "territory, nonpublic_lead: false}]}"}};
  o.variant = "networked";
  const Scenario lead = load_scenario(training(), o);
  o.variant = "networked_no_coordinator";
  const Scenario shared = load_scenario(training(), o);
  constexpr int kPairs = 20;
  std::vector<double> d;
  for (int r = 0; r < kPairs; ++r) {
    const auto seed = 7 + static_cast<std::uint64_t>(r);
    d.push_back(metric(run(lead, seed), "complete_package_share") -
                metric(run(shared, seed), "complete_package_share"));
  }
  double mean = 0, var = 0;
  for (double x : d) mean += x / kPairs;
  for (double x : d) var += (x - mean) * (x - mean) / (kPairs - 1);
  const double half_width = 2.093 * std::sqrt(var / kPairs);  // t(0.975, 19)
  EXPECT_GT(mean - half_width, 0.0) << "lead - shared " << mean << " ± " << half_width;
}

// Leutz where capacity binds: helpers paid 5 hours a day instead of 8 (utilization ~0.62
// instead of ~0.44). Measured (12 paired replications, 2026-12-03): the networked design's
// gain in complete packages is +0.016 for multi-need clients and -0.014 for single-need ones
// (at 8 hours: +0.107 and +0.048). Mechanism: the network's collaboration hours and conferences
// come out of the same staff; when the queues are full, single-need clients pay for the
// integration that multi-need clients use — "all of the services for some of the people".
TEST(Tendencies, LeutzWhereCapacityBindsIntegrationPaysOnlyForMultiNeedClients) {
  const Scenario frag = load_scenario(training(), {"fragmented", {{"helpers.hours_per_day", "5"}}});
  const Scenario net = load_scenario(training(), {"networked", {{"helpers.hours_per_day", "5"}}});
  double gain_single = 0, gain_multi = 0;
  int multi_gains_more = 0;
  for (int r = 0; r < kReplications; ++r) {
    const ByBundle a = complete_by_bundle(run(frag, kFirstSeed + r));
    const ByBundle b = complete_by_bundle(run(net, kFirstSeed + r));
    gain_single += (b.single - a.single) / kReplications;
    gain_multi += (b.multi - a.multi) / kReplications;
    multi_gains_more += (b.multi - a.multi) > (b.single - a.single);
  }
  EXPECT_GT(gain_multi, gain_single + 0.02) << "single " << gain_single << ", multi " << gain_multi;
  EXPECT_LT(gain_single, 0.01);  // with spare capacity it is about +0.05
  EXPECT_GE(multi_gains_more, kReplications * 2 / 3);
}

// A town whose coordinated network grows with its population: staff per 10,000 residents stay
// the same, the coordinator's hours do not.
std::string growing_town(int population, double coordinator_hours) {
  return R"(
name: growing-town
horizon_days: 365
warmup_days: 60
follow_up_days: 60
districts: [{name: Town, population: )" +
         std::to_string(population) + R"(}]
services:
  - {name: social_work, share: 0.4, mean_days: 60, hours_per_day: 0.35, urgent_share: 0.1}
  - {name: care, share: 0.2, mean_days: 90, hours_per_day: 0.6, urgent_share: 0.1}
  - {name: therapy, share: 0.2, mean_days: 45, hours_per_day: 0.3, urgent_share: 0.05}
  - {name: activation, share: 0.2, mean_days: 60, hours_per_day: 0.25, urgent_share: 0}
population:
  annual_incidence: 0.034
  max_needs: 4
  kinds:
    person: {share: 1, mean_extra_needs: 1.0}
    family: {share: 0}
    community: {share: 0}
organizations:
  - {name: OPS, sector: public_coordinator, district: Town, services: [social_work],
     helpers_per_10k: 5}
  - {name: Care, sector: public_provider, district: Town, services: [care], helpers_per_10k: 4}
  - {name: Clinic, sector: public_provider, district: Town, services: [therapy],
     helpers_per_10k: 2}
  - {name: Club, sector: nonpublic, district: Town, services: [activation], helpers_per_10k: 2}
tie_policy: {initial_level: 1, initial_level_members: 4, min_level_members: 4, max_level: 4,
             dynamics: false}
networks:
  - {name: Town network, members: all, governance: lead_organization, coordinator: OPS,
     coordinator_hours_per_day: )" +
         std::to_string(coordinator_hours) + R"(}
)";
}

// Bitterman & Koliba (2020): too few staff in central actors creates a bottleneck.
// Mechanism: a coordinator holds case conferences first come, first served, within
// coordinator_hours_per_day (conference_hours each), paid out of its own staff; clients waiting
// for one have their other needs on hold and keep their dropout hazard. With the hours fixed,
// a network serving four times the residents keeps far more clients waiting for a conference,
// and resolves fewer complete packages than the same network whose coordinator hours grew with
// it (same staff per 10,000 residents in both; the extra hours come out of the coordinator's
// staff, so they are not free).
// Provan & Kenis (2008): shared governance suits small networks, a lead organization or an NAO
// larger ones. Here the same four members serve a town of 10,000 and one of 40,000 residents
// (staff per resident the same). With the coordinator's hours fixed (3 h a day), the lead
// organization falls further behind the shared network as the caseload grows: routing and
// conferences of four times the clients wait for the same hours. With the hours growing with
// the caseload it keeps up. So the fact does not emerge as stated: what the model needs for it
// is coordinator hours that grow with the network (the size Provan & Kenis mean is the number
// of members, which is fixed here). Measured (12 paired replications, 2026-12-03): lead minus
// shared complete-package share -0.011 at 10,000 residents, -0.230 at 40,000 with the same
// hours, +0.005 at 40,000 with four times the hours.
TEST(Tendencies, ProvanKenisALeadOrganizationKeepsUpWithSizeOnlyIfItsHoursGrow) {
  constexpr int kSmall = 10000, kLarge = 40000;
  auto shared = [](int population) {
    std::string text = growing_town(population, 3.0);
    const std::string lead = "governance: lead_organization, coordinator: OPS,";
    const auto at = text.find(lead);
    const auto end = text.find('}', at);
    text.replace(at, end - at, "governance: shared");
    return load_scenario_text(text, "town.yaml");
  };
  const Scenario shared_small = shared(kSmall), shared_large = shared(kLarge);
  const Scenario lead_small = load_scenario_text(growing_town(kSmall, 3.0), "town.yaml");
  const Scenario lead_large = load_scenario_text(growing_town(kLarge, 3.0), "town.yaml");
  const Scenario lead_scaled =
      load_scenario_text(growing_town(kLarge, 3.0 * kLarge / kSmall), "town.yaml");
  double gap_small = 0, gap_large = 0, gap_scaled = 0;
  for (int r = 0; r < kReplications; ++r) {
    const auto seed = kFirstSeed + r;
    const double ss = metric(run(shared_small, seed), "complete_package_share");
    const double sl = metric(run(shared_large, seed), "complete_package_share");
    gap_small += (metric(run(lead_small, seed), "complete_package_share") - ss) / kReplications;
    gap_large += (metric(run(lead_large, seed), "complete_package_share") - sl) / kReplications;
    gap_scaled += (metric(run(lead_scaled, seed), "complete_package_share") - sl) / kReplications;
  }
  EXPECT_LT(gap_large, gap_small) << "lead - shared: small " << gap_small << ", large " << gap_large
                                  << ", large with hours x4 " << gap_scaled;
  EXPECT_GT(gap_scaled, gap_large + 0.01);
}

TEST(Tendencies, CoordinatorHoursBecomeABottleneckAsTheNetworkGrows) {
  constexpr double kHoursPer10k = 3.0;  // 2 conferences a day per 10,000 residents
  constexpr int kSmall = 10000, kLarge = 40000;
  auto mean_waiting = [](const Simulation& sim) {
    double waiting = 0;
    for (const TickRecord& t : sim.timeseries())
      waiting += static_cast<double>(t.conferences_waiting);
    return waiting / static_cast<double>(sim.timeseries().size());
  };
  const Scenario small = load_scenario_text(growing_town(kSmall, kHoursPer10k), "town.yaml");
  const Scenario large_fixed = load_scenario_text(growing_town(kLarge, kHoursPer10k), "town.yaml");
  const Scenario large_scaled =
      load_scenario_text(growing_town(kLarge, kHoursPer10k * kLarge / kSmall), "town.yaml");
  double waiting_small = 0, waiting_large = 0, loss = 0, days_fixed = 0, days_scaled = 0;
  // The days to a complete package differ by ~1.5 days between the fixed and scaled hours,
  // against a spread of ~0.8 days between means of 12 replications (measured on 5 blocks of 12
  // seeds, daily and event-driven stepping): 36 replications tell them apart.
  constexpr int kReplications = 36;
  for (int r = 0; r < kReplications; ++r) {
    const Simulation a = run(small, kFirstSeed + r);
    const Simulation b = run(large_fixed, kFirstSeed + r);
    const Simulation c = run(large_scaled, kFirstSeed + r);
    waiting_small += mean_waiting(a) / kReplications;
    waiting_large += mean_waiting(b) / kReplications;
    loss +=
        (metric(c, "complete_package_share") - metric(b, "complete_package_share")) / kReplications;
    days_fixed += metric(b, "mean_days_to_complete_package") / kReplications;
    days_scaled += metric(c, "mean_days_to_complete_package") / kReplications;
  }
  EXPECT_GT(waiting_large, 10 * (waiting_small + 0.1))
      << "small " << waiting_small << ", large " << waiting_large;
  EXPECT_GT(loss, 0.01);
  EXPECT_GT(days_fixed, days_scaled);
}

}  // namespace
}  // namespace cm::care
