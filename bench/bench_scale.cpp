// bench_scale: cost of a simulated year against city size and thread count, against the
// memory bandwidth of the same machine.
//
//   bench_scale [--residents N,N,...] [--days D] [--threads T,T,...] [--fragmented]
//               [--seed S] [--utilization] [--no-bandwidth] [--bandwidth-only]
//               [--client-records]
//
// First a STREAM-like probe (bench/memory_bandwidth.hpp) measures the read, copy and triad
// bandwidth of main memory at each thread count. Then, for every size and thread count, a
// fresh child process (fork) builds the synthetic city (models/socialcare/synthetic.hpp,
// networked unless --fragmented), runs D days (default 365) and prints one row:
//   residents, threads, districts, build s (scenario + Simulation), wall s (the run),
//   client-ticks/s (the sum over ticks of active clients, divided by the wall time), ns per
//   client-tick, peak active clients, clients created, peak RSS (VmHWM of the child), bytes
//   per active client (RSS growth of the child over its starting RSS, divided by the peak
//   number of active clients: it includes the organizations, helpers, ties, time series and the
//   scenario, so it is an upper bound of the per-client cost; the run keeps no client records —
//   a client leaving is folded into the outcome tallies — unless --client-records), and %BW: the
//   memory traffic the client-ticks imply if each moves sizeof(Client) + 4 bytes (the client record
//   read once and its slot in the active list: a lower bound, since the client pass also writes
//   the record back and reads its needs, 24 bytes each) as a share of the measured read
//   bandwidth at that thread count. When the active clients fit in the caches (small cities)
//   the share says little; at 10^7 residents they do not, and it says how far the step is
//   from being limited by memory.
// A summary follows: two-thread speed-up per size, and the growth of wall time per 10x
// residents (linear growth: 10x).
// Latent residents are an aggregate: a constant ns per client-tick across sizes shows that
// the cost of a tick tracks active clients, not residents.
// --utilization adds, per organization type, the mean share of direct helper hours in use over
// the last 30 days and the number of needs waiting in queues at the end.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/memory_bandwidth.hpp"
#include "engine/parallel.hpp"
#include "models/socialcare/simulation.hpp"
#include "models/socialcare/synthetic.hpp"

namespace {

using cm::care::Scenario;
using cm::care::Simulation;

struct Options {
  std::vector<std::int64_t> residents{10'000, 100'000, 1'000'000, 10'000'000};
  std::vector<int> threads{1, 2};
  int days = 365;
  bool networked = true;
  bool utilization = false;
  bool bandwidth = true;  // run the memory-bandwidth probe
  bool bandwidth_only = false;
  bool client_records = false;  // keep every client's record (as clients.csv needs)
  std::uint64_t seed = 1;
};

// Memory traffic of one client-tick, lower bound: its record read once, its slot in active_.
constexpr double kBytesPerClientTick = sizeof(cm::care::Client) + sizeof(std::uint32_t);

// What a measurement child reports to the parent through a pipe.
struct Result {
  std::int64_t residents = 0;
  int threads = 0;
  double wall_s = 0, client_ticks = 0;
};

// A /proc/self/status field in kB (VmRSS, VmHWM), -1 if missing.
long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t n = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
      return std::strtol(line.c_str() + n + 1, nullptr, 10);
  return -1;
}

template <class T>
std::vector<T> parse_list(const std::string& text) {
  std::vector<T> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(std::remove(item.begin(), item.end(), '_'), item.end());
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);  // accepts 1e6
    if (item.empty() || *end != '\0' || v < 1) {
      std::fprintf(stderr, "bench_scale: bad number \"%s\" in \"%s\"\n", item.c_str(),
                   text.c_str());
      std::exit(2);
    }
    out.push_back(static_cast<T>(v));
  }
  return out;
}

[[noreturn]] void usage(int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: bench_scale [--residents N,N,...] [--days D] [--threads T,T,...]\n"
               "                   [--fragmented] [--seed S] [--utilization]\n"
               "                   [--no-bandwidth] [--bandwidth-only] [--client-records]\n"
               "defaults: --residents 10000,100000,1000000,10000000 --days 365 --threads 1,2\n"
               "          (networked)\n");
  std::exit(status);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--residents")
      o.residents = parse_list<std::int64_t>(value());
    else if (a == "--threads")
      o.threads = parse_list<int>(value());
    else if (a == "--days")
      o.days = parse_list<int>(value()).at(0);
    else if (a == "--seed")
      o.seed = parse_list<std::uint64_t>(value()).at(0);
    else if (a == "--fragmented")
      o.networked = false;
    else if (a == "--utilization")
      o.utilization = true;
    else if (a == "--no-bandwidth")
      o.bandwidth = false;
    else if (a == "--bandwidth-only")
      o.bandwidth_only = true;
    else if (a == "--client-records")
      o.client_records = true;
    else if (a == "--help" || a == "-h")
      usage(0);
    else
      usage(2);
  }
  return o;
}

