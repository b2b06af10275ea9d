#include "models/socialcare/scenario_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "engine/yaml_json.hpp"
#include "engine/yaml_reader.hpp"
#include "models/socialcare/clients.hpp"
#include "models/socialcare/country.hpp"
#include "models/socialcare/helpers.hpp"

namespace cm::care {

const char* to_string(Sector s) {
  switch (s) {
    case Sector::public_coordinator:
      return "public_coordinator";
    case Sector::public_provider:
      return "public_provider";
    case Sector::nonpublic:
      return "nonpublic";
    case Sector::intermunicipal_coordinator:
      return "intermunicipal_coordinator";
  }
  return "?";
}
const char* to_string(ClientKind k) {
  switch (k) {
    case ClientKind::person:
      return "person";
    case ClientKind::family:
      return "family";
    case ClientKind::community:
      return "community";
  }
  return "?";
}
const char* to_string(Governance g) {
  switch (g) {
    case Governance::shared:
      return "shared";
    case Governance::lead_organization:
      return "lead_organization";
    case Governance::nao:
      return "nao";
  }
  return "?";
}

const char* to_string(TieStructure t) {
  switch (t) {
    case TieStructure::complete:
      return "complete";
    case TieStructure::hub_and_spoke:
      return "hub_and_spoke";
    case TieStructure::given:
      return "given";
  }
  return "?";
}

const char* to_string(QueueDiscipline d) {
  switch (d) {
    case QueueDiscipline::urgency_first:
      return "urgency_first";
    case QueueDiscipline::fifo:
      return "fifo";
    case QueueDiscipline::by_service:
      return "by_service";
  }
  return "?";
}

namespace {

constexpr double kInf = 1e300;
constexpr std::int64_t kMaxPopulation = 100'000'000;  // residents in one district
constexpr std::int64_t kMaxHelpers = 1'000'000;
constexpr std::int64_t kMaxCountryPopulation = 2'000'000'000;  // residents of a generated country

// ---- overrides on the raw YAML tree ------------------------------------------------------

struct PathStep {
  std::string key;  // empty for an index step
  long index = -1;
};

std::vector<PathStep> parse_path(const std::string& path) {
  std::vector<PathStep> steps;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '[') {
      const auto close = path.find(']', i);
      if (close == std::string::npos) throw std::invalid_argument("unclosed '[' in " + path);
      const std::string digits = path.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
        throw std::invalid_argument("index must be a whole number in " + path);
      if (digits.size() > 9)  // std::stol would throw std::out_of_range (found by fuzz_scenario)
        throw std::invalid_argument("index [" + digits + "] is too large in " + path);
      steps.push_back({{}, std::stol(digits)});
      i = close + 1;
      if (i < path.size() && path[i] == '.') ++i;
    } else {
      const auto end = path.find_first_of(".[", i);
      const std::string key = path.substr(i, end == std::string::npos ? end : end - i);
      if (key.empty()) throw std::invalid_argument("empty key in " + path);
      steps.push_back({key, -1});
      if (end == std::string::npos) break;
      i = path[end] == '.' ? end + 1 : end;
    }
  }
  if (steps.empty()) throw std::invalid_argument("empty path");
  return steps;
}

// Sets root.path = value; returns an empty string or what went wrong.
std::string apply_override(YAML::Node root, const std::string& path, const YAML::Node& value) {
  std::vector<PathStep> steps;
  try {
    steps = parse_path(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  YAML::Node cur = root;
  std::string walked;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const bool last = s + 1 == steps.size();
    const auto& st = steps[s];
    if (st.index >= 0) {
      if (!cur.IsSequence()) return "\"" + walked + "\" is not a list, cannot index it";
      if (st.index >= static_cast<long>(cur.size()))
        return "\"" + walked + "\" has " + std::to_string(cur.size()) + " items, no [" +
               std::to_string(st.index) + "]";
      walked += "[" + std::to_string(st.index) + "]";
      if (last) {
        cur[st.index] = value;
        return {};
      }
      YAML::Node next = cur[st.index];
      cur.reset(next);
    } else {
      if (!cur.IsMap()) return "\"" + (walked.empty() ? "(root)" : walked) + "\" is not a mapping";
      walked += (walked.empty() ? "" : ".") + st.key;
      if (last) {
        cur[st.key] = value;
        return {};
      }
      // A missing optional section of the scenario is created (it then holds only this key;
      // defaults fill the rest); any other missing key is an error.
      static const std::set<std::string> sections = {
          "population", "helpers", "ties", "tie_policy", "standards", "steering", "decisions"};
      if (!cur[st.key]) {
        if (s != 0 || !sections.count(st.key)) return "no key \"" + walked + "\" in the scenario";
        cur[st.key] = YAML::Node(YAML::NodeType::Map);
      }
      YAML::Node next = cur[st.key];
      cur.reset(next);
    }
  }
  return {};
}

YAML::Node parse_value(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return YAML::Node(text);
  }
}

// ---- reading the scenario ----------------------------------------------------------------

class Reader {
 public:
  Reader(Diagnostics& d) : diags_(d) {}

  Scenario read(const Node& root) {
    Scenario sc;
    if (!root.is_map()) {
      root.error("expected a mapping with the scenario's keys (name, districts, ...)");
      return sc;
    }
    sc.name = root.require_string("name");
    sc.description = root.string("description", "");
    sc.seed = static_cast<std::uint64_t>(root.integer("seed", 1, 0, INT64_MAX));
    const std::size_t before_days = diags_.size();
    sc.horizon_days = static_cast<int>(root.integer("horizon_days", 365, 1, 36500));
    sc.warmup_days = static_cast<int>(root.integer("warmup_days", 0, 0, 36500));
    sc.follow_up_days = static_cast<int>(root.integer("follow_up_days", 0, 0, 36500));
    // compared only when all three were read (a fallback would give a spurious second error)
    if (diags_.size() == before_days && root.has("horizon_days") &&
        sc.warmup_days + sc.follow_up_days >= sc.horizon_days)
      root.error_at("warmup_days",
                    "warmup_days + follow_up_days must be less than horizon_days, or no client "
                    "is in the outcome cohort");
    sc.client_stepping = root.choice("client_stepping", "events", {"events", "daily"}) == "daily"
                             ? ClientStepping::daily
                             : ClientStepping::events;
    root.has("variants");  // consumed by the variant mechanism
    const bool country = root.has("country");
    if (country && root.has("districts"))
      root.error_at("districts",
                    "give either `districts:` or `country:` (which generates the districts)");
    else if (!country)
      read_districts(root.child("districts"), sc);
    read_services(root.child("services"), sc);
    read_population(root.child("population"), sc.population);
    read_helpers(root.child("helpers"), sc.helpers);
    read_ties(root.child("ties"), sc.ties);
    read_tie_policy(root.child("tie_policy"), sc.tie_policy);
    read_standards(root.child("standards"), sc.standards);
    read_decisions(root.child("decisions"), sc.decisions);
    if (country) {
      read_country(root, sc);
    } else {
      read_organizations(root.child("organizations"), sc, "");
      read_per_district(root.child("per_district"), sc);
    }
    if (sc.organizations.empty() && root.present() && !country)
      root.error("no organizations: give `organizations:` or `per_district.organizations:`");
    if (sc.organizations.size() > static_cast<std::size_t>(kMaxOrganizations))
      root.error(std::to_string(sc.organizations.size()) + " organizations, more than " +
                 std::to_string(kMaxOrganizations) +
                 " (client records keep organization ids in 16 bits)");
    read_networks(root.child("networks"), sc, "");
    read_explicit_ties(root.child("explicit_ties"), sc);
    read_metanetwork(root.child("metanetwork"), sc);
    read_steering(root.child("steering"), sc);
    root.finish();
    return sc;
  }

