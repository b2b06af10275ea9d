// `caremesh report`: one self-contained HTML page of pictures for a run, a comparison or a
// sweep directory (docs/report.md).
//
// The page is written entirely here, charts included: SVG drawn in C++, a few lines of inline
// script for the network's time slider and the district map's metric chooser, inline CSS, and
// the data those two controls need embedded as JSON. It makes no request to any other address
// (a Content-Security-Policy meta tag forbids it), so it opens offline from a file or an email.
// Every string that comes from a scenario or an experiment (organization, district, network,
// variant, factor and metric names) is HTML-escaped in the markup; embedded JSON escapes
// `<`, `>`, `&` and U+2028/U+2029, so no string can close the <script> element.
//
// What it shows depends on the files found in the directory:
//   summary.json (caremesh run)     headline outcomes, the client journey funnel, time series
//                                   (timeseries.csv), the network with a time slider
//                                   (organizations.csv, network.csv, tie_changes.csv) and the
//                                   districts' map of problems (summary.json → by_district)
//   comparison.json (compare)       outcomes per variant with 95% CIs, the network's added
//                                   value S(Y), funnels per variant, network measures Y
//   sweep.json (sweep)              main effects (grid), response scatter plots and
//                                   sensitivity indices (lhs, morris, sobol)
// Files that are absent are skipped with their sections.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace cm::care {

struct Report {
  std::string html;
  std::vector<std::string> sections;  // ids of the <section> elements, in page order
  std::vector<std::string> sources;   // files of the directory the page was made from
};

// Builds the report of a directory. Throws std::invalid_argument when the directory holds
// none of summary.json, comparison.json and sweep.json, std::runtime_error for a file that
// cannot be read or parsed.
Report build_report(const std::filesystem::path& dir);

// Writes build_report(dir).html to file atomically; returns the report.
Report write_report(const std::filesystem::path& dir, const std::filesystem::path& file);

// Text for HTML markup (& < > " ' escaped; XML-forbidden control characters dropped).
std::string html_escape(std::string_view s);
// JSON text safe inside <script type="application/json">: '<', '>' and '&' as \u003c, \u003e,
// \u0026 (so "</script>" and "<!--" cannot occur), U+2028/U+2029 as \u2028/\u2029, invalid
// UTF-8 replaced, NaN as null.
std::string script_json(const nlohmann::ordered_json& j);

}  // namespace cm::care
