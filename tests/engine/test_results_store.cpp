#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "engine/results_store.hpp"

namespace cm {
namespace {

namespace fs = std::filesystem;

ExperimentInfo test_info() {
  ExperimentInfo info;
  info.kind = "compare";
  info.command = "caremesh compare scenario.yaml --variants v.yaml --reps 3";
  info.scenario_text = "residents: 40\nstaff: 6\n";
  info.scenario_hash = ResultsStore::sha256_hex(info.scenario_text);
  info.design_text = "variants: [baseline, more_staff]";
  info.version = "0.1.0";
  info.base_seed = 42;
  return info;
}

// A run whose every value depends on (point, replication, salt) only.
RunRecord make_run(const std::string& point, int rep, int n_metrics = 3, double salt = 0.0) {
  RunRecord r;
  r.point = point;
  r.replication = rep;
  r.seed = 1000u + static_cast<std::uint64_t>(rep);
  r.wall_seconds = 0.25;
  for (int i = 0; i < n_metrics; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "m%02d", i);
    r.metrics.emplace_back(name, rep * 100.0 + i + salt + static_cast<double>(point.size()) / 8);
  }
  for (int t = 0; t < 5; ++t) r.series.emplace_back("occupancy", t, 10.0 * rep + t);
  return r;
}

class ResultsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("caremesh_store_" + std::to_string(::getpid()) + "_" +
                                        t->test_suite_name() + "_" + t->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path db(const std::string& sub = "exp") const { return dir_ / sub / ResultsStore::kFileName; }
  fs::path dir_;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a single-integer query on a database file directly, bypassing the store.
std::int64_t raw_int(const fs::path& file, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::string raw_text(const fs::path& file, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string v;
  if (sqlite3_step(st) == SQLITE_ROW) v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// Expects fn to throw std::runtime_error whose message contains every one of parts.
template <class F>
void expect_error(F&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const std::runtime_error& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message \"" << e.what() << "\" lacks \"" << p << "\"";
  }
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(ResultsStore::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ResultsStore::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ResultsStore::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(ResultsStore::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_F(ResultsStoreTest, CreateReopenResume) {
  const auto info = test_info();
  std::string created;
  {
    auto store = ResultsStore::open(db(), info);
    EXPECT_TRUE(fs::exists(db()));
    store.define_point("baseline", R"({"staff":6})");
    store.define_point("more_staff", R"({"staff":8})");
    EXPECT_TRUE(store.record_run(make_run("baseline", 0)));
    EXPECT_TRUE(store.record_run(make_run("more_staff", 1)));
    created = store.created_at();
    EXPECT_EQ(raw_text(db(), "PRAGMA journal_mode"), "wal");
  }
  {
    auto info2 = info;
    info2.command += " --threads 8";  // the command line is provenance, not identity
    auto store = ResultsStore::open(db(), info2);
    const ExperimentInfo stored = store.experiment();
    EXPECT_EQ(stored.kind, info.kind);
    EXPECT_EQ(stored.command, info.command);  // the command that created it
    EXPECT_EQ(stored.scenario_text, info.scenario_text);
    EXPECT_EQ(stored.scenario_hash, info.scenario_hash);
    EXPECT_EQ(stored.design_text, info.design_text);
    EXPECT_EQ(stored.version, info.version);
    EXPECT_EQ(stored.base_seed, info.base_seed);
    EXPECT_EQ(store.created_at(), created);
    ASSERT_EQ(store.points().size(), 2u);
    EXPECT_EQ(store.points()[1].settings_json, R"({"staff":8})");

    const std::set<std::pair<std::string, int>> expected = {{"baseline", 0}, {"more_staff", 1}};
    EXPECT_EQ(store.completed_runs(), expected);
    EXPECT_TRUE(store.has_run("baseline", 0));
    EXPECT_FALSE(store.has_run("baseline", 1));
    EXPECT_FALSE(store.has_run("nonexistent", 0));

    // Resume: record what is missing.
    for (const auto* p : {"baseline", "more_staff"})
      for (int rep = 0; rep < 2; ++rep)
        if (!store.has_run(p, rep)) {
          EXPECT_TRUE(store.record_run(make_run(p, rep)));
        }
    EXPECT_EQ(store.runs().size(), 4u);
    EXPECT_EQ(store.run_metrics("baseline", 0), make_run("baseline", 0).metrics);
    EXPECT_EQ(store.run_series("more_staff", 1), make_run("more_staff", 1).series);
  }
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM sessions"), 2);
  EXPECT_EQ(raw_text(db(), "SELECT command FROM sessions ORDER BY id DESC LIMIT 1"),
            info.command + " --threads 8");
}

TEST_F(ResultsStoreTest, InterruptedThenResumedEqualsStraightThrough) {
  const auto info = test_info();
  auto fill = [](ResultsStore& s, int from, int to) {
    s.define_point("baseline", "{}");
    s.define_point("more_staff", R"({"staff":8})");
    for (int i = from; i < to; ++i)
      s.record_run(make_run(i % 2 ? "more_staff" : "baseline", i / 2));
  };
  auto straight = ResultsStore::open(db("straight"), info);
  fill(straight, 0, 10);
  {
    auto first = ResultsStore::open(db("resumed"), info);
    fill(first, 0, 4);
  }
  auto resumed = ResultsStore::open(db("resumed"), info);
  EXPECT_NE(resumed.content_digest(false), straight.content_digest(false));
  fill(resumed, 4, 10);
  EXPECT_EQ(resumed.content_digest(false), straight.content_digest(false));
  EXPECT_NE(resumed.content_digest(true), straight.content_digest(true));  // two sessions
}

TEST_F(ResultsStoreTest, MismatchDetection) {
  const auto info = test_info();
  {
    auto store = ResultsStore::open(db(), info);
    store.define_point("baseline", "{}");
    store.record_run(make_run("baseline", 0));
  }
  const std::string where = "results.sqlite in " + db().parent_path().string();
  {
    auto other = info;
    other.scenario_hash = ResultsStore::sha256_hex("residents: 41\n");
    expect_error([&] { ResultsStore::open(db(), other); },
                 {where + " belongs to a different experiment: scenario hash differs",
                  info.scenario_hash, other.scenario_hash});
  }
  {
    auto other = info;
    other.design_text = "variants: [baseline]";
    expect_error([&] { ResultsStore::open(db(), other); }, {"design differs"});
  }
  {
    auto other = info;
    other.base_seed = 43;
    expect_error([&] { ResultsStore::open(db(), other); },
                 {"base seed differs (stored 42, now 43)"});
  }
  {
    auto other = info;
    other.kind = "sweep";
    expect_error([&] { ResultsStore::open(db(), other); }, {"kind differs"});
  }
  {
    auto other = info;
    other.version = "0.2.0";
    expect_error([&] { ResultsStore::open(db(), other); }, {"caremesh version differs"});
  }
  {
    auto other = info;
    other.version = "0.2.0";
    other.base_seed = 7;
    expect_error([&] { ResultsStore::open(db(), other); },
                 {"base seed differs", "; caremesh version differs"});
  }
  // The refused opens changed nothing.
  auto store = ResultsStore::open(db(), info);
  EXPECT_EQ(store.runs().size(), 1u);
  EXPECT_EQ(store.experiment().base_seed, 42u);
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM sessions"), 2);
}

TEST_F(ResultsStoreTest, RefusesFilesThatAreNotResultsDatabases) {
  fs::create_directories(db().parent_path());
  {
    std::ofstream(db()) << "this is not a database, just some text that is long enough......\n";
    EXPECT_THROW(ResultsStore::open(db(), test_info()), std::runtime_error);
    EXPECT_EQ(read_text(db()).substr(0, 12), "this is not ");
  }
  fs::remove(db());
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE notes(x); INSERT INTO notes VALUES (1);", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    expect_error([&] { ResultsStore::open(db(), test_info()); },
                 {"not a caremesh results database"});
    EXPECT_EQ(raw_text(db(), "PRAGMA journal_mode"), "delete");  // not converted to WAL
    EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM sqlite_master"), 1);
  }
}

TEST_F(ResultsStoreTest, DefinePointIsIdempotent) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("more_staff", R"({"staff":8})");
  store.define_point("more_staff", R"({"staff":8})");
  store.define_point("baseline", "{}");
  ASSERT_EQ(store.points().size(), 2u);
  EXPECT_EQ(store.points()[0].name, "baseline");
  expect_error([&] { store.define_point("more_staff", R"({"staff":9})"); },
               {"'more_staff' is already defined with different settings"});
  EXPECT_EQ(store.points()[1].settings_json, R"({"staff":8})");
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM points"), 2);
}

TEST_F(ResultsStoreTest, DuplicateRunIsNotDuplicated) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("baseline", "{}");
  EXPECT_TRUE(store.record_run(make_run("baseline", 0, 3, 0.0)));
  EXPECT_FALSE(store.record_run(make_run("baseline", 0, 3, 0.5)));  // different values
  ASSERT_EQ(store.runs().size(), 1u);
  EXPECT_EQ(store.run_metrics("baseline", 0), make_run("baseline", 0, 3, 0.0).metrics);
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM metrics"), 3);
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM series"), 5);
}

TEST_F(ResultsStoreTest, FailedRunIsRetriedAndReplaced) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("baseline", "{}");
  RunRecord failed = make_run("baseline", 0);
  failed.status = RunStatus::failed;
  failed.message = "staff roster empty on day 12";
  failed.metrics.resize(1);
  EXPECT_TRUE(store.record_run(failed));
  EXPECT_FALSE(store.has_run("baseline", 0));
  EXPECT_TRUE(store.completed_runs().empty());
  EXPECT_TRUE(store.metrics_by_point()["baseline"].empty());
  ASSERT_EQ(store.runs().size(), 1u);
  EXPECT_EQ(store.runs()[0].status, RunStatus::failed);
  EXPECT_EQ(store.runs()[0].message, "staff roster empty on day 12");

  EXPECT_TRUE(store.record_run(make_run("baseline", 0)));
  EXPECT_TRUE(store.has_run("baseline", 0));
  ASSERT_EQ(store.runs().size(), 1u);
  EXPECT_EQ(store.runs()[0].status, RunStatus::done);
  EXPECT_EQ(store.runs()[0].message, "");
  EXPECT_EQ(store.run_metrics("baseline", 0), make_run("baseline", 0).metrics);
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM metrics"), 3);  // the failed run's are gone
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM series"), 5);
  RunRecord failed_again = failed;
  EXPECT_FALSE(store.record_run(failed_again));  // never replaces a done run
  EXPECT_EQ(store.runs()[0].status, RunStatus::done);
}

TEST_F(ResultsStoreTest, RejectedRecordsWriteNothing) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("baseline", "{}");
  expect_error([&] { store.record_run(make_run("undefined", 0)); }, {"undefined point"});