 private:
  void read_districts(const Node& n, Scenario& sc) {
    if (!n.present()) {
      n.error("missing required key \"districts\" (a list of {name, population})");
      return;
    }
    for (const Node& d : n.items()) {
      District dist;
      dist.name = d.require_string("name");
      dist.population = d.require_integer("population", 0, kMaxPopulation);
      d.finish();
      if (district_index_.count(dist.name)) {
        d.error_at("name", "district \"" + dist.name + "\" is defined twice");
        continue;
      }
      district_index_[dist.name] = static_cast<int>(sc.districts.size());
      sc.districts.push_back(dist);
    }
    if (sc.districts.empty()) n.error("expected at least one district");
  }

  void read_services(const Node& n, Scenario& sc) {
    if (!n.present()) {
      n.error("missing required key \"services\" (a list of service types)");
      return;
    }
    for (const Node& s : n.items()) {
      ServiceType st;
      st.name = s.require_string("name");
      st.share = s.number("share", 1.0, 0.0, kInf);
      st.mean_days = s.number("mean_days", 30.0, 1.0, 3650.0);
      st.hours_per_day = s.number("hours_per_day", 0.4, 0.0, 24.0);
      st.urgent_share = s.number("urgent_share", 0.1, 0.0, 1.0);
      st.self_help_max_severity = s.number("self_help_max_severity", 0.3, 0.0, 1.0);
      st.innovative = s.boolean("innovative", false);
      s.finish();
      if (service_index_.count(st.name)) {
        s.error_at("name", "service \"" + st.name + "\" is defined twice");
        continue;
      }
      if (sc.services.size() == kMaxServices) {
        s.error("at most " + std::to_string(kMaxServices) + " service types are supported");
        break;
      }
      service_index_[st.name] = static_cast<int>(sc.services.size());
      sc.services.push_back(st);
    }
    if (sc.services.empty()) n.error("expected at least one service type");
    double total = 0;
    for (const auto& s : sc.services) total += s.share;
    if (!sc.services.empty() && total <= 0) n.error("service shares sum to 0, expected > 0");
  }

  void read_kind(const Node& n, ClientKindDef& k) {
    if (!n.present()) return;
    k.share = n.number("share", k.share, 0.0, kInf);
    k.mean_extra_needs = n.number("mean_extra_needs", k.mean_extra_needs, 0.0, kMaxNeeds);
    k.self_help_mean = n.number("self_help_mean", k.self_help_mean, 0.0, 1.0);
    n.finish();
  }

  void read_population(const Node& n, PopulationDef& p) {
    if (!n.present()) return;
    p.annual_incidence = n.number("annual_incidence", p.annual_incidence, 0.0, 10.0);
    if (n.has("kinds")) {
      const Node k = n.child("kinds");
      read_kind(k.child("person"), p.kinds[0]);
      read_kind(k.child("family"), p.kinds[1]);
      read_kind(k.child("community"), p.kinds[2]);
      k.finish();
      if (p.kinds[0].share + p.kinds[1].share + p.kinds[2].share <= 0)
        k.error("client kind shares sum to 0, expected > 0");
    }
    p.max_needs = static_cast<int>(n.integer("max_needs", p.max_needs, 1, kMaxNeeds));
    p.self_help_concentration =
        n.number("self_help_concentration", p.self_help_concentration, 0.01, 1e6);
    p.self_help_rate = n.number("self_help_rate", p.self_help_rate, 0.0, 1.0);
    p.coproduction_effect = n.number("coproduction_effect", p.coproduction_effect, 0.0, 0.95);
    p.severity_duration_effect =
        n.number("severity_duration_effect", p.severity_duration_effect, 0.0, 1.9);
    p.awareness_coordinator = n.number("awareness_coordinator", p.awareness_coordinator, 0.0, 1.0);
    p.awareness_other = n.number("awareness_other", p.awareness_other, 0.0, 1.0);
    p.offer_knowledge = n.number("offer_knowledge", p.offer_knowledge, 0.0, 1.0);
    p.search_rate = n.number("search_rate", p.search_rate, 0.0, 1.0);
    p.needs_pursued_at_once =
        static_cast<int>(n.integer("needs_pursued_at_once", p.needs_pursued_at_once, 1, kMaxNeeds));
    p.dropout_base = n.number("dropout_base", p.dropout_base, 0.0, 1.0);
    p.dropout_per_failed_contact =
        n.number("dropout_per_failed_contact", p.dropout_per_failed_contact, 0.0, 1.0);
    p.dropout_per_day_waiting =
        n.number("dropout_per_day_waiting", p.dropout_per_day_waiting, 0.0, 1.0);
    n.finish();
  }

