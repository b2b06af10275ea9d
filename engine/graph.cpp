#include "engine/graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace cm {

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Unordered pair as a 64-bit key: (min << 32) | max. Sorting keys sorts pairs by (min, max).
std::uint64_t pair_key(const Edge& e) {
  const std::uint64_t lo = std::min(e.a, e.b);
  const std::uint64_t hi = std::max(e.a, e.b);
  return (lo << 32) | hi;
}

void check_edge(const Edge& e, std::size_t n) {
  if (e.a == e.b) {
    throw std::invalid_argument("graph: self-loop on node " + std::to_string(e.a));
  }
  if (e.a >= n || e.b >= n) {
    throw std::invalid_argument("graph: edge (" + std::to_string(e.a) + ", " + std::to_string(e.b) +
                                ") outside nodes 0.." + std::to_string(n == 0 ? 0 : n - 1));
  }
}

// Sorted, duplicate-free keys of the pairs with a record at level >= min_level.
std::vector<std::uint64_t> tied_pairs(const std::vector<Edge>& edges, int min_level,
                                      std::size_t n) {
  std::vector<std::uint64_t> keys;
  keys.reserve(edges.size());
  for (const Edge& e : edges) {
    check_edge(e, n);
    if (e.level >= min_level) keys.push_back(pair_key(e));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

double pair_density(std::size_t ties, std::size_t n) {
  if (n < 2) return 0.0;
  return 2.0 * static_cast<double>(ties) / (static_cast<double>(n) * static_cast<double>(n - 1));
}

}  // namespace

Graph::Graph(std::size_t n, const std::vector<Edge>& edges, int min_level) {
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("graph: too many nodes");
  }
  const std::vector<std::uint64_t> keys = tied_pairs(edges, min_level, n);
  edge_count_ = keys.size();
  std::vector<std::size_t> deg(n, 0);
  for (std::uint64_t k : keys) {
    ++deg[k >> 32];
    ++deg[k & 0xFFFFFFFFu];
  }
  adj_.resize(n);
  for (std::size_t v = 0; v < n; ++v) adj_[v].reserve(deg[v]);
  // Keys are sorted by (lo, hi), so each list receives its smaller neighbours (as hi) in
  // increasing order before its larger ones (as lo), also increasing: lists come out sorted.
  for (std::uint64_t k : keys) {
    const auto lo = static_cast<std::uint32_t>(k >> 32);
    const auto hi = static_cast<std::uint32_t>(k & 0xFFFFFFFFu);
    adj_[lo].push_back(hi);
    adj_[hi].push_back(lo);
  }
}

double density(const Graph& g) {
  return pair_density(g.edges(), g.nodes());
}

std::vector<double> degree_centrality(const Graph& g) {
  const std::size_t n = g.nodes();
  std::vector<double> c(n, 0.0);
  if (n < 2) return c;
  const double denom = static_cast<double>(n - 1);
  for (std::uint32_t v = 0; v < n; ++v) c[v] = static_cast<double>(g.degree(v)) / denom;
  return c;
}

double degree_centralization(const Graph& g) {
  const std::size_t n = g.nodes();
  if (n < 3) return 0.0;
  std::size_t max_d = 0;
  for (std::uint32_t v = 0; v < n; ++v) max_d = std::max(max_d, g.degree(v));
  std::size_t sum = 0;  // exact integer sum
  for (std::uint32_t v = 0; v < n; ++v) sum += max_d - g.degree(v);
  return static_cast<double>(sum) / (static_cast<double>(n - 1) * static_cast<double>(n - 2));
}

std::vector<double> betweenness(const Graph& g) {
  const std::size_t n = g.nodes();
  std::vector<double> bc(n, 0.0);
  std::vector<std::uint32_t> order;  // BFS order = non-decreasing distance from the source
  order.reserve(n);
  std::vector<std::int64_t> dist(n, -1);  // -1 = not reached
  std::vector<double> sigma(n, 0.0);      // number of shortest paths from the source
  std::vector<double> coef(n, 0.0);       // (1 + delta[w]) / sigma[w], delta = dependency
  for (std::uint32_t s = 0; s < n; ++s) {
    order.clear();
    dist[s] = 0;
    sigma[s] = 1.0;
    order.push_back(s);
    for (std::size_t head = 0; head < order.size(); ++head) {
      const std::uint32_t v = order[head];
      const std::int64_t next = dist[v] + 1;
      for (std::uint32_t w : g.neighbours(v)) {
        if (dist[w] < 0) {
          dist[w] = next;
          order.push_back(w);
        }
        if (dist[w] == next) sigma[w] += sigma[v];
      }
    }
    // Back-propagate in reverse BFS order: successors w of v (dist[w] = dist[v] + 1) are final
    // before v is reached. delta[v] = sigma[v] * sum_w (1 + delta[w]) / sigma[w], summed in
    // neighbour-id order.
    for (std::size_t i = order.size(); i-- > 0;) {
      const std::uint32_t v = order[i];
      const std::int64_t next = dist[v] + 1;
      double acc = 0.0;
      for (std::uint32_t w : g.neighbours(v)) {
        if (dist[w] == next) acc += coef[w];
      }
      const double delta = sigma[v] * acc;
      if (v != s) bc[v] += delta;
      coef[v] = (1.0 + delta) / sigma[v];
    }
    for (std::uint32_t v : order) {
      dist[v] = -1;
      sigma[v] = 0.0;
    }
  }
  // Every unordered pair was counted from both ends.
  for (double& b : bc) b *= 0.5;
  return bc;
}

