// Subcommands defined outside main.cpp register here (experiments: compare, sweep, export).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "models/socialcare/result_dir.hpp"
#include "models/socialcare/scenario_loader.hpp"

namespace cm::cli {

// Adds the experiment subcommands to the application.
void register_commands(CLI::App& app);
// Runs whichever registered subcommand was parsed; returns its exit status.
int run_registered(CLI::App& app);
// Whether the parsed subcommand shares its work among MPI processes (compare, sweep).
bool distributed_command_parsed();

// Each further module adds its subcommands with register_X and runs the parsed one with run_X,
// which returns -1 when none of its subcommands was parsed.
void register_report_commands(CLI::App& app);  // report_commands.cpp: report, export-network
int run_report_commands(CLI::App& app);
void register_serve_commands(CLI::App& app);  // serve_commands.cpp: serve
int run_serve_commands(CLI::App& app);

// Shared helpers of main.cpp.
std::filesystem::path scenario_dir();
std::string resolve_scenario(const std::string& arg);
// The scenario loader's options: a variant, --set overrides, and the memory limit (max_memory
// bytes if > 0, else $CAREMESH_MAX_MEMORY, else the loader's default; throws
// std::invalid_argument on a malformed $CAREMESH_MAX_MEMORY).
care::LoadOptions load_options(const std::string& variant, const std::vector<std::string>& sets,
                               std::uint64_t max_memory = 0);
// The memory limit alone, as load_options sets it.
double memory_limit(std::uint64_t max_memory = 0);
// Locks dir for the rest of the process (engine/directory_lock.hpp; creating it if needed):
// throws cm::DirectoryBusy (exit status 2) when another process holds it. Locking a directory
// this process already holds does nothing.
void lock_output_dir(const std::filesystem::path& dir);
// Locks dir, then readies it for a result of this kind (models/socialcare/result_dir.hpp).
void claim_output_dir(const std::filesystem::path& dir, care::ResultKind kind, bool force);

}  // namespace cm::cli
