// Governance, coordination, formal acts and funding as mechanisms (docs/model.md "Networks and
// governance", "Strategic steering"): each test changes one lever on the same clients and fails
// if the mechanism behind it is removed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/parallel.hpp"
#include "engine/yaml_reader.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "tests/support/run.hpp"

namespace cm::care {
namespace {

std::string scenario(const char* name) {
  return std::string(CAREMESH_SCENARIO_DIR) + "/" + name;
}

Simulation run(const Scenario& sc, std::uint64_t seed, int days = -1) {
  return test::run_scenario(sc, seed, days);
}

double metric(const Simulation& sim, const std::string& path) {
  const nlohmann::ordered_json m = compute_metrics(sim);
  const auto dot = path.find('.');
  const auto& v =
      dot == std::string::npos ? m.at(path) : m.at(path.substr(0, dot)).at(path.substr(dot + 1));
  return v.is_null() ? -1.0 : v.get<double>();
}

// A town of A (coordinator, s1) and B, C (s2): clients know only A and are referred on.
std::string town(const std::string& network, int b_helpers = 4, int c_helpers = 4,
                 int tie_level = 1) {
  return R"(
name: town
horizon_days: 300
warmup_days: 30
follow_up_days: 60
districts: [{name: Town, population: 40000}]
services:
  - {name: s1, share: 1, mean_days: 20, hours_per_day: 0.5, urgent_share: 0}
  - {name: s2, share: 1, mean_days: 20, hours_per_day: 0.5, urgent_share: 0}
population:
  annual_incidence: 0.03
  max_needs: 1
  kinds:
    person: {share: 1, mean_extra_needs: 0}
    family: {share: 0}
    community: {share: 0}
  awareness_coordinator: 1
  awareness_other: 0
  self_help_rate: 0
helpers: {personal_ties_initial: 0, turnover_per_year: 0, personal_tie_per_meeting_day: 0,
          assessment_hours: 1}
organizations:
  - {name: A, sector: public_coordinator, district: Town, services: [s1], helpers: 10}
  - {name: B, sector: nonpublic, district: Town, services: [s2], helpers: )" +
         std::to_string(b_helpers) + R"(}
  - {name: C, sector: nonpublic, district: Town, services: [s2], helpers: )" +
         std::to_string(c_helpers) + R"(}
  - {name: D, sector: nonpublic, district: Town, services: [s2], helpers: 4}
ties: {trust_loss: 0, trust_loss_late: 0, trust_loss_dropout: 0, trust_loss_breach: 0}
tie_policy: {initial_level: )" +
         std::to_string(tie_level) + R"(, initial_level_members: )" + std::to_string(tie_level) +
         R"(, dynamics: false}
)" + network;
}

Simulation run_text(const std::string& text, std::uint64_t seed = 3) {
  return test::run_scenario_text(text, seed);
}

TEST(SharedGovernance, EachMembersOverheadGrowsWithTheNumberOfMembers) {
  const auto hours = [](const std::string& members) {
    const Scenario sc = load_scenario_text(
        town("networks: [{name: N, members: [" + members + "], governance: shared}]\n"), "t.yaml");
    Simulation sim(sc, 1);
    return sim.organizations()[0].coordination_hours;
  };
  const double three = hours("A, B, C"), four = hours("A, B, C, D");
  EXPECT_NEAR(three, 0.5 * 2 / 7.0, 1e-9);  // 0.5 h a week for each other member
  EXPECT_NEAR(four, 0.5 * 3 / 7.0, 1e-9);
  EXPECT_GT(four, three);
}

// The coordinator of a lead-organization network sees every member's live waits and routes
// referrals there; without routing the referrer (at level 3, seeing no waits) spreads clients
// by trust alone and sends as many to the understaffed partner.
TEST(LeadOrganization, RoutingByTheCoordinatorShortensWaits) {
  const auto days = [](bool routing) {
    const std::string net =
        "networks: [{name: N, members: [A, B, C], governance: lead_organization, coordinator: "
        "A, coordinator_hours_per_day: 8, coordinator_routing: " +
        std::string(routing ? "true" : "false") + "}]\n";
    const Simulation sim = run_text(town(net, 1, 12, 3));
    const nlohmann::ordered_json m = compute_metrics(sim);
    return m.at("by_service").at("s2").at("mean_days_to_first_service").get<double>();
  };
  const double routed = days(true), blind = days(false);
  EXPECT_LT(routed, 0.7 * blind) << "routed " << routed << " days, blind " << blind;
}

// The NAO follows up referrals that failed (signposted clients who did not arrive): more of
// them reach the partner.
TEST(Nao, FollowUpRaisesReferralCompletion) {
  const auto completion = [](bool follow_up) {
    const std::string net =
        "networks: [{name: N, members: [A, B, C], governance: nao, "
        "coordinator: A, coordinator_hours_per_day: 8, coordinator_routing: false, follow_up: " +
        std::string(follow_up ? "true" : "false") + "}]\n";
    const Simulation sim = run_text(town(net, 4, 4, 1));
    return std::pair{metric(sim, "referral_completion_share"),
                     static_cast<double>(sim.networks()[0].follow_ups)};
  };
  const auto [with, followed] = completion(true);
  const auto [without, none] = completion(false);
  EXPECT_GT(followed, 0);
  EXPECT_EQ(none, 0);
  EXPECT_GT(with, without + 0.05) << "with " << with << ", without " << without;
}

// The NAO's monitoring: a monthly report on how each member treated the clients other members
// referred to it. B and C receive A's clients but never refer to each other; their tie learns
// nothing of its own and only decays, unless the report tells each how the other treated A's
// clients. With the scenario's trust losses restored, understaffed partners (one helper each:
// clients wait past the standard) are reported as such and trusted less than well-staffed ones.
std::string monitored_town(bool monitoring, int helpers) {
  std::string text = town(
      "networks: [{name: N, members: [A, B, C], governance: nao, coordinator: A, "
      "coordinator_hours_per_day: 8, coordinator_routing: false, follow_up: false, monitoring: " +
          std::string(monitoring ? "true" : "false") + "}]\n",
      helpers, helpers, 1);
  const std::string losses =
      "ties: {trust_loss: 0, trust_loss_late: 0, trust_loss_dropout: 0, trust_loss_breach: 0}";
  text.replace(text.find(losses), losses.size(), "ties: {}");
  return text;
}

float tie_trust(const Simulation& sim, int a, int b) {
  return sim.ties()[static_cast<std::size_t>(sim.ties().find(a, b))].trust;
}

TEST(Nao, MonitoringTellsMembersHowEachPartnerTreatedTheNetworksClients) {
  const Simulation off = run_text(monitored_town(false, 4));
  const Simulation good = run_text(monitored_town(true, 4));
  const Simulation poor = run_text(monitored_town(true, 1));
  EXPECT_EQ(off.networks()[0].reports, 0);
  EXPECT_TRUE(off.monitoring_rows().empty());
  EXPECT_EQ(good.networks()[0].reports, 10);  // every 30 days of 300
  // Without the report the B-C tie (no referrals of its own) only decays from its start.
  EXPECT_LT(tie_trust(off, 1, 2), 0.1f);
  EXPECT_GT(tie_trust(good, 1, 2), tie_trust(off, 1, 2) + 0.3f);
  EXPECT_LT(tie_trust(poor, 1, 2), tie_trust(good, 1, 2) - 0.2f)
      << "poor " << tie_trust(poor, 1, 2) << ", good " << tie_trust(good, 1, 2);
  // The report counts exactly what the A-B tie saw: every referral to B comes from A.
  std::uint64_t joint = 0, late = 0;
  for (const MonitorRow& r : poor.monitoring_rows())
    if (r.org == 1) {
      joint += r.tally.joint;
      late += r.tally.late;
    }
  EXPECT_EQ(joint, poor.ties()[static_cast<std::size_t>(poor.ties().find(0, 1))].joint_total);
  EXPECT_GT(late, 0u);
  EXPECT_EQ(metric(good, "network_evaluation.monitoring_reports"), 10.0);
}

TEST(Nao, MonitoringIsTheNaosByDefaultAndNeedsACoordinator) {
  const auto monitors = [](const std::string& net) {
    return load_scenario_text(town("networks: [" + net + "]\n"), "t.yaml").networks[0].monitoring;
  };
  EXPECT_TRUE(monitors("{name: N, members: [A, B], governance: nao, coordinator: A}"));
  EXPECT_FALSE(
      monitors("{name: N, members: [A, B], governance: lead_organization, coordinator: A}"));
  EXPECT_TRUE(
      monitors("{name: N, members: [A, B], governance: lead_organization, coordinator: A, "
               "monitoring: true}"));
  try {
    monitors("{name: N, members: [A, B], governance: shared, monitoring: true}");
    FAIL() << "a shared network ran monitoring";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.yaml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("monitoring"), std::string::npos) << e.what();
  }
}

