// Network exports (models/socialcare/exports/network_export.hpp): the CSV reader, level periods,
// the GraphML and GEXF writers from a Simulation and from a run directory (the same bytes), and
// `caremesh export-network` on a real run: both files are well-formed XML (checked by a small
// parser here and by xmllint when installed), their node and edge counts match
// organizations.csv and network.csv, and ties that changed level carry GEXF spells and
// dynamic level values at the days tie_changes.csv records.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/socialcare/exports/network_export.hpp"
#include "models/socialcare/outputs.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "tests/support/cli.hpp"

namespace {

namespace fs = std::filesystem;
using namespace cm::care;

const std::string kTrainingSmall = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";

using cm::test::CliResult;
using cm::test::read_text;
using cm::test::run_cli;

// ---- a small XML reader: well-formedness and the elements --------------------------------

struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  int parent = -1;
};

// Parses a whole document; returns false with a reason on the first well-formedness error
// (unbalanced or crossed tags, unquoted or duplicate attributes, raw '<' or a bare '&' in
// text, more than one root element).
bool parse_xml(const std::string& x, std::vector<Element>& out, std::string& why) {
  std::vector<int> stack;
  std::size_t i = 0, roots = 0;
  auto entities_ok = [](const std::string& t, std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) {
      if (t[k] != '&') continue;
      const std::size_t semi = t.find(';', k);
      if (semi == std::string::npos || semi > to) return false;
      const std::string ent = t.substr(k + 1, semi - k - 1);
      static const std::set<std::string> named = {"amp", "lt", "gt", "quot", "apos"};
      const bool numeric = ent.size() > 1 && ent[0] == '#' &&
                           ent.find_first_not_of("0123456789", 1) == std::string::npos;
      if (!named.count(ent) && !numeric) return false;
    }
    return true;
  };
  while (i < x.size()) {
    const std::size_t lt = x.find('<', i);
    const std::size_t text_end = lt == std::string::npos ? x.size() : lt;
    if (!entities_ok(x, i, text_end))
      return why = "bad entity near offset " + std::to_string(i), false;
    if (stack.empty() &&
        x.substr(i, text_end - i).find_first_not_of(" \t\r\n") != std::string::npos)
      return why = "text outside the root element", false;
    if (lt == std::string::npos) break;
    if (x.compare(lt, 4, "<!--") == 0) {
      const std::size_t e = x.find("-->", lt + 4);
      if (e == std::string::npos) return why = "unclosed comment", false;
      i = e + 3;
      continue;
    }
    if (x.compare(lt, 2, "<?") == 0) {
      const std::size_t e = x.find("?>", lt + 2);
      if (e == std::string::npos) return why = "unclosed declaration", false;
      i = e + 2;
      continue;
    }
    // A tag: find its end outside quoted attribute values.
    std::size_t k = lt + 1;
    char quote = 0;
    for (; k < x.size(); ++k) {
      if (quote) {
        if (x[k] == quote)
          quote = 0;
        else if (x[k] == '<')
          return why = "'<' in an attribute value", false;
      } else if (x[k] == '"' || x[k] == '\'') {
        quote = x[k];
      } else if (x[k] == '>') {
        break;
      }
    }
    if (k >= x.size()) return why = "unclosed tag", false;
    std::string tag = x.substr(lt + 1, k - lt - 1);
    i = k + 1;
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1, tag.find_last_not_of(" \t\r\n"));
      if (stack.empty() || out[static_cast<std::size_t>(stack.back())].name != name)
        return why = "unexpected </" + name + ">", false;
      stack.pop_back();
      continue;
    }
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.pop_back();
    Element e;
    std::size_t p = 0;
    while (p < tag.size() && !std::isspace(static_cast<unsigned char>(tag[p]))) ++p;
    e.name = tag.substr(0, p);
    if (e.name.empty()) return why = "empty tag name", false;
    while (p < tag.size()) {
      while (p < tag.size() && std::isspace(static_cast<unsigned char>(tag[p]))) ++p;
      if (p >= tag.size()) break;
      const std::size_t eq = tag.find('=', p);
      if (eq == std::string::npos) return why = "attribute without value in <" + e.name, false;
      const std::string key = tag.substr(p, eq - p);
      if (eq + 1 >= tag.size() || (tag[eq + 1] != '"' && tag[eq + 1] != '\''))
        return why = "unquoted attribute " + key, false;
      const std::size_t close = tag.find(tag[eq + 1], eq + 2);
      if (close == std::string::npos) return why = "unterminated attribute " + key, false;
      const std::string value = tag.substr(eq + 2, close - eq - 2);
      if (!entities_ok(value, 0, value.size()) || value.find('<') != std::string::npos)
        return why = "bad attribute value", false;
      if (!e.attrs.emplace(key, value).second) return why = "duplicate attribute " + key, false;
      p = close + 1;
    }
    e.parent = stack.empty() ? -1 : stack.back();
    if (stack.empty() && ++roots > 1) return why = "more than one root element", false;
    out.push_back(e);
    if (!self_closing) stack.push_back(static_cast<int>(out.size() - 1));
  }
  if (!stack.empty())
    return why = "unclosed <" + out[static_cast<std::size_t>(stack.back())].name + ">", false;
  if (roots != 1) return why = "no root element", false;
  return true;
}