  RunRecord dup_metric = make_run("baseline", 0);
  dup_metric.metrics.emplace_back("m01", 5.0);  // fails after the run row and two metrics
  expect_error([&] { store.record_run(dup_metric); }, {"metric 'm01'"});

  RunRecord dup_tick = make_run("baseline", 0);
  dup_tick.series.emplace_back("occupancy", 3, 1.0);  // fails at the very end
  expect_error([&] { store.record_run(dup_tick); }, {"series 'occupancy' tick 3"});

  EXPECT_TRUE(store.runs().empty());
  EXPECT_FALSE(store.has_run("baseline", 0));
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM runs"), 0);
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM metrics"), 0);
  EXPECT_EQ(raw_int(db(), "SELECT count(*) FROM series"), 0);
  EXPECT_TRUE(store.record_run(make_run("baseline", 0)));  // and the store is still usable
}

TEST_F(ResultsStoreTest, MetricsByPointOrdering) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("zeta", "{}");
  store.define_point("alpha", "{}");
  auto run = [](const std::string& p, int rep, bool with_y) {
    RunRecord r;
    r.point = p;
    r.replication = rep;
    r.seed = static_cast<std::uint64_t>(rep);
    if (with_y) r.metrics.emplace_back("y", -rep);
    r.metrics.emplace_back("x", rep * 10.0);
    return r;
  };
  store.record_run(run("zeta", 2, true));
  store.record_run(run("alpha", 1, true));
  store.record_run(run("zeta", 0, true));
  store.record_run(run("zeta", 5, false));
  store.record_run(run("zeta", 1, true));
  RunRecord no_metrics = run("alpha", 0, false);
  no_metrics.metrics.clear();
  store.record_run(no_metrics);
  RunRecord failed = run("alpha", 3, true);
  failed.status = RunStatus::failed;
  store.record_run(failed);

  const auto m = store.metrics_by_point();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.begin()->first, "alpha");
  const auto& zeta = m.at("zeta");
  EXPECT_EQ(zeta.at("x"), (std::vector<double>{0, 10, 20, 50}));
  ASSERT_EQ(zeta.at("y").size(), 4u);
  EXPECT_EQ(zeta.at("y")[0], 0);
  EXPECT_EQ(zeta.at("y")[1], -1);
  EXPECT_EQ(zeta.at("y")[2], -2);
  EXPECT_TRUE(std::isnan(zeta.at("y")[3]));  // replication 5 did not report y
  const auto& alpha = m.at("alpha");
  ASSERT_EQ(alpha.at("x").size(), 2u);  // replication 0 (no metrics) and 1; not failed 3
  EXPECT_TRUE(std::isnan(alpha.at("x")[0]));
  EXPECT_EQ(alpha.at("x")[1], 10);

  const auto rows = store.runs();
  std::vector<std::pair<std::string, int>> order;
  for (const auto& r : rows) order.emplace_back(r.point, r.replication);
  const std::vector<std::pair<std::string, int>> expected = {
      {"alpha", 0}, {"alpha", 1}, {"alpha", 3}, {"zeta", 0}, {"zeta", 1}, {"zeta", 2}, {"zeta", 5}};
  EXPECT_EQ(order, expected);
}