TEST(Animation, StrengthensTheTiesOfMembersWhoShareClients) {
  const auto trust = [](double animation) {
    LoadOptions o;
    o.variant = "networked";
    o.sets = {{"networks[0].animation", std::to_string(animation)}};
    const Scenario sc = load_scenario(scenario("training-small.yaml"), o);
    const Simulation sim = run(sc, 7);
    return std::pair{metric(sim, "network_evaluation.mean_trust"), sim.state_hash()};
  };
  const auto [none, h0] = trust(0.0);
  const auto [full, h1] = trust(1.0);
  EXPECT_NE(h0, h1);
  EXPECT_GT(full, none);
}

// Levels 6-7 are reached only through a recorded act: a signed agreement (a network with
// formal_agreements), a contract, or one the scenario gives. Without the permission no tie of
// a network passes 5.
TEST(FormalActs, TheFormalLevelsAreReachedOnlyThroughARecordedAct) {
  const auto town_with = [](bool formal) {
    std::string text = town(
        "networks: [{name: N, members: [A, B, C, D], governance: shared, "
        "formal_agreements: " +
            std::string(formal ? "true" : "false") + "}]\n",
        8, 8, 3);
    const std::string key = "dynamics: false";
    text.replace(text.find(key), key.size(), "dynamics: true, max_level: 7");
    text += "horizon_days: 720\n";
    text.replace(text.find("horizon_days: 300\n"), 18, "");
    return run_text(text);
  };
  const Simulation sim = town_with(true);
  int signed_acts = 0;
  for (const TieChange& c : sim.tie_history()) {
    if (c.from <= 5 && c.to >= 6) {
      EXPECT_EQ(c.reason, TieChangeReason::agreement_signed)
          << "tie " << c.tie << " rose to " << int(c.to) << " on day " << c.tick;
    }
    signed_acts += c.reason == TieChangeReason::agreement_signed;
  }
  EXPECT_GT(signed_acts, 0);
  int acts = 0;
  for (const Tie& t : sim.ties().all()) acts += t.acts;
  EXPECT_GE(acts, signed_acts);  // renewals are acts too
  const Simulation plain = town_with(false);
  for (const Tie& t : plain.ties().all()) EXPECT_LE(t.level, 5);
  for (const TieChange& c : plain.tie_history())
    EXPECT_NE(c.reason, TieChangeReason::agreement_signed);
}