std::vector<Element> parse_or_fail(const std::string& xml, const std::string& what) {
  std::vector<Element> els;
  std::string why;
  EXPECT_TRUE(parse_xml(xml, els, why)) << what << ": " << why;
  return els;
}

std::size_t count(const std::vector<Element>& els, const std::string& name) {
  std::size_t n = 0;
  for (const auto& e : els) n += e.name == name;
  return n;
}

bool have_xmllint() {
  return std::system("xmllint --version >/dev/null 2>&1") == 0;
}

// ---- unit tests -------------------------------------------------------------------------

TEST(NetworkExportXml, ParserRejectsMalformedDocuments) {
  std::vector<Element> els;
  std::string why;
  EXPECT_TRUE(parse_xml("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t &amp; u</a>\n", els, why))
      << why;
  for (const char* bad : {"<a><b></a></b>", "<a x=1/>", "<a>x < y</a>", "<a>R&D</a>", "<a/><b/>",
                          "<a x=\"1\" x=\"2\"/>", "<a>"}) {
    els.clear();
    EXPECT_FALSE(parse_xml(bad, els, why)) << bad;
  }
}

TEST(NetworkExportCsv, ParsesQuotedFieldsAndLineEnds) {
  const CsvTable t = parse_csv("a,b,c\r\n1,\"x, \"\"y\"\"\",\"two\nlines\"\n,,\n3,4,5");
  ASSERT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"1", "x, \"y\"", "two\nlines"}));
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(t.at(2, "c"), "5");
  EXPECT_EQ(t.at(2, "missing"), "");
  EXPECT_EQ(t.column("b"), 1);
}

TEST(NetworkExportXml, EscapesMarkupAndDropsForbiddenControls) {
  EXPECT_EQ(xml_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(xml_escape(std::string("a\x01"
                                   "b\tc\x7f",
                                   6)),
            "ab\tc");
  EXPECT_EQ(xml_escape("Praga-Południe"), "Praga-Południe");
}

TEST(NetworkExportPeriods, FollowTheChangesDayByDay) {
  NetEdge e;
  e.initial_level = 0;
  e.changes = {{10, 3}, {20, 0}, {30, 4}, {30, 5}};
  const auto p = e.periods(40);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].start, 10);
  EXPECT_EQ(p[0].end, 19);
  EXPECT_EQ(p[0].level, 3);
  EXPECT_EQ(p[1].start, 30);  // two changes on day 30: the last one holds
  EXPECT_EQ(p[1].end, 39);
  EXPECT_EQ(p[1].level, 5);

  NetEdge f;
  f.initial_level = 2;
  f.changes = {{0, 4}};
  const auto q = f.periods(5);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].start, 0);
  EXPECT_EQ(q[0].level, 4);

  NetEdge g;  // constant
  g.initial_level = g.level = 1;
  ASSERT_EQ(g.periods(7).size(), 1u);
  EXPECT_EQ(g.periods(7)[0].end, 6);
}

TEST(NetworkExportFormats, ParsesAListAndRejectsUnknownFormats) {
  EXPECT_EQ(parse_network_formats("graphml,gexf"), (std::vector<std::string>{"graphml", "gexf"}));
  EXPECT_EQ(parse_network_formats(" GEXF , gexf"), (std::vector<std::string>{"gexf"}));
  EXPECT_TRUE(parse_network_formats("").empty());
  EXPECT_THROW(parse_network_formats("graphml,dot"), std::invalid_argument);
}

