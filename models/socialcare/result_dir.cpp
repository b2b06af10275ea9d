#include "models/socialcare/result_dir.hpp"

#include <stdexcept>
#include <system_error>

#include "engine/output.hpp"
#include "engine/results_store.hpp"

namespace cm::care {

namespace fs = std::filesystem;

namespace {

const char* const kRunFiles[] = {"summary.json",          "timeseries.csv",    "network.csv",
                                 "tie_changes.csv",       "organizations.csv", "clients.csv",
                                 "steering.csv",          "network.graphml",   "network.gexf",
                                 "checkpoint.bin",        "INCOMPLETE",        ".caremesh.key",
                                 "network_monitoring.csv"};
const char* const kCompareFiles[] = {"comparison.json"};
const char* const kSweepFiles[] = {"sweep.json", "points.csv"};
// Files of either experiment kind, and those report and export write from any result.
const char* const kSharedFiles[] = {"results.sqlite",     "results.sqlite-journal",
                                    "results.sqlite-wal", "results.sqlite-shm",
                                    "results.csv",        "report.html"};

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

}  // namespace

const char* result_kind_name(ResultKind kind) {
  switch (kind) {
    case ResultKind::run:
      return "run";
    case ResultKind::compare:
      return "comparison";
    case ResultKind::sweep:
      return "sweep";
    case ResultKind::none:
      break;
  }
  return "nothing";
}

const std::vector<std::string>& result_file_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const char* f : kRunFiles) v.emplace_back(f);
    for (const char* f : kCompareFiles) v.emplace_back(f);
    for (const char* f : kSweepFiles) v.emplace_back(f);
    for (const char* f : kSharedFiles) v.emplace_back(f);
    return v;
  }();
  return names;
}

ResultKind result_kind_of(const fs::path& dir, std::string* evidence) {
  const auto found = [&](const char* f) {
    if (!present(dir / f)) return false;
    if (evidence) *evidence = f;
    return true;
  };
  for (const char* f : kRunFiles)
    if (found(f)) return ResultKind::run;
  for (const char* f : kCompareFiles)
    if (found(f)) return ResultKind::compare;
  for (const char* f : kSweepFiles)
    if (found(f)) return ResultKind::sweep;
  if (found(ResultsStore::kFileName)) {
    try {
      const std::string kind =
          ResultsStore::open_read_only(dir / ResultsStore::kFileName).experiment().kind;
      if (kind == "sweep") return ResultKind::sweep;
      if (kind == "compare") return ResultKind::compare;
    } catch (const std::exception&) {
    }
    return ResultKind::compare;  // some experiment's store; no kind can share it
  }
  return ResultKind::none;
}

std::size_t claim_result_dir(const fs::path& dir, ResultKind kind, bool force) {
  std::string evidence;
  const ResultKind held = result_kind_of(dir, &evidence);
  if (!force && held != ResultKind::none && held != kind)
    throw std::runtime_error(dir.string() + ": holds the results of a " + result_kind_name(held) +
                             " (" + evidence + "), not of a " + result_kind_name(kind) +
                             "; choose another --out or pass --force to replace them");
  std::size_t removed = 0;
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (is_temporary_file_name(e.path().filename().string())) doomed.push_back(e.path());
  if (force)
    for (const auto& f : result_file_names())
      if (present(dir / f)) doomed.push_back(dir / f);
  for (const auto& f : doomed) {
    std::error_code rm;
    if (fs::remove(f, rm)) ++removed;
    if (rm) throw std::runtime_error(f.string() + ": cannot remove: " + rm.message());
  }
  if (removed > 0) sync_directory(dir);
  return removed;
}

}  // namespace cm::care
