// Phase arrivals: the day's new clients in each district.

#include <algorithm>
#include <atomic>
#include <boost/random/poisson_distribution.hpp>
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

// New clients: the day's Poisson count of every district (keyed by district and day), then the
// clients themselves in parallel; each one's traits come from a stream keyed by its id alone,
// so the ids (district by district, in order) fix every client whatever the thread count.
void phases::phase_arrivals(const Scenario& sc, ModelState& st, DayExchange& ex, TickRecord& rec) {
  const ClientFactory factory{&sc, &st.coordinators_by_district, &st.others_by_district,
                              &st.outreach_boost, &st.self_help_boost};
  const std::size_t n_districts = sc.districts.size();
  std::vector<std::int32_t> count(n_districts, 0);
  parallel_for_each(
      n_districts,
      [&](std::size_t d) {
        const double rate = static_cast<double>(sc.districts[d].population) *
                            sc.population.annual_incidence / 365.0;
        if (rate <= 0) return;
        Stream rng = st.streams(kArrivals, d, static_cast<std::uint32_t>(st.tick));
        boost::random::poisson_distribution<int, double> poisson(rate);
        count[d] = poisson(rng);
      },
      64);
  const std::uint32_t first = st.next_id;
  std::vector<std::uint16_t> district_of;
  for (std::size_t d = 0; d < n_districts; ++d)
    district_of.insert(district_of.end(), static_cast<std::size_t>(count[d]),
                       static_cast<std::uint16_t>(d));
  const std::size_t k = district_of.size();
  if (static_cast<std::uint64_t>(first) + k >= kGone)
    throw std::runtime_error("more than 4,294,967,294 clients: client ids are 32-bit");
  // A partitioned run creates the clients of its own districts only (the ids of all).
  std::vector<std::uint32_t> mine;  // indices into district_of
  if (st.comm != nullptr)
    for (std::size_t i = 0; i < k; ++i) {
      const auto r = static_cast<std::uint16_t>(st.part.district_rank[district_of[i]]);
      st.id_rank.push_back(r);
      if (r == st.rank) mine.push_back(static_cast<std::uint32_t>(i));
    }
  const std::size_t n_here = st.comm != nullptr ? mine.size() : k;
  const auto index = [&](std::size_t j) { return st.comm != nullptr ? mine[j] : j; };
  // New records go at the end of the array, so it stays in id order (the client pass walks it
  // front to back); without client records, records of clients who left are squeezed out from
  // time to time (retire_exited).
  const auto at = static_cast<std::uint32_t>(st.clients.size());
  if (st.clients.size() + n_here > st.clients.capacity())
    st.clients.reserve(std::max(st.clients.size() + n_here, st.clients.capacity() * 3 / 2));
  st.clients.resize(st.clients.size() + n_here);
  std::vector<std::array<Need, kMaxNeeds>> drawn(n_here);
  parallel_for_each(
      n_here,
      [&](std::size_t j) {
        const std::size_t i = index(j);
        const auto id = first + static_cast<std::uint32_t>(i);
        Stream traits = st.streams(kTraits, id, 0);
        st.clients[at + j] = factory.make(id, district_of[i], st.tick, traits, drawn[j].data());
      },
      16);  // a client's traits take ~0.7 µs (beta, binomial draws): small chunks pay
  // Their needs go to the end of the need array, in id order too.
  std::size_t n_new = 0;
  for (std::size_t j = 0; j < n_here; ++j) n_new += st.clients[at + j].n_needs;
  if (st.needs.size() + n_new >= kGone)
    throw std::runtime_error("more than 4,294,967,294 client needs: need positions are 32-bit");
  if (st.needs.size() + n_new > st.needs.capacity())
    st.needs.reserve(std::max(st.needs.size() + n_new, st.needs.capacity() * 3 / 2));
  for (std::size_t j = 0; j < n_here; ++j) {
    Client& c = st.clients[at + j];
    c.first_need = static_cast<std::uint32_t>(st.needs.size());
    st.needs.insert(st.needs.end(), drawn[j].begin(), drawn[j].begin() + c.n_needs);
  }
  for (std::size_t j = 0; j < n_here; ++j) st.active.push_back(at + static_cast<std::uint32_t>(j));
  if (sc.client_stepping == ClientStepping::events) {
    // A new client is stepped today with the day's own draws, like every client on a day when
    // something is certain to happen to it (it takes up its first need).
    for (std::size_t j = 0; j < n_here; ++j) {
      Client& c = st.clients[at + j];
      c.wake = st.tick;
      c.due_from = st.tick;
      c.fired = fired_bit::fresh;
      st.calendar.schedule(at + static_cast<std::uint32_t>(j), st.tick);
      for (int i = 0; i < c.n_needs; ++i)
        ++st.need_count[static_cast<int>(st.needs_of(c)[i].state)];
    }
  }
  st.next_id = first + static_cast<std::uint32_t>(k);
  rec.arrivals += static_cast<std::int64_t>(k);
  if (!sc.authorities.empty()) {
    st.district_arrivals.push_back(std::move(count));
    std::vector<std::pair<std::uint32_t, ClientNote>> notes;
    for (std::size_t j = 0; j < n_here; ++j) {
      const Client& c = st.clients[at + j];
      ClientNote note;
      note.arrival = c.arrival;
      note.district = c.district;
      note.n_needs = c.n_needs;
      for (int i = 0; i < c.n_needs; ++i) note.service[i] = st.needs_of(c)[i].service;
      if (st.comm != nullptr)
        notes.emplace_back(c.id, note);
      else
        st.notes.push_back(note);
    }
    ex.notes(sc, st, notes, true);
  }
}

}  // namespace cm::care
