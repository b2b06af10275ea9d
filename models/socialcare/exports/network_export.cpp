#include "models/socialcare/exports/network_export.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "caremesh_version.hpp"
#include "engine/output.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"

namespace cm::care {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Text helpers.

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') break;  // not allowed in XML 1.0
        if (c == 0x7F) break;
        out += ch;
    }
  }
  return out;
}

int CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

const std::string& CsvTable::at(std::size_t row, std::string_view name) const {
  static const std::string empty;
  const int c = column(name);
  if (c < 0 || row >= rows.size() || static_cast<std::size_t>(c) >= rows[row].size()) return empty;
  return rows[row][static_cast<std::size_t>(c)];
}

CsvTable parse_csv(std::string_view text) {
  CsvTable t;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, any = false;
  auto end_record = [&] {
    record.push_back(std::move(field));
    field.clear();
    if (t.header.empty() && t.rows.empty() && !any)
      t.header = std::move(record);
    else
      t.rows.push_back(std::move(record));
    record.clear();
    any = true;
  };
  std::size_t i = 0;
  bool line_started = false;
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      ++i;
      continue;
    }
    if (c == '"') {
      quoted = true;
      line_started = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      line_started = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (line_started || !field.empty() || !record.empty()) end_record();
      line_started = false;
    } else {
      field += c;
      line_started = true;
    }
    ++i;
  }
  if (line_started || !field.empty() || !record.empty()) end_record();
  return t;
}

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

CsvTable read_csv_file(const fs::path& file) {
  return parse_csv(read_text_file(file));
}

const char* sector_colour(std::string_view sector) {
  if (sector == "nonpublic") return "#2e7d32";
  if (sector == "public_provider") return "#ef6c00";
  if (sector == "public_coordinator") return "#0d3b82";
  if (sector == "intermunicipal_coordinator") return "#4fc3f7";
  return "#9e9e9e";
}

// ---------------------------------------------------------------------------------------------
// The data.

std::vector<LevelPeriod> NetEdge::periods(int ticks) const {
  std::vector<LevelPeriod> out;
  int level_now = initial_level, start = 0;
  auto close = [&](int end) {
    if (level_now < 1 || end < start) return;
    if (!out.empty() && out.back().level == level_now && out.back().end + 1 == start)
      out.back().end = end;
    else
      out.push_back({start, end, level_now});
  };
  for (const auto& [tick, to] : changes) {
    if (tick >= ticks) break;
    close(tick - 1);
    start = std::max(start, tick);
    level_now = to;
  }
  close(ticks - 1);
  return out;
}

std::size_t NetworkData::final_edges() const {
  return static_cast<std::size_t>(
      std::count_if(edges.begin(), edges.end(), [](const NetEdge& e) { return e.level >= 1; }));
}

namespace {

void add_memberships(const Scenario& sc, std::vector<NetNode>& nodes) {
  for (const NetworkDef& n : sc.networks)
    for (int m : n.members)
      if (m >= 0 && static_cast<std::size_t>(m) < nodes.size()) {
        auto& list = nodes[static_cast<std::size_t>(m)].networks;
        if (std::find(list.begin(), list.end(), n.name) == list.end()) list.push_back(n.name);
      }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = s.find(sep, from);
    out.push_back(s.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) break;
    from = at + 1;
  }
  return out;
}

long long to_integer(const std::string& s, const fs::path& file, std::size_t row) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw std::runtime_error(file.string() + ": row " + std::to_string(row + 2) +
                           ": expected an integer, got \"" + s + "\"");
}

void require_columns(const CsvTable& t, const fs::path& file,
                     std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (t.column(n) < 0)
      throw std::runtime_error(file.string() + ": no column \"" + std::string(n) + "\"");
}

}  // namespace

