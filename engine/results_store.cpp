#include "engine/results_store.hpp"

#include <nettle/sha2.h>
#include <sqlite3.h>

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "engine/output.hpp"

namespace cm {

namespace {

constexpr int kApplicationId = 0x434D5253;  // 'CMRS'
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE experiment (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  kind TEXT NOT NULL,
  command TEXT NOT NULL,
  scenario_text TEXT NOT NULL,
  scenario_hash TEXT NOT NULL,
  design_text TEXT NOT NULL,
  version TEXT NOT NULL,
  base_seed INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  command TEXT NOT NULL,
  opened_at TEXT NOT NULL
);
CREATE TABLE points (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  settings_json TEXT NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  point_id INTEGER NOT NULL REFERENCES points(id),
  replication INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  message TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  wall_seconds REAL,
  UNIQUE (point_id, replication)
);
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE series (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  tick INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, name, tick)
) WITHOUT ROWID;
)sql";

// ---------------------------------------------------------------------------------------------
// Small RAII wrappers over the SQLite C API.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw std::runtime_error("results store: " + what + ": " + sqlite3_errmsg(db));
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw std::runtime_error(std::string("results store: ") + msg + " (in: " + sql + ")");
  }
}

std::int64_t to_sql(std::uint64_t v) {
  return std::bit_cast<std::int64_t>(v);
}
std::uint64_t from_sql(std::int64_t v) {
  return std::bit_cast<std::uint64_t>(v);
}

// A prepared statement. Parameters and columns are numbered as in SQLite (binds from 1,
// columns from 0). Use it through a Query, which resets it when it goes out of scope.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      fail(db, std::string("cannot prepare \"") + sql + "\"");
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(db_, o.db_);
    std::swap(stmt_, o.stmt_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(stmt_); }

  sqlite3_stmt* get() const { return stmt_; }
  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Query {
 public:
  explicit Query(const Stmt& s) : s_(s.get()), db_(s.db()) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  Query& text(int i, std::string_view v) {
    check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Query& integer(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  // NaN is stored as NULL (SQLite would do so anyway); real() reads NULL back as NaN.
  Query& real(int i, double v) {
    check(std::isnan(v) ? sqlite3_bind_null(s_, i) : sqlite3_bind_double(s_, i, v));
    return *this;
  }

  // Steps once: true if a row is available, false when done.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, std::string("cannot execute \"") + sqlite3_sql(s_) + "\"");
  }
  void run() {
    while (step()) {
    }
  }

  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const {
    return is_null(col) ? std::numeric_limits<double>::quiet_NaN() : sqlite3_column_double(s_, col);
  }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, "cannot bind parameter");
  }
  sqlite3_stmt* s_;
  sqlite3* db_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE"); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

// Single-row integer result of a statement such as "PRAGMA user_version".
std::int64_t query_int(sqlite3* db, const char* sql) {
  Stmt s(db, sql);
  Query q(s);
  if (!q.step()) fail(db, std::string("no result from \"") + sql + "\"");
  return q.integer(0);
}

std::string query_text(sqlite3* db, const char* sql) {
  Stmt s(db, sql);
  Query q(s);
  if (!q.step()) fail(db, std::string("no result from \"") + sql + "\"");
  return q.text(0);
}

std::string iso_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int millis = static_cast<int>(ms - static_cast<long long>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

// SHA-256 (Nettle).

class Sha256 {
 public:
  Sha256() { sha256_init(&ctx_); }
  void update(std::string_view data) {
    sha256_update(&ctx_, data.size(), reinterpret_cast<const std::uint8_t*>(data.data()));
  }
  std::string hex_digest() {
    std::array<std::uint8_t, SHA256_DIGEST_SIZE> d{};
    sha256_digest(&ctx_, d.size(), d.data());
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : d) {
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
    }
    return out;
  }

 private:
  sha256_ctx ctx_;
};

