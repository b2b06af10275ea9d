// The partition exchange (partition.hpp, exchange.hpp): what processes of a partitioned run send
// each other at the day's phase boundaries, and the no-op exchange of a single process.

#include "models/socialcare/phases/exchange.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "engine/byte_codec.hpp"
#include "engine/hash.hpp"
#include "engine/parallel.hpp"
#include "models/socialcare/phases/common.hpp"
#include "models/socialcare/phases/phases.hpp"

namespace cm::care {

namespace phases {
// The exchanges of a partitioned run, each at one point of the day (PartitionExchange below).
void exchange_notes(const Scenario& sc, ModelState& st,
                    const std::vector<std::pair<std::uint32_t, ClientNote>>& mine, bool arrivals);
void exchange_msgs(const Scenario& sc, ModelState& st, std::vector<ModelState::Msg>& msgs);
void fetch_ghosts(const Scenario& sc, ModelState& st, const std::vector<ModelState::Msg>& msgs);
void drop_ghosts(const Scenario& sc, ModelState& st);
void exchange_events(const Scenario& sc, ModelState& st, std::vector<ModelState::Event>& events);
void exchange_tie_events(const Scenario& sc, ModelState& st, std::vector<TieEvent>& tie_events,
                         std::size_t pooled_from);
void exchange_undos(const Scenario& sc, ModelState& st, std::vector<ModelState::Undo>& undos);
void sync_helpers(const Scenario& sc, ModelState& st);
void sync_record(const Scenario& sc, ModelState& st, TickRecord& rec);
void sync_org_counters(const Scenario& sc, ModelState& st, bool final);
void finish_partitioned(const Scenario& sc, ModelState& st);
}  // namespace phases

namespace {
// Records as memory images through the engine's byte codec: the processes of one run are one
// build on one kind of machine.
template <class T>
void put(Bytes& b, const T& value) {
  bytes::append_record(b, value);
}
template <class T>
void take(const Bytes& b, std::vector<T>& to) {
  ByteReader(b, "partitioned run: a message").records_to_end(to);
}

// The ledger's counts as one vector and back (its tallies hold int64 counts only).
void tally_counts(OutcomeTally& t, std::vector<std::int64_t>& v, std::size_t& at, bool back) {
  static_assert(sizeof(OutcomeTally) % sizeof(std::int64_t) == 0);
  constexpr std::size_t n = sizeof(OutcomeTally) / sizeof(std::int64_t);
  if (back) {
    std::memcpy(static_cast<void*>(&t), v.data() + at, sizeof t);
  } else {
    v.resize(at + n);
    std::memcpy(v.data() + at, static_cast<const void*>(&t), sizeof t);
  }
  at += n;
}

void ledger_counts(OutcomeLedger& l, std::vector<std::int64_t>& v, bool back) {
  std::size_t at = 0;
  if (!back) v.clear();
  auto one = [&](std::int64_t& x) {
    if (back)
      x = v[at];
    else
      v.push_back(x);
    ++at;
  };
  tally_counts(l.all, v, at, back);
  for (OutcomeTally& t : l.by_district) tally_counts(t, v, at, back);
  for (OutcomeTally& t : l.by_kind) tally_counts(t, v, at, back);
  for (ServiceTally& s : l.by_service) {
    one(s.needs);
    one(s.met);
    one(s.served);
    one(s.days);
  }
  for (std::int64_t& x : l.by_sector) one(x);
  one(l.needs_served_met);
  one(l.innovative_needs);
  one(l.innovative_served);
  one(l.innovation_clients);
}

// Merges the sorted runs v[at[k], at[k + 1]) into one sorted list, stably (pairwise, in log2(k)
// rounds): the lists each process sends are in order already.
template <class T, class Less>
void merge_runs(std::vector<T>& v, std::vector<std::size_t> at, Less less) {
  while (at.size() > 2) {
    std::vector<std::size_t> next = {at[0]};
    for (std::size_t k = 0; k + 2 < at.size(); k += 2) {
      std::inplace_merge(v.begin() + static_cast<std::ptrdiff_t>(at[k]),
                         v.begin() + static_cast<std::ptrdiff_t>(at[k + 1]),
                         v.begin() + static_cast<std::ptrdiff_t>(at[k + 2]), less);
      next.push_back(at[k + 2]);
    }
    if (at.size() % 2 == 0) next.push_back(at.back());  // an odd run out waits a round
    at.swap(next);
  }
}

struct ClientHashBytes {  // hash_client_into's bytes, to be hashed by another process
  Bytes& out;
  template <class T>
  void add(T v) {
    put(out, v);
  }
};
}  // namespace

// New clients' notes (arrivals), or the outcomes of the clients who left today, to every
// process: the authorities of every process look back on all clients.
void phases::exchange_notes(const Scenario& /*sc*/, ModelState& st,
                            const std::vector<std::pair<std::uint32_t, ClientNote>>& mine,
                            bool arrivals) {
  struct IdNote {
    std::uint32_t id;
    ClientNote note;
  };
  Bytes payload;
  for (const auto& [id, note] : mine) put(payload, IdNote{id, note});
  const std::vector<Bytes> in =
      st.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st.comm->size()), payload));
  std::vector<IdNote> all;
  for (const Bytes& b : in) take(b, all);
  if (arrivals) st.notes.resize(st.next_id);
  for (const auto& [id, note] : all) {
    if (arrivals) {
      st.notes[id] = note;
    } else {
      st.notes[id].outcome = note.outcome;
      st.notes[id].exit = note.exit;
    }
  }
}

