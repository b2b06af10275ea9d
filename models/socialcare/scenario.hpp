// The description of a social-assistance scenario: plain, validated, immutable data.
//
// A YAML file is read into these structs by scenario_loader.cpp, which reports every problem
// with its location; the Simulation takes a const copy and never changes it. Each field has a
// documented default (the `default_…()` factories and member initialisers) and a unit in its
// comment; docs/model.md lists the sources of the defaults.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cm::care {

inline constexpr int kMaxLevel = 7;      // Park's continuum: levels 0..7
inline constexpr int kMaxNeeds = 6;      // capacity of a client's inline need bundle
inline constexpr int kMaxServices = 32;  // services are kept in a 32-bit skill mask
// Client records hold organization ids and days in 16 bits (clients.hpp).
inline constexpr int kMaxOrganizations = 65535;
inline constexpr int kMaxTicks = 65534;
inline constexpr int kLevels = kMaxLevel + 1;

enum class Sector : std::uint8_t {
  public_coordinator,
  public_provider,
  nonpublic,
  intermunicipal_coordinator
};
enum class ClientKind : std::uint8_t { person, family, community };
enum class Governance : std::uint8_t { shared, lead_organization, nao };
// The ties a network starts its members with (Provan & Kenis 2008): every pair (complete), the
// coordinator with each member (hub_and_spoke: members' ties to each other start at the
// policy's initial_level), or only those the scenario gives (explicit ties).
enum class TieStructure : std::uint8_t { complete, hub_and_spoke, given };
const char* to_string(TieStructure t);
enum class IntakePolicy : std::uint8_t { signpost, turn_away };
// How the client phase meets the clients (docs/model.md "Event-driven clients"): `events`
// draws the day of each client's next event when its state begins and wakes it on that day;
// `daily` steps every active client every day with a draw per risk. The two are the same
// random process (same rules, same distributions), with different draws.
enum class ClientStepping : std::uint8_t { events, daily };

const char* to_string(Sector s);
const char* to_string(ClientKind k);
const char* to_string(Governance g);

struct District {
  std::string name;
  std::int64_t population = 0;  // residents
  std::string county;           // a generated country's county and region (country.hpp), or ""
  std::string region;
};

struct ServiceType {
  std::string name;
  double share = 1.0;                   // relative weight of this service among arising needs
  double mean_days = 30.0;              // mean length of one round of service, days
  double hours_per_day = 0.4;           // helper hours one case takes per day, h/day
  double urgent_share = 0.1;            // share of needs that are urgent (served first), 0..1
  double self_help_max_severity = 0.3;  // needs below this severity can be met by self-help
  bool innovative = false;  // a new form of service: delivered only by contract-funded helpers
};

// A client kind's defaults are those of PopulationDef::kinds (one place, per kind).
struct ClientKindDef {
  double share = 0;             // relative share of arising clients of this kind
  double mean_extra_needs = 0;  // mean number of needs beyond the first (Poisson)
  double self_help_mean = 0;    // mean self- and mutual-help capacity, 0..1 (Beta)
};

struct PopulationDef {
  double annual_incidence = 0.034;  // clients arising per resident per year
  // person, family, community: shares, extra needs and self-help (docs/model.md "Sources")
  std::array<ClientKindDef, 3> kinds{{{0.6, 0.3, 0.3}, {0.35, 0.8, 0.3}, {0.05, 1.2, 0.5}}};
  int max_needs = 4;                         // cap on needs per client (<= kMaxNeeds)
  double self_help_concentration = 4.0;      // Beta concentration (alpha+beta) of self-help
  double self_help_rate = 0.01;              // daily chance that full self-help meets a light need
  double coproduction_effect = 0.3;          // share of service effort full co-production saves
  double severity_duration_effect = 1.0;     // service length multiplier is 1 + effect*(sev-0.5)
  double awareness_coordinator = 0.7;        // chance a client knows the district's coordinator
  double awareness_other = 0.1;              // chance a client knows any other organization
  double offer_knowledge = 0.5;              // chance a client knows which known door offers a need
  double search_rate = 0.1;                  // daily chance to find a door when knowing none
  int needs_pursued_at_once = 1;             // needs a client pursues on its own at the same time
  double dropout_base = 0.002;               // daily hazard of giving up while not in service
  double dropout_per_failed_contact = 0.01;  // added hazard per failed contact
  double dropout_per_day_waiting = 0.00005;  // added hazard per day since the need arose
};

