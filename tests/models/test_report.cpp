// `caremesh report` (models/socialcare/report/report.hpp): one self-contained HTML page for a run,
// a comparison and a sweep. The page must make no request to any other address (no http(s) URL, no
// src= or external href=, no <link>, no CSS url() or @import), must draw an SVG with marks in every
// section, must carry the network time slider and the district chooser, and must escape every
// scenario string: a hostile organization, district and network name never appears raw, and
// embedded JSON cannot close its <script> element.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "models/socialcare/exports/network_export.hpp"
#include "models/socialcare/report/report.hpp"
#include "tests/support/cli.hpp"

namespace {

namespace fs = std::filesystem;
using namespace cm::care;

const std::string kTrainingSmall = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";
const std::string kHostileOrg = "<script>alert(1)</script> & \"x\"";
const std::string kHostileDistrict = "S\xC3\xB3uth</svg><b onclick=\"y\">";
const std::string kHostileNetwork = "Town </script><!-- network";

using cm::test::CliResult;
using cm::test::read_text;
using cm::test::run_cli;
using cm::test::write_text;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The text of <section id="ID"> ... </section>, or "" when absent.
std::string section(const std::string& html, const std::string& id) {
  const std::size_t from = html.find("<section id=\"" + id + "\"");
  if (from == std::string::npos) return {};
  const std::size_t to = html.find("</section>", from);
  return html.substr(from, to == std::string::npos ? std::string::npos : to - from);
}

// For every start tag ("<" and a letter, up to the next ">") with the attribute `name` (any
// case, after white space, then "="): its value when double-quoted, else "". Scanned by hand:
// libstdc++'s std::regex recurses once per character matched, and a long tag overflowed the
// stack (found by AddressSanitizer).
std::vector<std::pair<bool, std::string>> attributes(const std::string& html,
                                                     const std::string& name) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  std::vector<std::pair<bool, std::string>> found;
  for (std::size_t p = html.find('<'); p != std::string::npos; p = html.find('<', p + 1)) {
    if (p + 1 >= html.size() || !std::isalpha(static_cast<unsigned char>(html[p + 1]))) continue;
    std::string tag = html.substr(p, html.find('>', p) - p);
    for (char& c : tag) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::size_t a = tag.find(name); a != std::string::npos; a = tag.find(name, a + 1)) {
      std::size_t v = a + name.size();
      while (v < tag.size() && space(tag[v])) ++v;
      if (!space(tag[a - 1]) || v >= tag.size() || tag[v] != '=') continue;
      for (++v; v < tag.size() && space(tag[v]);) ++v;
      const bool quoted = v < tag.size() && tag[v] == '"';
      const std::size_t close = quoted ? tag.find('"', v + 1) : v;
      found.emplace_back(quoted && close != std::string::npos,
                         quoted ? html.substr(p + v + 1, close - v - 1) : std::string());
    }
  }
  return found;
}

// Everything a browser could fetch from elsewhere.
void expect_self_contained(const std::string& html) {
  for (const char* bad : {"http://", "https://", "<link", "@import", "url(", "<img", "<iframe",
                          "<object", "<embed", "//cdn", "xlink:href"})
    EXPECT_EQ(html.find(bad), std::string::npos) << "the page contains " << bad;
  // No tag has a src attribute, and every href is a link inside the page.
  EXPECT_TRUE(attributes(html, "src").empty()) << "a tag with src=";
  for (const auto& [quoted, value] : attributes(html, "href"))
    if (quoted) {
      EXPECT_EQ(value.rfind("#", 0), 0u) << "external href " << value;
    }
  // Exactly our two scripts: the data and the inline code, neither with a src.
  EXPECT_EQ(occurrences(html, "<script"), 2u);
  EXPECT_EQ(occurrences(html, "</script>"), 2u);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
}