  void read_helpers(const Node& n, HelperDef& h) {
    if (!n.present()) return;
    h.hours_per_day = n.number("hours_per_day", h.hours_per_day, 0.0, 24.0);
    h.admin_share = n.number("admin_share", h.admin_share, 0.0, 1.0);
    h.caseload_cap = static_cast<int>(n.integer("caseload_cap", h.caseload_cap, 1, 10000));
    h.quality_mean = n.number("quality_mean", h.quality_mean, 0.01, 1.0);
    h.quality_sd = n.number("quality_sd", h.quality_sd, 0.0, 1.0);
    h.intake_share = n.number("intake_share", h.intake_share, 0.0, 1.0);
    h.assessment_hours = n.number("assessment_hours", h.assessment_hours, 0.0, 100.0);
    h.turnover_per_year = n.number("turnover_per_year", h.turnover_per_year, 0.0, 10.0);
    h.personal_ties_initial =
        static_cast<int>(n.integer("personal_ties_initial", h.personal_ties_initial, 0, 6));
    h.personal_ties_max =
        static_cast<int>(n.integer("personal_ties_max", h.personal_ties_max, 0, 6));
    h.personal_tie_per_meeting_day =
        n.number("personal_tie_per_meeting_day", h.personal_tie_per_meeting_day, 0.0, 1.0);
    n.finish();
  }

  template <class Array>
  void read_level_array(const Node& n, std::string_view key, Array& out, double lo, double hi) {
    if (!n.has(key)) return;
    const Node arr = n.child(key);
    const auto items = arr.items();
    if (items.size() != kLevels) {
      arr.error("expected " + std::to_string(kLevels) + " numbers, one per level 0..7, got " +
                std::to_string(items.size()));
      return;
    }
    for (std::size_t i = 0; i < items.size(); ++i) out[i] = items[i].as_number(lo, hi, out[i]);
  }

  void read_ties(const Node& n, TieDef& t) {
    if (!n.present()) return;
    read_level_array(n, "cost_hours_per_week", t.cost_hours_per_week, 0.0, 168.0);
    read_level_array(n, "trust_threshold", t.trust_threshold, 0.0, 1.0);
    for (int l = 1; l < kLevels; ++l)
      if (t.trust_threshold[l] < t.trust_threshold[l - 1]) {
        n.error_at("trust_threshold", "trust thresholds must not decrease with the level");
        break;
      }
    t.trust_gain = n.number("trust_gain", t.trust_gain, 0.0, 1.0);
    t.trust_loss = n.number("trust_loss", t.trust_loss, 0.0, 1.0);
    t.trust_decay = n.number("trust_decay", t.trust_decay, 0.0, 1.0);
    t.personal_trust_per_day = n.number("personal_trust_per_day", t.personal_trust_per_day, 0, 1);
    t.benefit_hours_per_joint_case =
        n.number("benefit_hours_per_joint_case", t.benefit_hours_per_joint_case, 0.0, 1000.0);
    t.review_days = static_cast<int>(n.integer("review_days", t.review_days, 1, 3650));
    t.signpost_try = n.number("signpost_try", t.signpost_try, 0.0, 1.0);
    t.signpost_reach = n.number("signpost_reach", t.signpost_reach, 0.0, 1.0);
    t.warm_try = n.number("warm_try", t.warm_try, 0.0, 1.0);
    t.warm_reach = n.number("warm_reach", t.warm_reach, 0.0, 1.0);
    t.signpost_days = static_cast<int>(n.integer("signpost_days", t.signpost_days, 1, 365));
    t.warm_days = static_cast<int>(n.integer("warm_days", t.warm_days, 1, 365));
    t.conference_hours = n.number("conference_hours", t.conference_hours, 0.0, 100.0);
    t.reserved_share = n.number("reserved_share", t.reserved_share, 0.0, 1.0);
    t.trust_loss_late = n.number("trust_loss_late", t.trust_loss_late, 0.0, 1.0);
    t.trust_loss_dropout = n.number("trust_loss_dropout", t.trust_loss_dropout, 0.0, 1.0);
    t.trust_loss_breach = n.number("trust_loss_breach", t.trust_loss_breach, 0.0, 1.0);
    t.reviews_to_fall = static_cast<int>(n.integer("reviews_to_fall", t.reviews_to_fall, 1, 100));
    t.agreement_term_days =
        static_cast<int>(n.integer("agreement_term_days", t.agreement_term_days, 1, 36500));
    t.agreement_act_hours = n.number("agreement_act_hours", t.agreement_act_hours, 0.0, 1000.0);
    n.finish();
  }

  void read_decisions(const Node& n, DecisionDef& d) {
    if (!n.present()) return;
    d.meeting_interval_days =
        static_cast<int>(n.integer("meeting_interval_days", d.meeting_interval_days, 1, 3650));
    d.wait_window_days =
        static_cast<int>(n.integer("wait_window_days", d.wait_window_days, 1, 3650));
    d.trust_weight_days = n.number("trust_weight_days", d.trust_weight_days, 0.0, 3650.0);
    const std::string q = n.choice("queue_discipline", to_string(d.queue_discipline),
                                   {"urgency_first", "fifo", "by_service"});
    d.queue_discipline = q == "fifo"         ? QueueDiscipline::fifo
                         : q == "by_service" ? QueueDiscipline::by_service
                                             : QueueDiscipline::urgency_first;
    d.agreement_access_days =
        static_cast<int>(n.integer("agreement_access_days", d.agreement_access_days, 0, 3650));
    d.reserved_release_days =
        static_cast<int>(n.integer("reserved_release_days", d.reserved_release_days, 0, 3650));
    d.breach_limit = static_cast<int>(n.integer("breach_limit", d.breach_limit, 1, 10000));
    d.conference_member_hours =
        n.number("conference_member_hours", d.conference_member_hours, 0.0, 100.0);
    n.finish();
  }

  void read_tie_policy(const Node& n, TiePolicy& p) {
    if (!n.present()) return;
    p.initial_level = static_cast<int>(n.integer("initial_level", 0, 0, kMaxLevel));
    p.initial_level_members =
        static_cast<int>(n.integer("initial_level_members", p.initial_level, 0, kMaxLevel));
    p.max_level = static_cast<int>(n.integer("max_level", kMaxLevel, 0, kMaxLevel));
    p.min_level_members = static_cast<int>(n.integer("min_level_members", 0, 0, kMaxLevel));
    p.dynamics = n.boolean("dynamics", true);
    if (p.initial_level > p.max_level || p.initial_level_members > p.max_level)
      n.error_at("max_level",
                 "initial levels must not exceed max_level (" + std::to_string(p.max_level) + ")");
    if (p.min_level_members > p.max_level)
      n.error_at("min_level_members", "must not exceed max_level");
    n.finish();
  }