struct Organization {
  std::string name;
  Sector sector = Sector::public_provider;
  int district = 0;            // index of home district
  std::vector<int> serves;     // district indices served (territory)
  std::uint32_t services = 0;  // mask of service indices offered
  int helpers = 0;             // helpers employed
  IntakePolicy intake_policy = IntakePolicy::signpost;
};

struct HelperDef {
  double hours_per_day = 8.0;       // paid hours per helper per day, h
  double admin_share = 0.3;         // share of hours taken by other duties, 0..1
  int caseload_cap = 50;            // max concurrent cases per helper (art. 110 norm)
  double quality_mean = 0.8;        // chance a round of service meets the need, 0..1
  double quality_sd = 0.1;          // spread of helper quality
  double intake_share = 0.15;       // share of direct hours reserved for intake/assessment
  double assessment_hours = 2.0;    // helper hours one assessment takes, h
  double turnover_per_year = 0.15;  // share of helpers leaving per year
  int personal_ties_initial = 1;    // mean personal ties per helper to other orgs at start
  int personal_ties_max = 6;        // max personal ties a helper keeps
  double personal_tie_per_meeting_day = 0.02;  // daily chance a level>=4 tie forms one
};

struct TieDef {
  std::array<double, kLevels> cost_hours_per_week{0, 0.25, 0.5, 1, 2, 3, 4, 6};  // per org
  std::array<double, kLevels> trust_threshold{0, 0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9};
  double trust_gain = 0.05;                // trust gained per successful joint case (x (1-trust))
  double trust_loss = 0.1;                 // trust lost per failed referral (x trust)
  double trust_decay = 0.002;              // daily relative decay of trust without joint work
  double personal_trust_per_day = 0.0005;  // daily trust added per personal tie
  double benefit_hours_per_joint_case = 3.0;  // helper hours a joint case saves, h
  int review_days = 30;                       // how often tie levels are reviewed, days
  double signpost_try = 0.91;                 // chance a signposted client tries the referral
  double signpost_reach = 0.9;                // chance a trying signposted client reaches it
  double warm_try = 1.0;                      // same for a warm (handed-over) referral
  double warm_reach = 0.97;
  int signpost_days = 3;  // days to travel a signposted referral
  int warm_days = 1;      // days to complete a warm hand-over
  double conference_hours =
      1.5;  // hours the chair (coordinator or convener) spends per conference, h
  double reserved_share = 0.2;  // share of a partner's case slots a formal agreement reserves
  // Trust learns from how a partner treats the clients sent to it (MODEL.md §12): relative
  // losses (x trust) when a referred client waits past standards.max_days_to_service in its
  // queue, gives up there, or waits past an agreement's guaranteed access time.
  double trust_loss_late = 0.05;
  double trust_loss_dropout = 0.1;
  double trust_loss_breach = 0.15;
  int reviews_to_fall = 2;  // consecutive reviews with a shortfall before a tie falls a level
  // Formal acts: a network's members reach levels 6-7 only by signing an agreement at a
  // review (recorded in tie_changes.csv), which costs each side agreement_act_hours once and
  // runs agreement_term_days; renewed at its end when the tie still pays, else it lapses.
  int agreement_term_days = 365;
  double agreement_act_hours = 8.0;
};

// How helpers take the next case across an organization's queues.
enum class QueueDiscipline : std::uint8_t {
  urgency_first,  // urgency, then agreement, then days waited, then client id (default)
  fifo,           // days waited, then client id (urgency and agreements ignored)
  by_service      // service by service in catalogue order, each by urgency first (old rule)
};
const char* to_string(QueueDiscipline d);