// Feeds self-delimiting fields to a hash so that no two different contents hash the same text.
class Canonical {
 public:
  void field(std::string_view tag, std::string_view value) {
    h_.update(tag);
    h_.update(":" + std::to_string(value.size()) + ":");
    h_.update(value);
    h_.update("\n");
  }
  void field(std::string_view tag, std::int64_t v) { field(tag, std::to_string(v)); }
  // Bit-exact; every NaN hashes the same (the store cannot tell NaNs apart).
  void field(std::string_view tag, double v) {
    const std::uint64_t bits =
        std::isnan(v) ? 0x7ff8000000000000ull : std::bit_cast<std::uint64_t>(v);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(bits));
    field(tag, std::string_view(buf, 16));
  }
  std::string finish() { return h_.hex_digest(); }

 private:
  Sha256 h_;
};

}  // namespace

const char* to_string(RunStatus s) {
  return s == RunStatus::done ? "done" : "failed";
}

namespace {
RunStatus status_from(const std::string& s) {
  if (s == "done") return RunStatus::done;
  if (s == "failed") return RunStatus::failed;
  throw std::runtime_error("results store: unknown run status '" + s + "'");
}
}  // namespace

// ---------------------------------------------------------------------------------------------

struct ResultsStore::Impl {
  std::filesystem::path path;
  DbPtr db;  // declared before the statements so that they are finalized first
  mutable std::mutex mu;

  Stmt point_by_name, insert_point, run_by_key, delete_run, insert_run, insert_metric,
      insert_series, run_metrics, run_series, all_points, all_runs, done_runs, done_metrics_ordered,
      csv_rows;

  void prepare() {
    sqlite3* d = db.get();
    point_by_name = Stmt(d, "SELECT id, settings_json FROM points WHERE name = ?1");
    insert_point = Stmt(d, "INSERT INTO points(name, settings_json) VALUES (?1, ?2)");
    run_by_key = Stmt(d, "SELECT id, status FROM runs WHERE point_id = ?1 AND replication = ?2");
    delete_run = Stmt(d, "DELETE FROM runs WHERE id = ?1");
    insert_run = Stmt(d,
                      "INSERT INTO runs(point_id, replication, seed, status, message, started_at,"
                      " finished_at, wall_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    insert_metric = Stmt(d, "INSERT INTO metrics(run_id, name, value) VALUES (?1, ?2, ?3)");
    insert_series =
        Stmt(d, "INSERT INTO series(run_id, name, tick, value) VALUES (?1, ?2, ?3, ?4)");
    run_metrics = Stmt(d, "SELECT name, value FROM metrics WHERE run_id = ?1 ORDER BY name");
    run_series =
        Stmt(d, "SELECT name, tick, value FROM series WHERE run_id = ?1 ORDER BY name, tick");
    all_points = Stmt(d, "SELECT name, settings_json FROM points ORDER BY name");
    all_runs = Stmt(d,
                    "SELECT p.name, r.replication, r.seed, r.status, r.message, r.started_at,"
                    " r.finished_at, r.wall_seconds, r.id FROM runs r JOIN points p"
                    " ON p.id = r.point_id ORDER BY p.name, r.replication");
    done_runs = Stmt(d,
                     "SELECT p.name, r.replication FROM runs r JOIN points p ON p.id = r.point_id"
                     " WHERE r.status = 'done' ORDER BY p.name, r.replication");
    done_metrics_ordered = Stmt(d,
                                "SELECT p.name, r.replication, m.name, m.value FROM runs r"
                                " JOIN points p ON p.id = r.point_id"
                                " LEFT JOIN metrics m ON m.run_id = r.id"
                                " WHERE r.status = 'done' ORDER BY p.name, r.replication, m.name");
    csv_rows = Stmt(d,
                    "SELECT p.name, r.replication, r.seed, m.name, m.value FROM runs r"
                    " JOIN points p ON p.id = r.point_id JOIN metrics m ON m.run_id = r.id"
                    " WHERE r.status = 'done' ORDER BY p.name, r.replication, m.name");
  }

  // Id of the run (point, replication) with any status, or -1. Caller holds mu.
  std::int64_t run_id(const std::string& point, int replication, RunStatus* status) const {
    Query p(point_by_name);
    p.text(1, point);
    if (!p.step()) return -1;
    Query r(run_by_key);
    r.integer(1, p.integer(0)).integer(2, replication);
    if (!r.step()) return -1;
    if (status) *status = status_from(r.text(1));
    return r.integer(0);
  }

  // Writes one run inside the caller's transaction (caller holds mu); false, writing nothing,
  // if (point, replication) is already done.
  bool write_run(const RunRecord& run, const std::string& started, const std::string& finished);

  ExperimentInfo read_experiment(std::string* created_at) const {
    Stmt s(db.get(),
           "SELECT kind, command, scenario_text, scenario_hash, design_text, version, base_seed,"
           " created_at FROM experiment WHERE id = 1");
    Query q(s);
    if (!q.step())
      throw std::runtime_error("results store: " + path.string() +
                               " has no experiment row (damaged file?)");
    ExperimentInfo e;
    e.kind = q.text(0);
    e.command = q.text(1);
    e.scenario_text = q.text(2);
    e.scenario_hash = q.text(3);
    e.design_text = q.text(4);
    e.version = q.text(5);
    e.base_seed = from_sql(q.integer(6));
    if (created_at) *created_at = q.text(7);
    return e;
  }
};

ResultsStore::ResultsStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsStore::ResultsStore(ResultsStore&&) noexcept = default;
ResultsStore& ResultsStore::operator=(ResultsStore&&) noexcept = default;
ResultsStore::~ResultsStore() = default;

std::string ResultsStore::now_utc() {
  return iso_utc(std::chrono::system_clock::now());
}

std::string ResultsStore::sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

ResultsStore ResultsStore::open(const std::filesystem::path& db_file, const ExperimentInfo& info) {
  if (info.kind.empty()) throw std::invalid_argument("results store: experiment kind is empty");
  auto impl = std::make_unique<Impl>();
  impl->path = db_file;
  if (db_file.has_parent_path()) std::filesystem::create_directories(db_file.parent_path());

  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(db_file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw std::runtime_error("results store: cannot open " + db_file.string() + ": " + msg);
  }
  sqlite3* db = impl->db.get();
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 10000);