  void read_standards(const Node& n, Standards& s) {
    if (!n.present()) return;
    s.max_days_to_assessment =
        static_cast<int>(n.integer("max_days_to_assessment", s.max_days_to_assessment, 0, 3650));
    s.max_days_to_service =
        static_cast<int>(n.integer("max_days_to_service", s.max_days_to_service, 0, 3650));
    n.finish();
  }

  int district_ref(const Node& where, const std::string& name) {
    const auto it = district_index_.find(name);
    if (it != district_index_.end()) return it->second;
    where.error("unknown district \"" + name + "\" (not among `districts:`)");
    return -1;
  }

  static std::string substitute(std::string text, const std::string& district) {
    const std::string tag = "{district}";
    for (auto p = text.find(tag); p != std::string::npos; p = text.find(tag, p + district.size()))
      text.replace(p, tag.size(), district);
    return text;
  }

  // Reads organizations; `district` is set when expanding a per-district template.
  void read_organizations(const Node& n, Scenario& sc, const std::string& district) {
    if (!n.present()) return;
    for (const Node& o : n.items()) {
      Organization org;
      org.name = substitute(o.require_string("name"), district);
      const std::string sector = o.choice(
          "sector", "public_provider",
          {"public_coordinator", "public_provider", "nonpublic", "intermunicipal_coordinator"});
      if (sector == "public_coordinator") org.sector = Sector::public_coordinator;
      if (sector == "nonpublic") org.sector = Sector::nonpublic;
      if (sector == "intermunicipal_coordinator") org.sector = Sector::intermunicipal_coordinator;
      if (district.empty()) {
        const Node dn = o.child("district");
        org.district = dn.present() ? district_ref(dn, dn.as_string()) : -1;
        if (!dn.present()) o.error("missing required key \"district\" (a district name)");
      } else {
        org.district = district_index_.at(district);
      }
      read_territory(o, org, sc);
      if (o.has("services")) {
        for (const Node& s : o.child("services").items()) {
          const std::string name = s.as_string();
          const auto it = service_index_.find(name);
          if (it == service_index_.end())
            s.error("unknown service \"" + name + "\" (not among `services:`)");
          else
            org.services |= 1u << it->second;
        }
      }
      read_staff(o, org, sc);
      org.intake_policy =
          o.choice("intake_policy", "signpost", {"signpost", "turn_away"}) == "turn_away"
              ? IntakePolicy::turn_away
              : IntakePolicy::signpost;
      o.finish();
      if (org_index_.count(org.name)) {
        o.error_at("name", "organization \"" + org.name + "\" is defined twice");
        continue;
      }
      org_index_[org.name] = static_cast<int>(sc.organizations.size());
      sc.organizations.push_back(std::move(org));
    }
  }

  void read_territory(const Node& o, Organization& org, const Scenario& sc) {
    const Node sv = o.child("serves");
    if (!sv.present()) {
      if (org.district >= 0) org.serves = {org.district};
      return;
    }
    if (sv.is_scalar()) {
      const std::string word = sv.as_string();
      if (word == "all") {
        for (int d = 0; d < static_cast<int>(sc.districts.size()); ++d) org.serves.push_back(d);
      } else if (word == "own") {
        if (org.district >= 0) org.serves = {org.district};
      } else {
        sv.error("expected \"all\", \"own\" or a list of district names, got \"" + word + "\"");
      }
      return;
    }
    for (const Node& d : sv.items()) {
      const int idx = district_ref(d, d.as_string());
      if (idx >= 0) org.serves.push_back(idx);
    }
    std::sort(org.serves.begin(), org.serves.end());
    org.serves.erase(std::unique(org.serves.begin(), org.serves.end()), org.serves.end());
  }

  void read_staff(const Node& o, Organization& org, const Scenario& sc) {
    const bool fixed = o.has("helpers");
    const bool per_pop = o.has("helpers_per_10k");
    if (fixed == per_pop) {
      o.error(
          "give exactly one of \"helpers\" (a count) or \"helpers_per_10k\" (per 10,000 "
          "residents of the territory served)");
      return;
    }
    if (fixed) {
      org.helpers = static_cast<int>(o.integer("helpers", 0, 0, kMaxHelpers));
      return;
    }
    const double rate = o.number("helpers_per_10k", 0.0, 0.0, 10000.0);
    double residents = 0;
    for (int d : org.serves) residents += static_cast<double>(sc.districts[d].population);
    const double helpers = std::round(residents / 10000.0 * rate);
    if (helpers > kMaxHelpers) {
      o.error_at("helpers_per_10k", "gives more than " + std::to_string(kMaxHelpers) + " helpers");
      return;
    }
    org.helpers = std::max(rate > 0 ? 1 : 0, static_cast<int>(helpers));
  }

  void read_per_district(const Node& n, Scenario& sc) {
    if (!n.present()) return;
    const Node orgs = n.child("organizations");
    const Node nets = n.child("networks");
    n.finish();
    for (const auto& d : sc.districts) read_organizations(orgs, sc, d.name);
    deferred_networks_ = nets;
  }

  std::vector<int> read_members(const Node& m, const Scenario& sc, const std::string& district) {
    std::vector<int> members;
    if (m.is_scalar()) {
      const std::string word = m.as_string();
      if (word == "all") {
        for (int i = 0; i < static_cast<int>(sc.organizations.size()); ++i) members.push_back(i);
      } else if (word == "district" && !district.empty()) {
        const int d = district_index_.at(district);
        for (int i = 0; i < static_cast<int>(sc.organizations.size()); ++i)
          if (sc.organizations[i].district == d) members.push_back(i);
      } else {
        m.error("expected \"all\"" + std::string(district.empty() ? "" : ", \"district\"") +
                " or a list of organization names, got \"" + word + "\"");
      }
      return members;
    }
    for (const Node& item : m.items()) {
      const int idx = org_ref(item, substitute(item.as_string(), district));
      if (idx >= 0) members.push_back(idx);
    }
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    return members;
  }

  int org_ref(const Node& where, const std::string& name) {
    const auto it = org_index_.find(name);
    if (it != org_index_.end()) return it->second;
    where.error("unknown organization \"" + name + "\" (not among the organizations)");
    return -1;
  }