TEST_F(ResultsStoreTest, ValuesRoundTripExactly) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("p", "{}");
  RunRecord r;
  r.point = "p";
  r.seed = std::numeric_limits<std::uint64_t>::max();
  const double inf = std::numeric_limits<double>::infinity();
  r.metrics = {{"a_nan", std::numeric_limits<double>::quiet_NaN()},
               {"b_inf", inf},
               {"c_minus_inf", -inf},
               {"d_tiny", 4.9e-324},
               {"e_tenth", 0.1},
               {"f_big_integer", 9007199254740993.0},
               {"g_max", std::numeric_limits<double>::max()}};
  r.series = {{"s", -3, 0.30000000000000004}, {"s", 7, std::numeric_limits<double>::quiet_NaN()}};
  store.record_run(r);
  EXPECT_EQ(store.runs().at(0).seed, std::numeric_limits<std::uint64_t>::max());
  const auto back = store.run_metrics("p", 0);
  ASSERT_EQ(back.size(), r.metrics.size());
  EXPECT_TRUE(std::isnan(back[0].second));
  for (std::size_t i = 1; i < back.size(); ++i) {
    EXPECT_EQ(back[i].first, r.metrics[i].first);
    EXPECT_EQ(back[i].second, r.metrics[i].second) << back[i].first;
  }
  const auto s = store.run_series("p", 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], r.series[0]);
  EXPECT_EQ(std::get<1>(s[1]), 7);
  EXPECT_TRUE(std::isnan(std::get<2>(s[1])));
}