TEST(NetworkExportLayout, IsDeterministicAndKeepsDistrictsApart) {
  NetworkData net;
  const char* districts[] = {"A", "B", "C", "A", "B", ""};
  for (int i = 0; i < 6; ++i) {
    NetNode n;
    n.id = i;
    n.name = "org" + std::to_string(i);
    n.district = districts[i];
    n.sector = i == 0 ? "public_coordinator" : "nonpublic";
    n.helpers = 4;
    net.nodes.push_back(n);
  }
  const NetLayout a = layout_network(net), b = layout_network(net);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  ASSERT_EQ(a.groups.size(), 4u);
  for (std::size_t i = 0; i < a.groups.size(); ++i)
    for (std::size_t j = i + 1; j < a.groups.size(); ++j) {
      const double d = std::hypot(a.groups[i].x - a.groups[j].x, a.groups[i].y - a.groups[j].y);
      EXPECT_GT(d, a.groups[i].radius + a.groups[j].radius) << i << " and " << j << " overlap";
    }
  EXPECT_DOUBLE_EQ(a.groups[3].x, 0.0);  // no district: the middle
  for (std::size_t i = 0; i < 6; ++i) EXPECT_LE(std::hypot(a.x[i], a.y[i]), a.extent + 1e-9);
}

// ---- from a simulation and from its run directory ---------------------------------------

class NetworkExportRun : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    tmp_ = fs::temp_directory_path() /
           ("caremesh_netexp_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  fs::path tmp_;
};

TEST_F(NetworkExportRun, SimulationAndRunDirectoryGiveTheSameFiles) {
  LoadOptions opt;
  opt.variant = "networked";
  const Scenario sc = load_scenario(kTrainingSmall, opt);
  Simulation sim(sc, 11);
  sim.run(150);
  sim.finish();
  RunInfo info{kTrainingSmall, "networked", {}, false};
  write_run(tmp_, sim, nlohmann::ordered_json::object(), info);

  const NetworkData a = network_data(sim);
  const NetworkData b = read_network_data(tmp_);
  EXPECT_EQ(a.nodes.size(), sc.organizations.size());
  EXPECT_EQ(b.nodes.size(), sc.organizations.size());
  EXPECT_EQ(a.ticks, 150);
  EXPECT_EQ(b.ticks, 150);
  EXPECT_EQ(a.edges.size(), b.edges.size());
  EXPECT_FALSE(sim.tie_history().empty()) << "the networked variant should move some ties";
  const std::string ga = to_graphml(a), gb = to_graphml(b);
  const std::string xa = to_gexf(a), xb = to_gexf(b);
  EXPECT_TRUE(ga == gb) << "GraphML from the simulation and from the CSVs differ";
  EXPECT_TRUE(xa == xb) << "GEXF from the simulation and from the CSVs differ";
  // Members of the network carry its name.
  ASSERT_FALSE(b.nodes.empty());
  EXPECT_EQ(b.nodes[0].networks, std::vector<std::string>{"Town network"});
  parse_or_fail(ga, "graphml");
  parse_or_fail(xa, "gexf");
}

