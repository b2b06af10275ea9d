#include "models/socialcare/checkpoint.hpp"

#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "caremesh_version.hpp"
#include "engine/byte_codec.hpp"
#include "engine/hash.hpp"
#include "engine/input_file.hpp"
#include "engine/output.hpp"
#include "models/socialcare/phases/phases.hpp"
#include "models/socialcare/scenario_loader.hpp"

namespace cm::care {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'C', 'M', 'C', 'K', 'P', 'T', '0', '1'};
constexpr std::uint32_t kByteOrderMark = 0x01020304u;
constexpr std::size_t kMaxVersionText = 256;

// Out and In are the engine's byte codec (engine/byte_codec.hpp) with what a checkpoint adds:
// the same interface for writing and reading, so that one function, Checkpoint::transfer, lists
// what is saved for both, and the reader's checks of what the scenario fixes.
class Out : public BasicByteWriter<std::string> {
 public:
  // A vector whose length the scenario fixes (checked when reading).
  template <class T, class F>
  void fixed(const std::vector<T>& v, const char*, F&& f) {
    list(v, f);
  }
  // Records the reader compares with what the scenario gives.
  template <class T>
  void same(const std::vector<T>& v, const char*) {
    records(v);
  }
};

// Reads what Out wrote, refusing to run past the end or to allocate more than is there.
class In : public BasicByteReader<CheckpointError> {
 public:
  In(std::string_view data, const std::string& name)
      : BasicByteReader(data, name + ": corrupt checkpoint"), name_(name) {}

  template <class T, class F>
  void fixed(std::vector<T>& v, const char* what, F&& f) {
    const std::uint64_t n = u64();
    if (n != v.size())
      mismatch(std::string("saved ") + std::to_string(n) + " " + what + ", the scenario gives " +
               std::to_string(v.size()));
    for (T& x : v) f(x);
  }
  template <class T>
  void same(const std::vector<T>& v, const char* what) {
    std::vector<T> saved;
    records(saved);
    if (saved != v) mismatch(std::string("the saved ") + what + " differ");
  }
  [[noreturn]] void mismatch(const std::string& what) const {
    throw CheckpointError(name_ + ": the saved state does not fit the scenario (" + what + ")");
  }

 private:
  const std::string& name_;
};

// Sizes of the records saved as they are in memory: a build where any differs cannot read
// the state.
std::vector<std::uint32_t> layout() {
  return {static_cast<std::uint32_t>(sizeof(Client)),
          static_cast<std::uint32_t>(sizeof(Need)),
          static_cast<std::uint32_t>(offsetof(Client, first_need)),
          static_cast<std::uint32_t>(offsetof(Client, known)),
          static_cast<std::uint32_t>(offsetof(Need, severity)),
          static_cast<std::uint32_t>(sizeof(Helper)),
          static_cast<std::uint32_t>(sizeof(Tie)),
          static_cast<std::uint32_t>(sizeof(TickRecord)),
          static_cast<std::uint32_t>(sizeof(TieChange)),
          static_cast<std::uint32_t>(sizeof(IntakeEntry)),
          static_cast<std::uint32_t>(sizeof(QueueEntry)),
          static_cast<std::uint32_t>(sizeof(ConferenceRequest)),
          static_cast<std::uint32_t>(sizeof(OutcomeTally)),
          static_cast<std::uint32_t>(sizeof(ServiceTally)),
          static_cast<std::uint32_t>(sizeof(ClientNote)),
          static_cast<std::uint32_t>(sizeof(MonitorTally)),
          static_cast<std::uint32_t>(sizeof(MonitorRow)),
          static_cast<std::uint32_t>(kMaxNeeds),
          static_cast<std::uint32_t>(kLevels),
          static_cast<std::uint32_t>(kNeedStates)};
}

template <class Spec, class IO>
void transfer_spec(Spec& s, IO& io) {
  io.text(s.scenario_file);
  io.text(s.effective_yaml);
  io.text(s.variant);
  io.list(s.sets, [&](auto& kv) {
    io.text(kv.first);
    io.text(kv.second);
  });
  io.value(s.seed);
  io.value(s.target_ticks);
  io.value(s.checkpoint_every);
  io.value(s.client_records);
  io.text(s.network_format);
}