TEST_F(ResultsStoreTest, ExportCsvExactContentAndQuoting) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("with,comma", "{}");
  store.define_point("say \"hi\"", "{}");
  store.define_point("plain", "{}");
  auto rec = [&](const std::string& p, int rep, std::uint64_t seed,
                 std::vector<std::pair<std::string, double>> metrics) {
    RunRecord r;
    r.point = p;
    r.replication = rep;
    r.seed = seed;
    r.metrics = std::move(metrics);
    store.record_run(r);
  };
  rec("with,comma", 0, 7, {{"b", 0.5}, {"a,x", 1}});
  rec("plain", 1, std::numeric_limits<std::uint64_t>::max(), {{"q\"", 0.1}});
  rec("plain", 0, 3, {{"q\"", std::numeric_limits<double>::quiet_NaN()}, {"b", -2.5e-7}});
  rec("say \"hi\"", 0, 9, {{"b", 1e21}});
  RunRecord failed;
  failed.point = "plain";
  failed.replication = 2;
  failed.status = RunStatus::failed;
  failed.metrics = {{"b", 99}};
  store.record_run(failed);

  const fs::path csv = dir_ / "out" / "results.csv";
  fs::create_directories(csv.parent_path());
  store.export_csv(csv);
  const std::string expected =
      "point,replication,seed,metric,value\n"
      "plain,0,3,b,-2.5e-07\n"
      "plain,0,3,\"q\"\"\",nan\n"
      "plain,1,18446744073709551615,\"q\"\"\",0.1\n"
      "\"say \"\"hi\"\"\",0,9,b,1e+21\n"
      "\"with,comma\",0,7,\"a,x\",1\n"
      "\"with,comma\",0,7,b,0.5\n";
  EXPECT_EQ(read_text(csv), expected);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(csv.parent_path())) ++files;
  EXPECT_EQ(files, 1u);  // no temporary file left behind
}