  void read_network_list(const Node& n, Scenario& sc, const std::string& district) {
    for (const Node& x : n.items()) {
      NetworkDef net;
      net.name = substitute(x.require_string("name"), district);
      const Node m = x.child("members");
      if (!m.present())
        x.error("missing required key \"members\" (\"all\", \"district\" or a list of names)");
      else
        net.members = read_members(m, sc, district);
      const std::string g =
          x.choice("governance", "shared", {"shared", "lead_organization", "nao"});
      net.governance = g == "lead_organization" ? Governance::lead_organization
                       : g == "nao"             ? Governance::nao
                                                : Governance::shared;
      const Node c = x.child("coordinator");
      if (c.present()) net.coordinator = org_ref(c, substitute(c.as_string(), district));
      net.coordinator_hours_per_day = x.number("coordinator_hours_per_day", 0.0, 0.0, 1e6);
      net.animation = x.number("animation", 0.0, 0.0, 1.0);
      net.formal_agreements = x.boolean("formal_agreements", false);
      const std::string structure =
          x.choice("structure", net.governance == Governance::shared ? "complete" : "hub_and_spoke",
                   {"complete", "hub_and_spoke", "given"});
      net.structure = structure == "complete"        ? TieStructure::complete
                      : structure == "hub_and_spoke" ? TieStructure::hub_and_spoke
                                                     : TieStructure::given;
      if (net.structure == TieStructure::hub_and_spoke && !c.present() &&
          net.governance == Governance::shared)
        x.error_at("structure", "a hub_and_spoke structure needs a \"coordinator\" (the hub)");
      net.coordination_hours_per_member_week = x.number(
          "coordination_hours_per_member_week", net.coordination_hours_per_member_week, 0.0, 168.0);
      net.coordinator_routing = x.boolean("coordinator_routing", net.coordinator_routing);
      net.routing_hours = x.number("routing_hours", net.routing_hours, 0.0, 24.0);
      net.follow_up = x.boolean("follow_up", net.governance == Governance::nao);
      net.follow_up_success = x.number("follow_up_success", net.follow_up_success, 0.0, 1.0);
      net.follow_up_hours = x.number("follow_up_hours", net.follow_up_hours, 0.0, 24.0);
      if (net.governance == Governance::shared && net.follow_up)
        x.error_at("follow_up", "a shared network has no coordinator to follow referrals up");
      net.monitoring = x.boolean("monitoring", net.governance == Governance::nao);
      net.monitoring_interval_days = static_cast<int>(
          x.integer("monitoring_interval_days", net.monitoring_interval_days, 1, 3650));
      net.monitoring_hours_per_member =
          x.number("monitoring_hours_per_member", net.monitoring_hours_per_member, 0.0, 24.0);
      net.monitoring_weight = x.number("monitoring_weight", net.monitoring_weight, 0.0, 1.0);
      if (net.governance == Governance::shared && net.monitoring)
        x.error_at("monitoring", "a shared network has no coordinator to run its monitoring");
      if (net.governance != Governance::shared && !c.present())
        x.error_at("governance", "governance \"" + g +
                                     "\" needs a \"coordinator\" (the lead organization or NAO)");
      if (net.governance == Governance::shared && c.present())
        x.error_at("coordinator",
                   "a shared (participant-governed) network has no coordinator; "
                   "use governance lead_organization or nao");
      x.finish();
      sc.networks.push_back(std::move(net));
    }
  }

  void read_networks(const Node& n, Scenario& sc, const std::string&) {
    if (n.present()) read_network_list(n, sc, "");
    if (deferred_networks_.present())
      for (const auto& d : sc.districts) read_network_list(deferred_networks_, sc, d.name);
  }

  void read_explicit_ties(const Node& n, Scenario& sc) {
    if (!n.present()) return;
    for (const Node& t : n.items()) {
      ExplicitTie tie;
      const Node a = t.child("a"), b = t.child("b");
      if (!a.present() || !b.present()) t.error("expected keys \"a\" and \"b\" (organizations)");
      tie.a = a.present() ? org_ref(a, a.as_string()) : -1;
      tie.b = b.present() ? org_ref(b, b.as_string()) : -1;
      tie.level = static_cast<int>(t.require_integer("level", 0, kMaxLevel));
      if (tie.a >= 0 && tie.a == tie.b) t.error("a tie joins two different organizations");
      t.finish();
      if (tie.a >= 0 && tie.b >= 0 && tie.a != tie.b) sc.explicit_ties.push_back(tie);
    }
  }

  void read_metanetwork(const Node& n, Scenario& sc) {
    if (!n.present()) return;
    std::map<std::string, int> nets;
    for (std::size_t i = 0; i < sc.networks.size(); ++i)
      nets.emplace(sc.networks[i].name, static_cast<int>(i));
    auto net_ref = [&](const Node& x) {
      const std::string name = x.as_string();
      const auto it = nets.find(name);
      if (it != nets.end()) return it->second;
      x.error("unknown network \"" + name + "\" (not among the networks)");
      return -1;
    };
    for (const Node& m : n.items()) {
      MetaLink link;
      const Node a = m.child("a"), b = m.child("b");
      if (!a.present() || !b.present()) m.error("expected keys \"a\" and \"b\" (network names)");
      link.network_a = a.present() ? net_ref(a) : -1;
      link.network_b = b.present() ? net_ref(b) : -1;
      link.level = static_cast<int>(m.integer("level", 3, 1, kMaxLevel));
      m.finish();
      if (link.network_a >= 0 && link.network_b >= 0) sc.metanetwork.push_back(link);
    }
  }

  // ---- a generated country (country.hpp) ----

