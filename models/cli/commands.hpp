// Subcommands defined outside main.cpp register here (experiments: compare, sweep, export).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "models/socialcare/scenario_loader.hpp"

namespace cm::cli {

// Adds the experiment subcommands to the application.
void register_commands(CLI::App& app);
// Runs whichever registered subcommand was parsed; returns its exit status.
int run_registered(CLI::App& app);

// Shared helpers of main.cpp.
std::filesystem::path scenario_dir();
std::string resolve_scenario(const std::string& arg);
care::LoadOptions load_options(const std::string& variant, const std::vector<std::string>& sets);

}  // namespace cm::cli
