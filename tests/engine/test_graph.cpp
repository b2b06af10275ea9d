#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "engine/graph.hpp"

namespace cm {
namespace {

using Ids = std::vector<std::uint32_t>;

std::vector<Edge> ties(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                       int level = 1) {
  std::vector<Edge> out;
  for (const auto& [a, b] : pairs) out.push_back({a, b, level});
  return out;
}

std::vector<Edge> star(std::uint32_t n) {  // centre 0
  std::vector<Edge> e;
  for (std::uint32_t i = 1; i < n; ++i) e.push_back({0, i, 1});
  return e;
}

std::vector<Edge> path(std::uint32_t n) {
  std::vector<Edge> e;
  for (std::uint32_t i = 0; i + 1 < n; ++i) e.push_back({i, i + 1, 1});
  return e;
}

std::vector<Edge> cycle(std::uint32_t n) {
  std::vector<Edge> e = path(n);
  e.push_back({n - 1, 0, 1});
  return e;
}

std::vector<Edge> complete(std::uint32_t n) {
  std::vector<Edge> e;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t j = i + 1; j < n; ++j) e.push_back({i, j, 1});
  }
  return e;
}

// G(n, p) with each present pair given a random level in 1..7 and each absent pair, with
// probability p, an explicit level-0 record.
std::vector<Edge> random_edges(std::uint32_t n, double p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Edge> e;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t j = i + 1; j < n; ++j) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      if (u < p) {
        e.push_back({i, j, 1 + static_cast<int>(rng() % 7)});
      } else if (u < 2 * p) {
        e.push_back({j, i, 0});
      }
    }
  }
  return e;
}

// Reference betweenness straight from the definition: BFS distances and path counts from every
// node, then b(v) = sum over s < t with d(s,v) + d(v,t) = d(s,t) of sigma_sv sigma_vt / sigma_st.
std::vector<double> reference_betweenness(const Graph& g) {
  const std::size_t n = g.nodes();
  std::vector<std::vector<long>> d(n, std::vector<long>(n, -1));
  std::vector<std::vector<double>> sigma(n, std::vector<double>(n, 0.0));
  for (std::uint32_t s = 0; s < n; ++s) {
    std::vector<std::uint32_t> q{s};
    d[s][s] = 0;
    sigma[s][s] = 1.0;
    for (std::size_t h = 0; h < q.size(); ++h) {
      const std::uint32_t v = q[h];
      for (std::uint32_t w : g.neighbours(v)) {
        if (d[s][w] < 0) {
          d[s][w] = d[s][v] + 1;
          q.push_back(w);
        }
        if (d[s][w] == d[s][v] + 1) sigma[s][w] += sigma[s][v];
      }
    }
  }
  std::vector<double> b(n, 0.0);
  for (std::size_t v = 0; v < n; ++v) {
    for (std::size_t s = 0; s < n; ++s) {
      for (std::size_t t = s + 1; t < n; ++t) {
        if (s == v || t == v || d[s][t] < 0 || d[s][v] < 0 || d[v][t] < 0) continue;
        if (d[s][v] + d[v][t] == d[s][t]) b[v] += sigma[s][v] * sigma[v][t] / sigma[s][t];
      }
    }
  }
  return b;
}

// Reference core numbers by repeated peeling: k-core = what survives removing nodes of degree < k.
std::vector<std::uint32_t> reference_cores(const Graph& g) {
  const std::size_t n = g.nodes();
  std::vector<std::uint32_t> core(n, 0);
  for (std::uint32_t k = 1;; ++k) {
    std::vector<bool> alive(n, true);
    bool changed = true;
    while (changed) {
      changed = false;
      for (std::uint32_t v = 0; v < n; ++v) {
        if (!alive[v]) continue;
        std::uint32_t deg = 0;
        for (std::uint32_t w : g.neighbours(v)) deg += alive[w] ? 1 : 0;
        if (deg < k) {
          alive[v] = false;
          changed = true;
        }
      }
    }
    bool any = false;
    for (std::uint32_t v = 0; v < n; ++v) {
      if (alive[v]) {
        core[v] = k;
        any = true;
      }
    }
    if (!any) return core;
  }
}