// The client pass's messages to the processes owning their organizations (a tie failure to
// every process: ties are everyone's), merged in client order as one process makes them.
// Another process's client is named by its id (slot kRemote).
void phases::exchange_msgs(const Scenario& /*sc*/, ModelState& st, std::vector<Msg>& msgs) {
  const auto n = static_cast<std::size_t>(st.comm->size());
  std::vector<Bytes> out(n);
  for (const Msg& m : msgs) {
    if (m.type == Msg::tie_failure)
      for (Bytes& b : out) put(b, m);
    else
      put(out[static_cast<std::size_t>(st.part.org_rank[m.org])], m);
  }
  const std::vector<Bytes> in = st.comm->exchange(out);
  msgs.clear();
  std::vector<std::size_t> runs = {0};  // each process's messages are in client order already
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t from = msgs.size();
    take(in[r], msgs);
    runs.push_back(msgs.size());
    if (static_cast<std::int32_t>(r) == st.rank) continue;
    for (std::size_t i = from; i < msgs.size(); ++i) {
      msgs[i].slot = kRemote;
      st.remote_clients = st.remote_clients || msgs[i].type == Msg::arrival;
    }
  }
  merge_runs(msgs, std::move(runs), [](const Msg& a, const Msg& b) { return a.client < b.client; });
}