std::uint64_t checksum(std::string_view header, std::string_view payload) {
  Hasher h;
  h.bytes(header.data(), header.size());
  h.bytes(payload.data(), payload.size());
  return h.value();
}

constexpr std::size_t kTagSize = SHA256_DIGEST_SIZE;  // the HMAC-SHA-256 at the payload's end
constexpr std::size_t kDirectoryKeySize = 32;

void sha256_update_text(sha256_ctx& ctx, std::string_view s) {
  const std::uint64_t n = s.size();
  sha256_update(&ctx, sizeof n, reinterpret_cast<const std::uint8_t*>(&n));
  sha256_update(&ctx, s.size(), reinterpret_cast<const std::uint8_t*>(s.data()));
}

// The run's key: SHA-256 of the directory's key, the SHA-256 of the effective scenario, the
// variant, the overrides and the seed. A checkpoint verifies only under the key of the run
// (and directory) that wrote it.
std::array<std::uint8_t, SHA256_DIGEST_SIZE> run_key(const RunSpec& spec,
                                                     std::string_view dir_key) {
  std::array<std::uint8_t, SHA256_DIGEST_SIZE> scenario_hash{}, key{};
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update_text(ctx, spec.effective_yaml);
  sha256_digest(&ctx, scenario_hash.size(), scenario_hash.data());
  sha256_init(&ctx);
  sha256_update_text(ctx, "caremesh checkpoint key 1");
  sha256_update_text(ctx, dir_key);
  sha256_update(&ctx, scenario_hash.size(), scenario_hash.data());
  sha256_update_text(ctx, spec.variant);
  for (const auto& [k, v] : spec.sets) {
    sha256_update_text(ctx, k);
    sha256_update_text(ctx, v);
  }
  sha256_update(&ctx, sizeof spec.seed, reinterpret_cast<const std::uint8_t*>(&spec.seed));
  sha256_digest(&ctx, key.size(), key.data());
  return key;
}

// HMAC-SHA-256 under the run's key of the header (without its checksum) and the payload (without
// the tag).
std::array<std::uint8_t, kTagSize> authentication_tag(const RunSpec& spec, std::string_view dir_key,
                                                      std::string_view header,
                                                      std::string_view payload) {
  const auto key = run_key(spec, dir_key);
  hmac_sha256_ctx ctx;
  hmac_sha256_set_key(&ctx, key.size(), key.data());
  hmac_sha256_update(&ctx, header.size(), reinterpret_cast<const std::uint8_t*>(header.data()));
  hmac_sha256_update(&ctx, payload.size(), reinterpret_cast<const std::uint8_t*>(payload.data()));
  std::array<std::uint8_t, kTagSize> tag{};
  hmac_sha256_digest(&ctx, tag.size(), tag.data());
  return tag;
}

}  // namespace