// Reference articulation points: remove each node and count components.
Ids reference_articulation(std::size_t n, const std::vector<Edge>& edges) {
  std::size_t base = 0;
  components(Graph(n, edges), &base);
  Ids out;
  for (std::uint32_t v = 0; v < n; ++v) {
    std::vector<Edge> rest;
    for (const Edge& e : edges) {
      if (e.a != v && e.b != v) rest.push_back(e);
    }
    std::size_t c = 0;
    components(Graph(n, rest), &c);
    if (c - 1 > base) out.push_back(v);  // v itself is now an isolated component
  }
  return out;
}

TEST(Graph, BuildsSortedSimpleGraphAboveThreshold) {
  const std::vector<Edge> e = {{3, 0, 2}, {0, 3, 5}, {2, 0, 1}, {1, 0, 0}, {0, 4, 3}, {2, 3, 1}};
  const Graph g(5, e);
  EXPECT_EQ(g.nodes(), 5u);
  EXPECT_EQ(g.edges(), 4u);  // (0,3) merged, (0,1) at level 0 dropped
  EXPECT_EQ(g.neighbours(0), (Ids{2, 3, 4}));
  EXPECT_EQ(g.neighbours(1), Ids{});
  EXPECT_EQ(g.neighbours(3), (Ids{0, 2}));
  const Graph strong(5, e, 3);
  EXPECT_EQ(strong.edges(), 2u);
  EXPECT_EQ(strong.neighbours(0), (Ids{3, 4}));
  const Graph all(5, e, 0);
  EXPECT_EQ(all.edges(), 5u);
  EXPECT_EQ(all.neighbours(1), Ids{0});
}

TEST(Graph, RejectsInvalidEdges) {
  EXPECT_THROW(Graph(3, {{1, 1, 1}}), std::invalid_argument);
  EXPECT_THROW(Graph(3, {{0, 3, 1}}), std::invalid_argument);
  EXPECT_THROW(Graph(0, {{0, 1, 1}}), std::invalid_argument);
  EXPECT_THROW(summarize_levels(3, {{0, 1, 8}}, 7), std::invalid_argument);
  EXPECT_THROW(summarize_levels(3, {{0, 1, -1}}, 7), std::invalid_argument);
  EXPECT_THROW(multiplexity({{2, 2, 1}}, {}), std::invalid_argument);
}

TEST(Graph, DegenerateSizes) {
  for (std::size_t n : {0u, 1u, 2u}) {
    const Graph g(n, n == 2 ? std::vector<Edge>{{0, 1, 1}} : std::vector<Edge>{});
    EXPECT_EQ(degree_centralization(g), 0.0);
    EXPECT_EQ(betweenness_centralization(g), 0.0);
    EXPECT_EQ(betweenness(g), std::vector<double>(n, 0.0));
    EXPECT_TRUE(articulation_points(g).empty());
    EXPECT_EQ(core_periphery(g).fit, 0.0);
  }
  EXPECT_EQ(density(Graph(1, {})), 0.0);
  EXPECT_EQ(density(Graph(2, {{0, 1, 1}})), 1.0);
  std::size_t count = 99;
  EXPECT_TRUE(components(Graph(0, {}), &count).empty());
  EXPECT_EQ(count, 0u);
}

