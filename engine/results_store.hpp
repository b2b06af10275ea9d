// Experiment results store: one SQLite database per experiment that loses nothing.
//
// Used by `caremesh compare` (variants x replications) and `caremesh sweep` (design points x
// replications). It knows nothing about the model: a run is a point name, a replication number,
// a seed, named scalar metrics and optional named per-tick series.
//
// Durability. Every finished run is written in one transaction (BEGIN IMMEDIATE ... COMMIT), so
// a crash, kill or power loss leaves each run either complete or absent; SQLite's journal does
// the rollback when the file is next opened. The database uses journal_mode=WAL (a writer never
// blocks readers, and a commit is one append to the log) with synchronous=FULL: the log is
// fsynced at every commit, so a run reported as recorded survives an OS crash or power cut too.
// synchronous=NORMAL would also never corrupt the file but may drop the last commits on power
// loss, which would make a resumed experiment silently recompute (or, worse, lose) runs whose
// completion was already reported. One fsync per run costs about a millisecond, which is
// negligible next to a simulation run (see the timing printed by the tests). busy_timeout is
// 10 s in case another process holds the file.
//
// Resuming. open() on an existing file checks that it was made by the same experiment (kind,
// scenario hash, design text, base seed and caremesh version); if not it throws with the reason,
// otherwise completed runs are visible through has_run()/completed_runs() and the caller skips
// them. Each open() appends a row to `sessions` (the command line and the time), so the file
// also records how the experiment was resumed.
//
// Threads. All calls may come from several threads at once: one mutex serialises use of the
// single connection. Reading calls return results in a deterministic order that does not
// depend on the order runs were recorded in.
//
// Schema (PRAGMA application_id = 0x434D5253 'CMRS', PRAGMA user_version = 1):
//   experiment(id INTEGER PRIMARY KEY CHECK (id = 1), kind TEXT, command TEXT,
//              scenario_text TEXT, scenario_hash TEXT, design_text TEXT, version TEXT,
//              base_seed INTEGER, created_at TEXT)                  -- exactly one row
//   sessions(id INTEGER PRIMARY KEY, command TEXT, opened_at TEXT)  -- one row per open()
//   points(id INTEGER PRIMARY KEY, name TEXT UNIQUE, settings_json TEXT)  -- variant/design point
//   runs(id INTEGER PRIMARY KEY, point_id INTEGER REFERENCES points, replication INTEGER,
//        seed INTEGER, status TEXT CHECK (status IN ('done','failed')), message TEXT,
//        started_at TEXT, finished_at TEXT, wall_seconds REAL, UNIQUE(point_id, replication))
//   metrics(run_id INTEGER REFERENCES runs ON DELETE CASCADE, name TEXT, value REAL,
//           PRIMARY KEY(run_id, name)) WITHOUT ROWID
//   series(run_id INTEGER REFERENCES runs ON DELETE CASCADE, name TEXT, tick INTEGER,
//          value REAL, PRIMARY KEY(run_id, name, tick)) WITHOUT ROWID
// Timestamps are ISO 8601 UTC text ("2024-05-01T09:30:00.123Z"). Seeds are 64-bit unsigned
// values stored bit for bit in SQLite's signed INTEGER (seeds >= 2^63 read as negative in SQL).
// SQLite cannot store NaN, so a NaN value is stored as NULL and read back as NaN; infinities
// are stored as such.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace cm {

enum class RunStatus { done, failed };

// "done" or "failed".
const char* to_string(RunStatus s);

struct ExperimentInfo {
  std::string kind;           // "compare", "sweep", ...
  std::string command;        // the command line, for provenance (not checked on resume)
  std::string scenario_text;  // the scenario as given
  std::string scenario_hash;  // identifies the scenario; checked on resume
  std::string design_text;    // variants or sweep design, canonical text; checked on resume
  std::string version;        // caremesh version; checked on resume
  std::uint64_t base_seed = 0;
};

struct RunRecord {
  std::string point;
  int replication = 0;
  std::uint64_t seed = 0;
  RunStatus status = RunStatus::done;
  std::string message;  // why a failed run failed; normally empty for done runs
  double wall_seconds = 0.0;
  // ISO 8601 UTC (see now_utc()). If both are empty, finished_at is the time record_run() is
  // called and started_at that time minus wall_seconds.
  std::string started_at;
  std::string finished_at;
  std::vector<std::pair<std::string, double>> metrics;       // names must be unique
  std::vector<std::tuple<std::string, int, double>> series;  // (name, tick, value), optional
};