NetworkData network_data(const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  NetworkData net;
  net.scenario = sc.name;
  net.ticks = sim.tick();
  for (std::size_t o = 0; o < sc.organizations.size(); ++o) {
    const Organization& org = sc.organizations[o];
    NetNode n;
    n.id = static_cast<std::int32_t>(o);
    n.name = org.name;
    n.sector = to_string(org.sector);
    n.district = org.district >= 0 ? sc.districts[static_cast<std::size_t>(org.district)].name
                                   : std::string();
    for (std::size_t s = 0; s < sc.services.size(); ++s)
      if ((org.services >> s) & 1u) n.services.push_back(sc.services[s].name);
    n.helpers = org.helpers;
    net.nodes.push_back(std::move(n));
  }
  add_memberships(sc, net.nodes);

  const TieTable& ties = sim.ties();
  const auto& initial = sim.initial_tie_levels();
  std::vector<std::vector<std::pair<int, int>>> changes(ties.size());
  for (const TieChange& c : sim.tie_history())
    if (c.tie < changes.size()) changes[c.tie].emplace_back(c.tick, c.to);
  for (std::size_t i = 0; i < ties.size(); ++i) {
    const Tie& t = ties[i];
    NetEdge e;
    e.a = std::min(t.a, t.b);
    e.b = std::max(t.a, t.b);
    e.level = t.level;
    e.initial_level = i < initial.size() ? initial[i] : t.level;
    e.changes = std::move(changes[i]);
    bool ever = e.initial_level >= 1 || e.level >= 1;
    for (const auto& c : e.changes) ever = ever || c.second >= 1;
    if (!ever) continue;
    if (e.level >= 1) {
      e.trust = format_number(static_cast<double>(t.trust));
      e.personal_ties = t.personal;
    }
    net.edges.push_back(std::move(e));
  }
  std::sort(net.edges.begin(), net.edges.end(), [](const NetEdge& x, const NetEdge& y) {
    return std::tie(x.a, x.b) < std::tie(y.a, y.b);
  });
  return net;
}

