// The phases of a day and their steps, as functions of the scenario and the model's state
// (state.hpp): each takes the state it reads and writes. Internal to the model: Simulation
// (simulation.hpp) runs them in the order of a day.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "models/socialcare/scenario.hpp"
#include "models/socialcare/state.hpp"

namespace cm::care::phases {

class DayExchange;  // exchange.hpp

using Msg = ModelState::Msg;
using Event = ModelState::Event;
using start_flag = ModelState::start_flag;
using Undo = ModelState::Undo;
using OrgOutput = ModelState::OrgOutput;

bool in_cohort(const Scenario& sc, const ModelState& st, const Client& c);
void retire_exited(const Scenario& sc, ModelState& st, DayExchange& ex);
void init_staff(const Scenario& sc, ModelState& st);
void init_personal_ties(const Scenario& sc, ModelState& st);
void update_hours(const Scenario& sc, ModelState& st);
void phase_steering(const Scenario& sc, ModelState& st);
void diagnose(const Scenario& sc, ModelState& st, int a, std::vector<double>& need,
              std::vector<std::vector<double>>& demand);
void monitor(const Scenario& sc, ModelState& st, int a, Contract& contract);
void fund_fixed_posts(const Scenario& sc, ModelState& st, int a, std::vector<std::int32_t>& ending);
void ensure(const Scenario& sc, ModelState& st, int a, const std::vector<int>& districts,
            int helpers, int innovative_helpers, const std::vector<std::vector<double>>& demand,
            std::vector<std::int32_t>& ending);
std::int32_t add_contract_helper(const Scenario& sc, ModelState& st, std::int32_t org,
                                 std::uint32_t skills, std::int32_t starts);
void apply_contract_ties(const Scenario& sc, ModelState& st);
void phase_arrivals(const Scenario& sc, ModelState& st, DayExchange& ex, TickRecord& rec);
std::vector<Msg> phase_clients(const Scenario& sc, ModelState& st, TickRecord& rec);
std::vector<Msg> phase_clients_events(const Scenario& sc, ModelState& st, TickRecord& rec);
void step_client(const Scenario& sc, ModelState& st, Client& c, std::uint32_t slot,
                 std::uint16_t fired, std::vector<Msg>& out);
void choose_door(const Scenario& sc, ModelState& st, Client& c, std::uint32_t slot, int need,
                 Stream& rng, int found, std::vector<Msg>& out);
// Event-driven stepping: a client's next wake-up, planned from day `from` on (day -1: none
// before the horizon), and the countdowns of its rounds and journeys brought to `day` (the
// days before it counted down).
struct Wake {
  std::int32_t day;
  std::uint16_t fired;
};
Wake plan_client(const Scenario& sc, const ModelState& st, const Client& c, std::int32_t from,
                 Stream& rng);
void catch_up(ModelState& st, Client& c, std::int32_t day);
// plan_client from tomorrow with the (purpose, client, today) stream, kept in the client's record;
// returns the wake-up day (-1: none).
std::int32_t replan_client(const Scenario& sc, ModelState& st, Client& c, std::uint64_t purpose);
// After a restore: the calendar and the need-state counts from the clients' records.
void rebuild_calendar(const Scenario& sc, ModelState& st);
void phase_organizations(const Scenario& sc, ModelState& st, std::vector<Msg>& msgs,
                         std::vector<Event>& events, std::vector<TieEvent>& tie_events,
                         TickRecord& rec);
void step_organization(const Scenario& sc, ModelState& st, std::int32_t o, const Msg* msgs,
                       std::size_t n, OrgOutput& out);
void dispatch(const Scenario& sc, ModelState& st, std::int32_t o, const Client& c,
              const IntakeEntry& e, OrgOutput& out);
void route(const Scenario& sc, ModelState& st, std::int32_t o, const Client& c, int need,
           bool presented, int min_level, OrgOutput& out);
std::span<const std::pair<std::int32_t, std::uint32_t>> ties_in_district(const Scenario& sc,
                                                                         const ModelState& st,
                                                                         std::int32_t o,
                                                                         int district,
                                                                         const std::uint32_t*& pos);
bool conference_partner(const Scenario& sc, const ModelState& st, std::int32_t o, const Client& c,
                        std::uint32_t services);
void hold_conference(const Scenario& sc, ModelState& st, std::int32_t o, const Client& c,
                     OrgOutput& out, const std::vector<std::uint64_t>* claimed);
bool still_queued(const Scenario& sc, const ModelState& st, std::int32_t o, const QueueEntry& q);
void allocate(const Scenario& sc, ModelState& st, std::int32_t o, OrgOutput& out);
bool allocate_pooled(const Scenario& sc, ModelState& st, std::int32_t o, int service,
                     std::vector<Event>& events);
void phase_pooling(const Scenario& sc, ModelState& st, std::vector<Event>& events,
                   std::vector<TieEvent>& tie_events);
void phase_waits(const Scenario& sc, ModelState& st);
void phase_conferences(const Scenario& sc, ModelState& st, std::vector<Event>& events,
                       TickRecord& rec);
void phase_apply(const Scenario& sc, ModelState& st, DayExchange& ex, std::vector<Event>& events,
                 std::vector<TieEvent>& tie_events, TickRecord& rec);
void apply_event(const Scenario& sc, ModelState& st, Client& c, Need& n, const Event& ev,
                 std::vector<TieEvent>& out, std::atomic<std::int64_t>& started,
                 std::atomic<std::int64_t>& wait_days);
void phase_ties(const Scenario& sc, ModelState& st, std::vector<TieEvent>& tie_events);
void network_monitoring(const Scenario& sc, ModelState& st,
                        const std::vector<TieEvent>& tie_events);
void phase_staff(const Scenario& sc, ModelState& st);
void drop_departed_partners(const Scenario& sc, const ModelState& st, Helper& h);
void recount_personal_ties(const Scenario& sc, ModelState& st);
void phase_record(const Scenario& sc, ModelState& st, TickRecord& rec);
bool serves(const Scenario& sc, const ModelState& st, std::int32_t org, int district);
void build_route_index(const Scenario& sc, ModelState& st);
void apply_undos(const Scenario& sc, ModelState& st, std::vector<Undo>& undos);

inline bool offers(const Scenario& sc, const ModelState&, std::int32_t org, int service) {
  return (sc.organizations[org].services >> service) & 1u;
}
// ... and that coordinator routes referrals (and so conferences) between them.
inline bool coordinator_routes(const Scenario& sc, const ModelState& st, std::int32_t a,
                               std::int32_t b) {
  return st.routed_between(a, b) && sc.networks[st.routing_net[a]].coordinator_routing;
}

}  // namespace cm::care::phases
