// Phase ties: trust and, on review days, level changes; networks' monitoring reports.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "engine/hash.hpp"
#include "engine/parallel.hpp"
#include "models/socialcare/phases/common.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

void phases::phase_ties(const Scenario& sc, ModelState& st, std::vector<TieEvent>& tie_events) {
  std::stable_sort(tie_events.begin(), tie_events.end(),
                   [](const TieEvent& a, const TieEvent& b) { return a.tie < b.tie; });
  const std::size_t n = st.ties.size();
  std::vector<std::size_t> start(n + 1, 0);
  for (const TieEvent& e : tie_events) ++start[e.tie + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  const int period = sc.ties.review_days;
  std::vector<std::int8_t> before(n);
  std::vector<TieChangeReason> why(n);
  std::vector<std::uint8_t> acted(n);
  parallel_for_each(n, [&](std::size_t i) {
    Tie& t = st.ties[i];
    before[i] = t.level;
    const bool review = TieTable::review_due(t, st.tick, period);
    double draw = 1.0;
    if (review) draw = st.streams(kTieReview, i, static_cast<std::uint32_t>(st.tick)).uniform();
    bool signed_act = false;
    why[i] = TieTable::step(t, sc.ties, sc.decisions, tie_events.data() + start[i],
                            start[i + 1] - start[i], review, sc.tie_policy.dynamics, draw, st.tick,
                            signed_act);
    acted[i] = signed_act;
  });
  st.ties_by_level.fill(0);
  for (std::size_t i = 0; i < n; ++i) {
    ++st.ties_by_level[st.ties[i].level];
    if (st.ties[i].level != before[i])
      st.tie_history.push_back(
          {st.tick, static_cast<std::uint32_t>(i), before[i], st.ties[i].level, why[i]});
    // Signing (or renewing) an agreement costs both organizations hours, owed from the next
    // day's intake hours as conference hours are.
    if (acted[i] && sc.ties.agreement_act_hours > 0)
      for (const std::int32_t o : {st.ties[i].a, st.ties[i].b})
        if (st.comm == nullptr || st.owns_org(o))
          st.orgs[o].conference_debt += sc.ties.agreement_act_hours;
  }
  network_monitoring(sc, st, tie_events);
}

namespace {
// The trust a referrer would settle at if it sent the tallied clients itself: the fixed point of
// TieTable::step's updates over that mix of outcomes (gain x (1 - T) per joint case = the
// losses x T per failure), NaN without outcomes.
double taught_trust(const MonitorTally& m, const TieDef& def) {
  const double gain = def.trust_gain * m.joint;
  const double loss = def.trust_loss_late * m.late + def.trust_loss_dropout * m.dropouts +
                      def.trust_loss * m.no_shows + def.trust_loss_breach * m.breaches;
  return gain + loss > 0 ? gain / (gain + loss) : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

// The network's monitoring (docs/model.md "Networks and governance"): the coordinator tallies, for
// each member, what became of the clients other members referred to it; every
// monitoring_interval_days it reports the tallies to all members, at monitoring_hours_per_member
// of its hours per member. Each tie between two members (level >= 1) then moves
// monitoring_weight of the way from its trust toward the trust the two members' records would
// teach (their tallies pooled), so a member learns from the network's experience of a partner,
// not only from its own. Ties and their events are every process's, so every process makes the
// same report; the coordinator's process pays its hours.
void phases::network_monitoring(const Scenario& sc, ModelState& st,
                                const std::vector<TieEvent>& tie_events) {
  if (!st.monitoring) return;
  for (const TieEvent& e : tie_events) {
    if (e.at < 0 || st.monitored_in[e.at].empty()) continue;
    const Tie& t = st.ties[e.tie];
    const std::int32_t from = t.a == e.at ? t.b : t.a;
    for (const auto& [k, place] : st.monitored_in[e.at]) {
      const std::vector<int>& members = sc.networks[k].members;
      if (!std::binary_search(members.begin(), members.end(), from)) continue;
      MonitorTally& m = st.nets[k].tally[place];
      switch (e.kind) {
        case TieEventKind::joint_case:
          ++m.joint;
          break;
        case TieEventKind::late:
          ++m.late;
          break;
        case TieEventKind::dropout:
          ++m.dropouts;
          break;
        case TieEventKind::no_show:
          ++m.no_shows;
          break;
        case TieEventKind::breach:
          ++m.breaches;
          break;
        default:
          break;
      }
    }
  }
  for (std::size_t k = 0; k < st.nets.size(); ++k) {
    NetworkState& net_st = st.nets[k];
    const NetworkDef& def = sc.networks[k];
    if (net_st.tally.empty() || (st.tick + 1) % def.monitoring_interval_days != 0) continue;
    ++net_st.reports;
    if (st.comm == nullptr || st.owns_org(def.coordinator))
      net_st.debt += def.monitoring_hours_per_member * static_cast<double>(def.members.size());
    const auto ticks = static_cast<std::int32_t>(st.tick);
    for (std::size_t i = 0; i < def.members.size(); ++i)
      st.monitoring_rows.push_back({ticks, static_cast<std::int32_t>(k), def.members[i],
                                    net_st.tally[i],
                                    static_cast<float>(taught_trust(net_st.tally[i], sc.ties))});
    if (def.monitoring_weight > 0) {
      for (std::size_t i = 0; i < def.members.size(); ++i)
        for (const auto& [p, ti] : st.ties.of(def.members[i])) {
          if (p <= def.members[i]) continue;  // each pair once, from its lower member
          const auto it = std::lower_bound(def.members.begin(), def.members.end(), p);
          if (it == def.members.end() || *it != p) continue;
          Tie& t = st.ties[ti];
          if (t.level < 1) continue;
          MonitorTally both = net_st.tally[i];
          both += net_st.tally[static_cast<std::size_t>(it - def.members.begin())];
          const double target = taught_trust(both, sc.ties);
          if (std::isnan(target)) continue;
          const double trust = t.trust;
          t.trust = static_cast<float>(
              std::clamp(trust + def.monitoring_weight * (target - trust), 0.0, 1.0));
        }
    }
    std::fill(net_st.tally.begin(), net_st.tally.end(), MonitorTally{});
  }
}

}  // namespace cm::care