// The records (and needs) of other processes' clients that this process's organizations and
// networks hold in their intake, queues and conference lists or received today, as they are
// after today's client pass: the day's ghosts, read by the organization phases. Their needs go
// after the clients' needs in st_.needs until drop_ghosts().
void phases::fetch_ghosts(const Scenario& /*sc*/, ModelState& st, const std::vector<Msg>& msgs) {
  const auto n = static_cast<std::size_t>(st.comm->size());
  std::vector<std::vector<std::uint32_t>> want(n);
  auto need = [&](std::uint32_t slot, std::uint32_t id) {
    if (slot == kRemote) want[st.id_rank[id]].push_back(id);
  };
  // Only an arrival from another process's client puts one in this process's lists.
  if (st.remote_clients)
    for (std::int32_t o : st.own_orgs) {
      for (const IntakeEntry& e : st.orgs[o].intake) need(e.slot, e.client);
      for (const auto& q : st.orgs[o].queues)
        for (const QueueEntry& e : q) need(e.slot, e.client);
    }
  for (const Msg& m : msgs)
    if (m.type == Msg::arrival) need(m.slot, m.client);
  for (std::size_t k = 0; k < st.nets.size() && st.remote_clients; ++k)
    if (st.part.network_rank[k] == st.rank)
      for (const ConferenceRequest& r : st.nets[k].waiting) need(r.slot, r.client);
  std::vector<Bytes> ask(n);
  for (std::size_t r = 0; r < n; ++r) {
    std::sort(want[r].begin(), want[r].end());
    want[r].erase(std::unique(want[r].begin(), want[r].end()), want[r].end());
    for (std::uint32_t id : want[r]) put(ask[r], id);
  }
  const std::vector<Bytes> asked = st.comm->exchange(ask);
  std::vector<Bytes> reply(n);
  for (std::size_t r = 0; r < n; ++r) {
    std::vector<std::uint32_t> ids;
    take(asked[r], ids);
    for (std::uint32_t id : ids) {
      const std::uint32_t slot = st.local_slot_of_id(id);
      if (slot == kGone) continue;  // left, and squeezed out: not found
      const Client& c = st.clients[slot];
      put(reply[r], c);
      for (int k = 0; k < c.n_needs; ++k) put(reply[r], st.needs_of(c)[k]);
    }
  }
  const std::vector<Bytes> got = st.comm->exchange(reply);
  st.ghosts.clear();
  st.ghost_needs_from = st.needs.size();
  for (const Bytes& b : got) {  // each process's reply is in id order, and ids are unique
    ByteReader r(b, "partitioned run: a client record");
    while (r.remaining() > 0) {
      Client c;
      r.record(c);
      if (c.n_needs > kMaxNeeds) r.fail(std::to_string(c.n_needs) + " needs");
      c.first_need = static_cast<std::uint32_t>(st.needs.size());
      st.needs.resize(st.needs.size() + c.n_needs);
      r.raw(st.needs.data() + c.first_need, sizeof(Need) * c.n_needs);
      st.ghosts.push_back(c);
    }
  }
  std::sort(st.ghosts.begin(), st.ghosts.end(),
            [](const Client& a, const Client& b) { return a.id < b.id; });
}

void phases::drop_ghosts(const Scenario& /*sc*/, ModelState& st) {
  st.ghosts.clear();
  st.needs.resize(st.ghost_needs_from);
}

// The day's events to the processes owning their clients, in the order one process applies
// them: by client, then as made (organizations in order, pooling, conferences).
void phases::exchange_events(const Scenario& /*sc*/, ModelState& st, std::vector<Event>& events) {
  struct Keyed {
    Event event;
    std::uint64_t key;
    std::uint32_t seq;
  };
  if (st.event_keys.size() != events.size())
    throw std::logic_error("partitioned run: events and their keys out of step");
  const auto n = static_cast<std::size_t>(st.comm->size());
  std::vector<Bytes> out(n);
  std::vector<Keyed> all;  // this process's own first: not serialized
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Keyed k{events[i], st.event_keys[i], static_cast<std::uint32_t>(i)};
    if (st.id_rank[events[i].client] == st.rank)
      all.push_back(k);
    else
      put(out[st.id_rank[events[i].client]], k);
  }
  const std::vector<Bytes> in = st.comm->exchange(out);
  // A process makes its events in (key, seq) order; merged so, they are then sorted by client
  // (stably: phase_apply), which is the order of one process.
  std::vector<std::size_t> runs = {0, all.size()};
  for (const Bytes& b : in) {
    take(b, all);
    if (all.size() > runs.back()) runs.push_back(all.size());
  }
  merge_runs(all, std::move(runs), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.key, a.seq) < std::tie(b.key, b.seq);
  });
  events.clear();
  for (Keyed& k : all) {
    if (!local_slot(k.event.slot)) {
      k.event.slot = st.local_slot_of_id(k.event.client);
      if (k.event.slot == kGone)
        throw std::logic_error("partitioned run: an event for client " +
                               std::to_string(k.event.client) + ", not held here");
    }
    events.push_back(k.event);
  }
}

