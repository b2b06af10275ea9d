#include "models/socialcare/partition.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace cm::care {

namespace {
struct UnionFind {
  std::vector<std::int32_t> parent;
  explicit UnionFind(std::size_t n) : parent(n) {
    std::iota(parent.begin(), parent.end(), std::int32_t{0});
  }
  std::int32_t find(std::int32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(std::int32_t a, std::int32_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);  // the root is the lowest node
  }
};
}  // namespace

Partition partition_territory(const Scenario& sc,
                              const std::vector<std::pair<std::int32_t, std::int32_t>>& ties,
                              int ranks) {
  if (ranks < 1) throw std::invalid_argument("a partition needs at least one process");
  const auto n_orgs = static_cast<std::int32_t>(sc.organizations.size());
  const auto n_districts = static_cast<std::int32_t>(sc.districts.size());
  // Nodes: organizations [0, n_orgs), then districts.
  UnionFind uf(static_cast<std::size_t>(n_orgs + n_districts));
  for (std::int32_t o = 0; o < n_orgs; ++o)
    for (int d : sc.organizations[o].serves) uf.join(o, n_orgs + d);
  for (const auto& [a, b] : ties) uf.join(a, b);
  for (const NetworkDef& net : sc.networks) {
    if (net.coordinator >= 0)
      for (int m : net.members) uf.join(net.coordinator, m);
  }
  // Clusters by their lowest node; weight: residents of their districts.
  std::vector<std::int32_t> root(static_cast<std::size_t>(n_orgs + n_districts));
  for (std::size_t i = 0; i < root.size(); ++i) root[i] = uf.find(static_cast<std::int32_t>(i));
  std::vector<std::int32_t> roots;
  std::vector<double> weight(root.size(), 0.0);
  for (std::size_t i = 0; i < root.size(); ++i)
    if (root[i] == static_cast<std::int32_t>(i)) roots.push_back(static_cast<std::int32_t>(i));
  double total = 0;
  for (std::int32_t d = 0; d < n_districts; ++d) {
    const auto pop = static_cast<double>(sc.districts[d].population);
    weight[root[n_orgs + d]] += pop;
    total += pop;
  }
  std::stable_sort(roots.begin(), roots.end(),
                   [&](std::int32_t x, std::int32_t y) { return weight[x] > weight[y]; });
  Partition p;
  p.ranks = ranks;
  p.clusters = static_cast<int>(roots.size());
  p.district_rank.assign(static_cast<std::size_t>(n_districts), 0);
  p.org_rank.assign(static_cast<std::size_t>(n_orgs), 0);
  std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
  const double share = total / ranks;
  auto lightest = [&] {
    return static_cast<std::int32_t>(std::min_element(load.begin(), load.end()) - load.begin());
  };
  std::vector<std::int32_t> rank_of_root(root.size(), 0);
  std::vector<std::vector<std::int32_t>> districts_of(root.size());
  for (std::int32_t d = 0; d < n_districts; ++d) districts_of[root[n_orgs + d]].push_back(d);
  for (std::int32_t r : roots) {
    const std::int32_t home = lightest();
    rank_of_root[r] = home;
    const auto& ds = districts_of[r];
    if (load[home] + weight[r] <= share * 1.02 || ds.size() <= 1 || ranks == 1) {
      for (std::int32_t d : ds) p.district_rank[d] = home;
      load[home] += weight[r];
      continue;
    }
    // Too large for one process: its organizations stay on `home`, its districts are spread.
    ++p.split_clusters;
    for (std::int32_t d : ds) {
      const auto pop = static_cast<double>(sc.districts[d].population);
      const std::int32_t to = load[home] + pop <= share * 1.02 ? home : lightest();
      p.district_rank[d] = to;
      load[to] += pop;
    }
  }
  for (std::int32_t o = 0; o < n_orgs; ++o) p.org_rank[o] = rank_of_root[root[o]];
  p.network_rank.assign(sc.networks.size(), 0);
  for (std::size_t k = 0; k < sc.networks.size(); ++k) {
    const NetworkDef& net = sc.networks[k];
    const std::int32_t o = net.coordinator >= 0  ? net.coordinator
                           : net.members.empty() ? -1
                                                 : static_cast<std::int32_t>(net.members[0]);
    p.network_rank[k] = o >= 0 ? p.org_rank[o] : 0;
  }
  return p;
}

std::vector<std::unique_ptr<ThreadPartitionComm>> ThreadPartitionComm::make(int n) {
  auto shared = std::make_shared<Shared>(static_cast<std::size_t>(n));
  std::vector<std::unique_ptr<ThreadPartitionComm>> ends;
  for (int r = 0; r < n; ++r) ends.emplace_back(new ThreadPartitionComm(shared, r));
  return ends;
}

void ThreadPartitionComm::abort() {
  shared_->aborted = true;
  shared_->sync.arrive_and_drop();
}

void ThreadPartitionComm::check() const {
  if (shared_->aborted) throw std::runtime_error("partitioned run: another process failed");
}

std::vector<Bytes> ThreadPartitionComm::exchange(const std::vector<Bytes>& out) {
  Shared& s = *shared_;
  const auto me = static_cast<std::size_t>(rank_);
  for (std::size_t to = 0; to < s.n; ++to) {
    s.box[me * s.n + to] = out[to];
    if (to != me) bytes_sent += static_cast<std::int64_t>(out[to].size());
  }
  ++calls;
  s.sync.arrive_and_wait();
  check();
  std::vector<Bytes> in(s.n);
  for (std::size_t from = 0; from < s.n; ++from) in[from] = s.box[from * s.n + me];
  s.sync.arrive_and_wait();  // nobody writes the boxes again before everyone has read them
  return in;
}

void ThreadPartitionComm::sum(std::vector<std::int64_t>& values) {
  Shared& s = *shared_;
  {
    const std::lock_guard lock(s.mutex);
    if (s.sums.size() != s.n) s.sums.resize(s.n);
    s.sums[static_cast<std::size_t>(rank_)] = values;
  }
  ++calls;
  s.sync.arrive_and_wait();
  check();
  std::vector<std::int64_t> total(values.size(), 0);
  for (const auto& v : s.sums) {
    if (v.size() != total.size()) throw std::logic_error("PartitionComm::sum: sizes differ");
    for (std::size_t i = 0; i < v.size(); ++i) total[i] += v[i];
  }
  s.sync.arrive_and_wait();
  values.swap(total);
}

}  // namespace cm::care
