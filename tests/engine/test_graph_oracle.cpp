// Boost.Graph as the oracle for engine/graph.hpp (issue 18, item 5): on random graphs of many
// shapes (sparse, dense, disconnected, with isolated nodes and parallel edges), components,
// articulation points, core numbers and Brandes betweenness agree with Boost's.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/betweenness_centrality.hpp>
#include <boost/graph/biconnected_components.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/core_numbers.hpp>
#include <cmath>
#include <iterator>
#include <random>
#include <set>
#include <vector>

#include "engine/graph.hpp"

namespace cm {
namespace {

using BGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;

struct Case {
  std::size_t n;
  std::vector<Edge> edges;
};

// n nodes, each pair tied with probability p at a level 0..3 (level 0: no tie for Graph at
// min_level 1), plus a few repeated edges.
Case random_case(std::mt19937_64& rng, std::size_t n, double p) {
  Case c{n, {}};
  std::bernoulli_distribution tie(p);
  std::uniform_int_distribution<int> level(0, 3);
  for (std::uint32_t a = 0; a < n; ++a)
    for (std::uint32_t b = a + 1; b < n; ++b)
      if (tie(rng)) c.edges.push_back({a, b, static_cast<std::int8_t>(level(rng))});
  return c;
}

// The tie graph at level >= 1 as Boost sees it (each unordered pair once).
BGraph boost_graph(const Case& c) {
  BGraph g(c.n);
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  for (const Edge& e : c.edges) {
    if (e.level < 1) continue;
    const auto key = std::minmax(e.a, e.b);
    if (seen.insert(key).second) boost::add_edge(key.first, key.second, g);
  }
  return g;
}

std::vector<Case> cases() {
  std::mt19937_64 rng(20261203);
  std::vector<Case> out;
  for (std::size_t n : {1u, 2u, 3u, 5u, 12u, 40u, 90u})
    for (double p : {0.02, 0.08, 0.3, 0.9}) out.push_back(random_case(rng, n, p));
  return out;
}

TEST(GraphOracle, ComponentsAgreeWithBoost) {
  for (const Case& c : cases()) {
    const Graph g(c.n, c.edges, 1);
    std::size_t count = 0;
    const auto mine = components(g, &count);
    const BGraph bg = boost_graph(c);
    std::vector<int> theirs(c.n);
    const int boost_count = c.n == 0 ? 0 : boost::connected_components(bg, theirs.data());
    ASSERT_EQ(count, static_cast<std::size_t>(boost_count)) << "n=" << c.n;
    // Same partition: two nodes share a label in one iff they do in the other.
    for (std::size_t a = 0; a < c.n; ++a)
      for (std::size_t b = a + 1; b < c.n; ++b)
        ASSERT_EQ(mine[a] == mine[b], theirs[a] == theirs[b]) << "n=" << c.n;
  }
}

TEST(GraphOracle, ArticulationPointsAgreeWithBoost) {
  for (const Case& c : cases()) {
    const Graph g(c.n, c.edges, 1);
    const BGraph bg = boost_graph(c);
    std::vector<std::size_t> theirs;
    boost::articulation_points(bg, std::back_inserter(theirs));
    std::sort(theirs.begin(), theirs.end());
    const auto mine = articulation_points(g);
    ASSERT_EQ(std::vector<std::size_t>(mine.begin(), mine.end()), theirs) << "n=" << c.n;
  }
}

TEST(GraphOracle, CoreNumbersAgreeWithBoost) {
  for (const Case& c : cases()) {
    const Graph g(c.n, c.edges, 1);
    const BGraph bg = boost_graph(c);
    std::vector<std::size_t> theirs(c.n);
    boost::core_numbers(
        bg, boost::make_iterator_property_map(theirs.begin(), boost::get(boost::vertex_index, bg)));
    const auto mine = core_numbers(g);
    ASSERT_EQ(std::vector<std::size_t>(mine.begin(), mine.end()), theirs) << "n=" << c.n;
  }
}

TEST(GraphOracle, BetweennessAgreesWithBoost) {
  for (const Case& c : cases()) {
    const Graph g(c.n, c.edges, 1);
    const BGraph bg = boost_graph(c);
    std::vector<double> theirs(c.n);
    boost::brandes_betweenness_centrality(
        bg, boost::make_iterator_property_map(theirs.begin(), boost::get(boost::vertex_index, bg)));
    const auto mine = betweenness(g);
    ASSERT_EQ(mine.size(), theirs.size());
    // Boost counts each unordered pair once on an undirected graph, as ours does.
    for (std::size_t v = 0; v < c.n; ++v)
      ASSERT_NEAR(mine[v], theirs[v], 1e-9 * (1.0 + theirs[v])) << "n=" << c.n << " v=" << v;
  }
}

}  // namespace
}  // namespace cm
