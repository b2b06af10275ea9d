#include "models/socialcare/ties.hpp"

#include <algorithm>
#include <map>

namespace cm::care {

namespace {
std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  if (a > b) std::swap(a, b);
  return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b);
}
}  // namespace

void TieTable::build(const Scenario& sc) {
  const int n_orgs = static_cast<int>(sc.organizations.size());
  std::vector<std::uint64_t> keys;
  std::vector<std::vector<std::int32_t>> serving(sc.districts.size());
  for (int o = 0; o < n_orgs; ++o)
    for (int d : sc.organizations[o].serves) serving[d].push_back(o);
  if (sc.territory_ties)
    for (const auto& orgs : serving)
      for (std::size_t i = 0; i < orgs.size(); ++i)
        for (std::size_t j = i + 1; j < orgs.size(); ++j)
          keys.push_back(pair_key(orgs[i], orgs[j]));
  for (const auto& [a, b] : sc.tie_pairs) keys.push_back(pair_key(a, b));
  for (const auto& net : sc.networks) {
    for (std::size_t i = 0; i < net.members.size(); ++i)
      for (std::size_t j = i + 1; j < net.members.size(); ++j)
        keys.push_back(pair_key(net.members[i], net.members[j]));
    // A hub that is not a member (an NAO) is tied to every member.
    if (net.structure == TieStructure::hub_and_spoke && net.coordinator >= 0)
      for (int m : net.members)
        if (m != net.coordinator) keys.push_back(pair_key(net.coordinator, m));
  }
  for (const auto& t : sc.explicit_ties) keys.push_back(pair_key(t.a, t.b));
  // Metanetwork agreements tie the members of linked networks across their territories.
  std::map<std::uint64_t, int> meta;
  for (const auto& link : sc.metanetwork)
    for (int x : sc.networks[link.network_a].members)
      for (int y : sc.networks[link.network_b].members)
        if (x != y) {
          keys.push_back(pair_key(x, y));
          int& level = meta[pair_key(x, y)];
          level = std::max(level, link.level);
        }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());

  // What the networks say about each member pair: common membership, formal agreements,
  // and the coordinator's animation.
  // member: the pair starts at the members' level (by the network's structure: every pair,
  // the hub with each member, or only explicit ties); formal: may sign agreements.
  struct PairInfo {
    bool member = false, formal = false;
    float animation = 0;
  };
  std::map<std::uint64_t, PairInfo> info;
  for (const auto& net : sc.networks) {
    const bool coordinated = net.coordinator >= 0;
    for (std::size_t i = 0; i < net.members.size(); ++i)
      for (std::size_t j = i + 1; j < net.members.size(); ++j) {
        const int x = net.members[i], y = net.members[j];
        PairInfo& p = info[pair_key(x, y)];
        const bool hub = x == net.coordinator || y == net.coordinator;
        p.member = p.member || net.structure == TieStructure::complete ||
                   (net.structure == TieStructure::hub_and_spoke && hub);
        p.formal = p.formal || net.formal_agreements;
        if (coordinated) p.animation = std::max(p.animation, static_cast<float>(net.animation));
      }
    if (net.structure == TieStructure::hub_and_spoke && net.coordinator >= 0)
      for (int m : net.members)
        if (m != net.coordinator) info[pair_key(net.coordinator, m)].member = true;
  }

  const TiePolicy& pol = sc.tie_policy;
  const TieDef& def = sc.ties;
  ties_.clear();
  ties_.reserve(keys.size());
  for (std::uint64_t k : keys) {
    Tie t;
    t.a = static_cast<std::int32_t>(k >> 32);
    t.b = static_cast<std::int32_t>(k & 0xffffffffu);
    const auto it = info.find(k);
    const PairInfo p = it == info.end() ? PairInfo{} : it->second;
    t.ceiling = static_cast<std::int8_t>(std::min(pol.max_level, 5));
    t.act_possible = p.formal && pol.max_level >= 6;
    t.level = static_cast<std::int8_t>(p.member ? pol.initial_level_members : pol.initial_level);
    t.floor = static_cast<std::int8_t>(p.member ? pol.min_level_members : 0);
    t.animation = p.animation;
    t.policy_max = static_cast<std::int8_t>(pol.max_level);
    ties_.push_back(t);
  }
  adjacency_.assign(n_orgs, {});
  for (std::uint32_t i = 0; i < ties_.size(); ++i) {
    adjacency_[ties_[i].a].push_back({ties_[i].b, i});
    adjacency_[ties_[i].b].push_back({ties_[i].a, i});
  }
  for (const auto& t : sc.explicit_ties) {
    Tie& tie = ties_[find(t.a, t.b)];
    tie.level = static_cast<std::int8_t>(t.level);
    if (t.level >= 6) {  // a formal agreement is a formal act: it allows and holds the level
      tie.ceiling = static_cast<std::int8_t>(std::max<int>(tie.ceiling, t.level));
      tie.floor = static_cast<std::int8_t>(std::max<int>(tie.floor, t.level));
    }
  }
  for (const auto& [key, level] : meta) {
    Tie& tie = ties_[find(static_cast<std::int32_t>(key >> 32),
                          static_cast<std::int32_t>(key & 0xffffffffu))];
    tie.cross_territory = true;
    tie.level = std::max<std::int8_t>(tie.level, static_cast<std::int8_t>(level));
    tie.floor = std::max<std::int8_t>(tie.floor, static_cast<std::int8_t>(level));
    if (level >= 6)
      tie.ceiling = std::max<std::int8_t>(tie.ceiling, static_cast<std::int8_t>(level));
  }
  for (Tie& t : ties_) {
    t.floor = std::min(t.floor, t.ceiling);
    t.level = std::clamp(t.level, t.floor, t.ceiling);
    // start halfway between this level's trust threshold and the next one's
    const double lo = def.trust_threshold[t.level];
    const double hi = t.level < kMaxLevel ? def.trust_threshold[t.level + 1] : 1.0;
    t.trust = static_cast<float>(t.level == 0 ? 0.0 : 0.5 * (lo + hi));
  }
  for (auto& adj : adjacency_) std::sort(adj.begin(), adj.end());
  // Reviews are staggered: each tie has its own day in the review period, from a hash of its
  // two organizations (stable whatever the other ties), so levels do not all move on one day.
  for (Tie& t : ties_) {
    std::uint64_t x = pair_key(t.a, t.b) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    t.review_offset = static_cast<std::uint16_t>(x % static_cast<std::uint64_t>(def.review_days));
  }
}