// The decision rules of organizations (MODEL.md §4, §12): what a referrer can see of a
// partner at each level and how it chooses; how helpers pick the next case; what agreements
// promise; who pays for case conferences. docs/model.md gives the rules and their sources.
struct DecisionDef {
  int meeting_interval_days = 14;   // level 4-6 partners know each other's waits as of the last
                                    // regular meeting, held every this many days
  int wait_window_days = 30;        // an organization's start rate: a moving mean over ~this, days
  double trust_weight_days = 30.0;  // expected days of waiting a referrer accepts to send a
                                    // client to a fully trusted partner instead of an untrusted one
  QueueDiscipline queue_discipline = QueueDiscipline::urgency_first;
  int agreement_access_days = 14;        // access time an agreement (level >= 6) guarantees, days
  int reserved_release_days = 30;        // reserved slots are held while an agreement referral came
                                         // within this many days; then released to other clients
  int breach_limit = 2;                  // breaches within a review that bring a tie down a level
  double conference_member_hours = 1.0;  // hours each taking-part organization gives, h
};

struct ExplicitTie {
  int a = 0, b = 0;  // organization indices
  int level = 0;
};

struct NetworkDef {
  std::string name;
  std::vector<int> members;  // organization indices
  Governance governance = Governance::shared;
  int coordinator = -1;                    // organization index (lead or NAO), -1 none
  double coordinator_hours_per_day = 0.0;  // coordinator capacity for conferences, h/day
  double animation = 0.0;  // the coordinator's animation: monthly chance an unlinked member
                           // pair forms a tie, and extra trust per joint case between members
  bool formal_agreements = false;  // members may sign agreements (levels 6-7) at reviews
  TieStructure structure = TieStructure::complete;  // default: complete if shared, else hub
  // shared governance: each member's coordination overhead per other member, h/week
  double coordination_hours_per_member_week = 0.5;
  // lead / nao: the coordinator routes referrals between members with a live view of every
  // member's waits, each routed referral costing routing_hours of its hours
  bool coordinator_routing = true;
  double routing_hours = 0.1;
  // the coordinator follows up a failed referral between members (default: nao only); a
  // follow-up costs follow_up_hours and brings the client there with follow_up_success
  bool follow_up = false;
  double follow_up_success = 0.8;
  double follow_up_hours = 0.25;
  // the coordinator runs the network's monitoring (default: nao only): every
  // monitoring_interval_days it reports how each member treated the clients members referred to
  // it, each member's figures costing monitoring_hours_per_member of its hours; members' trust in
  // each other moves monitoring_weight of the way toward the trust those records would teach
  bool monitoring = false;
  int monitoring_interval_days = 30;
  double monitoring_hours_per_member = 0.5;
  double monitoring_weight = 0.25;
};

struct TiePolicy {
  int initial_level = 0;          // starting level between organizations that can interact
  int initial_level_members = 0;  // starting level between members of a common network
  int max_level = kMaxLevel;      // highest level ties may reach
  int min_level_members = 0;      // level members never fall below (contract), 0..max
  bool dynamics = true;           // ties move along the continuum over time
};

struct MetaLink {
  int network_a = 0, network_b = 0;  // network indices linked by an agreement
  int level = 3;                     // level of the ties the agreement creates between members
};

enum class Allocation : std::uint8_t { by_need, by_population, equal };
// Ensure: posts follow the diagnosed demand (demand) or the gap between demand and the
// inventory of capacity per service (gap); fixed_posts fund the same posts in every variant.
enum class Funding : std::uint8_t { demand, gap };
struct FixedPost {
  int organization = 0;
  int helpers = 0;
};