TEST_F(ResultsStoreTest, ContentDigestIgnoresOrderAndTimings) {
  const auto info = test_info();
  auto a = ResultsStore::open(db("a"), info);
  a.define_point("baseline", "{}");
  a.define_point("more_staff", R"({"staff":8})");
  for (const auto& [p, rep] : std::vector<std::pair<std::string, int>>{
           {"baseline", 0}, {"baseline", 1}, {"more_staff", 0}, {"more_staff", 1}})
    a.record_run(make_run(p, rep, 5));

  auto b = ResultsStore::open(db("b"), info);
  b.define_point("more_staff", R"({"staff":8})");
  b.define_point("baseline", "{}");
  for (const auto& [p, rep] : std::vector<std::pair<std::string, int>>{
           {"more_staff", 1}, {"baseline", 1}, {"more_staff", 0}, {"baseline", 0}}) {
    RunRecord r = make_run(p, rep, 5);
    std::reverse(r.metrics.begin(), r.metrics.end());
    std::reverse(r.series.begin(), r.series.end());
    r.wall_seconds = 3.0 + rep;
    r.started_at = "2031-01-01T00:00:00.000Z";
    r.finished_at = "2031-01-01T00:00:04.000Z";
    b.record_run(r);
  }
  EXPECT_EQ(a.content_digest(false), b.content_digest(false));
  EXPECT_EQ(a.content_digest(false).size(), 64u);
  EXPECT_NE(a.content_digest(true), b.content_digest(true));
  EXPECT_EQ(a.content_digest(true), a.content_digest(true));

  // One value one ulp off, one seed, one series value, one settings text: each changes it.
  auto variant = [&](const std::string& sub, auto&& change) {
    auto c = ResultsStore::open(db(sub), info);
    c.define_point("baseline", "{}");
    c.define_point("more_staff", sub == "settings" ? R"({"staff": 8})" : R"({"staff":8})");
    for (const auto& [p, rep] : std::vector<std::pair<std::string, int>>{
             {"baseline", 0}, {"baseline", 1}, {"more_staff", 0}, {"more_staff", 1}}) {
      RunRecord r = make_run(p, rep, 5);
      if (p == "more_staff" && rep == 1) change(r);
      c.record_run(r);
    }
    return c.content_digest(false);
  };
  const auto nothing = [](RunRecord&) {};
  EXPECT_EQ(variant("same", nothing), a.content_digest(false));
  EXPECT_NE(variant("value",
                    [](RunRecord& r) {
                      r.metrics[2].second = std::nextafter(r.metrics[2].second, 1e300);
                    }),
            a.content_digest(false));
  EXPECT_NE(variant("seed", [](RunRecord& r) { r.seed += 1; }), a.content_digest(false));
  EXPECT_NE(variant("series", [](RunRecord& r) { std::get<2>(r.series[4]) += 1; }),
            a.content_digest(false));
  EXPECT_NE(variant("metric_name", [](RunRecord& r) { r.metrics[0].first = "m00x"; }),
            a.content_digest(false));
  EXPECT_NE(variant("settings", nothing), a.content_digest(false));
}