std::int32_t TieTable::find(std::int32_t a, std::int32_t b) const {
  const auto& adj = adjacency_[a];
  const auto it =
      std::lower_bound(adj.begin(), adj.end(), std::pair<std::int32_t, std::uint32_t>{b, 0});
  return it != adj.end() && it->first == b ? static_cast<std::int32_t>(it->second) : -1;
}

int TieTable::level(std::int32_t a, std::int32_t b) const {
  const std::int32_t i = find(a, b);
  return i < 0 ? 0 : ties_[i].level;
}

const char* to_string(TieChangeReason r) {
  switch (r) {
    case TieChangeReason::none:
      return "";
    case TieChangeReason::climbed:
      return "climbed";
    case TieChangeReason::fell:
      return "fell";
    case TieChangeReason::breach:
      return "breach";
    case TieChangeReason::animation:
      return "animation";
    case TieChangeReason::contract:
      return "contract";
    case TieChangeReason::agreement_signed:
      return "agreement_signed";
    case TieChangeReason::agreement_lapsed:
      return "agreement_lapsed";
  }
  return "";
}

TieChangeReason TieTable::step(Tie& t, const TieDef& def, const DecisionDef& dec,
                               const TieEvent* events, std::size_t n_events, bool review_day,
                               bool dynamics, double uniform_draw, int tick, bool& signed_act) {
  signed_act = false;
  TieChangeReason reason = TieChangeReason::none;
  double trust = t.trust;
  bool joint_work = false;
  for (std::size_t i = 0; i < n_events; ++i) {
    switch (events[i].kind) {
      case TieEventKind::referred_by_a:
        if (t.referred_by_a < 0xffffffffu) ++t.referred_by_a;
        continue;  // counted: the outcome (joint case, late, dropout) is what teaches trust
      case TieEventKind::referred_by_b:
        if (t.referred_by_b < 0xffffffffu) ++t.referred_by_b;
        continue;
      case TieEventKind::joint_case:
        // The coordinator's animation strengthens the ties of members who share clients.
        trust += def.trust_gain * (1.0 + t.animation) * (1.0 - trust);
        if (t.joint_cases < 0xffff) ++t.joint_cases;
        if (t.joint_total < 0xffffffffu) ++t.joint_total;
        break;
      case TieEventKind::no_show:
        trust -= def.trust_loss * trust;
        if (t.failed_cases < 0xffff) ++t.failed_cases;
        break;
      case TieEventKind::late:
        trust -= def.trust_loss_late * trust;
        break;
      case TieEventKind::dropout:
        trust -= def.trust_loss_dropout * trust;
        if (t.failed_cases < 0xffff) ++t.failed_cases;
        break;
      case TieEventKind::breach:
        trust -= def.trust_loss_breach * trust;
        if (t.breaches < 0xffff) ++t.breaches;
        break;
    }
    joint_work = true;
  }
  trust += def.personal_trust_per_day * t.personal;
  if (!joint_work) trust -= def.trust_decay * trust;
  t.trust = static_cast<float>(std::clamp(trust, 0.0, 1.0));
  if (!review_day) return reason;
  if (dynamics) {
    const int L = t.level;
    // Hours the tie costs its two organizations over a review window at a level, and what its
    // joint cases of the window saved.
    const auto cost = [&](int level) {
      return 2.0 * tie_hours_per_day(def, level) * def.review_days;
    };
    const double benefit = def.benefit_hours_per_joint_case * t.joint_cases;
    if (L >= 6 && t.breaches >= dec.breach_limit) t.suspended = true;
    const bool shortfall = t.trust < def.trust_threshold[L] || benefit < cost(L);
    t.shortfalls = shortfall ? static_cast<std::int8_t>(std::min(t.shortfalls + 1, 100)) : 0;
    // A signed agreement runs its term; at its end it is renewed (a new act) when the tie
    // still pays at its level, else it lapses. A suspended agreement ends at once.
    bool lapsed = false;
    if (t.act && (t.suspended || tick >= t.act_until)) {
      if (!t.suspended && !shortfall) {
        t.act_until = tick + def.agreement_term_days;
        signed_act = true;
      } else {
        t.act = false;
        lapsed = true;
      }
    }
    const int floor = t.effective_floor(), ceiling = t.effective_ceiling();
    const bool qualifies = !shortfall && L < kMaxLevel && t.trust >= def.trust_threshold[L + 1] &&
                           benefit >= cost(L + 1);
    if (L > ceiling && L > floor) {
      t.level = static_cast<std::int8_t>(std::max(ceiling, floor));
      t.shortfalls = 0;
      reason = t.suspended ? TieChangeReason::breach : TieChangeReason::agreement_lapsed;
    } else if (L > floor && L >= 6 && t.suspended) {
      --t.level;  // repeated breach: the agreement no longer holds the tie
      t.shortfalls = 0;
      reason = TieChangeReason::breach;
    } else if (L > floor && t.shortfalls >= def.reviews_to_fall) {
      --t.level;
      t.shortfalls = 0;
      reason = TieChangeReason::fell;
    } else if (qualifies) {
      if (L < ceiling) {
        ++t.level;
        reason = TieChangeReason::climbed;
      } else if (L + 1 == 6 && t.act_possible && !t.act && !t.suspended && !lapsed &&
                 t.policy_max >= 6) {
        // The formal act: the members sign an agreement, which opens levels 6-7 for its term.
        t.act = true;
        t.act_until = tick + def.agreement_term_days;
        if (t.acts < 0xffff) ++t.acts;
        signed_act = true;
        ++t.level;
        reason = TieChangeReason::agreement_signed;
      }
    } else if (L == 0 && ceiling > 0 && uniform_draw < t.animation) {
      t.level = 1;  // the coordinator's animation links an unlinked pair
      t.trust = std::max(t.trust, static_cast<float>(def.trust_threshold[1]));
      reason = TieChangeReason::animation;
    }
    if (signed_act && reason != TieChangeReason::agreement_signed && t.acts < 0xffff) ++t.acts;
  }
  t.joint_cases = 0;
  t.failed_cases = 0;
  t.breaches = 0;
  return reason;
}

}  // namespace cm::care