// Tie events of pooling and of started services to every process (ties are replicated), in
// one process's order; the tie failures before them came with the messages.
void phases::exchange_tie_events(const Scenario& /*sc*/, ModelState& st,
                                 std::vector<TieEvent>& tie_events, std::size_t pooled_from) {
  struct Keyed {
    TieEvent event;
    std::uint64_t key;
    std::uint32_t seq;
  };
  if (st.tie_keys.size() != tie_events.size() - pooled_from)
    throw std::logic_error("partitioned run: tie events and their keys out of step");
  Bytes payload;
  for (std::size_t i = 0; i < st.tie_keys.size(); ++i)
    put(payload, Keyed{tie_events[pooled_from + i], st.tie_keys[i], static_cast<std::uint32_t>(i)});
  const std::vector<Bytes> in =
      st.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st.comm->size()), payload));
  std::vector<Keyed> all;
  std::vector<std::size_t> runs = {0};  // each process's in (key, seq) order already
  for (const Bytes& b : in) {
    take(b, all);
    runs.push_back(all.size());
  }
  merge_runs(all, std::move(runs), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.key, a.seq) < std::tie(b.key, b.seq);
  });
  tie_events.resize(pooled_from);
  for (const Keyed& k : all) tie_events.push_back(k.event);
}

// Dropped starts to every process: the queue's owner gives back what they took.
void phases::exchange_undos(const Scenario& /*sc*/, ModelState& st, std::vector<Undo>& undos) {
  Bytes payload;
  for (const Undo& u : undos) put(payload, u);
  const std::vector<Bytes> in =
      st.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st.comm->size()), payload));
  undos.clear();
  for (const Bytes& b : in) take(b, undos);
}

// Caseloads changed by this process's organizations today, to every other process.
void phases::sync_helpers(const Scenario& /*sc*/, ModelState& st) {
  struct Load {
    std::int32_t slot;
    float hours;
    std::uint16_t cases;
  };
  st.helper_sent.resize(st.staff.helpers.size(), {0.0f, std::uint16_t{0}});
  Bytes payload;
  for (std::int32_t o : st.own_orgs)
    st.for_each_staff(o, [&](std::int32_t s) {
      const Helper& h = st.staff.helpers[s];
      auto& sent = st.helper_sent[s];
      if (h.load_hours == sent.first && h.cases == sent.second) return;
      sent = {h.load_hours, h.cases};
      put(payload, Load{s, h.load_hours, h.cases});
    });
  std::vector<Bytes> out(static_cast<std::size_t>(st.comm->size()), payload);
  out[st.rank].clear();
  const std::vector<Bytes> in = st.comm->exchange(out);
  std::vector<Load> all;
  for (const Bytes& b : in) take(b, all);
  for (const Load& l : all) {
    Helper& h = st.staff.helpers[l.slot];
    h.load_hours = l.hours;
    h.cases = l.cases;
  }
}

// The day's counts that each process made for its own clients and organizations, summed.
void phases::sync_record(const Scenario& /*sc*/, ModelState& st, TickRecord& rec) {
  std::vector<std::int64_t> v = {rec.resolved,
                                 rec.dropped,
                                 rec.queue_length,
                                 rec.intake_length,
                                 rec.conferences_waiting,
                                 rec.services_started,
                                 std::llround(rec.wait_days_started),
                                 rec.referrals,
                                 rec.signposts,
                                 rec.turned_away,
                                 rec.assessments,
                                 rec.active,
                                 rec.conflicts};
  v.insert(v.end(), rec.needs.begin(), rec.needs.end());
  const std::size_t fixed = v.size();
  const bool waiting = !st.district_waiting.empty() && !st.district_waiting.back().empty();
  if (waiting)
    v.insert(v.end(), st.district_waiting.back().begin(), st.district_waiting.back().end());
  st.comm->sum(v);
  std::size_t k = 0;
  for (std::int64_t* x : {&rec.resolved, &rec.dropped, &rec.queue_length, &rec.intake_length,
                          &rec.conferences_waiting, &rec.services_started})
    *x = v[k++];
  rec.wait_days_started = static_cast<double>(v[k++]);
  for (std::int64_t* x : {&rec.referrals, &rec.signposts, &rec.turned_away, &rec.assessments,
                          &rec.active, &rec.conflicts})
    *x = v[k++];
  for (std::int64_t& x : rec.needs) x = v[k++];
  if (waiting)
    for (std::size_t d = 0; d < st.district_waiting.back().size(); ++d)
      st.district_waiting.back()[d] = static_cast<std::int32_t>(v[fixed + d]);
}

