// Phase record: the day's counts for the time series; the clients who left today.

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
#include "models/socialcare/phases/exchange.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

void phases::phase_record(const Scenario& sc, ModelState& st, TickRecord& rec) {
  // rec.needs: counted in phase_clients (kept as clients change, event-driven) and kept up to
  // date by phase_apply.
  // Waiting lists per district, for the authorities' map of problems: only on the days a
  // diagnosis will read (diagnosis_delay_days + 1 before a planning day); empty otherwise.
  bool diagnosed_later = false;
  for (const AuthorityDef& a : sc.authorities) {
    const int day = st.tick + 1 + a.diagnosis_delay_days;
    diagnosed_later = diagnosed_later ||
                      (day >= a.first_cycle_day && (day - a.first_cycle_day) % a.period_days == 0);
  }
  if (!sc.authorities.empty() && !diagnosed_later) st.district_waiting.emplace_back();
  if (diagnosed_later) {
    // Integer counts per chunk of active clients, added up: the same at any thread count.
    using Counts = std::vector<std::int32_t>;
    const std::vector<Counts> parts = parallel_collect_chunks<Counts>(
        st.active.size(),
        [&](std::size_t begin, std::size_t end, std::vector<Counts>& out) {
          Counts acc(sc.districts.size(), 0);
          for (std::size_t i = begin; i != end; ++i) {
            const Client& c = st.clients[st.active[i]];
            for (int k = 0; k < c.n_needs; ++k)
              acc[c.district] += st.needs_of(c)[k].state == NeedState::waiting ||
                                 st.needs_of(c)[k].state == NeedState::intake;
          }
          out.push_back(std::move(acc));
        },
        16384);
    Counts total(sc.districts.size(), 0);
    for (const Counts& p : parts)
      for (std::size_t d = 0; d < p.size(); ++d) total[d] += p[d];
    st.district_waiting.push_back(std::move(total));
    st.district_waiting.back().resize(sc.districts.size(), 0);
  }
  rec.active = static_cast<std::int64_t>(st.active.size());
  for (const OrgState& o : st.orgs) {
    for (const auto& q : o.queues) rec.queue_length += static_cast<std::int64_t>(q.size());
    rec.collaboration_hours += o.collaboration_hours + o.coordination_hours;
    rec.paid_hours += o.paid_hours;
  }
  for (const Helper& h : st.staff.helpers) {
    rec.direct_hours_used += h.load_hours;
    rec.direct_hours_capacity += h.capacity_hours;
  }
  rec.ties_by_level = st.ties_by_level;  // counted by phase_ties, the day's last to change levels
}

bool phases::in_cohort(const Scenario& sc, const ModelState& st, const Client& c) {
  const int ran = st.keep_records ? st.tick : st.planned_ticks;
  return c.arrival >= sc.warmup_days && c.arrival < ran - sc.follow_up_days;
}

void phases::retire_exited(const Scenario& sc, ModelState& st, DayExchange& ex) {
  if (st.keep_records && st.notes.empty()) {  // nothing to note, nothing to fold
    st.exited.clear();
    return;
  }
  std::vector<std::pair<std::uint32_t, ClientNote>> exits;  // partitioned, with authorities
  for (std::size_t i = 0; i < st.exited.size(); ++i) {
    if (i + kPrefetchAhead < st.exited.size()) st.prefetch_record(st.exited[i + kPrefetchAhead]);
    if (i + kPrefetchAhead / 2 < st.exited.size())
      st.prefetch_needs(st.clients[st.exited[i + kPrefetchAhead / 2]]);
    const Client& c = st.clients[st.exited[i]];
    if (!st.notes.empty()) {
      st.notes[c.id].outcome = c.outcome;
      st.notes[c.id].exit = c.exit;
      if (st.comm != nullptr) exits.emplace_back(c.id, st.notes[c.id]);
    }
    if (!st.keep_records) st.ledger.add(c, st.needs_of(c), sc, in_cohort(sc, st, c));
  }
  st.exited.clear();
  if (!sc.authorities.empty()) ex.notes(sc, st, exits, false);
  // Without client records: once records of clients who left (folded) make up a sixteenth of
  // the active ones (at least 1,024), the active ones and their needs move to the front, in id
  // order (the records after the first that left move: each squeeze moves about all of them,
  // so a client's record is copied about 16 times per turnover of the active clients; clients
  // leave at every age, so the first hole is near the front), and every list naming a client is
  // renumbered.
  const std::size_t n = st.active.size();
  if (st.keep_records || st.clients.size() - n <= std::max<std::size_t>(n / 16, 1024)) return;
  // Lists naming a client first: a slot's new number is its position in st.active (a table
  // over the old slots, built in one pass: each list entry is then one look-up).
  std::vector<std::uint32_t> to(st.clients.size(), kGone);
  for (std::size_t i = 0; i < n; ++i) to[st.active[i]] = static_cast<std::uint32_t>(i);
  const auto renumber = [&](auto& list) {
    for (auto& e : list) {
      if (!local_slot(e.slot)) continue;  // folded, or another process's client
      e.slot = e.slot < to.size() ? to[e.slot] : kGone;
    }
  };
  for (OrgState& o : st.orgs) {
    renumber(o.intake);
    for (auto& q : o.queues) renumber(q);
  }
  for (NetworkState& net : st.nets) renumber(net.waiting);
  static_assert(kGone == TimingWheel::kDrop);
  st.calendar.renumber([&](std::uint32_t slot) { return slot < to.size() ? to[slot] : kGone; });
  // Records before the first one that left stay where they are: st.active[i] == i up to it (a
  // strictly increasing list of slots, each at least its position).
  std::size_t stay = 0, past = n;
  while (stay < past) {
    const std::size_t mid = stay + (past - stay) / 2;
    if (st.active[mid] == mid)
      stay = mid + 1;
    else
      past = mid;
  }
  std::uint32_t m = stay == 0 ? 0 : st.clients[stay - 1].first_need + st.clients[stay - 1].n_needs;
  for (std::size_t i = stay; i < n;) {
    // A run of active records in consecutive slots whose needs follow each other moves as one
    // block (records and needs), instead of record by record (about 16 records per run).
    const std::uint32_t first = st.active[i];
    const std::uint32_t need_begin = st.clients[first].first_need;
    std::uint32_t need_end = need_begin + st.clients[first].n_needs;
    std::size_t end = i + 1;
    while (end < n && st.active[end] == first + (end - i) &&
           st.clients[st.active[end]].first_need == need_end) {
      need_end += st.clients[st.active[end]].n_needs;
      ++end;
    }
    if (need_begin != m)
      std::copy(st.needs.begin() + need_begin, st.needs.begin() + need_end, st.needs.begin() + m);
    if (first != i)
      std::copy(st.clients.begin() + first, st.clients.begin() + first + (end - i),
                st.clients.begin() + i);
    for (std::size_t k = i; k < end; ++k) {
      st.clients[k].first_need -= need_begin - m;
      st.active[k] = static_cast<std::uint32_t>(k);
    }
    m += need_end - need_begin;
    i = end;
  }
  st.clients.resize(n);
  st.needs.resize(m);
}

}  // namespace cm::care