// A section that draws: an <svg> with marks in it.
void expect_drawn(const std::string& html, const std::string& id) {
  const std::string s = section(html, id);
  ASSERT_FALSE(s.empty()) << "no section " << id;
  EXPECT_NE(s.find("<svg"), std::string::npos) << id << " has no <svg>";
  const std::size_t marks = occurrences(s, "<path") + occurrences(s, "<circle") +
                            occurrences(s, "<rect") + occurrences(s, "<line");
  EXPECT_GT(marks, 0u) << id << " draws nothing";
  EXPECT_GT(occurrences(s, "<text"), 0u) << id << " has no labels";
}

class ReportCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    tmp_ = fs::temp_directory_path() /
           ("caremesh_report_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  // `caremesh run` of training-small into tmp/name.
  fs::path run(const std::string& name, const std::vector<std::string>& extra,
               const std::string& scenario = kTrainingSmall) {
    std::vector<std::string> args = {"run", scenario, "--out", (tmp_ / name).string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return tmp_ / name;
  }
  std::string report(const fs::path& dir) {
    const fs::path out = dir / "report.html";
    const CliResult r = run_cli({"report", dir.string(), "-o", out.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("report.html"), std::string::npos) << r.out;
    return read_text(out);
  }
  fs::path tmp_;
};

// ---- escaping -----------------------------------------------------------------------------

TEST(ReportText, HtmlEscapeLeavesNoMarkup) {
  const std::string e = html_escape(kHostileOrg);
  EXPECT_EQ(e, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;");
  EXPECT_EQ(html_escape("it's"), "it&#39;s");
}

TEST(ReportText, ScriptJsonCannotCloseItsScriptElement) {
  nlohmann::ordered_json j;
  j["name"] = kHostileOrg + " <!-- \xE2\x80\xA8 \xE2\x80\xA9";
  j["nan"] = std::numeric_limits<double>::quiet_NaN();
  j["bad"] = std::string("\xFF\xFE");
  const std::string s = script_json(j);
  for (const char* bad : {"</", "<!--", "<", ">", "&", "\xE2\x80\xA8", "\xE2\x80\xA9"})
    EXPECT_EQ(s.find(bad), std::string::npos) << bad << " in " << s;
  // It is still the same JSON.
  const auto back = nlohmann::json::parse(s);
  EXPECT_EQ(back["name"].get<std::string>(), j["name"].get<std::string>());
  EXPECT_TRUE(back["nan"].is_null());
  EXPECT_TRUE(back["bad"].is_string());
}

// ---- a run --------------------------------------------------------------------------------

TEST_F(ReportCommand, RunReportIsSelfContainedAndDrawsEverySection) {
  const fs::path dir = run("net", {"--variant", "networked"});
  const std::string html = report(dir);
  ASSERT_FALSE(html.empty());
  expect_self_contained(html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>"), std::string::npos);
  EXPECT_NE(html.find("What this shows"), std::string::npos);
  for (const char* id : {"headline", "journey", "time-series", "network", "districts"})
    expect_drawn(html, id);

  const auto summary = nlohmann::json::parse(read_text(dir / "summary.json"));
  const int ticks = summary["ticks"].get<int>();
  const CsvTable orgs = read_csv_file(dir / "organizations.csv");
  const CsvTable ties = read_csv_file(dir / "network.csv");

  // The network: one node per organization, one line per tie (final ones visible), a slider
  // over the days and the element that tells the day.
  const std::string net = section(html, "network");
  EXPECT_EQ(occurrences(net, "<circle class=\"org"), orgs.rows.size());
  EXPECT_GE(occurrences(net, "<line class=\"tie\""), ties.rows.size());
  EXPECT_EQ(occurrences(net, "<line class=\"tie\"") - occurrences(net, "visibility=\"hidden\""),
            ties.rows.size());
  EXPECT_NE(net.find("type=\"range\" id=\"network-time\" min=\"0\" max=\"" + std::to_string(ticks) +
                     "\""),
            std::string::npos);
  EXPECT_NE(net.find("id=\"network-day\""), std::string::npos);
  EXPECT_NE(net.find("id=\"network-tie-summary\">" + std::to_string(ties.rows.size()) + " ties"),
            std::string::npos);
  for (const char* colour : {"#2e7d32", "#ef6c00", "#0d3b82"})  // the seeds' legend
    EXPECT_NE(net.find(colour), std::string::npos) << colour;

  // The time slider's data: one history per drawn tie.
  const std::size_t data_at = html.find("<script type=\"application/json\" id=\"report-data\">");
  ASSERT_NE(data_at, std::string::npos);
  const std::size_t open = html.find('>', data_at) + 1;
  const auto data = nlohmann::json::parse(html.substr(open, html.find("</script>", open) - open));
  EXPECT_EQ(data["network"]["edges"].size(), occurrences(net, "<line class=\"tie\""));
  EXPECT_EQ(data["network"]["ticks"].get<int>(), ticks);

  // The districts: a tile per district and a metric chooser listing by_district's measures.
  const std::string d = section(html, "districts");
  const auto& by_district = summary["metrics"]["by_district"];
  EXPECT_EQ(occurrences(d, "id=\"district-tile-"), by_district.size());
  EXPECT_NE(d.find("<select id=\"district-metric\">"), std::string::npos);
  for (const auto& [metric, v] : by_district.begin().value().items())
    EXPECT_NE(d.find("<option value=\"" + metric + "\""), std::string::npos) << metric;

  // Time series: waits, queues, states, ties by level.
  const std::string ts = section(html, "time-series");
  EXPECT_GE(occurrences(ts, "<svg"), 4u);
  EXPECT_GE(occurrences(ts, "class=\"area\""), 8u);  // stacked states and tie levels
}

TEST_F(ReportCommand, HostileScenarioStringsAreEscaped) {
  std::string yaml = read_text(kTrainingSmall);
  auto replace_all = [&](const std::string& from, const std::string& to) {
    std::size_t n = 0;
    for (std::size_t at = yaml.find(from); at != std::string::npos;
         at = yaml.find(from, at + to.size()), ++n)
      yaml.replace(at, from.size(), to);
    return n;
  };
  // YAML single quotes keep the strings literal.
  auto quoted = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
    return q + "'";
  };
  ASSERT_EQ(replace_all("name: Family Foundation", "name: " + quoted(kHostileOrg)), 1u);
  ASSERT_GT(replace_all("South", quoted(kHostileDistrict)), 1u);
  ASSERT_GT(replace_all("Town network", quoted(kHostileNetwork)), 0u);
  const fs::path scenario = tmp_ / "hostile.yaml";
  write_text(scenario, yaml);
  const fs::path dir = run("hostile", {"--variant", "networked"}, scenario.string());
  ASSERT_TRUE(fs::exists(dir / "summary.json"));
  ASSERT_NE(read_text(dir / "organizations.csv").find("alert(1)"), std::string::npos);
  const std::string html = report(dir);
  ASSERT_FALSE(html.empty());
  for (const std::string& raw : {kHostileOrg, kHostileDistrict, kHostileNetwork,
                                 std::string("<script>alert"), std::string("<b onclick")})
    EXPECT_EQ(html.find(raw), std::string::npos) << "raw string in the page: " << raw;
  EXPECT_NE(html.find(html_escape(kHostileOrg)), std::string::npos) << "the name is shown";
  EXPECT_NE(html.find(html_escape(kHostileDistrict)), std::string::npos);
  expect_self_contained(html);
  for (const char* id : {"headline", "network", "districts"}) expect_drawn(html, id);

  // The network exports escape them too.
  const CliResult r = run_cli({"export-network", dir.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* f : {"network.graphml", "network.gexf"}) {
    const std::string xml = read_text(dir / f);
    EXPECT_EQ(xml.find(kHostileOrg), std::string::npos) << f;
    EXPECT_NE(xml.find(html_escape(kHostileOrg)), std::string::npos) << f;
  }
}

TEST_F(ReportCommand, RunWithoutCsvFilesKeepsTheSectionsItCanDraw) {
  const fs::path dir = run("full", {});
  const fs::path only = tmp_ / "only-summary";
  fs::create_directories(only);
  fs::copy_file(dir / "summary.json", only / "summary.json");
  const std::string html = report(only);
  expect_self_contained(html);
  expect_drawn(html, "headline");
  expect_drawn(html, "journey");
  expect_drawn(html, "districts");
  EXPECT_TRUE(section(html, "network").empty());
  EXPECT_TRUE(section(html, "time-series").empty());
  EXPECT_EQ(html.find("id=\"network-time\""), std::string::npos);
}

TEST_F(ReportCommand, DirectoryWithoutResultsIsRefused) {
  const CliResult r = run_cli({"report", tmp_.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("summary.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "report.html"));
  EXPECT_THROW(build_report(tmp_), std::invalid_argument);
}

// ---- a comparison and a sweep -------------------------------------------------------------

TEST_F(ReportCommand, ComparisonReportShowsVariantsWithIntervalsAndAddedValue) {
  const fs::path dir = tmp_ / "cmp";
  const CliResult c =
      run_cli({"compare", kTrainingSmall, "--variants", "fragmented,networked", "--replications",
               "2", "--ticks", "200", "--out", dir.string(), "--quiet"});
  ASSERT_EQ(c.status, 0) << c.err;
  ASSERT_TRUE(fs::exists(dir / "comparison.json"));
  const std::string html = report(dir);
  expect_self_contained(html);
  for (const char* id : {"headline", "added-value", "journey"}) expect_drawn(html, id);
  const std::string head = section(html, "headline");
  EXPECT_NE(head.find("fragmented"), std::string::npos);
  EXPECT_NE(head.find("networked"), std::string::npos);
  EXPECT_GT(occurrences(head, "class=\"ci\""), 0u) << "confidence interval bars";
  const std::string sy = section(html, "added-value");
  EXPECT_NE(sy.find("S(Y)"), std::string::npos);
  EXPECT_NE(sy.find("networked vs fragmented"), std::string::npos);
  EXPECT_GT(occurrences(sy, "class=\"dot\""), 0u);
}

TEST_F(ReportCommand, ComparisonVariantNamesAreEscaped) {
  // A comparison.json as caremesh compare writes it, with hostile variant names.
  const std::string base = "<b>base</b>", var = "v</script><script>alert(2)</script>";
  nlohmann::ordered_json j;
  j["baseline"] = base;
  j["replications"] = 3;
  j["variants"] = {base, var};
  j["scenario"] = {{"name", "<i>s</i>"}};
  auto stats = [](double m) {
    return nlohmann::ordered_json{
        {"n", 3}, {"mean", m}, {"sd", 0.1}, {"ci_low", m - 0.05}, {"ci_high", m + 0.05}};
  };
  for (const char* m : {"complete_package_share", "dropout_share", "mean_tie_level"}) {
    j["metrics"][m]["role"] = std::string(m) == "mean_tie_level" ? "network" : "outcome";
    j["metrics"][m]["variants"][base] = stats(0.4);
    j["metrics"][m]["variants"][var] = stats(0.5);
    j["metrics"][m]["differences"][var] = {
        {"n", 3}, {"mean", 0.1}, {"ci_low", 0.02}, {"ci_high", 0.18}, {"half_width", 0.08}};
  }
  j["added_value"][var]["outcomes"]["complete_package_share"] = {
      {"X", 0.4},        {"S", 0.1},         {"ci_low", 0.02},       {"ci_high", 0.18},
      {"X_plus_S", 0.5}, {"relative", 0.25}, {"excludes_zero", true}};
  j["added_value"][var]["network"]["mean_tie_level"] = {
      {"baseline", 0.4}, {"variant", 0.5}, {"difference", 0.1}, {"ci_low", 0.0}, {"ci_high", 0.2}};
  write_text(tmp_ / "comparison.json", j.dump(2));
  const std::string html = build_report(tmp_).html;
  for (const std::string& raw : {base, var, std::string("<i>s</i>"), std::string("alert(2)</")})
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  EXPECT_NE(html.find(html_escape(var)), std::string::npos);
  expect_self_contained(html);
  for (const char* id : {"headline", "added-value", "journey"}) expect_drawn(html, id);
}

TEST_F(ReportCommand, SweepReportShowsMainEffectsAndSensitivity) {
  const fs::path design = tmp_ / "design.yaml";
  write_text(design,
             "method: grid\nreplications: 1\nmetrics: [complete_package_share]\nfactors:\n"
             "  - {path: tie_policy.max_level, levels: [1, 4], integer: true}\n");
  const fs::path dir = tmp_ / "sweep";
  const CliResult c = run_cli({"sweep", kTrainingSmall, "--design", design.string(), "--ticks",
                               "200", "--out", dir.string(), "--quiet"});
  ASSERT_EQ(c.status, 0) << c.err;
  ASSERT_TRUE(fs::exists(dir / "sweep.json"));
  const std::string html = report(dir);
  expect_self_contained(html);
  expect_drawn(html, "sweep-effects");
  expect_drawn(html, "sweep-sensitivity");
  EXPECT_NE(section(html, "sweep-effects").find("tie_policy.max_level"), std::string::npos);
  EXPECT_GE(occurrences(section(html, "sweep-effects"), "class=\"marker\""), 2u);
}

TEST_F(ReportCommand, SensitivityIndicesOfOtherDesignsAreDrawn) {
  // sweep.json shapes of the sobol, morris and lhs analyses.
  nlohmann::ordered_json j;
  j["method"] = "sobol";
  j["points"] = 4;
  j["replications"] = 1;
  j["factors"] = {{{"path", "a.b"}, {"low", 0}, {"high", 1}},
                  {{"path", "c<d>"}, {"low", 0}, {"high", 1}}};
  j["metrics"] = {"complete_package_share", "dropout_share", "needs_met_share"};
  auto iv = [](double v) {
    return nlohmann::ordered_json{
        {"value", v}, {"se", 0.1}, {"ci_low", v - 0.1}, {"ci_high", v + 0.1}};
  };
  j["analysis"]["complete_package_share"]["sobol"]["a.b"] = {{"first", iv(0.3)},
                                                             {"total", iv(0.5)}};
  j["analysis"]["complete_package_share"]["sobol"]["c<d>"] = {{"first", iv(0.1)},
                                                              {"total", iv(0.2)}};
  j["analysis"]["dropout_share"]["morris"]["a.b"] = {
      {"mu", 0.1}, {"mu_star", iv(0.2)}, {"sigma", 0.05}};
  j["analysis"]["needs_met_share"]["regression"] = {
      {"r_squared", 0.5},
      {"factors", {{"a.b", {{"src", 0.4}, {"src_ci_low", 0.1}, {"src_ci_high", 0.7}}}}}};
  j["design"] = nlohmann::ordered_json::array();
  for (int r = 0; r < 4; ++r)
    j["design"].push_back({{"point", "p" + std::to_string(r)},
                           {"values", {0.25 * r, 1 - 0.25 * r}},
                           {"complete_package_share", 0.5 + 0.01 * r},
                           {"dropout_share", 0.1},
                           {"needs_met_share", 0.6}});
  write_text(tmp_ / "sweep.json", j.dump());
  const cm::care::Report r = build_report(tmp_);
  EXPECT_EQ(r.sections, (std::vector<std::string>{"sweep-effects", "sweep-sensitivity"}));
  expect_self_contained(r.html);
  expect_drawn(r.html, "sweep-effects");
  expect_drawn(r.html, "sweep-sensitivity");
  const std::string s = section(r.html, "sweep-sensitivity");
  EXPECT_NE(s.find("Sobol"), std::string::npos);
  EXPECT_NE(s.find("Morris"), std::string::npos);
  EXPECT_NE(s.find("regression"), std::string::npos);
  EXPECT_EQ(r.html.find("c<d>"), std::string::npos);
  EXPECT_NE(r.html.find("c&lt;d&gt;"), std::string::npos);
}

}  // namespace