// Runs a variant of training-small, exports its network and checks both files against the
// run's CSVs; returns the number of ties that ended at level 0 (kept only in the GEXF).
std::size_t check_export(const fs::path& run, const std::string& variant) {
  SCOPED_TRACE(variant);
  CliResult r =
      run_cli({"run", kTrainingSmall, "--variant", variant, "--out", run.string(), "--quiet"});
  EXPECT_EQ(r.status, 0) << r.err;
  if (r.status != 0) return 0;
  r = run_cli({"export-network", run.string(), "--format", "graphml,gexf"});
  EXPECT_EQ(r.status, 0) << r.err;
  if (r.status != 0) return 0;
  EXPECT_NE(r.out.find("network.graphml"), std::string::npos) << r.out;
  const fs::path graphml = run / "network.graphml", gexf = run / "network.gexf";
  if (!fs::exists(graphml) || !fs::exists(gexf)) {
    ADD_FAILURE() << "no export files";
    return 0;
  }
  for (const auto& e : fs::directory_iterator(run))  // written atomically: no temporaries left
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();

  if (have_xmllint()) {
    const std::string cmd = "xmllint --noout '" + graphml.string() + "' '" + gexf.string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  const auto g = parse_or_fail(read_text(graphml), "network.graphml");
  const auto x = parse_or_fail(read_text(gexf), "network.gexf");

  const CsvTable orgs = read_csv_file(run / "organizations.csv");
  const CsvTable net = read_csv_file(run / "network.csv");
  const CsvTable changes = read_csv_file(run / "tie_changes.csv");
  EXPECT_GT(orgs.rows.size(), 0u);
  EXPECT_GT(net.rows.size(), 0u);
  if (changes.rows.empty()) {
    ADD_FAILURE() << "expected tie level changes in training-small";
    return 0;
  }

  EXPECT_EQ(count(g, "node"), orgs.rows.size());
  EXPECT_EQ(count(g, "edge"), net.rows.size());
  EXPECT_EQ(count(x, "node"), orgs.rows.size());
  // GEXF also keeps ties that existed during the run but ended at level 0.
  std::set<std::pair<std::string, std::string>> final_pairs, vanished;
  for (std::size_t i = 0; i < net.rows.size(); ++i)
    final_pairs.emplace(net.at(i, "org_a"), net.at(i, "org_b"));
  std::map<std::pair<std::string, std::string>, std::string> last_level;
  for (std::size_t i = 0; i < changes.rows.size(); ++i)
    last_level[{changes.at(i, "org_a"), changes.at(i, "org_b")}] = changes.at(i, "to_level");
  for (const auto& [pair, level] : last_level)
    if (level == "0" && !final_pairs.count(pair)) vanished.insert(pair);
  EXPECT_EQ(count(x, "edge"), net.rows.size() + vanished.size());

  // Node attributes: sector, district, networks; edge attributes: level and trust.
  std::set<std::string> node_keys, edge_keys;
  for (const auto& e : g)
    if (e.name == "key")
      (e.attrs.at("for") == "node" ? node_keys : edge_keys).insert(e.attrs.at("id"));
  for (const char* k : {"sector", "district", "networks"}) EXPECT_TRUE(node_keys.count(k)) << k;
  for (const char* k : {"level", "trust"}) EXPECT_TRUE(edge_keys.count(k)) << k;
  const Element* graph = nullptr;
  for (const auto& e : x)
    if (e.name == "graph") graph = &e;
  if (!graph) {
    ADD_FAILURE() << "no <graph>";
    return 0;
  }
  EXPECT_EQ(graph->attrs.at("mode"), "dynamic");
  EXPECT_EQ(graph->attrs.at("timeformat"), "integer");

  // The first tie that changed level: its GEXF edge has spells and a level value starting on
  // the day of each change.
  const std::string a = changes.at(0, "org_a"), b = changes.at(0, "org_b");
  std::vector<std::pair<int, int>> expected;  // (tick, level)
  for (std::size_t i = 0; i < changes.rows.size(); ++i)
    if (changes.at(i, "org_a") == a && changes.at(i, "org_b") == b)
      expected.emplace_back(std::stoi(changes.at(i, "tick")), std::stoi(changes.at(i, "to_level")));
  int edge = -1;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i].name == "edge" && x[i].attrs.at("source") == a && x[i].attrs.at("target") == b)
      edge = static_cast<int>(i);
  if (edge < 0) {
    ADD_FAILURE() << "no GEXF edge " << a << "-" << b;
    return 0;
  }
  std::size_t spells = 0;
  std::map<int, std::string> level_from;  // start day -> level
  for (std::size_t i = 0; i < x.size(); ++i) {
    int up = x[i].parent;
    while (up >= 0 && up != edge) up = x[static_cast<std::size_t>(up)].parent;
    if (up != edge) continue;
    if (x[i].name == "spell") ++spells;
    if (x[i].name == "attvalue" && x[i].attrs.at("for") == "level") {
      if (!x[i].attrs.count("start") || !x[i].attrs.count("end")) {
        ADD_FAILURE() << "a level value without start and end";
        return 0;
      }
      EXPECT_LE(std::stoi(x[i].attrs.at("start")), std::stoi(x[i].attrs.at("end")));
      level_from[std::stoi(x[i].attrs.at("start"))] = x[i].attrs.at("value");
    }
  }
  EXPECT_GE(spells, 1u);
  EXPECT_GE(level_from.size(), 2u) << "a tie that changed level has more than one level period";
  for (const auto& [tick, level] : expected) {
    if (level == 0) continue;
    bool later_same_day = false;  // a second change the same day replaces this one
    for (const auto& [t2, l2] : expected)
      later_same_day = later_same_day || (t2 == tick && l2 != level);
    if (later_same_day) continue;
    EXPECT_TRUE(level_from.count(tick)) << "no level period starting on day " << tick;
    if (level_from.count(tick)) {
      EXPECT_EQ(level_from[tick], std::to_string(level));
    }
  }

  // Every edge: level periods in order without overlap, within the run, and spells exactly
  // where a level >= 1 holds.
  const int last_day = graph->attrs.count("end") ? std::stoi(graph->attrs.at("end")) : -1;
  for (std::size_t k = 0; k < x.size(); ++k) {
    if (x[k].name != "edge") continue;
    std::vector<std::pair<int, int>> periods, spell_list;
    for (std::size_t i = k + 1; i < x.size() && x[i].name != "edge"; ++i) {
      if (x[i].name == "attvalue" && x[i].attrs.at("for") == "level")
        periods.emplace_back(std::stoi(x[i].attrs.at("start")), std::stoi(x[i].attrs.at("end")));
      if (x[i].name == "spell")
        spell_list.emplace_back(std::stoi(x[i].attrs.at("start")), std::stoi(x[i].attrs.at("end")));
    }
    EXPECT_FALSE(periods.empty()) << "edge " << x[k].attrs.at("id") << " never at level >= 1";
    for (std::size_t i = 0; i < periods.size(); ++i) {
      EXPECT_LE(periods[i].first, periods[i].second);
      EXPECT_GE(periods[i].first, 0);
      EXPECT_LE(periods[i].second, last_day);
      if (i > 0) {
        EXPECT_LT(periods[i - 1].second, periods[i].first) << x[k].attrs.at("id");
      }
    }
    int covered = 0, spelled = 0;
    for (const auto& [s0, s1] : periods) covered += s1 - s0 + 1;
    for (const auto& [s0, s1] : spell_list) spelled += s1 - s0 + 1;
    EXPECT_EQ(covered, spelled) << "spells of " << x[k].attrs.at("id");
  }
  // A vanished tie's existence ends before the last day.
  for (const auto& [pair, level] : last_level) {
    if (!vanished.count(pair)) continue;
    for (std::size_t k = 0; k < x.size(); ++k) {
      if (x[k].name != "edge" || x[k].attrs.at("source") != pair.first ||
          x[k].attrs.at("target") != pair.second)
        continue;
      for (std::size_t i = k + 1; i < x.size() && x[i].name != "edge"; ++i) {
        if (x[i].name == "spell") {
          EXPECT_LT(std::stoi(x[i].attrs.at("end")), last_day);
        }
      }
    }
    break;
  }
  return vanished.size();
}