double betweenness_centralization(const Graph& g) {
  const std::size_t n = g.nodes();
  if (n < 3) return 0.0;
  const std::vector<double> bc = betweenness(g);
  const double max_b = *std::max_element(bc.begin(), bc.end());
  double sum = 0.0;
  for (double b : bc) sum += max_b - b;
  const double n1 = static_cast<double>(n - 1);
  return sum / (n1 * n1 * static_cast<double>(n - 2) / 2.0);
}

std::vector<std::uint32_t> components(const Graph& g, std::size_t* count) {
  const std::size_t n = g.nodes();
  std::vector<std::uint32_t> label(n, kNone);
  std::vector<std::uint32_t> queue;
  queue.reserve(n);
  std::uint32_t next_label = 0;
  for (std::uint32_t r = 0; r < n; ++r) {
    if (label[r] != kNone) continue;
    label[r] = next_label;
    queue.clear();
    queue.push_back(r);
    for (std::size_t head = 0; head < queue.size(); ++head) {
      for (std::uint32_t w : g.neighbours(queue[head])) {
        if (label[w] == kNone) {
          label[w] = next_label;
          queue.push_back(w);
        }
      }
    }
    ++next_label;
  }
  if (count != nullptr) *count = next_label;
  return label;
}

std::vector<std::uint32_t> articulation_points(const Graph& g) {
  const std::size_t n = g.nodes();
  std::vector<std::uint32_t> disc(n, 0);  // discovery time, 0 = not yet visited
  std::vector<std::uint32_t> low(n, 0);
  std::vector<std::uint32_t> parent(n, kNone);
  std::vector<std::size_t> next_nb(n, 0);  // index of the next neighbour to explore
  std::vector<bool> is_ap(n, false);
  std::vector<std::uint32_t> stack;
  std::uint32_t timer = 0;
  for (std::uint32_t root = 0; root < n; ++root) {
    if (disc[root] != 0) continue;
    disc[root] = low[root] = ++timer;
    stack.push_back(root);
    std::size_t root_children = 0;
    while (!stack.empty()) {
      const std::uint32_t v = stack.back();
      const std::vector<std::uint32_t>& nb = g.neighbours(v);
      if (next_nb[v] < nb.size()) {
        const std::uint32_t w = nb[next_nb[v]++];
        if (disc[w] == 0) {
          parent[w] = v;
          disc[w] = low[w] = ++timer;
          stack.push_back(w);
          if (v == root) ++root_children;
        } else if (w != parent[v]) {
          low[v] = std::min(low[v], disc[w]);  // back edge (simple graph: one tree edge per pair)
        }
      } else {
        stack.pop_back();
        const std::uint32_t p = parent[v];
        if (p != kNone) {
          low[p] = std::min(low[p], low[v]);
          if (p != root && low[v] >= disc[p]) is_ap[p] = true;
        }
      }
    }
    if (root_children > 1) is_ap[root] = true;
  }
  std::vector<std::uint32_t> out;
  for (std::uint32_t v = 0; v < n; ++v) {
    if (is_ap[v]) out.push_back(v);
  }
  return out;
}

std::vector<std::uint32_t> core_numbers(const Graph& g) {
  const std::size_t n = g.nodes();
  std::vector<std::uint32_t> deg(n);
  std::uint32_t max_deg = 0;
  for (std::uint32_t v = 0; v < n; ++v) {
    deg[v] = static_cast<std::uint32_t>(g.degree(v));
    max_deg = std::max(max_deg, deg[v]);
  }
  // bin[d] = start of the block of nodes with current degree d in vert (bucket sort by degree).
  std::vector<std::size_t> bin(static_cast<std::size_t>(max_deg) + 1, 0);
  for (std::uint32_t v = 0; v < n; ++v) ++bin[deg[v]];
  std::size_t start = 0;
  for (std::size_t d = 0; d <= max_deg; ++d) {
    const std::size_t num = bin[d];
    bin[d] = start;
    start += num;
  }
  std::vector<std::size_t> pos(n);
  std::vector<std::uint32_t> vert(n);
  for (std::uint32_t v = 0; v < n; ++v) {
    pos[v] = bin[deg[v]]++;
    vert[pos[v]] = v;
  }
  for (std::size_t d = max_deg; d > 0; --d) bin[d] = bin[d - 1];
  if (!bin.empty()) bin[0] = 0;
  // Peel nodes in non-decreasing current degree; deg[v] is final when v is reached.
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t v = vert[i];
    for (std::uint32_t u : g.neighbours(v)) {
      if (deg[u] > deg[v]) {
        const std::uint32_t du = deg[u];
        const std::size_t pu = pos[u];
        const std::size_t pw = bin[du];
        const std::uint32_t w = vert[pw];
        if (u != w) {  // move u to the front of its degree block
          pos[u] = pw;
          vert[pu] = w;
          pos[w] = pu;
          vert[pw] = u;
        }
        ++bin[du];
        --deg[u];
      }
    }
  }
  return deg;
}