  const auto where = db_file.filename().string() + " in " +
                     (db_file.has_parent_path() ? db_file.parent_path().string() : ".");

  // Look before touching: a file that is not ours is not converted to WAL or written to.
  auto check_ours = [&](std::int64_t app_id, std::int64_t tables) {
    if (app_id == kApplicationId) return true;
    if (app_id == 0 && tables == 0) return false;  // empty: ours to create
    throw std::runtime_error("results store: " + where +
                             " is not a caremesh results database; refusing to use it");
  };
  try {
    check_ours(query_int(db, "PRAGMA application_id"),
               query_int(db, "SELECT count(*) FROM sqlite_master"));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " (" + db_file.string() + ")");
  }

  const std::string mode = query_text(db, "PRAGMA journal_mode=WAL");
  (void)mode;  // "wal" except on filesystems without shared memory; the rollback journal used
               // then is just as atomic.
  exec(db, "PRAGMA synchronous=FULL");
  exec(db, "PRAGMA foreign_keys=ON");

  const std::string now = now_utc();
  Transaction tx(db);
  const bool exists = check_ours(query_int(db, "PRAGMA application_id"),
                                 query_int(db, "SELECT count(*) FROM sqlite_master"));
  if (!exists) {
    exec(db, kSchema);
    exec(db, ("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
    exec(db, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    Stmt s(db,
           "INSERT INTO experiment(id, kind, command, scenario_text, scenario_hash, design_text,"
           " version, base_seed, created_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    Query q(s);
    q.text(1, info.kind)
        .text(2, info.command)
        .text(3, info.scenario_text)
        .text(4, info.scenario_hash)
        .text(5, info.design_text)
        .text(6, info.version)
        .integer(7, to_sql(info.base_seed))
        .text(8, now);
    q.run();
  } else {
    const auto schema = query_int(db, "PRAGMA user_version");
    if (schema != kSchemaVersion)
      throw std::runtime_error("results store: " + where + " has schema version " +
                               std::to_string(schema) + "; this caremesh reads version " +
                               std::to_string(kSchemaVersion));
    const ExperimentInfo stored = impl->read_experiment(nullptr);
    std::string diffs;
    auto differs = [&](const std::string& what) { diffs += (diffs.empty() ? "" : "; ") + what; };
    if (stored.kind != info.kind)
      differs("kind differs (stored '" + stored.kind + "', now '" + info.kind + "')");
    if (stored.scenario_hash != info.scenario_hash)
      differs("scenario hash differs (stored " + stored.scenario_hash + ", now " +
              info.scenario_hash + ")");
    if (stored.design_text != info.design_text) differs("design differs");
    if (stored.base_seed != info.base_seed)
      differs("base seed differs (stored " + std::to_string(stored.base_seed) + ", now " +
              std::to_string(info.base_seed) + ")");
    if (stored.version != info.version)
      differs("caremesh version differs (stored " + stored.version + ", now " + info.version + ")");
    if (!diffs.empty())
      throw std::runtime_error(where + " belongs to a different experiment: " + diffs +
                               ". Use another output directory, or remove it to start over.");
  }
  {
    Stmt s(db, "INSERT INTO sessions(command, opened_at) VALUES (?1, ?2)");
    Query q(s);
    q.text(1, info.command).text(2, now);
    q.run();
  }
  tx.commit();
  impl->prepare();
  return ResultsStore(std::move(impl));
}

ResultsStore ResultsStore::open_read_only(const std::filesystem::path& db_file) {
  if (!std::filesystem::is_regular_file(db_file))
    throw std::runtime_error("results store: no results database " + db_file.string());
  auto impl = std::make_unique<Impl>();
  impl->path = db_file;
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(db_file.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw std::runtime_error("results store: cannot open " + db_file.string() + ": " + msg);
  }
  sqlite3* db = impl->db.get();
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 10000);
  if (query_int(db, "PRAGMA application_id") != kApplicationId)
    throw std::runtime_error("results store: " + db_file.string() +
                             " is not a caremesh results database");
  const auto schema = query_int(db, "PRAGMA user_version");
  if (schema != kSchemaVersion)
    throw std::runtime_error("results store: " + db_file.string() + " has schema version " +
                             std::to_string(schema) + "; this caremesh reads version " +
                             std::to_string(kSchemaVersion));
  impl->prepare();
  return ResultsStore(std::move(impl));
}

const std::filesystem::path& ResultsStore::path() const {
  return impl_->path;
}

ExperimentInfo ResultsStore::experiment() const {
  std::lock_guard lock(impl_->mu);
  return impl_->read_experiment(nullptr);
}

std::string ResultsStore::created_at() const {
  std::lock_guard lock(impl_->mu);
  std::string t;
  impl_->read_experiment(&t);
  return t;
}

void ResultsStore::define_point(const std::string& name, const std::string& settings_json) {
  std::lock_guard lock(impl_->mu);
  Transaction tx(impl_->db.get());
  {
    Query q(impl_->point_by_name);
    q.text(1, name);
    if (q.step()) {
      if (q.text(1) != settings_json)
        throw std::runtime_error("results store: point '" + name +
                                 "' is already defined with different settings (stored " +
                                 q.text(1) + ", now " + settings_json + ")");
      return;  // already defined: nothing to do (the transaction rolls back, writing nothing)
    }
  }
  {
    Query q(impl_->insert_point);
    q.text(1, name).text(2, settings_json);
    q.run();
  }
  tx.commit();
}

std::vector<PointRow> ResultsStore::points() const {
  std::lock_guard lock(impl_->mu);
  std::vector<PointRow> out;
  Query q(impl_->all_points);
  while (q.step()) out.push_back({q.text(0), q.text(1)});
  return out;
}

bool ResultsStore::has_run(const std::string& point, int replication) const {
  std::lock_guard lock(impl_->mu);
  RunStatus status{};
  return impl_->run_id(point, replication, &status) >= 0 && status == RunStatus::done;
}

std::set<std::pair<std::string, int>> ResultsStore::completed_runs() const {
  std::lock_guard lock(impl_->mu);
  std::set<std::pair<std::string, int>> out;
  Query q(impl_->done_runs);
  while (q.step()) out.emplace(q.text(0), static_cast<int>(q.integer(1)));
  return out;
}

namespace {

// started_at and finished_at of a run as recorded (see RunRecord).
std::pair<std::string, std::string> run_times(const RunRecord& run,
                                              std::chrono::system_clock::time_point now) {
  std::string finished = run.finished_at.empty() ? iso_utc(now) : run.finished_at;
  std::string started = run.started_at;
  if (started.empty() && run.finished_at.empty() && std::isfinite(run.wall_seconds))
    started = iso_utc(now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::duration<double>(run.wall_seconds)));
  return {std::move(started), std::move(finished)};
}

}  // namespace

bool ResultsStore::Impl::write_run(const RunRecord& run, const std::string& started,
                                   const std::string& finished) {
  Impl& s = *this;
  std::int64_t point_id = -1;
  {
    Query q(s.point_by_name);
    q.text(1, run.point);
    if (!q.step())
      throw std::runtime_error("results store: run of undefined point '" + run.point + "'");
    point_id = q.integer(0);
  }
  std::int64_t failed_id = -1;
  {
    Query q(s.run_by_key);
    q.integer(1, point_id).integer(2, run.replication);
    if (q.step()) {
      if (status_from(q.text(1)) == RunStatus::done) return false;  // nothing written
      failed_id = q.integer(0);
    }
  }
  if (failed_id >= 0) {
    Query d(s.delete_run);  // a failed run is replaced (cascades to its metrics and series)
    d.integer(1, failed_id);
    d.run();
  }
  std::int64_t run_id = -1;
  {
    Query q(s.insert_run);
    q.integer(1, point_id)
        .integer(2, run.replication)
        .integer(3, to_sql(run.seed))
        .text(4, to_string(run.status))
        .text(5, run.message)
        .text(6, started)
        .text(7, finished)
        .real(8, run.wall_seconds);
    q.run();
    run_id = sqlite3_last_insert_rowid(s.db.get());
  }
  for (const auto& [name, value] : run.metrics) {
    Query q(s.insert_metric);
    q.integer(1, run_id).text(2, name).real(3, value);
    try {
      q.run();
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(std::string(e.what()) + " (metric '" + name + "' of " + run.point +
                               " replication " + std::to_string(run.replication) + ")");
    }
  }
  for (const auto& [name, tick, value] : run.series) {
    Query q(s.insert_series);
    q.integer(1, run_id).text(2, name).integer(3, tick).real(4, value);
    try {
      q.run();
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(std::string(e.what()) + " (series '" + name + "' tick " +
                               std::to_string(tick) + " of " + run.point + " replication " +
                               std::to_string(run.replication) + ")");
    }
  }
  return true;
}

bool ResultsStore::record_run(const RunRecord& run) {
  return record_runs(std::span<const RunRecord>(&run, 1)) == 1;
}

std::size_t ResultsStore::record_runs(std::span<const RunRecord> runs) {
  // Timestamps are taken before the lock so that waiting for it does not count.
  const auto now = std::chrono::system_clock::now();
  std::vector<std::pair<std::string, std::string>> times;
  times.reserve(runs.size());
  for (const RunRecord& run : runs) times.push_back(run_times(run, now));

  std::lock_guard lock(impl_->mu);
  Transaction tx(impl_->db.get());
  std::size_t recorded = 0;
  for (std::size_t i = 0; i < runs.size(); ++i)
    recorded += impl_->write_run(runs[i], times[i].first, times[i].second);
  tx.commit();
  return recorded;
}

std::vector<RunRow> ResultsStore::runs() const {
  std::lock_guard lock(impl_->mu);
  std::vector<RunRow> out;
  Query q(impl_->all_runs);
  while (q.step()) {
    RunRow r;
    r.point = q.text(0);
    r.replication = static_cast<int>(q.integer(1));
    r.seed = from_sql(q.integer(2));
    r.status = status_from(q.text(3));
    r.message = q.text(4);
    r.started_at = q.text(5);
    r.finished_at = q.text(6);
    r.wall_seconds = q.real(7);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::pair<std::string, double>> ResultsStore::run_metrics(const std::string& point,
                                                                      int replication) const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::pair<std::string, double>> out;
  const auto id = impl_->run_id(point, replication, nullptr);
  if (id < 0) return out;
  Query q(impl_->run_metrics);
  q.integer(1, id);
  while (q.step()) out.emplace_back(q.text(0), q.real(1));
  return out;
}

std::vector<std::tuple<std::string, int, double>> ResultsStore::run_series(const std::string& point,
                                                                           int replication) const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::tuple<std::string, int, double>> out;
  const auto id = impl_->run_id(point, replication, nullptr);
  if (id < 0) return out;
  Query q(impl_->run_series);
  q.integer(1, id);
  while (q.step()) out.emplace_back(q.text(0), static_cast<int>(q.integer(1)), q.real(2));
  return out;
}

std::map<std::string, std::map<std::string, std::vector<double>>> ResultsStore::metrics_by_point()
    const {
  std::lock_guard lock(impl_->mu);
  // Rows come ordered by point, replication; a run without metrics still yields one row (the
  // LEFT JOIN) so that it takes a slot.
  std::map<std::string, std::map<std::string, std::vector<double>>> out;
  std::map<std::string, std::size_t> runs_of_point;
  std::string cur_point;
  std::int64_t cur_rep = 0;
  bool first = true;
  Query q(impl_->done_metrics_ordered);
  while (q.step()) {
    std::string point = q.text(0);
    const std::int64_t rep = q.integer(1);
    if (first || point != cur_point || rep != cur_rep) {
      ++runs_of_point[point];
      cur_point = point;
      cur_rep = rep;
      first = false;
    }
    auto& by_metric = out[point];
    if (q.is_null(2)) continue;  // a run without metrics
    const std::size_t slot = runs_of_point[point] - 1;
    auto& values = by_metric[q.text(2)];
    values.resize(slot + 1, std::numeric_limits<double>::quiet_NaN());
    values[slot] = q.real(3);
  }
  for (auto& [point, by_metric] : out)
    for (auto& [name, values] : by_metric)
      values.resize(runs_of_point[point], std::numeric_limits<double>::quiet_NaN());
  return out;
}

void ResultsStore::export_csv(const std::filesystem::path& csv) const {
  CsvWriter w({"point", "replication", "seed", "metric", "value"});
  {
    std::lock_guard lock(impl_->mu);
    Query q(impl_->csv_rows);
    while (q.step()) {
      w.field(q.text(0));
      w.field(static_cast<long long>(q.integer(1)));
      w.field(std::to_string(from_sql(q.integer(2))));  // full unsigned range
      w.field(q.text(3));
      w.field(q.real(4));
      w.end_row();
    }
  }
  w.write(csv);
}

std::string ResultsStore::content_digest(bool include_timings) const {
  std::lock_guard lock(impl_->mu);
  Impl& s = *impl_;
  Canonical c;
  std::string created;
  const ExperimentInfo e = s.read_experiment(&created);
  c.field("kind", e.kind);
  c.field("command", e.command);
  c.field("scenario_text", e.scenario_text);
  c.field("scenario_hash", e.scenario_hash);
  c.field("design_text", e.design_text);
  c.field("version", e.version);
  c.field("base_seed", to_sql(e.base_seed));
  if (include_timings) {
    c.field("created_at", created);
    Stmt st(s.db.get(), "SELECT command, opened_at FROM sessions ORDER BY id");
    Query q(st);
    while (q.step()) {
      c.field("session.command", q.text(0));
      c.field("session.opened_at", q.text(1));
    }
  }
  {
    Query q(s.all_points);
    while (q.step()) {
      c.field("point", q.text(0));
      c.field("settings", q.text(1));
    }
  }
  Query r(s.all_runs);
  while (r.step()) {
    c.field("run.point", r.text(0));
    c.field("run.replication", r.integer(1));
    c.field("run.seed", r.integer(2));
    c.field("run.status", r.text(3));
    c.field("run.message", r.text(4));
    if (include_timings) {
      c.field("run.started_at", r.text(5));
      c.field("run.finished_at", r.text(6));
      c.field("run.wall_seconds", r.real(7));
    }
    const std::int64_t id = r.integer(8);
    {
      Query m(s.run_metrics);
      m.integer(1, id);
      while (m.step()) {
        c.field("metric", m.text(0));
        c.field("value", m.real(1));
      }
    }
    {
      Query t(s.run_series);
      t.integer(1, id);
      while (t.step()) {
        c.field("series", t.text(0));
        c.field("tick", t.integer(1));
        c.field("value", t.real(2));
      }
    }
  }
  return c.finish();
}

}  // namespace cm