TEST(Graph, Star) {
  const Graph g(6, star(6));
  EXPECT_DOUBLE_EQ(density(g), 5.0 / 15.0);
  EXPECT_EQ(degree_centrality(g), (std::vector<double>{1.0, 0.2, 0.2, 0.2, 0.2, 0.2}));
  EXPECT_DOUBLE_EQ(degree_centralization(g), 1.0);
  EXPECT_EQ(betweenness(g), (std::vector<double>{10.0, 0, 0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(betweenness_centralization(g), 1.0);
  EXPECT_EQ(articulation_points(g), Ids{0});
  EXPECT_EQ(core_numbers(g), Ids(6, 1));
}

TEST(Graph, Path) {
  const Graph g(5, path(5));
  EXPECT_EQ(betweenness(g), (std::vector<double>{0, 3, 4, 3, 0}));
  // degrees 1,2,2,2,1: sum(2 - d) = 2 over 4*3
  EXPECT_DOUBLE_EQ(degree_centralization(g), 2.0 / 12.0);
  // sum(4 - b) = 10 over 4^2 * 3 / 2 = 24
  EXPECT_DOUBLE_EQ(betweenness_centralization(g), 10.0 / 24.0);
  EXPECT_EQ(articulation_points(g), (Ids{1, 2, 3}));
  EXPECT_EQ(core_numbers(g), Ids(5, 1));
}

TEST(Graph, Cycle) {
  const Graph g(6, cycle(6));
  // 6 pairs at distance 2 (one middle node each) + 3 antipodal pairs (two paths, 2 inner nodes)
  EXPECT_EQ(betweenness(g), std::vector<double>(6, 2.0));
  EXPECT_EQ(degree_centralization(g), 0.0);
  EXPECT_EQ(betweenness_centralization(g), 0.0);
  EXPECT_TRUE(articulation_points(g).empty());
  EXPECT_EQ(core_numbers(g), Ids(6, 2));
  std::size_t count = 0;
  EXPECT_EQ(components(g, &count), Ids(6, 0));
  EXPECT_EQ(count, 1u);
}

TEST(Graph, Complete) {
  const Graph g(5, complete(5));
  EXPECT_EQ(g.edges(), 10u);
  EXPECT_EQ(density(g), 1.0);
  EXPECT_EQ(degree_centrality(g), std::vector<double>(5, 1.0));
  EXPECT_EQ(degree_centralization(g), 0.0);
  EXPECT_EQ(betweenness(g), std::vector<double>(5, 0.0));
  EXPECT_EQ(betweenness_centralization(g), 0.0);
  EXPECT_TRUE(articulation_points(g).empty());
  EXPECT_EQ(core_numbers(g), Ids(5, 4));
  const CorePeriphery cp = core_periphery(g);
  EXPECT_EQ(cp.core, std::vector<bool>(5, true));
  EXPECT_EQ(cp.fit, 0.0);  // no periphery: correlation undefined
}

TEST(Graph, BarbellWithBridge) {
  // triangles {0,1,2} and {4,5,6} joined by 2-3-4; node 7 isolated
  const auto e = ties({{0, 1}, {1, 2}, {0, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {4, 6}});
  const Graph g(8, e);
  EXPECT_EQ(articulation_points(g), (Ids{2, 3, 4}));
  EXPECT_EQ(articulation_points(g), reference_articulation(8, e));
  std::size_t count = 0;
  EXPECT_EQ(components(g, &count), (Ids{0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(count, 2u);
  // 3 crosses 3 x 3 pairs; 2 separates {0,1} from {3,4,5,6}: 2 x 4
  EXPECT_EQ(betweenness(g), (std::vector<double>{0, 0, 8, 9, 8, 0, 0, 0}));
  EXPECT_EQ(core_numbers(g), (Ids{2, 2, 2, 2, 2, 2, 2, 0}));  // 3 has degree 2 on the chain
}

TEST(Graph, TwoDisconnectedTriangles) {
  const auto e = ties({{1, 3}, {3, 5}, {1, 5}, {0, 2}, {2, 4}, {0, 4}});
  std::size_t count = 0;
  EXPECT_EQ(components(Graph(6, e), &count), (Ids{0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(components(Graph(7, e), &count), (Ids{0, 1, 0, 1, 0, 1, 2}));
  EXPECT_EQ(count, 3u);
  EXPECT_TRUE(articulation_points(Graph(6, e)).empty());
  EXPECT_EQ(betweenness(Graph(6, e)), std::vector<double>(6, 0.0));
}

TEST(Graph, DeepPathNeedsNoRecursion) {
  // A DFS 300,000 levels deep would overflow a recursive implementation's stack.
  const std::uint32_t n = 300000;
  const Graph g(n, path(n));
  const Ids ap = articulation_points(g);
  ASSERT_EQ(ap.size(), n - 2);
  EXPECT_EQ(ap.front(), 1u);
  EXPECT_EQ(ap.back(), n - 2);
  std::size_t count = 0;
  components(g, &count);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(core_numbers(g), Ids(n, 1));
  // Closing the path into a cycle removes every articulation point.
  auto e = path(n);
  e.push_back({0, n - 1, 1});
  EXPECT_TRUE(articulation_points(Graph(n, e)).empty());
}

TEST(Graph, BetweennessSmallGraphByHand) {
  // 0-1, 0-2, 1-2, 1-3, 2-3, 3-4. Pairs through a node: (0,3) and (0,4) split half/half over
  // 1 and 2; (0,4), (1,4), (2,4) all pass 3.
  const Graph g(5, ties({{0, 1}, {0, 2}, {1, 2}, {1, 3}, {2, 3}, {3, 4}}));
  EXPECT_EQ(betweenness(g), (std::vector<double>{0, 1, 1, 3, 0}));
  EXPECT_EQ(articulation_points(g), Ids{3});
}

TEST(Graph, BetweennessKrackhardtKite) {
  // Krackhardt (1990) kite: Andre..Jane = 0..9; published betweenness Heather (7) = 14,
  // Fernando and Garth (5, 6) = 8.333, Ike (8) = 8, Diane (3) = 3.667, Andre/Beverly = 0.833.
  const Graph g(10, ties({{0, 1},
                          {0, 2},
                          {0, 3},
                          {0, 5},
                          {1, 3},
                          {1, 4},
                          {1, 6},
                          {2, 3},
                          {2, 5},
                          {3, 4},
                          {3, 5},
                          {3, 6},
                          {4, 6},
                          {5, 6},
                          {5, 7},
                          {6, 7},
                          {7, 8},
                          {8, 9}}));
  const std::vector<double> expected = {5.0 / 6,  5.0 / 6,  0,  11.0 / 3, 0,
                                        25.0 / 3, 25.0 / 3, 14, 8,        0};
  const std::vector<double> b = betweenness(g);
  ASSERT_EQ(b.size(), expected.size());
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(b[i], expected[i], 1e-12) << i;
  EXPECT_EQ(articulation_points(g), (Ids{7, 8}));
  EXPECT_EQ(core_numbers(g), (Ids{3, 3, 3, 3, 3, 3, 3, 2, 1, 1}));
}

TEST(Graph, BetweennessMatchesDefinitionOnRandomGraphs) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const std::uint32_t n = 40;
    const Graph g(n, random_edges(n, 0.04 * static_cast<double>(seed), seed));
    const std::vector<double> b = betweenness(g);
    const std::vector<double> ref = reference_betweenness(g);
    for (std::uint32_t v = 0; v < n; ++v) {
      EXPECT_NEAR(b[v], ref[v], 1e-9 * (1 + ref[v])) << "seed " << seed << " node " << v;
    }
  }
}

TEST(Graph, CoreNumbersKnownGraph) {
  // K4 {0,1,2,3}; triangle {4,5,6} hung on 0 via 4; pendant 7 on 6; isolated 8.
  const Graph g(9, ties({{0, 1},
                         {0, 2},
                         {0, 3},
                         {1, 2},
                         {1, 3},
                         {2, 3},
                         {0, 4},
                         {4, 5},
                         {5, 6},
                         {4, 6},
                         {6, 7}}));
  EXPECT_EQ(core_numbers(g), (Ids{3, 3, 3, 3, 2, 2, 2, 1, 0}));
  EXPECT_EQ(articulation_points(g), (Ids{0, 4, 6}));
}

TEST(Graph, CoreNumbersAndArticulationMatchReferenceOnRandomGraphs) {
  for (std::uint64_t seed = 11; seed <= 16; ++seed) {
    const std::uint32_t n = 60;
    const auto e = random_edges(n, 0.01 * static_cast<double>(seed - 10), seed);
    const Graph g(n, e);
    EXPECT_EQ(core_numbers(g), reference_cores(g)) << seed;
    EXPECT_EQ(articulation_points(g), reference_articulation(n, e)) << seed;
  }
}

TEST(Graph, CorePeripheryPerfectAndImperfect) {
  // K4 core {0..3}, each with one pendant 4..7.
  auto e = complete(4);
  for (std::uint32_t i = 0; i < 4; ++i) e.push_back({i, i + 4, 1});
  CorePeriphery cp = core_periphery(Graph(8, e));
  EXPECT_EQ(cp.core, (std::vector<bool>{true, true, true, true, false, false, false, false}));
  EXPECT_DOUBLE_EQ(cp.fit, 1.0);

  // One periphery–periphery tie (4,5): 4 and 5 become 2-core, the 3-core is still the K4.
  // C = 6, P = 6, c = 6, p = 1, N = 12, m = 7: (36 - 6) / sqrt(6 * 6 * 7 * 5).
  e.push_back({4, 5, 1});
  cp = core_periphery(Graph(8, e));
  EXPECT_EQ(cp.core, (std::vector<bool>{true, true, true, true, false, false, false, false}));
  EXPECT_NEAR(cp.fit, 30.0 / std::sqrt(1260.0), 1e-15);

  // Every node in the 2-core (triangle plus a 4-cycle through it): no periphery, fit 0.
  const auto e2 = ties({{0, 1}, {1, 2}, {0, 2}, {0, 3}, {1, 4}, {2, 5}, {0, 6}, {3, 4}, {5, 6}});
  EXPECT_EQ(core_numbers(Graph(7, e2)), Ids(7, 2));
  cp = core_periphery(Graph(7, e2));
  EXPECT_EQ(cp.core, std::vector<bool>(7, true));
  EXPECT_EQ(cp.fit, 0.0);
}

TEST(Graph, CorePeripheryPartialAndNegativeFit) {
  // Core: 5-cycle {0..4} (2-core; C = 10, c = 5). Periphery: tied pairs (5,6), (7,8) hung on the
  // cycle by 5-0 and 7-2 (core number 1; P = 6, p = 2). N = 16, m = 7.
  auto e = ties({{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 0}, {5, 0}, {7, 2}});
  auto with_pairs = e;
  with_pairs.push_back({5, 6, 1});
  with_pairs.push_back({7, 8, 1});
  const Graph g(9, with_pairs);
  EXPECT_EQ(core_numbers(g), (Ids{2, 2, 2, 2, 2, 1, 1, 1, 1}));
  CorePeriphery cp = core_periphery(g);
  EXPECT_EQ(cp.core, (std::vector<bool>{true, true, true, true, true, false, false, false, false}));
  EXPECT_NEAR(cp.fit, (5.0 * 6 - 2.0 * 10) / std::sqrt(10.0 * 6 * 7 * 9), 1e-15);

  // Periphery made a clique: 5..8 form a K4 (3-core) and become the core; the cycle is now the
  // periphery. C = 6, c = 6, P = 10, p = 5, N = 16, m = 11.
  const auto k4 = ties({{5, 6}, {5, 7}, {5, 8}, {6, 7}, {6, 8}, {7, 8}});
  e.insert(e.end(), k4.begin(), k4.end());
  cp = core_periphery(Graph(9, e));
  EXPECT_EQ(cp.core,
            (std::vector<bool>{false, false, false, false, false, true, true, true, true}));
  EXPECT_NEAR(cp.fit, (6.0 * 10 - 5.0 * 6) / std::sqrt(6.0 * 10 * 11 * 5), 1e-15);

  // Sparse core, denser periphery: core 8-cycle {0..7} (C = 28, c = 8), periphery path 8-9-10
  // hung on node 0 (P = 3, p = 2), N = 31, m = 10: negative fit.
  auto sparse = ties({{0, 8}, {8, 9}, {9, 10}});
  for (std::uint32_t i = 0; i < 8; ++i) sparse.push_back({i, (i + 1) % 8, 1});
  cp = core_periphery(Graph(11, sparse));
  EXPECT_EQ(std::count(cp.core.begin(), cp.core.end(), true), 8);
  EXPECT_NEAR(cp.fit, (8.0 * 3 - 2.0 * 28) / std::sqrt(28.0 * 3 * 10 * 21), 1e-15);
  EXPECT_LT(cp.fit, 0.0);
}

TEST(Graph, LevelSummaryCounts) {
  const std::vector<Edge> e = {{0, 1, 7}, {1, 2, 3}, {2, 3, 3}, {3, 4, 0},
                               {0, 4, 1}, {0, 2, 5}, {1, 0, 2}};  // (1,0) duplicates (0,1)
  const LevelSummary s = summarize_levels(5, e, 7);
  EXPECT_EQ(s.ties_at_level, (std::vector<std::size_t>{1, 1, 0, 2, 0, 1, 0, 1}));
  EXPECT_EQ(s.density_at_least, (std::vector<double>{0.6, 0.5, 0.4, 0.4, 0.2, 0.2, 0.1, 0.1}));
  EXPECT_DOUBLE_EQ(s.mean_level, 19.0 / 5.0);
  const LevelSummary s3 = summarize_levels(5, {{0, 1, 2}, {1, 2, 3}}, 3);
  EXPECT_EQ(s3.ties_at_level, (std::vector<std::size_t>{0, 0, 1, 1}));
  EXPECT_DOUBLE_EQ(s3.mean_level, 2.5);
  const LevelSummary none = summarize_levels(4, {{0, 1, 0}}, 7);
  EXPECT_EQ(none.ties_at_level[0], 1u);
  EXPECT_EQ(none.mean_level, 0.0);
  EXPECT_EQ(none.density_at_least[1], 0.0);
}

TEST(Graph, DensityPerLevelFallsMonotonically) {
  const std::uint32_t n = 80;
  const auto e = random_edges(n, 0.15, 42);
  const LevelSummary s = summarize_levels(n, e, 7);
  ASSERT_EQ(s.density_at_least.size(), 8u);
  for (int l = 0; l < 7; ++l) {
    ASSERT_GT(s.ties_at_level[static_cast<std::size_t>(l)], 0u) << l;
    // every level is populated, so the fall is strict
    EXPECT_GT(s.density_at_least[static_cast<std::size_t>(l)],
              s.density_at_least[static_cast<std::size_t>(l) + 1])
        << l;
  }
  for (int l = 0; l <= 7; ++l) {
    EXPECT_EQ(s.density_at_least[static_cast<std::size_t>(l)], density(Graph(n, e, l))) << l;
  }
}

TEST(Graph, Multiplexity) {
  const std::vector<Edge> a = {{0, 1, 2}, {1, 2, 1}, {2, 3, 5}, {3, 4, 1}, {4, 5, 0}};
  EXPECT_EQ(multiplexity(a, a), 1.0);
  EXPECT_EQ(multiplexity(a, {{7, 8, 1}}), 0.0);
  EXPECT_EQ(multiplexity({}, a), 0.0);
  EXPECT_EQ(multiplexity({{0, 1, 0}}, a), 0.0);  // a has no tie at level >= 1
  // b: (1,0) reversed counts, (2,3) at level 0 does not, (4,5) is not a tie in a, (3,4) twice.
  const std::vector<Edge> b = {{1, 0, 1}, {2, 3, 0}, {4, 5, 3}, {3, 4, 2}, {4, 3, 1}};
  EXPECT_DOUBLE_EQ(multiplexity(a, b), 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(multiplexity(b, a), 2.0 / 3.0);
  // Threshold 2: a = {(0,1), (2,3)}, b = {(4,5), (3,4)}: no overlap; b's ties in a: none.
  EXPECT_EQ(multiplexity(a, b, 2), 0.0);
  EXPECT_DOUBLE_EQ(multiplexity(a, {{0, 1, 2}, {3, 2, 7}}, 2), 1.0);
  EXPECT_DOUBLE_EQ(multiplexity(a, {{0, 1, 1}, {3, 2, 7}}, 2), 0.5);
}

TEST(Graph, EdgeOrderIndependence) {
  const std::uint32_t n = 150;
  const auto e = random_edges(n, 0.05, 7);
  auto shuffled = e;
  std::mt19937_64 rng(99);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (Edge& x : shuffled) {
    if (rng() & 1) std::swap(x.a, x.b);
  }
  // duplicate a few records at lower levels: must change nothing
  for (std::size_t i = 0; i < shuffled.size(); i += 17) {
    shuffled.push_back({shuffled[i].b, shuffled[i].a, 0});
  }
  ASSERT_NE(e.size(), shuffled.size());
  for (int min_level : {1, 4}) {
    const Graph g1(n, e, min_level);
    const Graph g2(n, shuffled, min_level);
    ASSERT_GT(g1.edges(), 0u);
    EXPECT_EQ(g1.edges(), g2.edges());
    for (std::uint32_t v = 0; v < n; ++v) EXPECT_EQ(g1.neighbours(v), g2.neighbours(v));
    EXPECT_EQ(density(g1), density(g2));
    EXPECT_EQ(degree_centrality(g1), degree_centrality(g2));
    EXPECT_EQ(degree_centralization(g1), degree_centralization(g2));
    EXPECT_EQ(betweenness(g1), betweenness(g2));  // bitwise
    EXPECT_EQ(betweenness_centralization(g1), betweenness_centralization(g2));
    std::size_t c1 = 0, c2 = 0;
    EXPECT_EQ(components(g1, &c1), components(g2, &c2));
    EXPECT_EQ(c1, c2);
    EXPECT_EQ(articulation_points(g1), articulation_points(g2));
    EXPECT_EQ(core_numbers(g1), core_numbers(g2));
    EXPECT_EQ(core_periphery(g1).core, core_periphery(g2).core);
    EXPECT_EQ(core_periphery(g1).fit, core_periphery(g2).fit);
  }
  const LevelSummary s1 = summarize_levels(n, e, 7);
  const LevelSummary s2 = summarize_levels(n, shuffled, 7);
  EXPECT_EQ(s1.ties_at_level, s2.ties_at_level);
  EXPECT_EQ(s1.density_at_least, s2.density_at_least);
  EXPECT_EQ(s1.mean_level, s2.mean_level);
  EXPECT_EQ(multiplexity(e, shuffled), 1.0);
  EXPECT_EQ(multiplexity(shuffled, e, 3), 1.0);
}

TEST(Graph, LargeRandomGraphCompletes) {
  const std::uint32_t n = 2000;
  const auto e = random_edges(n, 0.01, 2024);  // about 20k ties
  const Graph g(n, e);
  ASSERT_GT(g.edges(), 15000u);
  const std::vector<double> b = betweenness(g);
  // Sum of betweenness = sum over connected pairs of (distance - 1): check against plain BFS.
  double total = 0.0;
  for (double x : b) total += x;
  double expected = 0.0;
  std::vector<long> d(n);
  std::vector<std::uint32_t> q;
  for (std::uint32_t s = 0; s < n; ++s) {
    std::fill(d.begin(), d.end(), -1);
    q.assign(1, s);
    d[s] = 0;
    for (std::size_t h = 0; h < q.size(); ++h) {
      for (std::uint32_t w : g.neighbours(q[h])) {
        if (d[w] < 0) {
          d[w] = d[q[h]] + 1;
          q.push_back(w);
        }
      }
    }
    for (std::uint32_t t = s + 1; t < n; ++t) {
      if (d[t] > 0) expected += static_cast<double>(d[t] - 1);
    }
  }
  EXPECT_NEAR(total, expected, 1e-9 * expected);
  std::size_t count = 0;
  components(g, &count);
  EXPECT_GE(count, 1u);
  const auto cores = core_numbers(g);
  EXPECT_EQ(cores.size(), n);
  const CorePeriphery cp = core_periphery(g);
  EXPECT_GE(cp.fit, -1.0);
  EXPECT_LE(cp.fit, 1.0);
  EXPECT_GT(betweenness_centralization(g), 0.0);
  EXPECT_LT(betweenness_centralization(g), 1.0);
  for (std::uint32_t v : articulation_points(g)) EXPECT_LT(v, n);
}

}  // namespace
}  // namespace cm