CorePeriphery core_periphery(const Graph& g) {
  const std::size_t n = g.nodes();
  CorePeriphery out;
  out.core.assign(n, false);
  if (n == 0) return out;
  const std::vector<std::uint32_t> cores = core_numbers(g);
  const std::uint32_t k_max = *std::max_element(cores.begin(), cores.end());
  std::size_t core_size = 0;
  for (std::uint32_t v = 0; v < n; ++v) {
    out.core[v] = cores[v] == k_max;
    if (out.core[v]) ++core_size;
  }
  std::size_t core_ties = 0;
  std::size_t periphery_ties = 0;
  for (std::uint32_t v = 0; v < n; ++v) {
    for (std::uint32_t w : g.neighbours(v)) {
      if (w <= v) continue;
      if (out.core[v] && out.core[w]) ++core_ties;
      if (!out.core[v] && !out.core[w]) ++periphery_ties;
    }
  }
  const std::size_t periphery_size = n - core_size;
  // Counts are far below 2^53, so these doubles are exact integers.
  const double C = static_cast<double>(core_size) * static_cast<double>(core_size - 1) / 2.0;
  const double P = periphery_size < 2 ? 0.0
                                      : static_cast<double>(periphery_size) *
                                            static_cast<double>(periphery_size - 1) / 2.0;
  const double c = static_cast<double>(core_ties);
  const double p = static_cast<double>(periphery_ties);
  const double N = C + P;
  const double m = c + p;
  if (C == 0.0 || P == 0.0 || m == 0.0 || m == N) return out;
  out.fit = (c * P - p * C) / (std::sqrt(C * P) * std::sqrt(m * (N - m)));
  return out;
}

LevelSummary summarize_levels(std::size_t n, const std::vector<Edge>& edges, int max_level) {
  if (max_level < 0) throw std::invalid_argument("summarize_levels: max_level < 0");
  // (pair, level) records; sorted so that each pair's highest level comes last.
  std::vector<std::pair<std::uint64_t, int>> recs;
  recs.reserve(edges.size());
  for (const Edge& e : edges) {
    check_edge(e, n);
    if (e.level < 0 || e.level > max_level) {
      throw std::invalid_argument("summarize_levels: level " + std::to_string(e.level) +
                                  " outside 0.." + std::to_string(max_level));
    }
    recs.emplace_back(pair_key(e), e.level);
  }
  std::sort(recs.begin(), recs.end());
  const auto levels = static_cast<std::size_t>(max_level) + 1;
  LevelSummary s;
  s.ties_at_level.assign(levels, 0);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (i + 1 < recs.size() && recs[i + 1].first == recs[i].first) continue;
    ++s.ties_at_level[static_cast<std::size_t>(recs[i].second)];
  }
  s.density_at_least.assign(levels, 0.0);
  std::size_t at_least = 0;
  for (std::size_t l = levels; l-- > 0;) {
    at_least += s.ties_at_level[l];
    s.density_at_least[l] = pair_density(at_least, n);
  }
  std::size_t tied = 0;
  std::size_t level_sum = 0;  // exact integer sum
  for (std::size_t l = 1; l < levels; ++l) {
    tied += s.ties_at_level[l];
    level_sum += l * s.ties_at_level[l];
  }
  s.mean_level = tied == 0 ? 0.0 : static_cast<double>(level_sum) / static_cast<double>(tied);
  return s;
}

double multiplexity(const std::vector<Edge>& a, const std::vector<Edge>& b, int min_level) {
  constexpr std::size_t kAnyNode = std::size_t{1} << 32;
  const std::vector<std::uint64_t> ka = tied_pairs(a, min_level, kAnyNode);
  if (ka.empty()) return 0.0;
  const std::vector<std::uint64_t> kb = tied_pairs(b, min_level, kAnyNode);
  std::size_t both = 0;
  auto ia = ka.begin();
  auto ib = kb.begin();
  while (ia != ka.end() && ib != kb.end()) {
    if (*ia < *ib) {
      ++ia;
    } else if (*ib < *ia) {
      ++ib;
    } else {
      ++both;
      ++ia;
      ++ib;
    }
  }
  return static_cast<double>(both) / static_cast<double>(ka.size());
}

}  // namespace cm
