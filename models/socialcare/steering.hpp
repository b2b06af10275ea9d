// Strategic steering (level IV): authorities running the DPZM cycle every planning period.
//
//   Diagnose  a map of problems per district from what the authority can observe — new
//             clients, waiting lists and clients who gave up, seen with a delay and with
//             multiplicative measurement noise — and an inventory of organizations;
//   Plan      the period's budget (helpers funded) split across districts by diagnosed need,
//             by population or equally, shifted toward districts found under-served;
//             outreach and self-help groups take their shares first;
//   Ensure    a call for proposals per district (or one for the territory): consortia form
//             around non-public leads, choosing partners by existing ties and trust, and bid;
//             bids are scored on coverage of diagnosed demand, price and the members' record;
//             the winner's contract funds helpers for the period, and membership holds member
//             ties at a formal level;
//   Monitor   at the end of the contract: compliance with the standard for time to service,
//             impact on the district's clients, services per funded helper; the conclusions
//             change the members' record (bid scores) and next period's budget.
// The decisions are written as rows of steering.csv.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cm::care {

struct SteeringRow {
  std::string authority;
  int cycle = 0;
  int tick = 0;
  std::string phase;     // diagnose | plan | ensure | monitor
  std::string decision;  // e.g. diagnosed_need, budget_allocated, bid, contract_signed
  std::string district;  // empty for the whole territory
  std::string subject;   // consortium, service, ...
  double value = 0;
};

struct Contract {
  int authority = 0;
  int cycle = 0;
  std::string name;
  std::vector<int> districts;                                        // districts the call covered
  std::vector<std::int32_t> members;                                 // organizations
  std::vector<std::int32_t> helper_slots;                            // funded helpers
  std::vector<std::uint32_t> ties;                                   // ties between members
  int start = 0, end = 0;                                            // days
  std::vector<std::int64_t> started_at_start, in_standard_at_start;  // per member
  std::vector<std::int64_t> honoured_at_start, breached_at_start;    // agreement referrals
};

struct AuthorityState {
  int cycle = 0;
  std::vector<double> budget_shift;  // per district index (all districts), from Monitor
  std::vector<double> record;        // per organization: monitored record, 0..1
  std::vector<Contract> contracts;   // current contracts
};

}  // namespace cm::care
