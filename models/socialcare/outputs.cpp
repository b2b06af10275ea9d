#include "models/socialcare/outputs.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "caremesh_version.hpp"
#include "engine/output.hpp"

namespace cm::care {

namespace fs = std::filesystem;

namespace {
const char* const kResultFiles[] = {"summary.json",    "timeseries.csv",        "network.csv",
                                    "tie_changes.csv", "organizations.csv",     "clients.csv",
                                    "steering.csv",    "network.graphml",       "network.gexf",
                                    "report.html",     "network_monitoring.csv"};

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void write_timeseries(const fs::path& file, const Simulation& sim) {
  std::vector<std::string> header = {"tick", "arrivals", "active"};
  for (int s = 0; s < kNeedStates; ++s)
    header.push_back(std::string("needs_") + to_string(static_cast<NeedState>(s)));
  for (const char* h :
       {"resolved", "dropped", "queue_length", "intake_length", "conferences_waiting",
        "services_started", "mean_wait_days_started", "referrals", "signposts", "turned_away",
        "assessments", "conflicts_dropped"})
    header.emplace_back(h);
  for (int l = 0; l < kLevels; ++l) header.push_back("ties_level_" + std::to_string(l));
  for (const char* h :
       {"collaboration_hours", "direct_hours_used", "direct_hours_capacity", "paid_hours"})
    header.emplace_back(h);
  CsvWriter csv(header);
  for (const TickRecord& r : sim.timeseries()) {
    csv.field(r.tick).field(r.arrivals).field(r.active);
    for (auto n : r.needs) csv.field(n);
    csv.field(r.resolved).field(r.dropped).field(r.queue_length).field(r.intake_length);
    csv.field(r.conferences_waiting).field(r.services_started);
    csv.field(r.services_started > 0 ? r.wait_days_started / r.services_started : 0.0);
    csv.field(r.referrals).field(r.signposts).field(r.turned_away).field(r.assessments);
    csv.field(r.conflicts);
    for (auto n : r.ties_by_level) csv.field(n);
    csv.field(r.collaboration_hours).field(r.direct_hours_used).field(r.direct_hours_capacity);
    csv.field(r.paid_hours);
    csv.end_row();
  }
  csv.write(file);
}

void write_network(const fs::path& file, const Simulation& sim) {
  const auto& orgs = sim.scenario().organizations;
  CsvWriter csv({"org_a", "org_b", "name_a", "name_b", "level", "trust", "personal_ties"});
  for (const Tie& t : sim.ties().all()) {
    if (t.level < 1) continue;
    csv.field(t.a).field(t.b).field(orgs[t.a].name).field(orgs[t.b].name);
    csv.field(static_cast<int>(t.level)).field(static_cast<double>(t.trust)).field(t.personal);
    csv.end_row();
  }
  csv.write(file);
}

void write_tie_changes(const fs::path& file, const Simulation& sim) {
  const auto& orgs = sim.scenario().organizations;
  CsvWriter csv({"tick", "org_a", "org_b", "name_a", "name_b", "from_level", "to_level", "reason"});
  for (const TieChange& c : sim.tie_history()) {
    const Tie& t = sim.ties()[c.tie];
    csv.field(c.tick).field(t.a).field(t.b).field(orgs[t.a].name).field(orgs[t.b].name);
    csv.field(static_cast<int>(c.from)).field(static_cast<int>(c.to));
    csv.field(to_string(c.reason));
    csv.end_row();
  }
  csv.write(file);
}

void write_steering(const fs::path& file, const Simulation& sim) {
  CsvWriter csv(
      {"authority", "cycle", "tick", "phase", "decision", "district", "subject", "value"});
  for (const SteeringRow& r : sim.steering_rows()) {
    csv.field(r.authority).field(r.cycle).field(r.tick).field(r.phase).field(r.decision);
    csv.field(r.district).field(r.subject).field(r.value);
    csv.end_row();
  }
  csv.write(file);
}

// The networks' monitoring reports: per report, per member, what became of the clients other
// members referred to it since the last report, and the trust that record teaches.
void write_network_monitoring(const fs::path& file, const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  CsvWriter csv({"tick", "network", "org", "name", "joint_cases", "late", "dropouts", "no_shows",
                 "breaches", "record"});
  for (const MonitorRow& r : sim.monitoring_rows()) {
    csv.field(r.tick).field(sc.networks[r.network].name).field(r.org);
    csv.field(sc.organizations[r.org].name);
    csv.field(r.tally.joint).field(r.tally.late).field(r.tally.dropouts).field(r.tally.no_shows);
    csv.field(r.tally.breaches);
    if (std::isnan(r.record))
      csv.field(std::string_view());
    else
      csv.field(static_cast<double>(r.record));
    csv.end_row();
  }
  csv.write(file);
}

void write_organizations(const fs::path& file, const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  CsvWriter csv({"id",
                 "name",
                 "sector",
                 "district",
                 "services",
                 "helpers",
                 "network",
                 "paid_hours_per_day",
                 "collaboration_hours_per_day",
                 "coordination_hours_per_day",
                 "assessments",
                 "referrals_sent",
                 "turned_away",
                 "pooled_out",
                 "cases_now",
                 "waiting_now",
                 "referrals_received",
                 "services_started",
                 "started_within_standard",
                 "agreement_referrals",
                 "agreements_honoured",
                 "agreements_breached",
                 "referred_late",
                 "referred_dropouts",
                 "conference_hours"});
  for (std::size_t o = 0; o < sc.organizations.size(); ++o) {
    const Organization& org = sc.organizations[o];
    const OrgState& st = sim.organizations()[o];
    std::string services;
    for (std::size_t s = 0; s < sc.services.size(); ++s)
      if ((org.services >> s) & 1u) services += (services.empty() ? "" : ";") + sc.services[s].name;
    long long cases = 0, waiting = 0;
    for (int h = 0; h < st.n_helpers; ++h) cases += sim.helpers()[st.first_helper + h].cases;
    for (std::int32_t h : st.contract_staff) cases += sim.helpers()[h].cases;
    waiting = sim.waiting_now(static_cast<std::int32_t>(o));
    csv.field(static_cast<long long>(o)).field(org.name).field(to_string(org.sector));
    csv.field(org.district >= 0 ? sc.districts[org.district].name : std::string());
    csv.field(services).field(org.helpers);
    csv.field(st.network >= 0 ? sc.networks[st.network].name : std::string());
    csv.field(st.paid_hours).field(st.collaboration_hours).field(st.coordination_hours);
    csv.field(st.assessments).field(st.referrals_sent).field(st.turned_away);
    csv.field(st.pooled_out).field(cases).field(waiting);
    csv.field(st.referrals_received).field(st.started).field(st.started_in_standard);
    csv.field(st.agreement_referrals).field(st.agreements_honoured).field(st.agreements_breached);
    csv.field(st.referred_late).field(st.referred_dropouts);
    csv.field(static_cast<double>(st.conference_minutes) / 60.0);
    csv.end_row();
  }
  csv.write(file);
}

void write_clients(const fs::path& file, const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  const int cohort_end = sim.tick() - sc.follow_up_days;
  CsvWriter csv({"id",
                 "district",
                 "kind",
                 "arrival",
                 "in_cohort",
                 "outcome",
                 "exit",
                 "needs",
                 "needs_met",
                 "needs_self_help",
                 "first_contact",
                 "first_assessment",
                 "first_service",
                 "doors",
                 "assessments",
                 "failed_contacts",
                 "referrals",
                 "referrals_tried",
                 "referrals_reached",
                 "referrals_received",
                 "episodes",
                 "continuity",
                 "self_help"});
  for (const Client& c : sim.clients()) {
    int met = 0, self = 0;
    for (const Need& n : sim.needs(c)) {
      met += n.state == NeedState::met;
      self += (n.flags & need_flag::self_help) != 0;
    }
    const bool cohort = c.arrival >= sc.warmup_days && c.arrival < cohort_end;
    csv.field(c.id).field(sc.districts[c.district].name).field(to_string(c.kind));
    csv.field(static_cast<std::int32_t>(c.arrival)).field(cohort ? 1 : 0);
    csv.field(to_string(c.outcome)).field(static_cast<std::int32_t>(c.exit));
    csv.field(static_cast<int>(c.n_needs)).field(met).field(self);
    csv.field(static_cast<std::int32_t>(c.first_contact))
        .field(static_cast<std::int32_t>(c.first_assessment))
        .field(static_cast<std::int32_t>(c.first_service));
    csv.field(c.doors).field(c.assessments).field(c.failed_contacts).field(c.referrals);
    csv.field(c.referrals_tried).field(c.referrals_reached).field(c.referrals_received);
    csv.field(c.episodes);
    const double coc = c.continuity();
    if (coc >= 0)
      csv.field(coc);
    else
      csv.field(std::string_view());
    csv.field(static_cast<double>(c.self_help));
    csv.end_row();
  }
  csv.write(file);
}

}  // namespace

void prepare_output_dir(const fs::path& dir, bool force) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw std::runtime_error(dir.string() + ": exists and is not a directory");
  if (!force)
    for (const char* f : kResultFiles)
      if (fs::exists(dir / f, ec))
        throw std::runtime_error(dir.string() + ": already holds results (" + f +
                                 "); choose another --out or pass --force to replace them");
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir.string() + ": cannot create directory: " + ec.message());
  if (force)
    for (const char* f : kResultFiles) fs::remove(dir / f, ec);
}