// Everything the Simulation holds that the constructor does not rebuild from the scenario
// alone. A member added to Simulation (or to OrgState, NetworkState, Staff, AuthorityState,
// Contract, SteeringRow) must be added here too, or a resumed run would differ from an
// uninterrupted one: tests/models/test_checkpoint.cpp compares the two byte for byte and
// checks the sizes of these structs as a reminder.
template <class Sim, class IO>
void Checkpoint::transfer(Sim& sim, IO& io) {
  io.value(sim.st_.tick);
  io.value(sim.st_.finished);
  io.records(sim.st_.clients);
  io.records(sim.st_.needs);
  io.records(sim.st_.active);
  io.value(sim.st_.next_id);
  io.records(sim.st_.notes);
  {
    // The outcome tallies of the clients folded so far (runs without client records).
    auto& ledger = sim.st_.ledger;
    std::vector<OutcomeTally> tallies;
    std::vector<std::int64_t> counts;
    if constexpr (!IO::reading) {
      tallies.push_back(ledger.all);
      tallies.insert(tallies.end(), ledger.by_kind.begin(), ledger.by_kind.end());
      tallies.insert(tallies.end(), ledger.by_district.begin(), ledger.by_district.end());
      counts.assign(ledger.by_sector.begin(), ledger.by_sector.end());
      counts.insert(counts.end(), {ledger.needs_served_met, ledger.innovative_needs,
                                   ledger.innovative_served, ledger.innovation_clients});
    }
    io.records(tallies);
    io.records(counts);
    const std::size_t n_services = ledger.by_service.size();
    io.records(ledger.by_service);
    if constexpr (IO::reading) {
      const std::size_t n_districts = ledger.by_district.size();
      if (tallies.size() != 1 + ledger.by_kind.size() + n_districts || counts.size() != 8 ||
          ledger.by_service.size() != n_services)
        io.mismatch("the outcome tallies do not fit the scenario's districts and services");
      ledger.all = tallies[0];
      std::copy(tallies.begin() + 1, tallies.begin() + 4, ledger.by_kind.begin());
      std::copy(tallies.begin() + 4, tallies.end(), ledger.by_district.begin());
      std::copy(counts.begin(), counts.begin() + 4, ledger.by_sector.begin());
      ledger.needs_served_met = counts[4];
      ledger.innovative_needs = counts[5];
      ledger.innovative_served = counts[6];
      ledger.innovation_clients = counts[7];
    }
  }
  io.records(sim.st_.staff.helpers);
  io.records(sim.st_.staff.slot_of_id);
  io.value(sim.st_.staff.next_id);
  io.fixed(sim.st_.orgs, "organizations", [&](auto& o) {
    io.value(o.first_helper);
    io.value(o.n_helpers);
    io.records(o.contract_staff);
    io.value(o.network);
    io.value(o.collaboration_hours);
    io.value(o.coordination_hours);
    io.value(o.intake_hours);
    io.value(o.intake_left);
    io.value(o.paid_hours);
    io.records(o.intake);
    io.fixed(o.queues, "services", [&](auto& q) { io.records(q); });
    io.records(o.reserved_in_use);
    io.records(o.in_use);
    io.records(o.agreement_today);
    io.records(o.agreement_rate);
    io.records(o.wait_now);
    io.records(o.wait_meeting);
    io.records(o.start_rate);
    io.records(o.started_today);
    io.value(o.backlog);
    io.value(o.conference_debt);
    io.value(o.assessments);
    io.value(o.referrals_sent);
    io.value(o.referrals_received);
    io.value(o.served);
    io.value(o.turned_away);
    io.value(o.pooled_out);
    io.value(o.conferences);
    io.value(o.started);
    io.value(o.started_in_standard);
    io.value(o.agreement_referrals);
    io.value(o.agreements_honoured);
    io.value(o.agreements_breached);
    io.value(o.referred_late);
    io.value(o.referred_dropouts);
    io.value(o.conference_minutes);
  });
  io.fixed(sim.st_.nets, "networks", [&](auto& n) {
    io.value(n.hours_per_day);
    io.records(n.waiting);
    io.value(n.conferences);
    io.value(n.debt);
    io.value(n.routed);
    io.value(n.follow_ups);
    io.records(n.tally);
    io.value(n.reports);
  });
  if constexpr (IO::reading) {
    std::vector<Tie> ties;
    io.records(ties);
    if (ties.size() != sim.st_.ties.size())
      io.mismatch("saved " + std::to_string(ties.size()) + " ties, the scenario gives " +
                  std::to_string(sim.st_.ties.size()));
    for (std::size_t i = 0; i < ties.size(); ++i) {
      if (ties[i].a != sim.st_.ties[i].a || ties[i].b != sim.st_.ties[i].b)
        io.mismatch("tie " + std::to_string(i) + " joins other organizations");
      sim.st_.ties[i] = ties[i];
    }
  } else {
    io.records(sim.st_.ties.all());
  }
  io.records(sim.st_.series);
  io.same(sim.st_.initial_levels, "initial tie levels");
  io.value(sim.st_.innovative_mask);
  io.fixed(sim.st_.authorities, "authorities", [&](auto& a) {
    io.value(a.cycle);
    io.records(a.budget_shift);
    io.records(a.record);
    io.list(a.contracts, [&](auto& c) {
      io.value(c.authority);
      io.value(c.cycle);
      io.text(c.name);
      io.records(c.districts);
      io.records(c.members);
      io.records(c.helper_slots);
      io.records(c.ties);
      io.value(c.start);
      io.value(c.end);
      io.records(c.started_at_start);
      io.records(c.in_standard_at_start);
      io.records(c.honoured_at_start);
      io.records(c.breached_at_start);
    });
  });
  io.list(sim.st_.steering_rows, [&](auto& r) {
    io.text(r.authority);
    io.value(r.cycle);
    io.value(r.tick);
    io.text(r.phase);
    io.text(r.decision);
    io.text(r.district);
    io.text(r.subject);
    io.value(r.value);
  });
  io.list(sim.st_.district_arrivals, [&](auto& v) { io.records(v); });
  io.list(sim.st_.district_waiting, [&](auto& v) { io.records(v); });
  io.records(sim.st_.outreach_boost);
  io.records(sim.st_.self_help_boost);
  io.records(sim.st_.tie_history);
  io.records(sim.st_.monitoring_rows);
}