struct RunRow {
  std::string point;
  int replication = 0;
  std::uint64_t seed = 0;
  RunStatus status = RunStatus::done;
  std::string message;
  std::string started_at;
  std::string finished_at;
  double wall_seconds = 0.0;
};

struct PointRow {
  std::string name;
  std::string settings_json;
};

class ResultsStore {
 public:
  // The conventional file name inside an experiment's output directory.
  static constexpr const char* kFileName = "results.sqlite";

  // Opens db_file, creating it (and its directory) if absent. An existing file must hold the
  // same experiment (same kind, scenario_hash, design_text, base_seed and version); otherwise
  // throws std::runtime_error, e.g. "results.sqlite in out/x belongs to a different experiment:
  // scenario hash differs (...)". Also throws if the file is not a caremesh results database.
  static ResultsStore open(const std::filesystem::path& db_file, const ExperimentInfo& info);
  // Opens an existing results database for reading only, whatever experiment it holds (for
  // export and inspection): nothing is written, not even a session row. Writing calls
  // (define_point, record_run) then throw. Throws std::runtime_error if the file is absent or
  // not a caremesh results database of this schema version.
  static ResultsStore open_read_only(const std::filesystem::path& db_file);

  ResultsStore(ResultsStore&&) noexcept;
  ResultsStore& operator=(ResultsStore&&) noexcept;
  ~ResultsStore();

  const std::filesystem::path& path() const;
  // The experiment as stored (created_at is the time the file was created).
  ExperimentInfo experiment() const;
  std::string created_at() const;

  // Defines a variant or design point. Idempotent: defining the same name with the same
  // settings again does nothing; with different settings it throws std::runtime_error.
  void define_point(const std::string& name, const std::string& settings_json);
  // All points, ordered by name.
  std::vector<PointRow> points() const;

  // True if (point, replication) has a run with status done. Failed runs do not count: a
  // resumed experiment retries them.
  bool has_run(const std::string& point, int replication) const;
  std::set<std::pair<std::string, int>> completed_runs() const;

  // Records one run in one transaction. The point must have been defined. Returns false and
  // writes nothing if (point, replication) is already done; a failed run is replaced by the
  // new record. Throws std::runtime_error (writing nothing) on an unknown point, duplicate
  // metric names, duplicate (series name, tick) pairs or a database error.
  bool record_run(const RunRecord& run);
  // Records several runs in one transaction, so one commit (one fsync) for all: each run is
  // handled as by record_run (already-done runs are skipped), and an error writes none of
  // them. Returns the number recorded. Experiments use it to keep the fsync per commit from
  // limiting how many runs per second can be stored.
  std::size_t record_runs(std::span<const RunRecord> runs);

  // All runs (done and failed), ordered by point name then replication.
  std::vector<RunRow> runs() const;
  // Metrics of one run ordered by name, and its series ordered by name then tick; empty if
  // there is no such run.
  std::vector<std::pair<std::string, double>> run_metrics(const std::string& point,
                                                          int replication) const;
  std::vector<std::tuple<std::string, int, double>> run_series(const std::string& point,
                                                               int replication) const;

  // point -> metric -> one value per done run of the point, in replication order. A metric
  // that some run of the point did not report is NaN in that run's slot, so index i always
  // belongs to the i-th done replication.
  std::map<std::string, std::map<std::string, std::vector<double>>> metrics_by_point() const;

  // Writes a tidy CSV of done runs: point,replication,seed,metric,value, one row per run and
  // metric, ordered by point, replication, metric; values in shortest round-trip form, NaN as
  // "nan". Written to a temporary file and renamed into place.
  void export_csv(const std::filesystem::path& csv) const;

  // SHA-256 (hex) of the whole content in a canonical order (independent of row ids and of
  // the order things were recorded in). With include_timings=false it leaves out everything
  // that depends on when or how fast things ran: created_at, the sessions table, started_at,
  // finished_at and wall_seconds. So an interrupted-then-resumed experiment has the same digest
  // as one run straight through.
  std::string content_digest(bool include_timings) const;

  // The current time as ISO 8601 UTC text with milliseconds.
  static std::string now_utc();
  // SHA-256 of data as 64 lowercase hex digits.
  static std::string sha256_hex(std::string_view data);

 private:
  struct Impl;
  explicit ResultsStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cm
