// The decision rules of organizations (docs/model.md "Decision rules", MODEL.md §12): each test
// runs the same clients through the same mechanisms with one rule's parameter changed, and
// fails if the rule is removed. Plus the invariants the rules must keep: one action per need
// a day (open cases equal needs in service, every day, every scenario and variant), counters
// that add up, and tie levels that do not flap.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "engine/parallel.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "tests/support/run.hpp"

namespace cm::care {
namespace {

// A town where every client knows only the coordinator A (service s1); clients needing s2 are
// referred to B or C, which offer s2. B has `b_helpers`, C has `c_helpers`. Ties A-B and A-C
// are at `level` and fixed (no dynamics); trust still learns.
std::string referral_town(int level, int b_helpers, int c_helpers, const std::string& extra) {
  return R"(
name: referral-town
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
tie_policy: {initial_level: 0, dynamics: false}
explicit_ties: [{a: A, b: B, level: )" +
         std::to_string(level) + R"(}, {a: A, b: C, level: )" + std::to_string(level) + R"(}]
)" + extra;
}

Simulation run_text(const std::string& text, std::uint64_t seed = 3) {
  return test::run_scenario_text(text, seed);
}

// A service's measure; a mean over no served need (null) counts as never: +infinity.
double by_service(const Simulation& sim, const char* service, const char* what) {
  const nlohmann::ordered_json m = compute_metrics(sim);
  const auto& v = m.at("by_service").at(service).at(what);
  return v.is_null() ? std::numeric_limits<double>::infinity() : v.get<double>();
}

double trust(const Simulation& sim, int a, int b) {
  return sim.ties()[static_cast<std::size_t>(sim.ties().find(a, b))].trust;
}

// Trust losses off: what is left to tell B and C apart is what the referrer can see.
const std::string kNoTrustLearning =
    "ties: {trust_loss: 0, trust_loss_late: 0, trust_loss_dropout: 0, trust_loss_breach: 0}\n";

TEST(Referral, AtRegularMeetingsReferralsMoveToThePartnerWithTheShorterWait) {
  // B has one helper for a demand that needs about five; C has six.
  const Simulation meetings = run_text(referral_town(4, 1, 6, kNoTrustLearning));
  const Simulation blind = run_text(referral_town(3, 1, 6, kNoTrustLearning));
  const auto& m = meetings.organizations();
  const auto& b = blind.organizations();
  // Level 3 knows only the offer: B, first in id order and as trusted as C, keeps its clients.
  EXPECT_GT(b[1].referrals_received, 3 * b[2].referrals_received);
  // Level 4 knows the waits as of the last meeting: most go where the wait is short.
  EXPECT_GT(m[2].referrals_received, 3 * m[1].referrals_received);
  EXPECT_LT(by_service(meetings, "s2", "mean_days_to_first_service"),
            by_service(blind, "s2", "mean_days_to_first_service") / 2);
  // The figures of a meeting are stale until the next one: with meetings a year apart the
  // referrer sees only the empty queues of day 0.
  const Simulation yearly = run_text(
      referral_town(4, 1, 6, kNoTrustLearning + "decisions: {meeting_interval_days: 365}\n"));
  EXPECT_GT(yearly.organizations()[1].referrals_received,
            3 * yearly.organizations()[2].referrals_received);
}

TEST(Referral, TrustOfASlowPartnerFallsBelowAFastOnesAndBreaksTheLockIn) {
  // Level 3: the referrer cannot see waits; it learns from how its clients were treated.
  const Simulation learning = run_text(referral_town(3, 1, 6, ""));
  const Simulation fixed = run_text(referral_town(3, 1, 6, kNoTrustLearning));
  EXPECT_LT(trust(learning, 0, 1), trust(learning, 0, 2));
  const auto& l = learning.organizations();
  EXPECT_GT(l[1].referred_late + l[1].referred_dropouts, 20);
  // Without the feedback B keeps the clients; with it C takes a large share of them.
  const auto& f = fixed.organizations();
  const double share_learning =
      static_cast<double>(l[2].referrals_received) /
      static_cast<double>(l[1].referrals_received + l[2].referrals_received);
  const double share_fixed = static_cast<double>(f[2].referrals_received) /
                             static_cast<double>(f[1].referrals_received + f[2].referrals_received);
  EXPECT_GT(share_learning, 0.3);
  EXPECT_LT(share_fixed, 0.1);
}

TEST(Agreements, ABreachedAgreementIsRecordedCostsTrustAndBringsTheTieDown) {
  // A formal agreement A-B (level 6) promises access within 14 days; B cannot keep it.
  std::string text = referral_town(3, 1, 6, "");
  text.replace(text.find("{a: A, b: B, level: 3}"), 22, "{a: A, b: B, level: 6}");
  text.replace(text.find("dynamics: false"), 15, "dynamics: true");
  const Simulation sim = run_text(text);
  const OrgState& b = sim.organizations()[1];
  EXPECT_GT(b.agreement_referrals, 20);
  EXPECT_GT(b.agreements_breached, 5);
  EXPECT_GE(b.agreements_honoured, 1);
  const std::int32_t ab = sim.ties().find(0, 1);
  EXPECT_LT(sim.ties()[static_cast<std::size_t>(ab)].level, 6);
  bool fell_from_six = false;
  for (const TieChange& c : sim.tie_history())
    fell_from_six = fell_from_six || (c.tie == static_cast<std::uint32_t>(ab) && c.from == 6);
  EXPECT_TRUE(fell_from_six);
  // The same agreement with a partner that can keep it: honoured, no breach, it holds.
  std::string able = text;
  able.replace(able.find("services: [s2], helpers: 1}"), 27, "services: [s2], helpers: 8}");
  const Simulation kept = run_text(able);
  EXPECT_EQ(kept.organizations()[1].agreements_breached, 0);
  EXPECT_GT(kept.organizations()[1].agreements_honoured, 20);
  EXPECT_EQ(kept.ties()[static_cast<std::size_t>(kept.ties().find(0, 1))].level, 6);
}

// One organization offering a heavy non-urgent service listed first and an urgent one listed
// last, with too few helpers for both.
std::string two_queues(const std::string& discipline) {
  return R"(
name: two-queues
horizon_days: 300
warmup_days: 30
follow_up_days: 60
districts: [{name: Town, population: 40000}]
services:
  - {name: heavy, share: 3, mean_days: 40, hours_per_day: 0.5, urgent_share: 0}
  - {name: crisis, share: 1, mean_days: 10, hours_per_day: 0.5, urgent_share: 1}
population:
  annual_incidence: 0.03
  max_needs: 1
  kinds:
    person: {share: 1, mean_extra_needs: 0}
    family: {share: 0}
    community: {share: 0}
  awareness_coordinator: 1
  self_help_rate: 0
helpers: {personal_ties_initial: 0, turnover_per_year: 0, assessment_hours: 1}
organizations:
  - {name: A, sector: public_coordinator, district: Town, services: [heavy, crisis], helpers: 6}
tie_policy: {initial_level: 0, dynamics: false}
decisions: {queue_discipline: )" +
         discipline + "}\n";
}

TEST(QueueDiscipline, AnUrgentServiceListedLastIsServedFirst) {
  const Simulation urgency = run_text(two_queues("urgency_first"));
  const Simulation by_index = run_text(two_queues("by_service"));
  const double crisis_urgency = by_service(urgency, "crisis", "mean_days_to_first_service");
  const double crisis_by_index = by_service(by_index, "crisis", "mean_days_to_first_service");
  EXPECT_LT(crisis_urgency, by_service(urgency, "heavy", "mean_days_to_first_service") / 2);
  EXPECT_LT(crisis_urgency, crisis_by_index / 2);
  EXPECT_GT(by_service(urgency, "crisis", "needs_met_share"),
            by_service(by_index, "crisis", "needs_met_share"));
}

TEST(QueueDiscipline, AnAgreementDoesNotOutrankUrgency) {
  // Priorities as allocate() sets them: an urgent walk-in (2) goes before a non-urgent
  // agreement referral in a reserved slot (1), which goes before a walk-in (0); then days.
  const QueueEntry urgent{2, 10, 5, 0}, agreement{1, 1, 1, 0}, walk_in{0, 0, 0, 0};
  EXPECT_TRUE(urgent < agreement);
  EXPECT_TRUE(agreement < walk_in);
}

TEST(Pooling, APartnerWithABacklogLendsNothing) {
  // A offers s1 with two helpers (its queue overflows); B, tied at level 5, offers s1 and s2
  // and gets every s2 client by referral. With one helper B has a backlog of its own s2
  // clients all year, and lends nothing even though its own s1 queue is empty.
  std::string text = referral_town(5, 1, 1, kNoTrustLearning);
  text.replace(text.find("services: [s1], helpers: 10"), 27, "services: [s1], helpers: 2");
  text.replace(text.find("services: [s2], helpers: 1}"), 27, "services: [s1, s2], helpers: 1}");
  text.replace(text.find("{a: A, b: C, level: 5}"), 22, "{a: A, b: C, level: 0}");
  text.replace(text.find("assessment_hours: 1}"), 20, "assessment_hours: 0.2}");
  const Simulation backlog = run_text(text);
  EXPECT_EQ(backlog.organizations()[1].pooled_out, 0);
  std::string spare = text;
  spare.replace(spare.find("services: [s1, s2], helpers: 1}"), 31,
                "services: [s1, s2], helpers: 20}");
  const Simulation lends = run_text(spare);
  EXPECT_GT(lends.organizations()[1].pooled_out, 50);
}

TEST(Conferences, AConferenceNeedsAPartnerThatOffersAnotherOfTheClientsNeeds) {
  // Multi-need clients (s1 and s2) at A. A level-4 partner C offers s2; B is at level 4 too
  // but offers only s1, which A offers itself: a conference with B would plan nothing.
  std::string text = referral_town(4, 4, 6, "");
  text.replace(text.find("max_needs: 1"), 12, "max_needs: 2");
  text.replace(text.find("mean_extra_needs: 0"), 19, "mean_extra_needs: 3");
  text.replace(text.find("services: [s2], helpers: 4"), 26, "services: [s1], helpers: 4");
  const Simulation with_c = run_text(text);
  std::string only_b = text;
  only_b.replace(only_b.find("{a: A, b: C, level: 4}"), 22, "{a: A, b: C, level: 3}");
  const Simulation without = run_text(only_b);
  EXPECT_GT(with_c.organizations()[0].conferences, 50);
  EXPECT_EQ(without.organizations()[0].conferences, 0);
  // Every organization that takes part gives its hours: C, which receives the needs.
  EXPECT_GT(with_c.organizations()[2].conference_minutes, 0);
  EXPECT_EQ(with_c.organizations()[1].conference_minutes, 0);
}

// Open cases (helpers' caseloads) equal needs in service at the end of every day: no need is
// acted on twice in a day, so no helper keeps a case that is not served.
void expect_cases_match(const Scenario& sc, std::uint64_t seed, int days, const std::string& what) {
  Simulation sim(sc, seed);
  for (int d = 0; d < days && sim.tick() < sc.horizon_days; ++d) {
    with_threads(2, [&] { sim.step(); });
    std::int64_t cases = 0, in_service = 0;
    for (const Helper& h : sim.helpers()) cases += h.cases;
    for (const Client& c : sim.clients())
      for (const Need& n : sim.needs(c)) in_service += n.state == NeedState::in_service;
    ASSERT_EQ(cases, in_service) << what << ", seed " << seed << ", day " << sim.tick() - 1;
  }
}

TEST(Invariants, OpenCasesEqualNeedsInServiceEveryDayInEveryScenarioAndVariant) {
  for (const auto& entry : std::filesystem::directory_iterator(CAREMESH_SCENARIO_DIR)) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string file = entry.path().string();
    const bool country = entry.path().stem() == "poland";
    std::vector<std::string> variants = {""};
    for (const std::string& v : scenario_variants(file)) variants.push_back(v);
    for (const std::string& v : variants) {
      const Scenario sc = load_scenario(file, LoadOptions{v, {}});
      expect_cases_match(sc, 11, country ? 12 : 200, file + " " + v);
    }
  }
}

TEST(Invariants, OpenCasesEqualNeedsInServiceInTheSeedsThatShowedTheDoubleAction) {
  // Warsaw networked, seeds 2 and 4242: a conference referred a need that a partner had
  // queued and started the same day (the helper's case was never released).
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/warsaw.yaml",
                                    LoadOptions{"networked", {}});
  for (std::uint64_t seed : {2u, 4242u}) expect_cases_match(sc, seed, 365, "warsaw networked");
}