// The lengths the scenario fixes, taken from a fresh Simulation before the state is laid over
// it: a restored list of another length would be indexed past its end.
struct Checkpoint::Shape {
  std::vector<std::vector<std::size_t>> org_lists;  // per organization, its per-service lists
  std::size_t district_lists = 0, outreach = 0, self_help = 0;
  std::vector<std::size_t> tallies;  // per network: members its monitoring tallies
};

std::vector<std::size_t> Checkpoint::org_list_sizes(const OrgState& o) {
  return {o.queues.size(),          o.reserved_in_use.size(), o.in_use.size(),
          o.agreement_today.size(), o.agreement_rate.size(),  o.wait_now.size(),
          o.wait_meeting.size(),    o.start_rate.size(),      o.started_today.size()};
}

Checkpoint::Shape Checkpoint::shape_of(const Simulation& sim) {
  Shape s;
  for (const OrgState& o : sim.st_.orgs) s.org_lists.push_back(org_list_sizes(o));
  s.district_lists = sim.scenario().districts.size();
  s.outreach = sim.st_.outreach_boost.size();
  s.self_help = sim.st_.self_help_boost.size();
  for (const NetworkState& n : sim.st_.nets) s.tallies.push_back(n.tally.size());
  return s;
}

// Every index and count of the restored state is checked before the Simulation uses one: a
// checkpoint whose digest verifies (written by this run) holds none out of range, but the
// checks keep a damaged or hand-made one from reading or writing past an array's end.
template <class IO>
void Checkpoint::check_bounds(const Simulation& sim, const Shape& fresh, IO& p) {
  const auto n_orgs = static_cast<std::int64_t>(sim.st_.orgs.size());
  const auto n_helpers = static_cast<std::int64_t>(sim.st_.staff.helpers.size());
  const auto n_services = static_cast<std::int64_t>(sim.scenario().services.size());
  const auto n_districts = static_cast<std::int64_t>(sim.scenario().districts.size());
  const auto n_ties = static_cast<std::int64_t>(sim.st_.ties.size());
  const auto n_nets = static_cast<std::int64_t>(sim.st_.nets.size());
  const auto org_or_none = [&](std::int64_t o) { return o >= -1 && o < n_orgs; };
  const auto bad = [&](const std::string& what) { p.fail(what + " out of range"); };
  const auto level_ok = [](int l) { return l >= 0 && l <= kMaxLevel; };
  // a bool restored from raw bytes must be 0 or 1: any other byte is no value of the type
  const auto bool_ok = [](const bool& b) {
    unsigned char byte = 0;
    std::memcpy(&byte, &b, 1);
    return byte <= 1;
  };

  for (const Need& n : sim.st_.needs) {
    if (n.helper < -1 || n.helper >= n_helpers) bad("a need's helper");
    if (!org_or_none(n.org) || !org_or_none(n.from_org)) bad("a need's organization");
    if (n.service >= n_services) bad("a need's service");
    if (static_cast<int>(n.state) >= kNeedStates) bad("a need's state");
  }
  for (const Client& c : sim.st_.clients) {
    if (c.district >= n_districts) bad("a client's district");
    if (static_cast<int>(c.kind) > static_cast<int>(ClientKind::community)) bad("a client's kind");
    if (static_cast<int>(c.outcome) > static_cast<int>(Outcome::unmet_at_horizon))
      bad("a client's outcome");
    if (!bool_ok(c.awaiting_conference)) bad("a client's flag");
    if (c.n_known > kMaxKnown || c.n_assessed > kMaxAssessed || c.n_providers > kMaxProviders)
      bad("a client's list length");
    for (const auto& list :
         {std::span<const OrgId16>(c.known), std::span<const OrgId16>(c.assessed_by),
          std::span<const OrgId16>(c.provider)})
      for (const OrgId16 o : list)
        if (!org_or_none(o)) bad("a client's organization");
    // Event-driven stepping: a wake-up still to come (or none), countdowns counted to a day
    // that has been, known risk bits.
    if (c.outcome == Outcome::active && sim.sc_.client_stepping == ClientStepping::events &&
        ((c.wake >= 0 && c.wake < sim.st_.tick) || c.due_from > sim.st_.tick ||
         c.due_from < c.arrival))
      bad("a client's wake-up");
    if ((c.fired & 0x6000u) != 0 || c.pad2_ != 0) bad("a client's wake-up");
  }
  for (const ClientNote& n : sim.st_.notes) {
    if (n.district >= n_districts || n.n_needs > kMaxNeeds) bad("a client note");
    for (int i = 0; i < n.n_needs; ++i)
      if (n.service[static_cast<std::size_t>(i)] >= n_services) bad("a client note's service");
  }
  for (const Helper& h : sim.st_.staff.helpers)
    if (h.org < 0 || h.org >= n_orgs || h.n_personal > kMaxPersonalTies || !bool_ok(h.retired))
      bad("a helper's organization");
  for (const std::int32_t s : sim.st_.staff.slot_of_id)
    if (s < -1 || s >= n_helpers) bad("a helper id's slot");
  if (sim.st_.staff.slot_of_id.size() > sim.st_.staff.next_id) bad("the helper ids");
  for (std::size_t i = 0; i < sim.st_.orgs.size(); ++i) {
    const OrgState& o = sim.st_.orgs[i];
    if (org_list_sizes(o) != fresh.org_lists[i]) p.mismatch("an organization's per-service lists");
    if (o.network < -1 || o.network >= n_nets) bad("an organization's network");
    for (const IntakeEntry& e : o.intake)
      if (e.need >= kMaxNeeds || !org_or_none(e.from_org) ||
          static_cast<int>(e.mode) > static_cast<int>(ArrivalMode::warm))
        bad("an intake entry");
    for (const auto& q : o.queues)
      for (const QueueEntry& e : q)
        if (e.need >= kMaxNeeds) bad("a queue entry");
  }
  for (const NetworkState& net : sim.st_.nets)
    for (const ConferenceRequest& r : net.waiting)
      if (r.org < 0 || r.org >= n_orgs) bad("a conference request's organization");
  for (std::size_t k = 0; k < sim.st_.nets.size(); ++k)
    if (sim.st_.nets[k].tally.size() != fresh.tallies[k]) bad("a network's monitoring tally");
  for (const MonitorRow& r : sim.st_.monitoring_rows)
    if (r.network < 0 || r.network >= n_nets || r.org < 0 || r.org >= n_orgs)
      bad("a monitoring report's row");
  for (std::size_t i = 0; i < sim.st_.ties.size(); ++i) {
    const Tie& t = sim.st_.ties[i];
    if (!level_ok(t.level) || !level_ok(t.floor) || !level_ok(t.ceiling)) bad("a tie's level");
    if (!bool_ok(t.cross_territory) || !bool_ok(t.suspended) || !bool_ok(t.act_possible) ||
        !bool_ok(t.act))
      bad("a tie's flag");
  }
  for (const TieChange& c : sim.st_.tie_history)
    if (c.tie >= n_ties || !level_ok(c.from) || !level_ok(c.to) ||
        static_cast<int>(c.reason) > static_cast<int>(TieChangeReason::agreement_lapsed))
      bad("a tie change");
  for (const std::int8_t l : sim.st_.initial_levels)
    if (!level_ok(l)) bad("an initial tie level");
  for (const auto& a : sim.st_.authorities)
    for (const Contract& c : a.contracts) {
      if (c.authority < 0 || c.authority >= static_cast<int>(sim.st_.authorities.size()))
        bad("a contract's authority");
      for (int d : c.districts)
        if (d < 0 || d >= n_districts) bad("a contract's district");
      for (std::int32_t m : c.members)
        if (m < 0 || m >= n_orgs) bad("a contract's member");
      for (std::int32_t h : c.helper_slots)
        if (h < 0 || h >= n_helpers) bad("a contract's helper");
      for (std::uint32_t t : c.ties)
        if (t >= n_ties) bad("a contract's tie");
      const std::size_t m = c.members.size();
      if (c.started_at_start.size() != m || c.in_standard_at_start.size() != m ||
          c.honoured_at_start.size() != m || c.breached_at_start.size() != m)
        bad("a contract's per-member lists");
    }
  for (const auto& day : sim.st_.district_arrivals)
    if (static_cast<std::int64_t>(day.size()) != n_districts) bad("a day's arrivals by district");
  for (const auto& day : sim.st_.district_waiting)
    if (!day.empty() && static_cast<std::int64_t>(day.size()) != n_districts)
      bad("a day's waiting by district");
  if (sim.st_.outreach_boost.size() != fresh.outreach ||
      sim.st_.self_help_boost.size() != fresh.self_help)
    p.mismatch("the per-district boosts");
}