// A steering authority (city, district or intermunicipal union) running the DPZM cycle.
struct AuthorityDef {
  std::string name;
  std::string level = "city";  // city | district | intermunicipal (a label in outputs)
  std::vector<int> territory;  // district indices it steers
  int period_days = 365;       // one planning period (DPZM cycle), days
  int first_cycle_day = 0;     // day of the first cycle
  double budget_helpers = 0;   // helpers (FTE) funded each period
  Allocation allocation = Allocation::by_need;  // Plan: how the budget follows districts
  double diagnosis_noise = 0.15;   // Diagnose: relative sd of measurement noise (lognormal)
  int diagnosis_delay_days = 30;   // Diagnose: the map of problems sees data this old, days
  bool call_per_district = true;   // Ensure: one call per district, or one for the territory
  int consortium_min_members = 2;  // a bid needs at least this many organizations
  int consortium_max_members = 5;
  bool require_public_and_nonpublic = true;  // public–non-public consortia only
  bool nonpublic_lead = true;                // consortia are led by non-public organizations (LSW)
  double weight_coverage = 0.5;              // bid score weights: coverage of diagnosed demand,
  double weight_price = 0.2;                 //   price, and the consortium's monitored record
  double weight_record = 0.3;
  double price_public = 1.0;  // relative cost of a funded helper by sector
  double price_nonpublic = 0.85;
  int contract_level = 6;             // consortium membership holds member ties at this level
  double compliance_threshold = 0.8;  // Monitor: share of services started within the standard
  double equity_adjustment = 0.5;     // next budget shifts toward under-served districts
  double outreach_share = 0.0;        // promotion: share of the budget spent on outreach
  double outreach_effect = 0.05;      // awareness added per outreach FTE per 10,000 residents
  double self_help_share = 0.0;       // co-production: share of the budget for self-help groups
  double self_help_effect = 0.1;      // self-help capacity added per FTE per 10,000 residents
  double innovation_share = 0.0;      // innovation: share of contracted FTE for new services
  // Ensure: a newly funded post stands vacant this many days while it is filled; a post the
  // same member held under the authority's ending contract carries over, filled, with its
  // helper, cases and personal ties (SHRM 2024: mean time to fill a position, 36 days).
  int post_filling_days = 36;
  Funding funding = Funding::gap;
  std::vector<FixedPost> fixed_posts;  // when given: no call, these posts every period
};

struct Standards {
  int max_days_to_assessment = 14;  // days (14 working days: art. 107)
  int max_days_to_service = 30;     // days from first contact to first service
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source_file;
  std::string effective_yaml;  // the scenario as run, with variants/overrides applied
  // Provenance, from the strict reader: the applied variant's `set:` block and the overrides
  // (LoadOptions::sets) as JSON text (plain YAML scalars as numbers, booleans or null), and the
  // top-level keys written as mappings, in the file or by the variant (workshop levers may set
  // those key by key).
  std::string variant_set_json = "{}";
  std::string overrides_json = "{}";
  std::vector<std::string> mapping_sections;
  std::uint64_t seed = 1;
  int horizon_days = 365;  // ticks (days)
  int warmup_days = 0;     // clients arriving earlier are not in outcome cohorts
  int follow_up_days = 0;  // clients arriving in the last N days are not either
  ClientStepping client_stepping = ClientStepping::events;
  std::vector<District> districts;
  std::vector<ServiceType> services;
  PopulationDef population;
  std::vector<Organization> organizations;
  HelperDef helpers;
  TieDef ties;
  TiePolicy tie_policy;
  DecisionDef decisions;
  std::vector<ExplicitTie> explicit_ties;
  // Pairs of organizations with a tie record, at the policy's initial levels: those serving a
  // common district (unless territory_ties is false, as in a generated country, where that
  // would be quadratic in a city's organizations) and tie_pairs (a < b), besides networks,
  // explicit ties and metanetwork links.
  bool territory_ties = true;
  std::vector<std::array<std::int32_t, 2>> tie_pairs;
  std::vector<NetworkDef> networks;
  std::vector<MetaLink> metanetwork;
  std::vector<AuthorityDef> authorities;
  Standards standards;
};

}  // namespace cm::care
