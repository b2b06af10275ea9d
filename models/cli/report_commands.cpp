// The picture subcommands: `report` (one self-contained HTML page for a run, comparison or
// sweep directory) and `export-network` (GraphML and GEXF beside a run's network.csv).
// models/socialcare/report/report.hpp and network_export.hpp do the work; docs/report.md describes
// them. Exit status: 0 done, 1 runtime failure, 2 invalid arguments or not a result directory.
#include <iostream>
#include <string>

#include "models/cli/commands.hpp"
#include "models/socialcare/exports/network_export.hpp"
#include "models/socialcare/report/report.hpp"

namespace cm::cli {

namespace {

struct ReportArgs {
  std::string dir, out;
  bool quiet = false;
};

struct ExportNetworkArgs {
  std::string dir, format = "graphml,gexf";
  bool quiet = false;
};

struct ReportCommands {
  CLI::App* report = nullptr;
  CLI::App* export_network = nullptr;
  ReportArgs r;
  ExportNetworkArgs e;
};

ReportCommands& commands() {
  static ReportCommands c;
  return c;
}

int run_report(const ReportArgs& a) {
  const std::filesystem::path dir = a.dir;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::invalid_argument(a.dir + ":0:0: not a directory" +
                                (ec ? " (" + ec.message() + ")" : std::string()));
  const std::filesystem::path out =
      a.out.empty() ? dir / "report.html" : std::filesystem::path(a.out);
  if (a.out.empty() ||
      std::filesystem::equivalent(std::filesystem::absolute(out).parent_path(), dir, ec))
    lock_output_dir(dir);  // writes into the result's directory: not while a run writes there
  const care::Report r = care::write_report(dir, out);
  if (!a.quiet) {
    std::cout << "wrote " << out.string() << " (";
    for (std::size_t i = 0; i < r.sections.size(); ++i)
      std::cout << (i ? ", " : "") << r.sections[i];
    std::cout << ")\n";
  }
  return 0;
}

int run_export_network(const ExportNetworkArgs& a) {
  const auto formats = care::parse_network_formats(a.format);
  if (formats.empty()) throw std::invalid_argument("--format: no format given");
  std::error_code ec;
  if (!std::filesystem::is_directory(a.dir, ec))
    throw std::invalid_argument(a.dir + ":0:0: not a directory" +
                                (ec ? " (" + ec.message() + ")" : std::string()));
  const care::NetworkData net = care::read_network_data(a.dir);
  const auto files = care::write_network_exports(a.dir, net, formats);
  if (!a.quiet)
    for (const auto& f : files)
      std::cout << "wrote " << f.string() << " (" << net.nodes.size() << " organizations, "
                << (f.extension() == ".gexf" ? net.edges.size() : net.final_edges()) << " ties)\n";
  return 0;
}

}  // namespace

void register_report_commands(CLI::App& app) {
  ReportCommands& c = commands();
  auto* r = app.add_subcommand(
      "report",
      "Write one self-contained HTML page of charts (works offline) for the directory of "
      "caremesh run, compare or sweep");
  c.report = r;
  r->add_option("dir", c.r.dir,
                "Result directory holding summary.json, comparison.json or sweep.json")
      ->required();
  r->add_option("--out,-o", c.r.out, "HTML file to write (default: DIR/report.html)");
  r->add_flag("--quiet,-q", c.r.quiet, "Print nothing on success");

  auto* e = app.add_subcommand(
      "export-network",
      "Write a run directory's network as GraphML (final ties) and GEXF 1.3 (tie levels "
      "over time, for Gephi's timeline)");
  c.export_network = e;
  e->add_option("dir", c.e.dir, "Run directory (the --out of caremesh run)")->required();
  e->add_option("--format", c.e.format,
                "Formats, comma-separated: graphml, gexf (default: graphml,gexf); written as "
                "DIR/network.graphml and DIR/network.gexf");
  e->add_flag("--quiet,-q", c.e.quiet, "Print nothing on success");
}

int run_report_commands(CLI::App&) {
  const ReportCommands& c = commands();
  if (c.report && c.report->parsed()) return run_report(c.r);
  if (c.export_network && c.export_network->parsed()) return run_export_network(c.e);
  return -1;
}

}  // namespace cm::cli