std::string Checkpoint::encode(const RunSpec& spec, const Simulation& sim,
                               std::string_view dir_key) {
  if (sim.partitioned())  // its state is spread over processes
    throw std::invalid_argument("a territory-partitioned run cannot be checkpointed");
  Out p;  // payload
  p.records(layout());
  RunSpec copy = spec;
  transfer_spec(copy, p);
  transfer(sim, p);
  p.value(sim.state_hash());

  Out h;  // header
  h.raw(kMagic, sizeof kMagic);
  h.value(kCheckpointFormat);
  h.record(kByteOrderMark);  // in the machine's order, as the records are
  const std::string_view version = kVersion;
  h.value(static_cast<std::uint32_t>(version.size()));
  h.raw(version.data(), version.size());
  h.value<std::uint64_t>(p.size() + kTagSize);
  const auto tag = authentication_tag(spec, dir_key, h.view(), p.view());
  p.raw(tag.data(), tag.size());
  const std::uint64_t sum = checksum(h.view(), p.view());
  h.value(sum);
  std::string out = h.take();
  out += p.buffer();
  return out;
}

std::string Checkpoint::directory_key(const fs::path& dir, bool create) {
  const fs::path file = dir / kKeyFile;
  std::string error;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(file, ec))) {
    std::optional<std::string> key = read_regular_file(file, 4096, "a checkpoint key", error);
    if (key && key->size() == kDirectoryKeySize) return *key;
    if (!create)
      throw CheckpointError(
          file.string() + ":0:0: " +
          (key ? "not a caremesh checkpoint key (" + std::to_string(key->size()) + " bytes)"
               : error));
  } else if (!create) {
    return {};  // the checkpoint then verifies only if it was written for no directory
  }
  std::string key = random_bytes(kDirectoryKeySize);
  write_file_atomically(file, key, 0600);
  return key;
}