// Organization counters from their owners to every process: services started (monitoring), or
// at the end all counters, conferences and waiting lists (the outputs).
void phases::sync_org_counters(const Scenario& sc, ModelState& st, bool final) {
  std::vector<std::int64_t> v;
  for (std::size_t o = 0; o < st.orgs.size(); ++o) {
    OrgState& org_st = st.orgs[o];
    const bool own = st.part.org_rank[o] == st.rank;
    auto add = [&](std::int64_t x) { v.push_back(own ? x : 0); };
    add(org_st.started);
    add(org_st.started_in_standard);
    add(org_st.agreements_honoured);
    add(org_st.agreements_breached);
    if (!final) continue;
    for (std::int64_t x :
         {org_st.assessments, org_st.referrals_sent, org_st.referrals_received, org_st.served,
          org_st.turned_away, org_st.pooled_out, org_st.conferences, org_st.agreement_referrals,
          org_st.referred_late, org_st.referred_dropouts, org_st.conference_minutes})
      add(x);
    add(static_cast<std::int64_t>(org_st.intake.size()));
    for (const auto& q : org_st.queues) add(static_cast<std::int64_t>(q.size()));
  }
  if (final)
    for (std::size_t k = 0; k < st.nets.size(); ++k)
      v.push_back(st.part.network_rank[k] == st.rank ? st.nets[k].conferences : 0);
  st.comm->sum(v);
  std::size_t i = 0;
  const std::size_t per_org = 1 + sc.services.size();  // intake, then each queue
  if (final) st.final_sizes.assign(st.orgs.size() * per_org, 0);
  for (std::size_t o = 0; o < st.orgs.size(); ++o) {
    OrgState& org_st = st.orgs[o];
    org_st.started = v[i++];
    org_st.started_in_standard = v[i++];
    org_st.agreements_honoured = v[i++];
    org_st.agreements_breached = v[i++];
    if (!final) continue;
    for (std::int64_t* x :
         {&org_st.assessments, &org_st.referrals_sent, &org_st.referrals_received, &org_st.served,
          &org_st.turned_away, &org_st.pooled_out, &org_st.conferences, &org_st.agreement_referrals,
          &org_st.referred_late, &org_st.referred_dropouts, &org_st.conference_minutes})
      *x = v[i++];
    for (std::size_t k = 0; k < per_org; ++k) st.final_sizes[o * per_org + k] = v[i++];
  }
  if (final)
    for (NetworkState& net : st.nets) net.conferences = v[i++];
}