  void read_country(const Node& root, Scenario& sc) {
    for (const char* key : {"organizations", "per_district"})
      if (root.has(key))
        root.error_at(key, std::string("a generated country gives its organizations under "
                                       "`country.organizations:`, not `") +
                               key + ":`");
    const Node n = root.child("country");
    if (!n.is_map()) {
      n.error("expected a mapping with the country's parameters (population, municipalities, ...)");
      return;
    }
    CountryDef def;
    def.seed = static_cast<std::uint64_t>(
        n.integer("seed", static_cast<std::int64_t>(sc.seed), 0, INT64_MAX));
    def.population = n.integer("population", def.population, 1, kMaxCountryPopulation);
    def.regions = static_cast<int>(n.integer("regions", def.regions, 1, 10000));
    def.counties = static_cast<int>(n.integer("counties", def.counties, 1, 65535));
    def.municipalities =
        static_cast<int>(n.integer("municipalities", def.municipalities, 1, 65535));
    if (const Node c = n.child("cities"); c.present()) {
      def.cities = static_cast<int>(c.integer("count", def.cities, 0, 65535));
      def.largest_city = c.integer("largest", def.largest_city, 1, kMaxPopulation);
      def.city_zipf_exponent = c.number("zipf_exponent", def.city_zipf_exponent, 0.0, 10.0);
      c.finish();
    }
    def.municipality_median =
        n.number("municipality_median", def.municipality_median, 1.0, kMaxPopulation);
    def.municipality_min = n.integer("municipality_min", def.municipality_min, 0, kMaxPopulation);
    def.county_size_cv = n.number("county_size_cv", def.county_size_cv, 0.0, 10.0);
    def.region_size_cv = n.number("region_size_cv", def.region_size_cv, 0.0, 10.0);
    def.partners_per_organization = static_cast<int>(
        n.integer("partners_per_organization", def.partners_per_organization, 0, 1000));
    const Node types = n.child("organizations");
    std::vector<Node> type_nodes;
    if (!types.present())
      n.error("missing required key \"organizations\" (the types of organization, with rates)");
    else
      type_nodes = types.items();
    std::set<std::string> type_names;
    for (const Node& t : type_nodes) {
      CountryOrgType type = read_country_org_type(t);
      if (!type_names.insert(type.name).second)
        t.error_at("name", "organization type \"" + type.name + "\" is defined twice");
      def.organizations.push_back(std::move(type));
    }
    n.finish();
    const std::size_t before = diags_.size();
    for (const auto& [key, message] : country_problems(def)) {
      const auto dot = key.find('.');
      const Node at = dot == std::string::npos ? n : n.child(key.substr(0, dot));
      (at.present() ? at : n)
          .error_at(dot == std::string::npos ? key : key.substr(dot + 1), message);
    }
    if (diags_.size() != before) return;
    CountryLayout layout = expand_country(def);
    for (District& d : layout.districts) {
      district_index_[d.name] = static_cast<int>(sc.districts.size());
      sc.districts.push_back(std::move(d));
    }
    sc.territory_ties = false;
    sc.tie_pairs = std::move(layout.ties);
    for (Organization& org : layout.organizations) {
      if (org.helpers > kMaxHelpers || org_index_.count(org.name)) {
        const std::string message =
            org.helpers > kMaxHelpers
                ? "gives \"" + org.name + "\" more than " + std::to_string(kMaxHelpers) + " helpers"
                : "gives an organization named \"" + org.name + "\" twice";
        types.error(message);
        return;
      }
      org_index_[org.name] = static_cast<int>(sc.organizations.size());
      sc.organizations.push_back(std::move(org));
    }
  }

  CountryOrgType read_country_org_type(const Node& t) {
    CountryOrgType type;
    type.name = t.require_string("name");
    const std::string level =
        t.choice("level", "municipality", {"municipality", "county", "region"});
    type.level = level == "county"   ? CountryLevel::county
                 : level == "region" ? CountryLevel::region
                                     : CountryLevel::municipality;
    const std::string sector = t.choice(
        "sector", "public_provider",
        {"public_coordinator", "public_provider", "nonpublic", "intermunicipal_coordinator"});
    type.sector = sector == "public_coordinator"           ? Sector::public_coordinator
                  : sector == "nonpublic"                  ? Sector::nonpublic
                  : sector == "intermunicipal_coordinator" ? Sector::intermunicipal_coordinator
                                                           : Sector::public_provider;
    const Node services = t.child("services");
    if (!services.present()) t.error("missing required key \"services\" (service names)");
    for (const Node& s : services.items()) {
      const auto it = service_index_.find(s.as_string());
      if (it == service_index_.end())
        s.error("unknown service \"" + s.as_string() + "\" (not among `services:`)");
      else
        type.services |= 1u << it->second;
    }
    type.intake_policy =
        t.choice("intake_policy", "signpost", {"signpost", "turn_away"}) == "turn_away"
            ? IntakePolicy::turn_away
            : IntakePolicy::signpost;
    if (t.has("count") && t.has("per_100k"))
      t.error(
          "give at most one of \"count\" (organizations per unit) or \"per_100k\" (per "
          "100,000 residents of the unit)");
    type.count = static_cast<int>(t.integer("count", 1, 0, 100000));
    type.per_100k = t.number("per_100k", 0.0, 0.0, 100000.0);
    type.min_count = static_cast<int>(t.integer("min_count", 0, 0, 100000));
    if (t.has("min_count") && !t.has("per_100k"))
      t.error_at("min_count", "min_count applies only with per_100k");
    if (t.has("helpers") == t.has("helpers_per_10k"))
      t.error(
          "give exactly one of \"helpers\" (per organization) or \"helpers_per_10k\" (per "
          "10,000 residents of the unit, split among its organizations of this type)");
    type.helpers = static_cast<int>(t.integer("helpers", 0, 0, kMaxHelpers));
    type.helpers_per_10k = t.number("helpers_per_10k", 0.0, 0.0, 10000.0);
    type.min_helpers = static_cast<int>(t.integer("min_helpers", 1, 0, kMaxHelpers));
    if (t.has("min_helpers") && !t.has("helpers_per_10k"))
      t.error_at("min_helpers", "min_helpers applies only with helpers_per_10k");
    t.finish();
    return type;
  }