// "OPS D001" -> "OPS": organizations of the same type in different districts.
std::string org_type(const std::string& name) {
  const auto sp = name.rfind(' ');
  if (sp == std::string::npos || sp + 1 >= name.size() || name[sp + 1] != 'D') return name;
  for (std::size_t k = sp + 2; k < name.size(); ++k)
    if (name[k] < '0' || name[k] > '9') return name;
  return name.substr(0, sp);
}

void print_utilization(const Simulation& sim, const std::vector<double>& used,
                       const std::vector<double>& capacity) {
  struct Row {
    int orgs = 0, helpers = 0;
    double used = 0, capacity = 0;
    std::int64_t queued = 0, intake = 0, assessments = 0, referrals = 0;
    double intake_hours = 0;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  const Scenario& sc = sim.scenario();
  for (std::size_t o = 0; o < sc.organizations.size(); ++o) {
    const std::string type = org_type(sc.organizations[o].name);
    if (!rows.count(type)) order.push_back(type);
    Row& r = rows[type];
    ++r.orgs;
    r.helpers += sim.organizations()[o].n_helpers;
    r.used += used[o];
    r.capacity += capacity[o];
    for (const auto& q : sim.organizations()[o].queues)
      r.queued += static_cast<std::int64_t>(q.size());
    r.intake += static_cast<std::int64_t>(sim.organizations()[o].intake.size());
    r.assessments += sim.organizations()[o].assessments;
    r.referrals += sim.organizations()[o].referrals_sent;
    r.intake_hours += sim.organizations()[o].intake_hours;
  }
  const double days = std::max(1, sim.tick());
  std::printf("    %-33s %5s %8s %12s %8s %8s %9s %9s %9s\n", "organization type", "orgs",
              "helpers", "utilization", "queued", "intake", "assess/d", "intake h", "refer/d");
  for (const auto& type : order) {
    const Row& r = rows[type];
    std::printf("    %-33s %5d %8d %11.1f%% %8lld %8lld %9.1f %9.1f %9.1f\n", type.c_str(), r.orgs,
                r.helpers, r.capacity > 0 ? 100.0 * r.used / r.capacity : 0.0,
                static_cast<long long>(r.queued), static_cast<long long>(r.intake),
                static_cast<double>(r.assessments) / days, r.intake_hours,
                static_cast<double>(r.referrals) / days);
  }
}

// One measurement, in the calling (child) process; prints its row. read_gbs: the measured
// read bandwidth at this thread count (0 if not measured).
Result measure(std::int64_t residents, int threads, const Options& opt, double read_gbs) {
  const long rss0 = status_kb("VmRSS");
  const auto t0 = std::chrono::steady_clock::now();
  cm::care::SyntheticOptions so;
  so.networked = opt.networked;
  so.horizon_days = std::max(opt.days, 1);
  so.seed = opt.seed;
  const Scenario sc = cm::care::make_synthetic_city(residents, so);
  // As --no-client-records and the experiments run: a client's record is folded into the
  // outcome tallies when it leaves (--client-records keeps every record, as clients.csv needs).
  Simulation sim(sc, sc.seed, cm::care::SimOptions{opt.client_records, opt.days});
  const auto t1 = std::chrono::steady_clock::now();
  const std::size_t n_orgs = sc.organizations.size();
  std::vector<double> used(n_orgs, 0), capacity(n_orgs, 0);
  double client_ticks = 0;
  std::size_t peak = 0;
  cm::with_threads(threads, [&] {
    for (int d = 0; d < opt.days; ++d) {
      sim.step();
      client_ticks += static_cast<double>(sim.active_clients());
      peak = std::max(peak, sim.active_clients());
      if (opt.utilization && d >= opt.days - 30) {  // outside the timed work is negligible
        for (std::size_t o = 0; o < n_orgs; ++o) {
          const auto& org = sim.organizations()[o];
          for (int k = 0; k < org.n_helpers; ++k) {
            used[o] += sim.helpers()[org.first_helper + k].load_hours;
            capacity[o] += sim.helpers()[org.first_helper + k].capacity_hours;
          }
        }
      }
    }
  });
  const auto t2 = std::chrono::steady_clock::now();
  const double build_s = std::chrono::duration<double>(t1 - t0).count();
  const double wall_s = std::chrono::duration<double>(t2 - t1).count();
  const long hwm = status_kb("VmHWM");
  const double growth_bytes = static_cast<double>(hwm - rss0) * 1024.0;
  const double rate = client_ticks / wall_s;
  std::printf("%11lld %7d %5zu %8.2f %8.2f %14.3e %9.1f %11zu %10zu %9.1f %10.0f %6.1f%%\n",
              static_cast<long long>(residents), threads, sc.districts.size(), build_s, wall_s,
              rate, 1e9 * wall_s / std::max(client_ticks, 1.0), peak, sim.clients_created(),
              static_cast<double>(hwm) / 1024.0,
              growth_bytes / static_cast<double>(std::max<std::size_t>(peak, 1)),
              read_gbs > 0 ? 100.0 * rate * kBytesPerClientTick / (read_gbs * 1e9) : 0.0);
  if (opt.utilization) print_utilization(sim, used, capacity);
  std::fflush(stdout);
  return {residents, threads, wall_s, client_ticks};
}

void print_summary(const std::vector<Result>& results) {
  auto wall = [&](std::int64_t residents, int threads) {
    for (const Result& r : results)
      if (r.residents == residents && r.threads == threads) return r.wall_s;
    return 0.0;
  };
  std::printf("\nsummary (wall s of the run):\n%11s %7s %10s %10s %12s %16s\n", "residents",
              "threads", "wall s", "vs 1 thr", "vs residents", "(per 10x resid.)");
  for (const Result& r : results) {
    const double one = wall(r.residents, 1);
    const Result* smaller = nullptr;  // the next smaller size at the same thread count
    for (const Result& s : results)
      if (s.threads == r.threads && s.residents < r.residents &&
          (!smaller || s.residents > smaller->residents))
        smaller = &s;
    std::printf("%11lld %7d %10.3f", static_cast<long long>(r.residents), r.threads, r.wall_s);
    if (one > 0 && r.threads != 1)
      std::printf(" %9.2fx", one / r.wall_s);
    else
      std::printf(" %10s", "");
    if (smaller && smaller->wall_s > 0) {
      const double growth = r.wall_s / smaller->wall_s;
      const double size =
          static_cast<double>(r.residents) / static_cast<double>(smaller->residents);
      std::printf(" %11.2fx %15.2fx", growth, std::pow(growth, 1.0 / std::log10(size)));
    }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  std::vector<bench::Bandwidth> bandwidth;
  if (opt.bandwidth || opt.bandwidth_only) {
    std::printf("memory bandwidth (STREAM-like, 3 x 128 MiB arrays, best of 5), GB/s:\n");
    std::printf("%7s %8s %8s %8s\n", "threads", "read", "copy", "triad");
    for (int threads : opt.threads) {
      const bench::Bandwidth b = bench::measure_bandwidth(threads);
      std::printf("%7d %8.2f %8.2f %8.2f\n", b.threads, b.read_gbs, b.copy_gbs, b.triad_gbs);
      bandwidth.push_back(b);
    }
    std::printf("\n");
    std::fflush(stdout);
    if (opt.bandwidth_only) return 0;
  }
  auto read_gbs = [&](int threads) {
    for (const auto& b : bandwidth)
      if (b.threads == threads) return b.read_gbs;
    return 0.0;
  };
  std::printf(
      "bench_scale: %d days, %s synthetic cities, seed %llu; %%BW: %.0f bytes per "
      "client-tick (sizeof(Client) + 4) / read bandwidth\n",
      opt.days, opt.networked ? "networked" : "fragmented",
      static_cast<unsigned long long>(opt.seed), kBytesPerClientTick);
  std::printf("%11s %7s %5s %8s %8s %14s %9s %11s %10s %9s %10s %7s\n", "residents", "threads",
              "dist", "build s", "wall s", "client-tick/s", "ns/c-tick", "peak active", "clients",
              "RSS MB", "B/active", "%BW");
  std::fflush(stdout);
  int failures = 0;
  std::vector<Result> results;
  for (std::int64_t residents : opt.residents)
    for (int threads : opt.threads) {
      // A fresh process per measurement: VmHWM is process-wide and never goes down.
      int fds[2];
      if (pipe(fds) != 0) {
        std::perror("bench_scale: pipe");
        return 1;
      }
      const pid_t pid = fork();
      if (pid < 0) {
        std::perror("bench_scale: fork");
        return 1;
      }
      if (pid == 0) {
        close(fds[0]);
        try {
          const Result r = measure(residents, threads, opt, read_gbs(threads));
          if (write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) _exit(1);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "bench_scale: %lld residents: %s\n",
                       static_cast<long long>(residents), e.what());
          std::fflush(stderr);
          _exit(1);
        }
        _exit(0);
      }
      close(fds[1]);
      Result r;
      const bool got = read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
      close(fds[0]);
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got)
        ++failures;
      else
        results.push_back(r);
    }
  print_summary(results);
  return failures ? 1 : 0;
}
