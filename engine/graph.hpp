// Network analysis of an undirected graph whose edges carry an integer tie level.
//
// Design:
// - Input is a list of Edge{a, b, level} on nodes 0..n-1 (a != b, both < n; otherwise
//   std::invalid_argument). The order of the list and the orientation of each edge never matter:
//   a Graph keeps the simple graph of pairs that have at least one record with
//   level >= min_level (duplicate records of a pair collapse to one tie), and every adjacency
//   list is sorted by node id. Functions that look at levels themselves (summarize_levels,
//   multiplexity) likewise collapse duplicate records of a pair to the pair's highest level.
// - All measures iterate nodes and neighbours in id order, so every floating-point result is a
//   fixed sequence of operations: identical inputs in any edge order give bitwise-identical
//   results. Everything is serial and iterative (no recursion, so no stack-depth limits).
// - Cost: construction O(E log E); betweenness O(VE) (Brandes 2001, BFS, unweighted);
//   components, articulation points and core numbers O(V + E).
// - Levels matter only through the min_level threshold: all measures are on the unweighted
//   graph of ties at or above the threshold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cm {

// One undirected tie record between nodes a and b (a != b). Level 0 means "no tie".
struct Edge {
  std::uint32_t a, b;
  int level;
};

// Undirected simple graph on nodes 0..n-1 holding the pairs that have a record with
// level >= min_level.
class Graph {
 public:
  Graph(std::size_t n, const std::vector<Edge>& edges, int min_level = 1);

  std::size_t nodes() const { return adj_.size(); }
  std::size_t edges() const { return edge_count_; }
  // Neighbours of v in increasing id order.
  const std::vector<std::uint32_t>& neighbours(std::uint32_t v) const { return adj_[v]; }
  std::size_t degree(std::uint32_t v) const { return adj_[v].size(); }

 private:
  std::vector<std::vector<std::uint32_t>> adj_;
  std::size_t edge_count_ = 0;
};

// 2E / (n(n-1)); 0 when n < 2.
double density(const Graph& g);

// d_i / (n-1) per node; all 0 when n < 2.
std::vector<double> degree_centrality(const Graph& g);

// Freeman: sum_i (d_max - d_i) / ((n-1)(n-2)) on raw degrees; 1 for a star, 0 for a regular
// graph; 0 when n < 3.
double degree_centralization(const Graph& g);

// Brandes betweenness, unnormalised, each unordered pair {s, t} counted once:
// b(v) = sum over s < t, s != v != t, of sigma_st(v) / sigma_st. Pairs with no path add 0.
std::vector<double> betweenness(const Graph& g);

// Freeman: sum_i (b_max - b_i) / ((n-1)^2 (n-2) / 2); 1 for a star, 0 for a cycle;
// 0 when n < 3.
double betweenness_centralization(const Graph& g);

// Connected-component label per node. Labels are 0, 1, ... in order of each component's smallest
// node id (so node 0 is always in component 0). If count is not null it receives the number of
// components (isolated nodes are components of their own).
std::vector<std::uint32_t> components(const Graph& g, std::size_t* count = nullptr);

// Articulation points ("fragility"): nodes whose removal increases the number of connected
// components. Sorted ascending. Iterative Tarjan DFS.
std::vector<std::uint32_t> articulation_points(const Graph& g);

// Core number per node (largest k such that the node is in the k-core, the maximal subgraph
// with minimum degree >= k). Batagelj–Zaversnik bucket algorithm, O(V + E). Isolated nodes: 0.
std::vector<std::uint32_t> core_numbers(const Graph& g);

// Core–periphery split.
// core[v] is true iff v is in the maximum k-core, i.e. core_number(v) == k_max (when the graph
// has no ties, k_max = 0 and every node is core).
// fit is the Borgatti–Everett correlation between the observed ties and the ideal pattern, with
// the core–periphery block ignored: over all unordered pairs {i, j} with both in the core or
// both in the periphery, the Pearson (phi) correlation of x = [tie present] and
// y = [both in core]. With C core pairs, P periphery pairs, c ties inside the core,
// p ties inside the periphery, N = C + P and m = c + p:
//     fit = (c * P - p * C) / sqrt(C * P * m * (N - m)),
// which lies in [-1, 1]: 1 when the core is a clique and the periphery has no internal tie.
// It is defined as 0 when the correlation is undefined (C = 0, P = 0, m = 0 or m = N), e.g. for
// a graph whose nodes are all in the maximum core.
struct CorePeriphery {
  std::vector<bool> core;
  double fit = 0.0;
};
CorePeriphery core_periphery(const Graph& g);

// Tie counts and densities by level for the records in edges (nodes 0..n-1). Every level must be
// in 0..max_level (else std::invalid_argument); duplicate records of a pair count once, at the
// pair's highest level.
struct LevelSummary {
  std::vector<std::size_t> ties_at_level;  // [L], L = 0..max_level: pairs whose level is exactly L
  std::vector<double> density_at_least;    // [L]: density of the graph of pairs with level >= L
  double mean_level = 0.0;                 // mean level over pairs with level >= 1; 0 if none
};
LevelSummary summarize_levels(std::size_t n, const std::vector<Edge>& edges, int max_level);

// Share of the pairs tied in a (some record with level >= min_level) that are also tied in b
// (some record with level >= min_level); 0 if a has no tie. Orientation and duplicates ignored.
double multiplexity(const std::vector<Edge>& a, const std::vector<Edge>& b, int min_level = 1);

}  // namespace cm