nlohmann::ordered_json run_summary(const Simulation& sim, const nlohmann::ordered_json& metrics,
                                   const RunInfo& info) {
  const Scenario& sc = sim.scenario();
  nlohmann::ordered_json j;
  j["caremesh_version"] = kVersion;
  j["scenario"] = {{"name", sc.name},
                   {"file", info.scenario_file},
                   {"variant", info.variant},
                   {"overrides", nlohmann::ordered_json::object()}};
  for (const auto& [k, v] : info.sets) j["scenario"]["overrides"][k] = v;
  j["seed"] = sim.seed();
  j["ticks"] = sim.tick();
  j["state_hash"] = hex(sim.state_hash());
  j["cohort"] = {{"from_tick", sc.warmup_days}, {"to_tick", sim.tick() - sc.follow_up_days}};
  j["metrics"] = metrics;
  j["effective_scenario"] = sc.effective_yaml;
  return j;
}

void write_run(const fs::path& dir, const Simulation& sim, const nlohmann::ordered_json& metrics,
               const RunInfo& info) {
  write_timeseries(dir / "timeseries.csv", sim);
  write_network(dir / "network.csv", sim);
  write_tie_changes(dir / "tie_changes.csv", sim);
  if (!sim.scenario().authorities.empty()) write_steering(dir / "steering.csv", sim);
  bool monitored = false;
  for (const NetworkState& n : sim.networks()) monitored = monitored || !n.tally.empty();
  if (monitored) write_network_monitoring(dir / "network_monitoring.csv", sim);
  write_organizations(dir / "organizations.csv", sim);
  if (info.client_records) write_clients(dir / "clients.csv", sim);
  write_file_atomically(dir / "summary.json", run_summary(sim, metrics, info).dump(2) + "\n");
}

}  // namespace cm::care
