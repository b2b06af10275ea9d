// What an output directory holds, and handing it to a new result.
//
// A directory holds one result: a run (summary.json, the CSVs, or an interrupted run's
// checkpoint.bin and INCOMPLETE), a comparison (results.sqlite of kind compare,
// comparison.json) or a sweep (results.sqlite of kind sweep, sweep.json, points.csv), plus the
// report and export written from it. A command refuses a directory holding another kind of
// result unless --force; with --force it removes every file of whatever result is there (and
// the temporaries of a killed writer) before writing. The caller holds the directory's
// DirectoryLock (engine/directory_lock.hpp), so nothing else writes there meanwhile.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cm::care {

enum class ResultKind { none, run, compare, sweep };

const char* result_kind_name(ResultKind kind);  // "run", "comparison", "sweep"

// The kind of result in dir, from its files (for results.sqlite, the kind its store records);
// evidence, if given, receives the file that shows it.
ResultKind result_kind_of(const std::filesystem::path& dir, std::string* evidence = nullptr);

// Every file name a result of any kind may leave in its directory.
const std::vector<std::string>& result_file_names();

// Readies dir (locked by the caller) for a result of the given kind: refuses with
// std::runtime_error a directory holding a result of another kind unless force; with force
// removes every result file and temporary file in it; without, removes only the temporaries
// (a killed writer's). Returns the number of files removed.
std::size_t claim_result_dir(const std::filesystem::path& dir, ResultKind kind, bool force);

}  // namespace cm::care