TEST(Counters, ReferralsSentAddUpToTheDailyReferralsWithCoordinatedConferences) {
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/warsaw.yaml",
                                    LoadOptions{"networked", {}});
  Simulation sim(sc, 2024);
  with_threads(2, [&] { sim.run(120); });
  std::int64_t daily = 0, sent = 0, conferences = 0;
  for (const TickRecord& r : sim.timeseries()) daily += r.referrals + r.signposts;
  for (const OrgState& o : sim.organizations()) sent += o.referrals_sent;
  for (const NetworkState& n : sim.networks()) conferences += n.conferences;
  EXPECT_GT(conferences, 100);  // coordinators held conferences
  EXPECT_EQ(sent, daily);
}

TEST(TieDynamics, AStableNetworksTieLevelsDoNotOscillateFromReviewToReview) {
  // training-small networked, seed 7, with every member pair tied at the members' level
  // (structure: complete): before hysteresis and staggered reviews 65 ties went 4 -> 3 -> 4
  // every 30 days. (With the lead organization's default hub-and-spoke structure the spokes'
  // informal ties at levels 1-2 still flip as often as a fragmented town's: docs/model.md.)
  const Scenario sc =
      load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml",
                    LoadOptions{"networked", {{"networks[0].structure", "complete"}}});
  Simulation sim(sc, 7);
  with_threads(2, [&] { sim.run(sc.horizon_days); });
  // A reversal: a tie's change undone by its next change within two review periods.
  std::vector<const TieChange*> last(sim.ties().size(), nullptr);
  int reversals = 0;
  std::vector<int> days_changed(static_cast<std::size_t>(sc.horizon_days), 0);
  for (const TieChange& c : sim.tie_history()) {
    const TieChange*& prev = last[c.tie];
    if (prev != nullptr && prev->to == c.from && prev->from == c.to &&
        c.tick - prev->tick <= 2 * sc.ties.review_days)
      ++reversals;
    prev = &c;
    ++days_changed[static_cast<std::size_t>(c.tick)];
  }
  // Measured 2026-12-03: 12 reversals among 66 ties in the year (6 before the coordinator
  // routed referrals between members, which makes joint cases per tie more uneven); 469 with
  // every tie reviewed on one day and no hysteresis. At most one tie in four.
  EXPECT_LE(reversals, static_cast<int>(sim.ties().size()) / 4)
      << reversals << " reversals among " << sim.ties().size() << " ties";
  // Reviews are staggered: no single day carries most of the changes.
  int most = 0, all = 0;
  for (int n : days_changed) {
    most = std::max(most, n);
    all += n;
  }
  ASSERT_GT(all, 10);
  EXPECT_LT(most, all / 3);
}

}  // namespace
}  // namespace cm::care