TEST_F(NetworkExportRun, ExportNetworkWritesValidGraphmlAndGexfMatchingTheCsvs) {
  std::size_t vanished = 0;
  for (const char* variant : {"networked", "fragmented"})
    vanished += check_export(tmp_ / variant, variant);
  EXPECT_GT(vanished, 0u) << "no tie of training-small ended at level 0: the GEXF timeline of "
                             "vanished ties is not exercised";
}

// `caremesh run --network-format` (registered in main.cpp) writes the same files as
// export-network does afterwards.
TEST_F(NetworkExportRun, RunWithNetworkFormatWritesTheSameFilesAsExportNetwork) {
  if (run_cli({"run", "--help"}).out.find("--network-format") == std::string::npos)
    GTEST_SKIP() << "caremesh run has no --network-format option (models/cli/main.cpp)";
  const fs::path a = tmp_ / "a", b = tmp_ / "b";
  CliResult r = run_cli({"run", kTrainingSmall, "--variant", "networked", "--ticks", "120", "--out",
                         a.string(), "--quiet", "--network-format", "graphml,gexf"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_cli({"run", kTrainingSmall, "--variant", "networked", "--ticks", "120", "--out",
               b.string(), "--quiet"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(b / "network.graphml"));
  r = run_cli({"export-network", b.string(), "--quiet"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  for (const char* f : {"network.graphml", "network.gexf"}) {
    ASSERT_TRUE(fs::exists(a / f)) << f;
    EXPECT_TRUE(read_text(a / f) == read_text(b / f)) << f << " differs";
  }
  r = run_cli({"run", kTrainingSmall, "--out", (tmp_ / "c").string(), "--quiet", "--network-format",
               "png"});
  EXPECT_EQ(r.status, 2) << "an unknown format is an invalid argument";
  EXPECT_FALSE(fs::exists(tmp_ / "c" / "summary.json")) << "refused before running";
}

TEST_F(NetworkExportRun, ExportNetworkRejectsBadArguments) {
  CliResult r = run_cli({"export-network", tmp_.string(), "--format", "dot"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("dot"), std::string::npos) << r.err;
  r = run_cli({"export-network", (tmp_ / "absent").string()});
  EXPECT_EQ(r.status, 2) << r.err;
  r = run_cli({"export-network", tmp_.string()});  // a directory without a run
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("organizations.csv"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "network.graphml"));
}

}  // namespace
