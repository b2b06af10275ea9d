#include "models/cli/commands.hpp"

namespace cm::cli {

void register_report_commands(CLI::App&) {}
int run_report_commands(CLI::App&) {
  return -1;
}

}  // namespace cm::cli