NetworkData read_network_data(const fs::path& dir) {
  NetworkData net;
  nlohmann::json summary;
  const fs::path summary_file = dir / "summary.json";
  if (fs::exists(summary_file)) {
    try {
      summary = nlohmann::json::parse(read_text_file(summary_file));
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(summary_file.string() + ": not valid JSON: " + e.what());
    }
    if (summary.contains("scenario") && summary["scenario"].contains("name") &&
        summary["scenario"]["name"].is_string())
      net.scenario = summary["scenario"]["name"].get<std::string>();
    if (summary.contains("ticks") && summary["ticks"].is_number_integer())
      net.ticks = summary["ticks"].get<int>();
  }

  const fs::path org_file = dir / "organizations.csv";
  if (!fs::exists(org_file))
    throw std::runtime_error(org_file.string() +
                             ": missing (not a run directory written by `caremesh run`?)");
  const CsvTable orgs = read_csv_file(org_file);
  require_columns(orgs, org_file, {"id", "name", "sector", "district"});
  for (std::size_t r = 0; r < orgs.rows.size(); ++r) {
    NetNode n;
    n.id = static_cast<std::int32_t>(to_integer(orgs.at(r, "id"), org_file, r));
    if (n.id != static_cast<std::int32_t>(r))
      throw std::runtime_error(org_file.string() + ": row " + std::to_string(r + 2) +
                               ": expected id " + std::to_string(r));
    n.name = orgs.at(r, "name");
    n.sector = orgs.at(r, "sector");
    n.district = orgs.at(r, "district");
    n.services = split(orgs.at(r, "services"), ';');
    if (!orgs.at(r, "helpers").empty()) n.helpers = to_integer(orgs.at(r, "helpers"), org_file, r);
    net.nodes.push_back(std::move(n));
  }
  // Network memberships: from the effective scenario when it loads; otherwise the coordinated
  // network of organizations.csv.
  bool memberships = false;
  if (summary.contains("effective_scenario") && summary["effective_scenario"].is_string()) {
    try {
      const Scenario sc = load_scenario_text(summary["effective_scenario"].get<std::string>(),
                                             summary_file.string());
      if (sc.organizations.size() == net.nodes.size()) {
        add_memberships(sc, net.nodes);
        memberships = true;
      }
    } catch (const std::exception&) {
    }
  }
  if (!memberships)
    for (std::size_t r = 0; r < orgs.rows.size(); ++r)
      if (!orgs.at(r, "network").empty()) net.nodes[r].networks.push_back(orgs.at(r, "network"));

  const fs::path net_file = dir / "network.csv";
  if (!fs::exists(net_file)) throw std::runtime_error(net_file.string() + ": missing");
  const CsvTable ties = read_csv_file(net_file);
  require_columns(ties, net_file, {"org_a", "org_b", "level"});
  std::map<std::pair<int, int>, NetEdge> edges;
  const auto n_nodes = static_cast<long long>(net.nodes.size());
  auto check_pair = [&](long long a, long long b, const fs::path& file, std::size_t r) {
    if (a < 0 || b < 0 || a >= n_nodes || b >= n_nodes || a == b)
      throw std::runtime_error(file.string() + ": row " + std::to_string(r + 2) +
                               ": organization ids out of range");
  };
  for (std::size_t r = 0; r < ties.rows.size(); ++r) {
    const long long a = to_integer(ties.at(r, "org_a"), net_file, r);
    const long long b = to_integer(ties.at(r, "org_b"), net_file, r);
    check_pair(a, b, net_file, r);
    NetEdge e;
    e.a = static_cast<std::int32_t>(std::min(a, b));
    e.b = static_cast<std::int32_t>(std::max(a, b));
    e.level = static_cast<int>(to_integer(ties.at(r, "level"), net_file, r));
    e.initial_level = e.level;
    e.trust = ties.at(r, "trust");
    if (!ties.at(r, "personal_ties").empty())
      e.personal_ties = to_integer(ties.at(r, "personal_ties"), net_file, r);
    edges[{e.a, e.b}] = std::move(e);
  }

  const fs::path changes_file = dir / "tie_changes.csv";
  int last_tick = -1;
  if (fs::exists(changes_file)) {
    const CsvTable ch = read_csv_file(changes_file);
    require_columns(ch, changes_file, {"tick", "org_a", "org_b", "from_level", "to_level"});
    std::map<std::pair<int, int>, bool> seen;
    for (std::size_t r = 0; r < ch.rows.size(); ++r) {
      const long long a = to_integer(ch.at(r, "org_a"), changes_file, r);
      const long long b = to_integer(ch.at(r, "org_b"), changes_file, r);
      check_pair(a, b, changes_file, r);
      const std::pair<int, int> key{static_cast<int>(std::min(a, b)),
                                    static_cast<int>(std::max(a, b))};
      const int tick = static_cast<int>(to_integer(ch.at(r, "tick"), changes_file, r));
      const int from = static_cast<int>(to_integer(ch.at(r, "from_level"), changes_file, r));
      const int to = static_cast<int>(to_integer(ch.at(r, "to_level"), changes_file, r));
      last_tick = std::max(last_tick, tick);
      auto it = edges.find(key);
      if (it == edges.end()) {  // a tie that ended at level 0
        NetEdge e;
        e.a = key.first;
        e.b = key.second;
        e.level = 0;
        it = edges.emplace(key, std::move(e)).first;
      }
      if (!seen[key]) {
        it->second.initial_level = from;
        seen[key] = true;
      }
      it->second.changes.emplace_back(tick, to);
    }
    for (auto& [key, e] : edges) {
      std::stable_sort(e.changes.begin(), e.changes.end(),
                       [](const auto& x, const auto& y) { return x.first < y.first; });
      if (!e.changes.empty() && e.changes.back().second != e.level)
        throw std::runtime_error(changes_file.string() + ": the last change of the tie " +
                                 std::to_string(key.first) + "-" + std::to_string(key.second) +
                                 " does not end at its level in network.csv");
    }
  }
  if (net.ticks <= 0) {
    const fs::path ts = dir / "timeseries.csv";
    if (fs::exists(ts)) net.ticks = static_cast<int>(read_csv_file(ts).rows.size());
    net.ticks = std::max(net.ticks, last_tick + 1);
  }
  for (auto& [key, e] : edges) net.edges.push_back(std::move(e));
  if (net.scenario.empty()) net.scenario = dir.filename().string();
  return net;
}

// ---------------------------------------------------------------------------------------------
// Layout.

namespace {

int sector_rank(const std::string& s) {
  if (s == "intermunicipal_coordinator") return 0;
  if (s == "public_coordinator") return 1;
  if (s == "public_provider") return 2;
  if (s == "nonpublic") return 3;
  return 4;
}

}  // namespace