// The end of a partitioned run: the ledger and the organizations' counters summed, and the state
// hash's input of every process's active clients, in id order, on every process.
void phases::finish_partitioned(const Scenario& sc, ModelState& st) {
  std::vector<std::int64_t> counts;
  ledger_counts(st.ledger, counts, false);
  st.comm->sum(counts);
  ledger_counts(st.ledger, counts, true);
  sync_org_counters(sc, st, true);
  Bytes mine;
  for (std::uint32_t slot : st.active) {
    const Client& c = st.clients[slot];
    Bytes one;
    ClientHashBytes sink{one};
    hash_client_into(sink, c, st.needs_of(c));
    put(mine, c.id);
    put(mine, static_cast<std::uint32_t>(one.size()));
    mine.insert(mine.end(), one.begin(), one.end());
  }
  const std::vector<Bytes> all =
      st.comm->exchange(std::vector<Bytes>(static_cast<std::size_t>(st.comm->size()), mine));
  struct Piece {
    std::uint32_t id;
    std::span<const std::uint8_t> data;
  };
  std::vector<Piece> pieces;
  for (const Bytes& b : all) {
    ByteReader r(b, "partitioned run: a client's hash input");
    while (r.remaining() > 0) {
      std::uint32_t id = 0, size = 0;
      r.record(id);
      r.record(size);
      const std::size_t at = r.pos();
      r.skip(size);
      pieces.push_back({id, std::span<const std::uint8_t>(b).subspan(at, size)});
    }
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& x, const Piece& y) { return x.id < y.id; });
  st.final_clients.clear();
  for (const Piece& p : pieces)
    st.final_clients.insert(st.final_clients.end(), p.data.begin(), p.data.end());
}

namespace {

class LocalExchange final : public phases::DayExchange {
 public:
  void before_steering(const Scenario&, ModelState&) override {}
  void notes(const Scenario&, ModelState&, const std::vector<std::pair<std::uint32_t, ClientNote>>&,
             bool) override {}
  void after_clients(const Scenario&, ModelState&, std::vector<ModelState::Msg>&) override {}
  void before_apply(const Scenario&, ModelState&, std::vector<ModelState::Event>&) override {}
  void undos(const Scenario&, ModelState&, std::vector<ModelState::Undo>&) override {}
  void after_apply(const Scenario&, ModelState&, std::vector<TieEvent>&, std::size_t) override {}
  void after_record(const Scenario&, ModelState&, TickRecord&) override {}
  void finish(const Scenario&, ModelState&) override {}
};

class PartitionExchange final : public phases::DayExchange {
 public:
  void before_steering(const Scenario& sc, ModelState& st) override {
    bool cycle = false;
    for (const AuthorityDef& a : sc.authorities)
      cycle = cycle ||
              (st.tick >= a.first_cycle_day && (st.tick - a.first_cycle_day) % a.period_days == 0);
    if (cycle) phases::sync_org_counters(sc, st, false);
  }
  void notes(const Scenario& sc, ModelState& st,
             const std::vector<std::pair<std::uint32_t, ClientNote>>& mine,
             bool arrivals) override {
    phases::exchange_notes(sc, st, mine, arrivals);
  }
  void after_clients(const Scenario& sc, ModelState& st,
                     std::vector<ModelState::Msg>& msgs) override {
    phases::exchange_msgs(sc, st, msgs);
    phases::fetch_ghosts(sc, st, msgs);
  }
  void before_apply(const Scenario& sc, ModelState& st,
                    std::vector<ModelState::Event>& events) override {
    phases::drop_ghosts(sc, st);
    phases::exchange_events(sc, st, events);
  }
  void undos(const Scenario& sc, ModelState& st, std::vector<ModelState::Undo>& undos) override {
    phases::exchange_undos(sc, st, undos);
  }
  void after_apply(const Scenario& sc, ModelState& st, std::vector<TieEvent>& tie_events,
                   std::size_t pooled_from) override {
    phases::exchange_tie_events(sc, st, tie_events, pooled_from);
    phases::sync_helpers(sc, st);
  }
  void after_record(const Scenario& sc, ModelState& st, TickRecord& rec) override {
    phases::sync_record(sc, st, rec);
  }
  void finish(const Scenario& sc, ModelState& st) override { phases::finish_partitioned(sc, st); }
};

}  // namespace

std::unique_ptr<phases::DayExchange> phases::make_exchange(const ModelState& st) {
  if (st.comm == nullptr) return std::make_unique<LocalExchange>();
  return std::make_unique<PartitionExchange>();
}

}  // namespace cm::care