TEST(Structure, AHubAndSpokeNetworkIsCentralizedAndACompleteOneIsNot) {
  const auto central = [](const char* structure) {
    std::string text = town(std::string("networks: [{name: N, members: [A, B, C, D], governance: "
                                        "lead_organization, coordinator: A, "
                                        "coordinator_hours_per_day: 8, structure: ") +
                                structure + "}]\n",
                            4, 4, 0);
    const std::string key = "initial_level_members: 0";
    text.replace(text.find(key), key.size(), "initial_level_members: 4");
    const Scenario sc = load_scenario_text(text, "t.yaml");
    Simulation sim(sc, 1);
    with_threads(1, [&] { sim.run(1); });
    sim.finish();
    return metric(sim, "degree_centralization");
  };
  EXPECT_NEAR(central("hub_and_spoke"), 1.0, 1e-9);  // a star
  EXPECT_NEAR(central("complete"), 0.0, 1e-9);
}

// With fixed posts every variant funds the same organizations with the same posts.
TEST(Funding, FixedPostsGiveEveryVariantTheSameStaff) {
  const auto staff = [](const char* variant) {
    LoadOptions o;
    o.variant = variant;
    o.sets = {
        {"steering.authorities[0].fixed_posts",
         "[{organization: Family Foundation, helpers: 2}, {organization: OPS Town, helpers: 1}]"}};
    const Scenario sc = load_scenario(scenario("training-steering.yaml"), o);
    const Simulation sim = run(sc, 5);
    std::vector<int> per_org(sc.organizations.size(), 0);
    for (const Helper& h : sim.helpers())
      if (!h.retired) ++per_org[static_cast<std::size_t>(h.org)];
    return per_org;
  };
  const std::vector<int> frag = staff("fragmented"), net = staff("networked");
  EXPECT_EQ(frag, net);
}

// Gap funding: posts go where the diagnosed demand exceeds the inventory of capacity, so a
// service with spare capacity (social work at the OPS) gets fewer posts than when posts follow
// the gross demand.
TEST(Funding, GapFundingPutsPostsWhereDemandExceedsCapacity) {
  const auto ops_posts = [](const char* funding) {
    LoadOptions o;
    o.variant = "fragmented";
    o.sets = {{"steering.authorities[0].funding", funding}};
    const Scenario sc = load_scenario(scenario("warsaw.yaml"), o);
    const Simulation sim = run(sc, 2024, 1);
    std::size_t posts = 0;
    for (std::size_t i = 0; i < sc.organizations.size(); ++i)
      if (sc.organizations[i].sector == Sector::public_coordinator)
        posts += sim.organizations()[i].contract_staff.size();
    return posts;
  };
  const std::size_t gap = ops_posts("gap"), demand = ops_posts("demand");
  EXPECT_LT(gap, demand) << "gap " << gap << ", demand " << demand;
}

}  // namespace
}  // namespace cm::care