NetLayout layout_network(const NetworkData& net) {
  constexpr double kPi = std::numbers::pi;
  constexpr double kGap = 16.0, kPad = 10.0, kGroupGap = 28.0, kMinRing = 34.0;
  NetLayout L;
  const std::size_t n = net.nodes.size();
  L.x.assign(n, 0.0);
  L.y.assign(n, 0.0);
  L.r.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    L.r[i] = std::min(
        13.0,
        4.0 + 1.3 * std::sqrt(static_cast<double>(std::max<long long>(0, net.nodes[i].helpers))));

  // Groups in order of first appearance; the group without a district goes in the middle.
  std::vector<std::string> names;
  std::vector<std::vector<std::size_t>> members;
  int middle = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& d = net.nodes[i].district;
    auto it = std::find(names.begin(), names.end(), d);
    if (it == names.end()) {
      names.push_back(d);
      members.emplace_back();
      it = names.end() - 1;
      if (d.empty()) middle = static_cast<int>(names.size() - 1);
    }
    members[static_cast<std::size_t>(it - names.begin())].push_back(i);
  }
  std::vector<double> ring(names.size(), 0.0), radius(names.size(), 0.0);
  for (std::size_t g = 0; g < names.size(); ++g) {
    auto& m = members[g];
    std::stable_sort(m.begin(), m.end(), [&](std::size_t a, std::size_t b) {
      return sector_rank(net.nodes[a].sector) < sector_rank(net.nodes[b].sector);
    });
    double circumference = 0, rmax = 0;
    for (std::size_t i : m) {
      circumference += 2 * L.r[i] + kGap;
      rmax = std::max(rmax, L.r[i]);
    }
    ring[g] = m.size() > 1 ? std::max(circumference / (2 * kPi), kMinRing) : 0.0;
    radius[g] = ring[g] + rmax + kPad;
  }
  std::vector<std::size_t> outer;
  for (std::size_t g = 0; g < names.size(); ++g)
    if (static_cast<int>(g) != middle) outer.push_back(g);
  double max_outer = 0;
  for (std::size_t g : outer) max_outer = std::max(max_outer, radius[g]);
  double big = 0;
  if (outer.size() >= 2)
    big = (2 * max_outer + kGroupGap) / (2 * std::sin(kPi / static_cast<double>(outer.size())));
  if (middle >= 0 && !outer.empty())
    big = std::max(big, radius[static_cast<std::size_t>(middle)] + max_outer + kGroupGap);
  if (outer.size() == 1 && middle < 0) big = 0;

  L.groups.resize(names.size());
  for (std::size_t k = 0; k < outer.size(); ++k) {
    const double angle =
        -kPi / 2 + 2 * kPi * static_cast<double>(k) / static_cast<double>(outer.size());
    L.groups[outer[k]].x = big * std::cos(angle);
    L.groups[outer[k]].y = big * std::sin(angle);
  }
  for (std::size_t g = 0; g < names.size(); ++g) {
    NetLayout::Group& grp = L.groups[g];
    grp.district = names[g];
    grp.radius = radius[g];
    const auto& m = members[g];
    for (std::size_t j = 0; j < m.size(); ++j) {
      const double angle =
          -kPi / 2 + 2 * kPi * static_cast<double>(j) / static_cast<double>(m.size());
      L.x[m[j]] = grp.x + ring[g] * std::cos(angle);
      L.y[m[j]] = grp.y + ring[g] * std::sin(angle);
    }
    L.extent = std::max(L.extent, std::hypot(grp.x, grp.y) + grp.radius);
  }
  return L;
}

// ---------------------------------------------------------------------------------------------
// Writers.

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s == "-0.00") s = "0.00";
  return s;
}

int max_level(const NetEdge& e) {
  int m = std::max(e.initial_level, e.level);
  for (const auto& c : e.changes) m = std::max(m, c.second);
  return m;
}

}  // namespace

