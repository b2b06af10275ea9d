// Analytic check: scenarios/queue-check.yaml reduces the model to a discrete-time M/M/c
// queue. Each day, every busy helper finishes with probability p = 1/mean_days (geometric
// service), Poisson(lambda) clients arrive, and free helpers take waiting clients at once.
// The number in the system after allocation is then a Markov chain whose stationary
// distribution gives the exact mean queue length Lq and, by Little's law on daily snapshots,
// the exact mean wait Wq = Lq / lambda days. The simulated mean wait must match it within four
// standard errors estimated by batch means (30 batches of consecutive clients), which makes a
// false failure a ~1-in-15,000 event while a 10% modelling error (e.g. releases processed after
// allocation) is far outside. The continuous-time Erlang C value is printed for reference: the
// discrete-time chain is the right comparison, since service and arrivals happen in whole days.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care {
namespace {

double poisson_pmf(int k, double lambda) {
  return std::exp(k * std::log(lambda) - lambda - std::lgamma(k + 1.0));
}
double binomial_pmf(int k, int n, double p) {
  return std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) +
                  k * std::log(p) + (n - k) * std::log1p(-p));
}

// Exact mean queue length of the discrete-time chain (truncated far in the tail).
double discrete_mmc_lq(double lambda, double p, int c, int n_max = 200) {
  std::vector<std::vector<double>> P(n_max + 1, std::vector<double>(n_max + 1, 0.0));
  for (int n = 0; n <= n_max; ++n) {
    const int busy = std::min(n, c);
    for (int d = 0; d <= busy; ++d) {
      const double pd = binomial_pmf(d, busy, p);
      for (int a = 0; n - d + a <= n_max; ++a) P[n][n - d + a] += pd * poisson_pmf(a, lambda);
    }
  }
  std::vector<double> pi(n_max + 1, 0.0), next(n_max + 1);
  pi[0] = 1;
  for (int it = 0; it < 4000; ++it) {
    std::fill(next.begin(), next.end(), 0.0);
    for (int n = 0; n <= n_max; ++n)
      if (pi[n] > 0)
        for (int m = 0; m <= n_max; ++m) next[m] += pi[n] * P[n][m];
    double s = 0;
    for (double v : next) s += v;
    for (double& v : next) v /= s;
    pi.swap(next);
  }
  double lq = 0;
  for (int n = c; n <= n_max; ++n) lq += (n - c) * pi[n];
  return lq;
}

double erlang_c_wq(double lambda, double mu, int c) {
  const double a = lambda / mu, rho = a / c;
  double sum = 0, term = 1;
  for (int k = 0; k < c; ++k) {
    if (k > 0) term *= a / k;
    sum += term;
  }
  const double last = term * a / c / (1 - rho);
  const double pw = last / (sum + last);
  return pw / (c * mu - lambda);
}

TEST(QueueCheck, MeanWaitMatchesTheExactDiscreteTimeMMcResult) {
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/queue-check.yaml");
  const double lambda = sc.districts[0].population * sc.population.annual_incidence / 365.0;
  const double p = 1.0 / sc.services[0].mean_days;
  const int c = sc.organizations[0].helpers;
  Simulation sim(sc, sc.seed);
  sim.run(sc.horizon_days);
  sim.finish();

  std::vector<double> waits;
  for (const Client& cl : sim.clients())
    if (cl.arrival >= sc.warmup_days && cl.arrival < sc.horizon_days - sc.follow_up_days) {
      ASSERT_GE(cl.first_service, 0) << "every cohort client is served in this configuration";
      waits.push_back(cl.first_service - cl.arrival);
    }
  ASSERT_GT(waits.size(), 10000u);
  const int batches = 30;
  const std::size_t per = waits.size() / batches;
  std::vector<double> means(batches, 0.0);
  for (int b = 0; b < batches; ++b) {
    for (std::size_t i = 0; i < per; ++i) means[b] += waits[b * per + i];
    means[b] /= per;
  }
  double mean = 0, var = 0;
  for (double m : means) mean += m / batches;
  for (double m : means) var += (m - mean) * (m - mean) / (batches - 1);
  const double se = std::sqrt(var / batches);

  const double exact = discrete_mmc_lq(lambda, p, c) / lambda;
  std::printf("simulated Wq %.4f days (SE %.4f), discrete-time exact %.4f, Erlang C %.4f\n", mean,
              se, exact, erlang_c_wq(lambda, p, c));
  EXPECT_NEAR(mean, exact, 4 * se);
  EXPECT_GT(exact, 0.5);  // the configuration really queues (rho = 0.8)
}

TEST(QueueCheck, LittlesLawForTheQueue) {
  // Summed daily queue lengths equal the summed waits of everyone who queued.
  const Scenario sc = load_scenario(std::string(CAREMESH_SCENARIO_DIR) + "/queue-check.yaml");
  Simulation sim(sc, 3);
  sim.run(5000);
  sim.finish();
  std::int64_t area = 0;
  for (const auto& r : sim.timeseries()) area += r.queue_length;
  std::int64_t waited = 0;
  for (const Client& cl : sim.clients())
    waited += (cl.first_service >= 0 ? std::int32_t{cl.first_service} : sim.tick()) - cl.arrival;
  EXPECT_GT(area, 0);
  EXPECT_EQ(area, waited);
}

}  // namespace
}  // namespace cm::care