void Checkpoint::write(const fs::path& dir, const RunSpec& spec, const Simulation& sim) {
  write_file_atomically(dir / kCheckpointFile, encode(spec, sim, directory_key(dir, true)));
}

Checkpoint Checkpoint::decode(std::string bytes, const std::string& name,
                              std::string_view dir_key) {
  Checkpoint cp;
  cp.name_ = name;
  In h(bytes, name);
  char magic[sizeof kMagic] = {};
  if (bytes.size() >= sizeof magic) h.raw(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    throw CheckpointError(name + ": not a caremesh checkpoint (it does not start with \"" +
                          std::string(kMagic, sizeof kMagic) + "\")");
  const auto format = h.get<std::uint32_t>();
  std::uint32_t bom = 0;
  h.record(bom);
  const std::uint32_t swapped =
      (bom >> 24) | ((bom >> 8) & 0xff00u) | ((bom << 8) & 0xff0000u) | (bom << 24);
  if (bom != kByteOrderMark && swapped == kByteOrderMark)
    throw CheckpointError(name +
                          ": the checkpoint was written on a machine of the other byte order; "
                          "resume it there");
  if (bom != kByteOrderMark) h.fail("bad byte-order mark");
  if (format != kCheckpointFormat)
    throw CheckpointError(name + ": checkpoint format " + std::to_string(format) +
                          ", this caremesh (" + kVersion + ") reads format " +
                          std::to_string(kCheckpointFormat) +
                          "; resume it with the caremesh version that wrote it");
  const auto version_size = h.get<std::uint32_t>();
  if (version_size > kMaxVersionText) h.fail("version text too long");
  cp.version_.resize(version_size);
  h.raw(cp.version_.data(), version_size);
  const std::uint64_t payload_size = h.u64();
  const std::size_t header_size = h.pos();
  const std::uint64_t stored_sum = h.u64();
  if (payload_size != h.remaining())
    h.fail(payload_size > h.remaining()
               ? "truncated: the state should be " + std::to_string(payload_size) +
                     " bytes, the file holds " + std::to_string(h.remaining())
               : "the file has " + std::to_string(h.remaining() - payload_size) +
                     " bytes more than its state");
  const std::string_view payload = h.rest_view();
  if (checksum(std::string_view(bytes).substr(0, header_size), payload) != stored_sum)
    h.fail("checksum mismatch (the file was changed or damaged)");
  if (cp.version_ != kVersion)
    throw CheckpointError(name + ": written by caremesh " + cp.version_ + ", this is caremesh " +
                          kVersion + "; resume it with caremesh " + cp.version_);

  if (payload.size() < kTagSize) h.fail("truncated: no digest");
  const std::string_view signed_part = payload.substr(0, payload.size() - kTagSize);
  In p(signed_part, name);
  std::vector<std::uint32_t> sizes;
  p.records(sizes);
  if (sizes != layout())
    throw CheckpointError(name + ": written by a build of caremesh " + cp.version_ +
                          " with another memory layout (compiler or platform); resume it with "
                          "the build that wrote it");
  transfer_spec(cp.spec_, p);
  // Everything after this point is authenticated first: a forged or damaged checkpoint whose
  // plain checksum was recomputed, or one copied from another run or directory, stops here.
  const auto tag = authentication_tag(cp.spec_, dir_key,
                                      std::string_view(bytes).substr(0, header_size), signed_part);
  if (!nettle_memeql_sec(tag.data(), payload.data() + signed_part.size(), kTagSize))
    throw CheckpointError(
        name +
        ": not authentic: its digest does not verify under the key of this run and directory "
        "(the file was changed after it was written, or it was copied from another run's "
        "directory); only the directory that wrote a checkpoint can resume it");
  if (cp.spec_.target_ticks < 0 || cp.spec_.checkpoint_every < 0) p.fail("negative day count");
  const std::size_t state_at = p.pos();
  cp.tick_ = p.get<std::int32_t>();
  if (cp.tick_ < 0 || cp.tick_ > cp.spec_.target_ticks)
    p.fail("day " + std::to_string(cp.tick_) + " of " + std::to_string(cp.spec_.target_ticks));
  cp.state_ = std::string(signed_part.substr(state_at));
  return cp;
}

std::string Checkpoint::reseal(std::string bytes, std::string_view dir_key) {
  const std::string name = "reseal";
  In h(bytes, name);
  char magic[sizeof kMagic] = {};
  h.raw(magic, sizeof magic);
  h.skip(sizeof kCheckpointFormat + sizeof kByteOrderMark);
  const auto version_size = h.get<std::uint32_t>();
  if (version_size > kMaxVersionText) h.fail("version text too long");
  std::string version(version_size, '\0');
  h.raw(version.data(), version_size);
  (void)h.u64();
  const std::size_t header_size = h.pos();
  (void)h.u64();
  const std::string_view payload = h.rest_view();
  if (payload.size() < kTagSize) h.fail("truncated: no digest");
  const std::string_view signed_part = payload.substr(0, payload.size() - kTagSize);
  In p(signed_part, name);
  std::vector<std::uint32_t> sizes;
  p.records(sizes);
  RunSpec spec;
  transfer_spec(spec, p);
  const auto tag = authentication_tag(spec, dir_key, std::string_view(bytes).substr(0, header_size),
                                      signed_part);
  std::memcpy(bytes.data() + header_size + 8 + signed_part.size(), tag.data(), tag.size());
  const std::uint64_t sum = checksum(std::string_view(bytes).substr(0, header_size),
                                     std::string_view(bytes).substr(header_size + 8));
  cm::bytes::store_le(reinterpret_cast<std::uint8_t*>(bytes.data() + header_size), sum);
  return bytes;
}

Checkpoint Checkpoint::read(const fs::path& dir) {
  const fs::path file = dir / kCheckpointFile;
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw CheckpointError(dir.string() + ": no " + kCheckpointFile +
                          ", nothing to resume (a run saves one with --checkpoint-every N, or "
                          "when SIGINT or SIGTERM stops it)");
  std::string error;
  std::optional<std::string> bytes =
      read_regular_file(file, kMaxCheckpointBytes, "a caremesh checkpoint", error);
  if (!bytes) throw CheckpointError(file.string() + ":0:0: " + error);
  return decode(std::move(*bytes), file.string(), directory_key(dir, false));
}

Scenario Checkpoint::scenario(double max_memory) const {
  LoadOptions opt;
  opt.max_memory = max_memory;
  Scenario sc = load_scenario_text(
      spec_.effective_yaml, spec_.scenario_file + " (effective scenario in " + name_ + ")", opt);
  sc.source_file = spec_.scenario_file;
  sc.effective_yaml = spec_.effective_yaml;
  return sc;
}

void Checkpoint::restore(Simulation& sim) const {
  if (sim.st_.tick != 0 || !sim.st_.clients.empty())
    throw std::logic_error("Checkpoint::restore needs a Simulation that has not stepped");
  In p(state_, name_);
  const Shape fresh = shape_of(sim);
  transfer(sim, p);
  const std::uint64_t saved_hash = p.u64();
  if (p.remaining() != 0) p.fail(std::to_string(p.remaining()) + " bytes after the state");
  if (static_cast<std::size_t>(sim.st_.tick) != sim.st_.series.size())
    p.fail("day " + std::to_string(sim.st_.tick) + " with " +
           std::to_string(sim.st_.series.size()) + " days of time series");
  const std::size_t n_clients = sim.st_.next_id;
  if (sim.st_.keep_records ? sim.st_.clients.size() != n_clients
                           : sim.st_.clients.size() > n_clients)
    p.fail("client records do not match the " + std::to_string(n_clients) + " clients created");
  if (!sim.st_.notes.empty() && sim.st_.notes.size() != n_clients)
    p.fail("client notes out of step");
  for (std::size_t i = 0; i < sim.st_.active.size(); ++i)
    if (sim.st_.active[i] >= sim.st_.clients.size() ||
        (i > 0 && sim.st_.active[i] <= sim.st_.active[i - 1]))
      p.fail("active client slot " + std::to_string(sim.st_.active[i]) +
             " unknown or out of order");
  // Every list naming a client names the record of that client.
  const auto check_slots = [&](const auto& list) {
    for (const auto& e : list)
      if (e.slot != kGone &&
          (e.slot >= sim.st_.clients.size() || sim.st_.clients[e.slot].id != e.client))
        p.fail("client " + std::to_string(e.client) + " listed with another's record");
  };
  for (const OrgState& o : sim.st_.orgs) {
    check_slots(o.intake);
    for (const auto& q : o.queues) check_slots(q);
  }
  for (const NetworkState& net : sim.st_.nets) check_slots(net.waiting);
  for (const Client& c : sim.st_.clients)
    if (std::uint64_t{c.first_need} + c.n_needs > sim.st_.needs.size() || c.n_needs > kMaxNeeds)
      p.fail("client " + std::to_string(c.id) + ": needs out of range");

  const auto n_helpers = static_cast<std::int64_t>(sim.st_.staff.helpers.size());
  for (const OrgState& o : sim.st_.orgs) {
    if (o.first_helper < 0 || o.n_helpers < 0 || o.first_helper + o.n_helpers > n_helpers)
      p.fail("helper slots out of range");
    for (std::int32_t s : o.contract_staff)
      if (s < 0 || s >= n_helpers) p.fail("helper slots out of range");
  }
  check_bounds(sim, fresh, p);
  if (sim.state_hash() != saved_hash) p.mismatch("the restored state hash differs from the saved");
  phases::rebuild_calendar(sim.sc_, sim.st_);
}

}  // namespace cm::care