std::string to_graphml(const NetworkData& net) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\"\n"
       "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
       "    xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns "
       "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n";
  const char* keys[][4] = {
      {"scenario", "graph", "scenario", "string"},
      {"ticks", "graph", "days", "int"},
      {"creator", "graph", "creator", "string"},
      {"name", "node", "name", "string"},
      {"sector", "node", "sector", "string"},
      {"district", "node", "district", "string"},
      {"networks", "node", "networks", "string"},
      {"services", "node", "services", "string"},
      {"helpers", "node", "helpers", "long"},
      {"colour", "node", "colour", "string"},
      {"x", "node", "x", "double"},
      {"y", "node", "y", "double"},
      {"level", "edge", "level", "int"},
      {"trust", "edge", "trust", "double"},
      {"personal_ties", "edge", "personal_ties", "long"},
      {"initial_level", "edge", "initial_level", "int"},
  };
  for (const auto& k : keys)
    o << "  <key id=\"" << k[0] << "\" for=\"" << k[1] << "\" attr.name=\"" << k[2]
      << "\" attr.type=\"" << k[3] << "\"/>\n";
  o << "  <graph id=\"caremesh\" edgedefault=\"undirected\">\n";
  o << "    <data key=\"scenario\">" << xml_escape(net.scenario) << "</data>\n";
  o << "    <data key=\"ticks\">" << net.ticks << "</data>\n";
  o << "    <data key=\"creator\">caremesh " << xml_escape(kVersion) << "</data>\n";
  const NetLayout L = layout_network(net);
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    o << "    <node id=\"n" << n.id << "\">\n";
    o << "      <data key=\"name\">" << xml_escape(n.name) << "</data>\n";
    o << "      <data key=\"sector\">" << xml_escape(n.sector) << "</data>\n";
    o << "      <data key=\"district\">" << xml_escape(n.district) << "</data>\n";
    o << "      <data key=\"networks\">" << xml_escape(join(n.networks, ";")) << "</data>\n";
    o << "      <data key=\"services\">" << xml_escape(join(n.services, ";")) << "</data>\n";
    o << "      <data key=\"helpers\">" << n.helpers << "</data>\n";
    o << "      <data key=\"colour\">" << sector_colour(n.sector) << "</data>\n";
    o << "      <data key=\"x\">" << fixed2(L.x[i]) << "</data>\n";
    o << "      <data key=\"y\">" << fixed2(L.y[i]) << "</data>\n";
    o << "    </node>\n";
  }
  for (const NetEdge& e : net.edges) {
    if (e.level < 1) continue;
    o << "    <edge id=\"e" << e.a << "_" << e.b << "\" source=\"n" << e.a << "\" target=\"n" << e.b
      << "\">\n";
    o << "      <data key=\"level\">" << e.level << "</data>\n";
    if (!e.trust.empty()) o << "      <data key=\"trust\">" << xml_escape(e.trust) << "</data>\n";
    o << "      <data key=\"personal_ties\">" << e.personal_ties << "</data>\n";
    o << "      <data key=\"initial_level\">" << e.initial_level << "</data>\n";
    o << "    </edge>\n";
  }
  o << "  </graph>\n</graphml>\n";
  return o.str();
}