// A child process records complete runs, then is SIGKILLed while inserting a long series inside
// the transaction of one more run. Reopening must show exactly the complete runs.
TEST_F(ResultsStoreTest, KillDuringTransactionLeavesOnlyCompleteRuns) {
  const auto info = test_info();
  const fs::path file = db();
  fs::path wal = file;
  wal += "-wal";
  int pipe_fd[2];
  ASSERT_EQ(::pipe(pipe_fd), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fd[0]);
    int code = 0;
    try {
      auto store = ResultsStore::open(file, info);
      store.define_point("baseline", "{}");
      for (int rep = 0; rep < 5; ++rep) store.record_run(make_run("baseline", rep, 40));
      RunRecord big = make_run("baseline", 5, 40);
      big.series.reserve(3'000'000);
      for (int t = 0; t < 3'000'000; ++t) big.series.emplace_back("queue", t, t * 0.5);
      char c = 'S';  // about to start the long transaction
      if (::write(pipe_fd[1], &c, 1) != 1) ::_exit(3);
      store.record_run(big);
      c = 'F';  // finished it: the kill came too late
      if (::write(pipe_fd[1], &c, 1) != 1) ::_exit(3);
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  ::close(pipe_fd[1]);
  char c = 0;
  ASSERT_EQ(::read(pipe_fd[0], &c, 1), 1);
  ASSERT_EQ(c, 'S');
  // Wait until part of the uncommitted transaction has reached the WAL file on disk, so the kill
  // certainly lands mid-transaction with partial data written.
  std::error_code ec;
  const auto wal_before = fs::file_size(wal, ec);
  bool partial_on_disk = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto size = fs::file_size(wal, ec);
    if (!ec && size > wal_before + 4 * 1024 * 1024) {
      partial_on_disk = true;
      break;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;  // exited by itself: test fails below
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  char after = 0;
  const auto n = ::read(pipe_fd[0], &after, 1);
  ::close(pipe_fd[0]);
  EXPECT_TRUE(partial_on_disk) << "WAL did not grow (" << wal_before << " bytes before)";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child was not killed mid-transaction (status " << status << ")";
  EXPECT_EQ(n, 0) << "child finished the long transaction before the kill";
  std::printf("[ crash    ] killed with WAL at %ju bytes (%ju before the transaction)\n",
              static_cast<std::uintmax_t>(fs::file_size(wal, ec)),
              static_cast<std::uintmax_t>(wal_before));

  auto store = ResultsStore::open(file, info);
  const std::set<std::pair<std::string, int>> expected = {
      {"baseline", 0}, {"baseline", 1}, {"baseline", 2}, {"baseline", 3}, {"baseline", 4}};
  EXPECT_EQ(store.completed_runs(), expected);
  EXPECT_EQ(store.runs().size(), 5u);
  for (int rep = 0; rep < 5; ++rep) {
    EXPECT_EQ(store.run_metrics("baseline", rep), make_run("baseline", rep, 40).metrics);
    EXPECT_EQ(store.run_series("baseline", rep), make_run("baseline", rep, 40).series);
  }
  EXPECT_EQ(raw_text(file, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw_int(file, "SELECT count(*) FROM metrics"), 5 * 40);
  EXPECT_EQ(raw_int(file, "SELECT count(*) FROM series"), 5 * 5);
  EXPECT_TRUE(store.record_run(make_run("baseline", 5, 40)));  // the resumed run records fine
  EXPECT_EQ(store.completed_runs().size(), 6u);
}

TEST_F(ResultsStoreTest, ConcurrentRecordFromFourThreads) {
  const auto info = test_info();
  auto store = ResultsStore::open(db("threads"), info);
  constexpr int kThreads = 4, kPerThread = 40;
  for (int t = 0; t < kThreads; ++t) store.define_point("p" + std::to_string(t), "{}");
  std::atomic<int> recorded{0};
  std::atomic<bool> reader_ok{true};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      const auto n = store.completed_runs().size();
      if (n > static_cast<std::size_t>(kThreads * kPerThread)) reader_ok = false;
      (void)store.has_run("p0", 3);
      (void)store.metrics_by_point();
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.emplace_back([&, t] {
      for (int rep = 0; rep < kPerThread; ++rep)
        if (store.record_run(make_run("p" + std::to_string(t), rep, 40))) ++recorded;
      // Every thread also tries to record a run another thread owns: never a second row.
      // Whichever of the two attempts comes first records it, so successes are counted
      // together: exactly one per run.
      if (store.record_run(make_run("p" + std::to_string((t + 1) % kThreads), 0, 40))) ++recorded;
    });
  for (auto& w : writers) w.join();
  stop = true;
  reader.join();
  EXPECT_TRUE(reader_ok);
  EXPECT_EQ(recorded.load(), kThreads * kPerThread);
  EXPECT_EQ(store.runs().size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(store.completed_runs().size(), static_cast<std::size_t>(kThreads * kPerThread));

  auto sequential = ResultsStore::open(db("sequential"), info);
  for (int t = 0; t < kThreads; ++t) sequential.define_point("p" + std::to_string(t), "{}");
  for (int t = 0; t < kThreads; ++t)
    for (int rep = 0; rep < kPerThread; ++rep)
      sequential.record_run(make_run("p" + std::to_string(t), rep, 40));
  EXPECT_EQ(store.content_digest(false), sequential.content_digest(false));
}

// Not an assertion: prints what recording costs so it can be set against the target "the
// results store adds under 5% to an experiment's time".
TEST_F(ResultsStoreTest, RecordCostIsPrinted) {
  auto store = ResultsStore::open(db(), test_info());
  store.define_point("p", "{}");
  constexpr int kRuns = 200;
  auto time_runs = [&](int first, int n_series_ticks) {
    std::vector<RunRecord> runs;
    for (int rep = first; rep < first + kRuns; ++rep) {
      RunRecord r = make_run("p", rep, 40);
      r.series.clear();
      for (int s = 0; s < 4 && n_series_ticks > 0; ++s)
        for (int t = 0; t < n_series_ticks; ++t)
          r.series.emplace_back("series" + std::to_string(s), t, t * 1.5);
      runs.push_back(std::move(r));
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& r : runs) store.record_run(r);
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    return dt.count() / kRuns;
  };
  const double plain = time_runs(0, 0);
  const double with_series = time_runs(kRuns, 365);
  std::printf(
      "[ timing   ] record_run, 40 metrics: %.3f ms/run (%.3f%% of a 1 s run, %.3f%% of a 10 s "
      "run)\n",
      plain * 1e3, plain * 100, plain * 10);
  std::printf("[ timing   ] record_run, 40 metrics + 4 series x 365 ticks: %.3f ms/run\n",
              with_series * 1e3);
  const auto t0 = std::chrono::steady_clock::now();
  store.export_csv(dir_ / "results.csv");
  const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  std::printf("[ timing   ] export_csv of %d runs x 40 metrics: %.1f ms\n", 2 * kRuns,
              dt.count() * 1e3);
  EXPECT_EQ(store.runs().size(), 2u * kRuns);
}

}  // namespace
}  // namespace cm