  void read_steering(const Node& n, Scenario& sc) {
    if (!n.present()) return;
    for (const Node& a : n.child("authorities").items()) {
      AuthorityDef d;
      d.name = a.require_string("name");
      d.level = a.choice("level", "city", {"city", "district", "intermunicipal"});
      const Node t = a.child("territory");
      if (!t.present() || (t.is_scalar() && t.as_string() == "all")) {
        for (int i = 0; i < static_cast<int>(sc.districts.size()); ++i) d.territory.push_back(i);
      } else {
        for (const Node& x : t.items()) {
          const int idx = district_ref(x, x.as_string());
          if (idx >= 0) d.territory.push_back(idx);
        }
        std::sort(d.territory.begin(), d.territory.end());
        d.territory.erase(std::unique(d.territory.begin(), d.territory.end()), d.territory.end());
      }
      d.period_days = static_cast<int>(a.integer("period_days", d.period_days, 7, 3650));
      d.first_cycle_day = static_cast<int>(a.integer("first_cycle_day", 0, 0, 36500));
      d.budget_helpers = a.number("budget_helpers", 0.0, 0.0, 1e6);
      const std::string alloc =
          a.choice("allocation", "by_need", {"by_need", "by_population", "equal"});
      d.allocation = alloc == "by_population" ? Allocation::by_population
                     : alloc == "equal"       ? Allocation::equal
                                              : Allocation::by_need;
      d.diagnosis_noise = a.number("diagnosis_noise", d.diagnosis_noise, 0.0, 5.0);
      d.diagnosis_delay_days =
          static_cast<int>(a.integer("diagnosis_delay_days", d.diagnosis_delay_days, 0, 3650));
      d.call_per_district =
          a.choice("call_scope", "district", {"district", "territory"}) == "district";
      d.consortium_min_members =
          static_cast<int>(a.integer("consortium_min_members", d.consortium_min_members, 1, 50));
      d.consortium_max_members =
          static_cast<int>(a.integer("consortium_max_members", d.consortium_max_members, 1, 50));
      if (d.consortium_max_members < d.consortium_min_members)
        a.error_at("consortium_max_members", "must be at least consortium_min_members");
      d.require_public_and_nonpublic =
          a.boolean("require_public_and_nonpublic", d.require_public_and_nonpublic);
      d.nonpublic_lead = a.boolean("nonpublic_lead", d.nonpublic_lead);
      d.weight_coverage = a.number("weight_coverage", d.weight_coverage, 0.0, 1e6);
      d.weight_price = a.number("weight_price", d.weight_price, 0.0, 1e6);
      d.weight_record = a.number("weight_record", d.weight_record, 0.0, 1e6);
      d.price_public = a.number("price_public", d.price_public, 0.01, 1e6);
      d.price_nonpublic = a.number("price_nonpublic", d.price_nonpublic, 0.01, 1e6);
      d.contract_level = static_cast<int>(a.integer("contract_level", d.contract_level, 0, 7));
      d.compliance_threshold = a.number("compliance_threshold", d.compliance_threshold, 0, 1);
      d.equity_adjustment = a.number("equity_adjustment", d.equity_adjustment, 0.0, 10.0);
      d.outreach_share = a.number("outreach_share", 0.0, 0.0, 1.0);
      d.outreach_effect = a.number("outreach_effect", d.outreach_effect, 0.0, 1.0);
      d.self_help_share = a.number("self_help_share", 0.0, 0.0, 1.0);
      d.self_help_effect = a.number("self_help_effect", d.self_help_effect, 0.0, 1.0);
      d.innovation_share = a.number("innovation_share", 0.0, 0.0, 1.0);
      d.post_filling_days =
          static_cast<int>(a.integer("post_filling_days", d.post_filling_days, 0, 3650));
      d.funding =
          a.choice("funding", "gap", {"gap", "demand"}) == "gap" ? Funding::gap : Funding::demand;
      for (const Node& f : a.child("fixed_posts").items()) {
        FixedPost post;
        const Node o = f.child("organization");
        if (!o.present()) f.error("expected key \"organization\" (an organization's name)");
        post.organization = o.present() ? org_ref(o, o.as_string()) : -1;
        post.helpers = static_cast<int>(f.integer("helpers", 0, 1, 100000));
        f.finish();
        if (post.organization >= 0) d.fixed_posts.push_back(post);
      }
      if (d.outreach_share + d.self_help_share > 1.0)
        a.error_at("self_help_share", "outreach_share + self_help_share must not exceed 1");
      a.finish();
      sc.authorities.push_back(std::move(d));
    }
    n.finish();
  }

  Diagnostics& diags_;
  std::map<std::string, int> district_index_, service_index_, org_index_;
  Node deferred_networks_;
};

// Where an override came from, so that problems with the values it put into the tree are
// located there: the variant's `set:` entry, or the command line ("--set PATH=VALUE:1:1").
struct OverrideOrigin {
  std::string path;
  Location where;
  bool command_line = false;
};

std::string set_location_name(const std::string& path, const std::string& text) {
  return "--set " + path + "=" + text;
}

// Applies the chosen variant and the command-line overrides; problems go to diags.
struct Provenance {
  nlohmann::ordered_json variant_set = nlohmann::ordered_json::object();
  nlohmann::ordered_json overrides = nlohmann::ordered_json::object();
  std::vector<std::string> mapping_sections;
};

void apply_variants(Node root, YAML::Node raw, const LoadOptions& opt, Diagnostics& diags,
                    const std::string& name, std::vector<OverrideOrigin>& origins,
                    Provenance& prov) {
  const Node variants = root.child("variants");
  bool found = opt.variant.empty();
  std::string declared;  // the variant names, for the message about an unknown one
  if (variants.present()) {
    std::set<std::string> names;
    for (const Node& v : variants.items()) {
      const std::string vname = v.require_string("name");
      v.string("description", "");
      if (!names.insert(vname).second)
        v.error_at("name", "variant \"" + vname + "\" twice");
      else
        declared += (declared.empty() ? "" : ", ") + vname;
      const Node set = v.child("set");
      v.finish();
      if (vname != opt.variant || !set.present()) {
        if (vname == opt.variant) found = true;
        continue;
      }
      found = true;
      prov.variant_set = yaml_to_json(set.yaml());
      for (const auto& [path, value] : set.entries()) {
        // the value node itself (not a clone) goes into the tree, so that it keeps its position
        // in the file for messages; `variants` is removed from the tree below
        const std::string err = apply_override(raw, path, value.yaml());
        if (!err.empty()) value.error("cannot apply override \"" + path + "\": " + err);
        origins.push_back({path, value.location(), false});
      }
    }
  }
  if (!found) {
    const std::string message =
        "no variant named \"" + opt.variant + "\" in the scenario, expected " +
        (declared.empty() ? std::string("none (the scenario declares no variants)")
                          : "one of: " + declared);
    if (variants.exists())
      root.error_at("variants", message);
    else  // nothing in the file to point at: the command line's --variant is what is wrong
      diags.add({"--variant " + opt.variant, 1, 1}, "variants",
                "no variant named \"" + opt.variant + "\" in " + name +
                    ", expected none (the scenario declares no variants)");
  }
  if (raw.IsMap())
    for (const auto& kv : raw)
      if (kv.second.IsMap() && kv.first.IsScalar() && kv.first.Scalar() != "variants")
        prov.mapping_sections.push_back(kv.first.Scalar());
  for (const auto& [path, text] : opt.sets) {
    const YAML::Node value = parse_value(text);  // tags and control characters refused, located
    prov.overrides[path] = yaml_to_json(value);
    check_value_tree(value, {set_location_name(path, text), 1, 1}, path, diags);
    const std::string err = apply_override(raw, path, value);
    if (!err.empty())
      diags.add({set_location_name(path, text), 1, 1}, path, "cannot apply override: " + err);
    origins.push_back({path, {set_location_name(path, text), 1, 1}, true});
  }
  if (raw.IsMap()) raw.remove("variants");
}

