// The network of organizations for other tools: GraphML (a static snapshot of the final ties)
// and GEXF 1.3 (dynamic: tie levels over time, for Gephi's timeline), beside network.csv.
//
// Both are built from one NetworkData, made either from a finished Simulation or from a run
// directory's CSV files (organizations.csv, network.csv, tie_changes.csv, summary.json), so
// `caremesh run --network-format` and `caremesh export-network DIR` write the same bytes.
//
// Nodes are organizations (attributes: name, sector, district, networks, services, helpers;
// GEXF adds viz colours in the seeds' legend). Edges are ties: GraphML holds the ties whose
// final level is >= 1, exactly the rows of network.csv; GEXF holds every tie that was at level
// >= 1 at some moment of the run, with <spells> for the days it existed and a dynamic `level`
// attribute with one value per period at a level (integer days, inclusive bounds, GEXF 1.3).
// Day d covers the state after the changes recorded at tick d in tie_changes.csv.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cm::care {

class Simulation;

struct NetNode {
  std::int32_t id = 0;
  std::string name, sector, district;
  std::vector<std::string> networks;  // names of the networks it is a member of
  std::vector<std::string> services;  // names of the services it offers
  long long helpers = 0;
};

// A tie held `level` on days [start, end] (inclusive).
struct LevelPeriod {
  int start = 0, end = 0;
  int level = 0;
};

struct NetEdge {
  std::int32_t a = 0, b = 0;  // node ids, a < b
  int initial_level = 0;      // at the start of the run
  int level = 0;              // at the end of the run (0: the tie vanished)
  std::string trust;          // final trust as written in network.csv ("" when level 0)
  long long personal_ties = 0;
  // (tick, new level) for every change, in tick order.
  std::vector<std::pair<int, int>> changes;
  // Periods at a level >= 1, in day order, over days [0, ticks - 1].
  std::vector<LevelPeriod> periods(int ticks) const;
};

struct NetworkData {
  std::string scenario;  // scenario name
  int ticks = 0;         // days simulated
  std::vector<NetNode> nodes;
  std::vector<NetEdge> edges;  // every tie at level >= 1 at some moment, by (a, b)
  std::size_t final_edges() const;
};

// From a finished simulation.
NetworkData network_data(const Simulation& sim);
// From a run directory; throws std::runtime_error naming a missing or malformed file.
// tie_changes.csv is optional (without it the final levels are taken as constant).
NetworkData read_network_data(const std::filesystem::path& run_dir);

// A deterministic layout for pictures: districts on a circle (in order of first appearance),
// each district's organizations on a ring around its centre (coordinator first, then by
// sector and id); organizations without a district in the middle. Coordinates are centred on
// (0, 0) with y downwards; every node lies within `extent` of the centre. Node radius grows
// with the number of helpers.
struct NetLayout {
  struct Group {
    std::string district;
    double x = 0, y = 0, radius = 0;
  };
  std::vector<double> x, y, r;  // per node, in NetworkData::nodes order
  std::vector<Group> groups;
  double extent = 0;
};
NetLayout layout_network(const NetworkData& net);

// The seeds' legend: green non-public, orange public providers, dark blue public coordinator,
// light blue intermunicipal coordinator ("#rrggbb"; grey for anything else).
const char* sector_colour(std::string_view sector);

std::string to_graphml(const NetworkData& net);
std::string to_gexf(const NetworkData& net);

// "graphml,gexf" → {"graphml", "gexf"} (lower case, duplicates dropped, order kept; empty text
// gives none). Throws std::invalid_argument for an unknown format.
std::vector<std::string> parse_network_formats(const std::string& list);
// Writes dir/network.graphml and/or dir/network.gexf atomically; returns the files written.
std::vector<std::filesystem::path> write_network_exports(const std::filesystem::path& dir,
                                                         const NetworkData& net,
                                                         const std::vector<std::string>& formats);

// Text helpers shared with the report.

// Escapes & < > " ' for XML/HTML text and attributes; drops characters XML 1.0 forbids
// (C0 controls other than tab, newline and carriage return).
std::string xml_escape(std::string_view s);

// A CSV file read into memory (RFC 4180: quoted fields, doubled quotes, CRLF or LF).
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Index of a column, or -1.
  int column(std::string_view name) const;
  // Field of a row by column name ("" when the column is absent or the row short).
  const std::string& at(std::size_t row, std::string_view name) const;
};
CsvTable parse_csv(std::string_view text);
// Throws std::runtime_error when the file cannot be read.
CsvTable read_csv_file(const std::filesystem::path& file);
std::string read_text_file(const std::filesystem::path& file);

}  // namespace cm::care