std::string to_gexf(const NetworkData& net) {
  std::ostringstream o;
  const int last = std::max(0, net.ticks - 1);
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       "<gexf xmlns=\"http://gexf.net/1.3\" xmlns:viz=\"http://gexf.net/1.3/viz\"\n"
       "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
       "    xsi:schemaLocation=\"http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd\"\n"
       "    version=\"1.3\">\n";
  o << "  <meta>\n    <creator>caremesh " << xml_escape(kVersion) << "</creator>\n";
  o << "    <description>" << xml_escape(net.scenario)
    << ": organizations and the ties between them, day by day over " << net.ticks
    << " days (tie level on Park's collaboration continuum, 1..7)</description>\n  </meta>\n";
  o << "  <graph mode=\"dynamic\" defaultedgetype=\"undirected\" timeformat=\"integer\" "
       "timerepresentation=\"interval\" start=\"0\" end=\""
    << last << "\">\n";
  o << "    <attributes class=\"node\" mode=\"static\">\n"
       "      <attribute id=\"sector\" title=\"sector\" type=\"string\"/>\n"
       "      <attribute id=\"district\" title=\"district\" type=\"string\"/>\n"
       "      <attribute id=\"networks\" title=\"networks\" type=\"string\"/>\n"
       "      <attribute id=\"services\" title=\"services\" type=\"string\"/>\n"
       "      <attribute id=\"helpers\" title=\"helpers\" type=\"long\"/>\n"
       "    </attributes>\n";
  o << "    <attributes class=\"edge\" mode=\"dynamic\">\n"
       "      <attribute id=\"level\" title=\"level\" type=\"integer\"/>\n"
       "    </attributes>\n";
  o << "    <attributes class=\"edge\" mode=\"static\">\n"
       "      <attribute id=\"final_level\" title=\"final level\" type=\"integer\"/>\n"
       "      <attribute id=\"initial_level\" title=\"initial level\" type=\"integer\"/>\n"
       "      <attribute id=\"trust\" title=\"trust\" type=\"double\"/>\n"
       "      <attribute id=\"personal_ties\" title=\"personal ties\" type=\"long\"/>\n"
       "    </attributes>\n";
  const NetLayout L = layout_network(net);
  o << "    <nodes>\n";
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    o << "      <node id=\"" << n.id << "\" label=\"" << xml_escape(n.name) << "\">\n";
    o << "        <attvalues>\n";
    o << "          <attvalue for=\"sector\" value=\"" << xml_escape(n.sector) << "\"/>\n";
    o << "          <attvalue for=\"district\" value=\"" << xml_escape(n.district) << "\"/>\n";
    o << "          <attvalue for=\"networks\" value=\"" << xml_escape(join(n.networks, ";"))
      << "\"/>\n";
    o << "          <attvalue for=\"services\" value=\"" << xml_escape(join(n.services, ";"))
      << "\"/>\n";
    o << "          <attvalue for=\"helpers\" value=\"" << n.helpers << "\"/>\n";
    o << "        </attvalues>\n";
    const std::string hex = sector_colour(n.sector);
    const auto channel = [&](int k) { return std::stoi(hex.substr(1 + 2 * k, 2), nullptr, 16); };
    o << "        <viz:color r=\"" << channel(0) << "\" g=\"" << channel(1) << "\" b=\""
      << channel(2) << "\"/>\n";
    o << "        <viz:position x=\"" << fixed2(L.x[i]) << "\" y=\"" << fixed2(-L.y[i])
      << "\" z=\"0.00\"/>\n";
    o << "        <viz:size value=\"" << fixed2(L.r[i]) << "\"/>\n";
    o << "      </node>\n";
  }
  o << "    </nodes>\n    <edges>\n";
  for (const NetEdge& e : net.edges) {
    const auto periods = e.periods(net.ticks);
    const int weight = e.level >= 1 ? e.level : max_level(e);
    o << "      <edge id=\"e" << e.a << "_" << e.b << "\" source=\"" << e.a << "\" target=\"" << e.b
      << "\" weight=\"" << std::max(1, weight) << "\">\n";
    o << "        <attvalues>\n";
    for (const LevelPeriod& p : periods)
      o << "          <attvalue for=\"level\" value=\"" << p.level << "\" start=\"" << p.start
        << "\" end=\"" << p.end << "\"/>\n";
    o << "          <attvalue for=\"final_level\" value=\"" << e.level << "\"/>\n";
    o << "          <attvalue for=\"initial_level\" value=\"" << e.initial_level << "\"/>\n";
    if (!e.trust.empty())
      o << "          <attvalue for=\"trust\" value=\"" << xml_escape(e.trust) << "\"/>\n";
    o << "          <attvalue for=\"personal_ties\" value=\"" << e.personal_ties << "\"/>\n";
    o << "        </attvalues>\n";
    // Existence: the periods at level >= 1, merged where they touch.
    std::vector<std::pair<int, int>> spells;
    for (const LevelPeriod& p : periods) {
      if (!spells.empty() && spells.back().second + 1 == p.start)
        spells.back().second = p.end;
      else
        spells.emplace_back(p.start, p.end);
    }
    if (!spells.empty()) {
      o << "        <spells>\n";
      for (const auto& [s, t] : spells)
        o << "          <spell start=\"" << s << "\" end=\"" << t << "\"/>\n";
      o << "        </spells>\n";
    }
    o << "      </edge>\n";
  }
  o << "    </edges>\n  </graph>\n</gexf>\n";
  return o.str();
}

std::vector<std::string> parse_network_formats(const std::string& list) {
  std::vector<std::string> out;
  for (std::string f : split(list, ',')) {
    f.erase(0, f.find_first_not_of(" \t"));
    f.erase(f.find_last_not_of(" \t") + 1);
    std::transform(f.begin(), f.end(), f.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (f.empty()) continue;
    if (f != "graphml" && f != "gexf")
      throw std::invalid_argument("unknown network format \"" + f +
                                  "\" (expected graphml, gexf or both, comma-separated)");
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  return out;
}

std::vector<fs::path> write_network_exports(const fs::path& dir, const NetworkData& net,
                                            const std::vector<std::string>& formats) {
  std::vector<fs::path> written;
  for (const auto& f : formats) {
    const fs::path file = dir / ("network." + f);
    write_file_atomically(file, f == "graphml" ? to_graphml(net) : to_gexf(net));
    written.push_back(file);
  }
  return written;
}

}  // namespace cm::care