bool within(const std::string& path, const std::string& base) {
  if (!path.starts_with(base)) return false;
  return path.size() == base.size() || path[base.size()] == '.' || path[base.size()] == '[';
}

// Problems with values an override put into the tree are located at the override: a --set
// value has no place in the file, and a key a variant added has no position of its own.
Diagnostics relocate(const Diagnostics& diags, const std::vector<OverrideOrigin>& origins) {
  Diagnostics out;
  for (const Diagnostic& d : diags.items()) {
    Location where = d.where;
    for (auto o = origins.rbegin(); o != origins.rend(); ++o) {  // the last override wins
      if (!within(d.path, o->path)) continue;
      if (o->command_line || where.line == 0) where = o->where;
      break;
    }
    out.add(where, d.path, d.message);
  }
  return out;
}

// ---- memory estimate (docs/reliability.md) --------------------------------------------------

// A run keeps every client it ever created. The expected number over the horizon is
// sum(population) x annual_incidence x horizon_days / 365; each takes its record and up to
// kMaxNeeds needs twice (the arrays grow by copying) and 64 bytes of active-list, queue,
// intake and message entries. A scenario whose clients and helpers would need more than the limit
// is refused before anything is allocated. The limit is LoadOptions::max_memory (default 8 GiB).
constexpr double kBytesPerClient = 2.0 * (sizeof(Client) + kMaxNeeds * sizeof(Need)) + 64;
constexpr double kBytesPerHelper = 2.0 * sizeof(Helper) + 8;
constexpr double kMaxClients = 1e9;  // client ids are 32-bit

}  // namespace

std::optional<double> parse_memory_size(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v) || v <= 0) return std::nullopt;
  std::string unit(end);
  if (unit.ends_with("iB"))
    unit.resize(unit.size() - 2);
  else if (unit.size() > 1 && unit.ends_with("B"))
    unit.pop_back();
  const std::string units = "KMGT";
  if (unit.empty() || unit == "B") return v;
  if (unit.size() != 1) return std::nullopt;
  const auto k = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
  if (k == std::string::npos) return std::nullopt;
  return v * std::pow(1024.0, static_cast<double>(k + 1));
}

namespace {

std::string gib(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  return buf;
}

void check_memory(const Node& root, const Scenario& sc, double max_memory) {
  const double limit = max_memory > 0 ? max_memory : kDefaultMaxMemory;
  double clients = 0, largest = -1;
  std::size_t at = 0;
  for (std::size_t d = 0; d < sc.districts.size(); ++d) {
    const double c = static_cast<double>(sc.districts[d].population) *
                     sc.population.annual_incidence * sc.horizon_days / 365.0;
    clients += c;
    if (c > largest) {
      largest = c;
      at = d;
    }
  }
  double helpers = 0;
  for (const Organization& o : sc.organizations) helpers += o.helpers;
  const double bytes = clients * kBytesPerClient + helpers * kBytesPerHelper;
  if (clients <= kMaxClients && bytes <= limit) return;
  const auto districts = root.child("districts").items();
  const Node country = root.child("country");
  if (at >= districts.size() && !country.present()) return;
  const Node where =
      at < districts.size() ? districts[at].child("population") : country.child("population");
  const std::string count = std::to_string(std::llround(clients));
  const std::string what = "the scenario would create about " + count + " clients in " +
                           std::to_string(sc.horizon_days) +
                           " days (sum of population x annual_incidence x horizon_days / 365)";
  if (clients > kMaxClients)
    where.error(what +
                ", more than the 1000000000 a run supports; lower the population, "
                "population.annual_incidence or horizon_days");
  else
    where.error(what + ", needing about " + gib(bytes) + " of memory, more than the limit of " +
                gib(limit) +
                "; lower the population, population.annual_incidence or horizon_days, or raise "
                "the limit with --max-memory or CAREMESH_MAX_MEMORY");
}

Scenario finish_load(Document doc, Diagnostics& diags, const LoadOptions& opt,
                     const std::string& name) {
  if (!doc.ok() || !diags.empty()) throw InputError(diags);
  Node root = doc.root();
  YAML::Node raw = root.yaml();
  if (!root.is_map()) {
    root.error("expected a mapping with the scenario's keys (name, districts, ...)");
    throw InputError(diags);
  }
  std::vector<OverrideOrigin> origins;
  Provenance prov;
  apply_variants(root, raw, opt, diags, name, origins, prov);
  if (!diags.empty()) throw InputError(diags);
  Reader reader(diags);
  Scenario sc = reader.read(root);
  if (diags.empty()) check_memory(root, sc, opt.max_memory);
  if (!diags.empty()) throw InputError(relocate(diags, origins));
  sc.source_file = name;
  sc.variant_set_json = provenance_dump(prov.variant_set);
  sc.overrides_json = provenance_dump(prov.overrides);
  sc.mapping_sections = std::move(prov.mapping_sections);
  YAML::Emitter out;
  out << raw;
  sc.effective_yaml = out.c_str();
  sc.effective_yaml += "\n";
  return sc;
}

}  // namespace

std::pair<std::string, std::string> parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument("expected PATH=VALUE (e.g. tie_policy.max_level=2), got \"" + text +
                                "\"");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

Scenario load_scenario(const std::string& path, const LoadOptions& options) {
  Diagnostics diags;
  Document doc = Document::load_file(path, diags);
  return finish_load(std::move(doc), diags, options, path);
}

Scenario load_scenario_text(const std::string& text, const std::string& name,
                            const LoadOptions& options) {
  Diagnostics diags;
  Document doc = Document::load_string(text, name, diags);
  return finish_load(std::move(doc), diags, options, name);
}

std::vector<std::string> scenario_variants(const std::string& path) {
  Diagnostics diags;
  Document doc = Document::load_file(path, diags);
  if (!doc.ok()) throw InputError(diags);
  std::vector<std::string> names;
  const YAML::Node raw = doc.root().yaml();
  if (raw.IsMap() && raw["variants"] && raw["variants"].IsSequence())
    for (const auto& v : raw["variants"])
      if (v.IsMap() && v["name"] && v["name"].IsScalar())
        names.push_back(v["name"].as<std::string>());
  return names;
}

}  // namespace cm::care
