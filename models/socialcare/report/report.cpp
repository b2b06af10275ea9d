#include "models/socialcare/report/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numbers>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "caremesh_assets.hpp"
#include "caremesh_version.hpp"
#include "engine/output.hpp"
#include "models/socialcare/exports/network_export.hpp"
#include "models/socialcare/metrics.hpp"

namespace cm::care {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string html_escape(std::string_view s) {
  return xml_escape(s);
}

std::string script_json(const Json& j) {
  const std::string text = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // '<', '>' and '&' only occur inside JSON strings, where \uXXXX means the same.
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// Formatting.

std::string esc(std::string_view s) {
  return xml_escape(s);
}

// A coordinate: one decimal, no "-0.0".
std::string px(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s == "-0.0") s = "0.0";
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

// A share (shown as a percentage): the registry's unit (metrics.hpp); for names it does not
// hold (breakdown columns), by the name.
bool is_share(std::string_view m) {
  if (const auto* rep = measures().find(m)) return rep->info.unit == "share";
  return m.ends_with("_share");
}

// A number for people: 3 significant digits, no exponent for ordinary magnitudes.
std::string fmt_num(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "n/a" : (v > 0 ? "∞" : "−∞");
  char buf[64];
  const double a = std::fabs(v);
  if (a >= 100 || (v == std::round(v) && a < 1e15))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (a >= 10)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  std::string s = buf;
  if (s == "-0") s = "0";
  return s;
}

std::string fmt_metric(std::string_view metric, double v) {
  if (is_share(metric) && std::isfinite(v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
    return buf;
  }
  return fmt_num(v);
}

// Difference of a metric: percentage points for shares.
std::string fmt_diff(std::string_view metric, double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  if (is_share(metric))
    std::snprintf(buf, sizeof buf, "%+.1f pp", v * 100);
  else
    std::snprintf(buf, sizeof buf, "%s%s", v > 0 ? "+" : "", fmt_num(v).c_str());
  return buf;
}

// A spread of a metric (never negative): percentage points for shares.
std::string fmt_span(std::string_view metric, double v) {
  if (!std::isfinite(v) || !is_share(metric)) return fmt_num(v);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f pp", v * 100);
  return buf;
}

// "complete_package_share" → "complete package share".
std::string pretty(std::string_view m) {
  std::string s(m);
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

// The first n code points of a UTF-8 string, with "…" when cut.
std::string truncate_utf8(const std::string& s, std::size_t n) {
  std::size_t count = 0, i = 0;
  while (i < s.size()) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == n) return s.substr(0, i) + "…";
      ++count;
    }
    ++i;
  }
  return s;
}

// j[key], or null when j is not an object or has no such key.
const Json& child(const Json& j, std::string_view key) {
  static const Json null;
  if (!j.is_object()) return null;
  const auto it = j.find(key);
  return it == j.end() ? null : *it;
}

double get_number(const Json& j, std::string_view key) {
  if (!j.is_object()) return kNaN;
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
}

double to_double(const std::string& s) {
  if (s.empty()) return kNaN;
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    return used == s.size() ? v : kNaN;
  } catch (const std::exception&) {
    return kNaN;
  }
}

// Metrics without a better direction, and those where a smaller value is better (the
// registry's direction, metrics.hpp).
bool neutral(std::string_view m) {
  const auto* rep = measures().find(m);
  return rep != nullptr && rep->info.direction == Direction::none;
}
bool lower_is_better(std::string_view m) {
  const auto* rep = measures().find(m);
  return rep != nullptr && rep->info.direction == Direction::lower_is_better;
}

// ---------------------------------------------------------------------------------------------
// Colours.

// Informal levels grey, tactical teal, formal magenta: darker as the effort grows.
const char* const kLevelColour[8] = {"#e0e0e0", "#bdbdbd", "#8c8c8c", "#80cdc1",
                                     "#35978f", "#01665e", "#c51b7d", "#8e0152"};
double level_width(int l) {
  return l <= 0 ? 0.0 : 0.6 + 0.55 * l;
}
double level_opacity(int l) {
  return l <= 0 ? 0.0 : 0.22 + 0.1 * l;
}
const char* const kLevelName[8] = {"no relationship",
                                   "irregular information exchange",
                                   "exchange of information and advice",
                                   "client referral",
                                   "regular meetings",
                                   "sharing resources",
                                   "formal agreements",
                                   "strategic partnership"};

const char* const kVariantColour[] = {"#455a64", "#1e88e5", "#8e24aa", "#c62828",
                                      "#00897b", "#6d4c41", "#d81b60", "#3949ab"};
const char* variant_colour(std::size_t i) {
  return kVariantColour[i % (sizeof kVariantColour / sizeof *kVariantColour)];
}

const char* const kSeriesColour[] = {"#1e88e5", "#e53935", "#43a047", "#8e24aa",
                                     "#fb8c00", "#00acc1", "#6d4c41", "#546e7a"};

// The district map's ramp (also given to the script).
const char* const kRamp[3] = {"#f3f6fb", "#7fa7d1", "#16406f"};

int hex_channel(const char* hex, int k) {
  return std::stoi(std::string(hex + 1 + 2 * k, 2), nullptr, 16);
}

std::string ramp_colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const char* a = t < 0.5 ? kRamp[0] : kRamp[1];
  const char* b = t < 0.5 ? kRamp[1] : kRamp[2];
  const double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
  char buf[16];
  int c[3];
  for (int k = 0; k < 3; ++k)
    c[k] = static_cast<int>(
        std::lround(hex_channel(a, k) + (hex_channel(b, k) - hex_channel(a, k)) * u));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Scales and axes.

struct Scale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double operator()(double v) const {
    if (d1 == d0) return (r0 + r1) / 2;
    return r0 + (v - d0) / (d1 - d0) * (r1 - r0);
  }
};

double nice_step(double span, int target) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  const double raw = span / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

// Extends [lo, hi] to multiples of a nice step; returns the ticks.
std::vector<double> nice_ticks(double& lo, double& hi, int target = 5) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, target);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> t;
  for (double v = lo; v <= hi + step * 1e-6 && t.size() < 50; v += step)
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

std::string tick_text(double v, bool percent) {
  if (percent) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g%%", std::round(v * 1000) / 10);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

std::string svg_open(int w, int h, const std::string& label, const std::string& id = {},
                     const std::string& cls = "chart") {
  std::string s = "<svg";
  if (!id.empty()) s += " id=\"" + id + "\"";
  s += " class=\"" + cls + "\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
       "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
       "\" role=\"img\" aria-label=\"" + esc(label) + "\" preserveAspectRatio=\"xMidYMid meet\">";
  return s;
}

std::string text_el(double x, double y, const std::string& content, const std::string& anchor,
                    const std::string& cls = {}, const std::string& extra = {}) {
  std::string s = "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"";
  if (anchor != "start") s += " text-anchor=\"" + anchor + "\"";
  if (!cls.empty()) s += " class=\"" + cls + "\"";
  if (!extra.empty()) s += " " + extra;
  return s + ">" + content + "</text>";
}

std::string legend_html(const std::vector<std::pair<std::string, std::string>>& items,
                        bool lines = false) {
  std::string s = "<div class=\"legend\">";
  for (const auto& [name, colour] : items)
    s += "<span class=\"key\"><i class=\"" + std::string(lines ? "swatch line" : "swatch") +
         "\" style=\"background:" + colour + "\"></i>" + esc(name) + "</span>";
  return s + "</div>";
}

std::string figure(const std::string& title, const std::string& body,
                   const std::string& caption = {}, const std::string& cls = "figure") {
  std::string s = "<figure class=\"" + cls + "\"><figcaption><strong>" + esc(title) + "</strong>";
  if (!caption.empty()) s += " <span class=\"note\">" + caption + "</span>";
  return s + "</figcaption>" + body + "</figure>";
}

// ---------------------------------------------------------------------------------------------
// XY charts: time series (lines or stacked areas), main effects, scatter plots.

struct XySeries {
  std::string name;
  std::vector<double> x, y;
  std::string colour;
  bool line = true, markers = false, dashed = false;
  std::vector<std::string> labels;  // per point (scatter labels), optional
};

XySeries make_series(std::string name, std::vector<double> x, std::vector<double> y,
                     std::string colour) {
  XySeries s;
  s.name = std::move(name);
  s.x = std::move(x);
  s.y = std::move(y);
  s.colour = std::move(colour);
  return s;
}

struct XyChart {
  std::string title, caption, x_label, y_label;
  std::vector<XySeries> series;
  bool stacked = false;                       // areas stacked in series order (same x for all)
  bool percent = false;                       // y ticks as percentages
  bool y_from_zero = true;                    // include 0 in the y range
  bool x_from_zero = false;                   // include 0 in the x range
  bool x_nice = false;                        // extend the x range to round ticks (scatter plots)
  double shade_from = kNaN, shade_to = kNaN;  // an x band to shade
  std::string shade_label;
  int width = 720, height = 250;
  bool legend = true;
};

// Averages consecutive points so a series has at most max_points.
void thin(std::vector<double>& x, std::vector<double>& y, std::size_t max_points = 1000) {
  if (x.size() <= max_points) return;
  const std::size_t k = (x.size() + max_points - 1) / max_points;
  std::vector<double> nx, ny;
  for (std::size_t i = 0; i < x.size(); i += k) {
    double sx = 0, sy = 0;
    std::size_t n = 0, ny_n = 0;
    for (std::size_t j = i; j < std::min(x.size(), i + k); ++j) {
      sx += x[j];
      ++n;
      if (std::isfinite(y[j])) sy += y[j], ++ny_n;
    }
    nx.push_back(sx / static_cast<double>(n));
    ny.push_back(ny_n ? sy / static_cast<double>(ny_n) : kNaN);
  }
  x = std::move(nx);
  y = std::move(ny);
}

std::string render_xy(XyChart c) {
  for (auto& s : c.series) thin(s.x, s.y);
  const double ml = 62, mr = 18, mt = 14, mb = 42;
  const double W = c.width, H = c.height;
  double x0 = c.x_from_zero ? 0.0 : kNaN, x1 = c.x_from_zero ? 0.0 : kNaN;
  double y0 = c.y_from_zero ? 0.0 : kNaN, y1 = c.y_from_zero ? 0.0 : kNaN;
  auto widen = [](double& lo, double& hi, double v) {
    if (!std::isfinite(v)) return;
    lo = std::isfinite(lo) ? std::min(lo, v) : v;
    hi = std::isfinite(hi) ? std::max(hi, v) : v;
  };
  std::vector<std::vector<double>> lower, upper;
  if (c.stacked) {
    std::vector<double> acc;
    for (const auto& s : c.series) {
      if (acc.size() < s.y.size()) acc.resize(s.y.size(), 0.0);
      lower.push_back(acc);
      for (std::size_t i = 0; i < s.y.size(); ++i)
        acc[i] += std::isfinite(s.y[i]) ? std::max(0.0, s.y[i]) : 0.0;
      upper.push_back(acc);
      for (double v : acc) widen(y0, y1, v);
    }
  }
  for (const auto& s : c.series) {
    for (double v : s.x) widen(x0, x1, v);
    if (!c.stacked)
      for (double v : s.y) widen(y0, y1, v);
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (!std::isfinite(y0)) y0 = 0, y1 = 1;
  if (x0 == x1) x0 -= 0.5, x1 += 0.5;
  const auto yt = nice_ticks(y0, y1, 5);
  double xa = x0, xb = x1;
  auto xt = nice_ticks(xa, xb, std::max(3, c.width / 110));
  if (c.x_nice) x0 = xa, x1 = xb;
  const Scale sx{x0, x1, ml, W - mr}, sy{y0, y1, H - mb, mt};
  std::string s = svg_open(c.width, c.height, c.title);
  if (std::isfinite(c.shade_from) && std::isfinite(c.shade_to) && c.shade_to > c.shade_from) {
    const double a = sx(std::clamp(c.shade_from, x0, x1)), b = sx(std::clamp(c.shade_to, x0, x1));
    s += "<rect class=\"shade\" x=\"" + px(a) + "\" y=\"" + px(mt) + "\" width=\"" + px(b - a) +
         "\" height=\"" + px(H - mb - mt) + "\"/>";
    if (!c.shade_label.empty())
      s += text_el((a + b) / 2, mt + 11, esc(c.shade_label), "middle", "shade-label");
  }
  for (double v : yt) {
    const double y = sy(v);
    s += "<line class=\"grid\" x1=\"" + px(ml) + "\" x2=\"" + px(W - mr) + "\" y1=\"" + px(y) +
         "\" y2=\"" + px(y) + "\"/>";
    s += text_el(ml - 6, y + 4, tick_text(v, c.percent), "end", "tick");
  }
  for (double v : xt) {
    if (v < x0 - 1e-9 || v > x1 + 1e-9) continue;
    const double x = sx(v);
    s += "<line class=\"axis\" x1=\"" + px(x) + "\" x2=\"" + px(x) + "\" y1=\"" + px(H - mb) +
         "\" y2=\"" + px(H - mb + 4) + "\"/>";
    s += text_el(x, H - mb + 16, tick_text(v, false), "middle", "tick");
  }
  s += "<line class=\"axis\" x1=\"" + px(ml) + "\" x2=\"" + px(W - mr) + "\" y1=\"" + px(H - mb) +
       "\" y2=\"" + px(H - mb) + "\"/>";
  s += "<line class=\"axis\" x1=\"" + px(ml) + "\" x2=\"" + px(ml) + "\" y1=\"" + px(mt) +
       "\" y2=\"" + px(H - mb) + "\"/>";
  s += text_el((ml + W - mr) / 2, H - 6, esc(c.x_label), "middle", "axis-label");
  s += text_el(14, (mt + H - mb) / 2, esc(c.y_label), "middle", "axis-label",
               "transform=\"rotate(-90 14 " + px((mt + H - mb) / 2) + ")\"");

  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const XySeries& se = c.series[k];
    const std::size_t n = std::min(se.x.size(), se.y.size());
    if (c.stacked) {
      if (n == 0) continue;
      std::string d;
      for (std::size_t i = 0; i < n; ++i)
        d += (i ? "L" : "M") + px(sx(se.x[i])) + "," + px(sy(upper[k][i]));
      for (std::size_t i = n; i-- > 0;) d += "L" + px(sx(se.x[i])) + "," + px(sy(lower[k][i]));
      s += "<path class=\"area\" d=\"" + d + "Z\" fill=\"" + se.colour + "\"><title>" +
           esc(se.name) + "</title></path>";
      continue;
    }
    if (se.line) {
      std::string d;
      bool pen = false;
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(se.y[i]) || !std::isfinite(se.x[i])) {
          pen = false;
          continue;
        }
        d += (pen ? "L" : "M") + px(sx(se.x[i])) + "," + px(sy(se.y[i]));
        pen = true;
      }
      if (!d.empty())
        s += "<path class=\"series\" d=\"" + d + "\" stroke=\"" + se.colour + "\"" +
             (se.dashed ? " stroke-dasharray=\"5 3\"" : "") + "><title>" + esc(se.name) +
             "</title></path>";
    }
    if (se.markers)
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(se.y[i]) || !std::isfinite(se.x[i])) continue;
        s += "<circle class=\"marker\" cx=\"" + px(sx(se.x[i])) + "\" cy=\"" + px(sy(se.y[i])) +
             "\" r=\"3.5\" fill=\"" + se.colour + "\"><title>" + esc(se.name) + ": " +
             fmt_num(se.x[i]) + " → " + fmt_num(se.y[i]) + "</title></circle>";
        if (i < se.labels.size() && !se.labels[i].empty())
          s += text_el(sx(se.x[i]) + (sx(se.x[i]) > W * 0.6 ? -6 : 6), sy(se.y[i]) - 6,
                       esc(truncate_utf8(se.labels[i], 32)),
                       sx(se.x[i]) > W * 0.6 ? "end" : "start", "point-label");
      }
  }
  s += "</svg>";
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& se : c.series) keys.emplace_back(se.name, se.colour);
  if (c.legend && (c.series.size() > 1 || c.stacked)) s += legend_html(keys, !c.stacked);
  return figure(c.title, s, c.caption);
}

// ---------------------------------------------------------------------------------------------
// Horizontal bars and intervals.

struct Bar {
  std::string label;
  double value = kNaN, lo = kNaN, hi = kNaN;
  std::string colour = "#455a64";
  std::string text;   // value label (default: the formatted value)
  std::string group;  // a heading row is drawn where the group changes
  std::string title;  // tooltip
};

struct BarChart {
  std::string title, caption, x_label;
  std::vector<Bar> bars;
  bool dots = false;     // a dot at the value (interval plots) instead of a bar from 0
  bool percent = false;  // axis ticks as percentages
  double min = kNaN, max = kNaN;
  int width = 720, label_width = 230;
  std::vector<std::pair<std::string, std::string>> legend;
};

std::string render_bars(const BarChart& c) {
  const double row = 22, head = 20, mt = 10, mb = 40, mr = 90;
  const double ml = c.label_width;
  double lo = c.min, hi = c.max;
  auto widen = [&](double v) {
    if (!std::isfinite(v)) return;
    lo = std::isfinite(lo) ? std::min(lo, v) : v;
    hi = std::isfinite(hi) ? std::max(hi, v) : v;
  };
  if (!c.dots) widen(0);
  for (const Bar& b : c.bars) {
    widen(b.value);
    widen(b.lo);
    widen(b.hi);
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (std::isfinite(c.min)) lo = c.min;  // fixed ends: intervals are clipped to them
  if (std::isfinite(c.max)) hi = c.max;
  if (c.dots && lo < 0 && hi > 0) {  // symmetric around zero for differences
    const double m = std::max(-lo, hi);
    lo = -m;
    hi = m;
  }
  const auto ticks = nice_ticks(lo, hi, 6);
  double height = mt + mb;
  std::string last_group;
  for (const Bar& b : c.bars) {
    if (!b.group.empty() && b.group != last_group) height += head;
    last_group = b.group;
    height += row;
  }
  const Scale sx{lo, hi, ml, c.width - mr};
  std::string s = svg_open(c.width, static_cast<int>(height), c.title);
  for (double v : ticks) {
    const double x = sx(v);
    s += "<line class=\"grid" + std::string(v == 0 ? " zero" : "") + "\" x1=\"" + px(x) +
         "\" x2=\"" + px(x) + "\" y1=\"" + px(mt) + "\" y2=\"" + px(height - mb) + "\"/>";
    s += text_el(x, height - mb + 16, tick_text(v, c.percent), "middle", "tick");
  }
  s += text_el((ml + c.width - mr) / 2, height - 6, esc(c.x_label), "middle", "axis-label");
  double y = mt;
  last_group.clear();
  for (const Bar& b : c.bars) {
    if (!b.group.empty() && b.group != last_group) {
      s += text_el(8, y + 15, esc(b.group), "start", "group-label");
      y += head;
    }
    last_group = b.group;
    const double cy = y + row / 2;
    s += "<g class=\"bar-row\">";
    if (!b.title.empty()) s += "<title>" + esc(b.title) + "</title>";
    s += text_el(ml - 8, cy + 4, esc(truncate_utf8(b.label, 40)), "end", "bar-label");
    if (std::isfinite(b.value)) {
      if (!c.dots) {
        const double a = sx(std::max(lo, std::min(0.0, b.value)));
        const double e = sx(std::min(hi, std::max(0.0, b.value)));
        s += "<rect class=\"bar\" x=\"" + px(a) + "\" y=\"" + px(y + 4) + "\" width=\"" +
             px(std::max(0.5, e - a)) + "\" height=\"" + px(row - 8) + "\" fill=\"" + b.colour +
             "\"/>";
      }
      if (std::isfinite(b.lo) && std::isfinite(b.hi)) {
        const double a = sx(std::clamp(b.lo, lo, hi)), e = sx(std::clamp(b.hi, lo, hi));
        s += "<path class=\"ci\" d=\"M" + px(a) + "," + px(cy) + "H" + px(e) + "M" + px(a) + "," +
             px(cy - 5) + "V" + px(cy + 5) + "M" + px(e) + "," + px(cy - 5) + "V" + px(cy + 5) +
             "\"/>";
      }
      if (c.dots)
        s += "<circle class=\"dot\" cx=\"" + px(sx(b.value)) + "\" cy=\"" + px(cy) +
             "\" r=\"4.5\" fill=\"" + b.colour + "\"/>";
    }
    s += text_el(c.width - mr + 6, cy + 4, esc(b.text.empty() ? fmt_num(b.value) : b.text), "start",
                 "bar-value");
    s += "</g>";
    y += row;
  }
  s += "</svg>";
  if (!c.legend.empty()) s += legend_html(c.legend);
  return figure(c.title, s, c.caption);
}

// ---------------------------------------------------------------------------------------------
// Inputs.

Json read_json_file(const fs::path& file) {
  try {
    return Json::parse(read_text_file(file));
  } catch (const Json::exception& e) {
    throw std::runtime_error(file.string() + ": not valid JSON: " + e.what());
  }
}

std::optional<CsvTable> optional_csv(const fs::path& file) {
  if (!fs::is_regular_file(file)) return std::nullopt;
  return read_csv_file(file);
}

std::vector<double> column_values(const CsvTable& t, std::string_view name) {
  std::vector<double> v;
  const int c = t.column(name);
  if (c < 0) return v;
  v.reserve(t.rows.size());
  for (const auto& r : t.rows)
    v.push_back(static_cast<std::size_t>(c) < r.size() ? to_double(r[static_cast<std::size_t>(c)])
                                                       : kNaN);
  return v;
}

struct Page {
  std::string title, lead;
  std::vector<std::pair<std::string, std::string>> provenance;  // (label, escaped html)
  std::vector<std::pair<std::string, std::string>> nav;         // (id, title)
  std::string body;
  Json data = Json::object();
  std::vector<std::string> sections;

  void section(const std::string& id, const std::string& title, const std::string& intro,
               const std::string& content) {
    nav.emplace_back(id, title);
    sections.push_back(id);
    body += "<section id=\"" + id + "\"><h2>" + esc(title) + "</h2>";
    if (!intro.empty()) body += "<p class=\"intro\">" + intro + "</p>";
    body += content + "</section>\n";
  }
};

// ---------------------------------------------------------------------------------------------
// A run.

const std::vector<std::string> kRunShares = {"complete_package_share",
                                             "needs_met_share",
                                             "reached_door_share",
                                             "assessed_share",
                                             "served_share",
                                             "referral_completion_share",
                                             "self_help_share",
                                             "repeat_assessment_share",
                                             "dropout_share",
                                             "unmet_share",
                                             "service_within_standard_share"};
const std::vector<std::string> kRunDays = {"mean_days_to_first_contact", "mean_days_to_assessment",
                                           "mean_days_to_first_service",
                                           "mean_days_to_complete_package"};
const std::vector<std::string> kRunNetwork = {"mean_tie_level",
                                              "network_density",
                                              "case_conferences",
                                              "pooled_services",
                                              "components",
                                              "fragility",
                                              "collaboration_hours_share",
                                              "helper_utilization",
                                              "mean_doors_per_client",
                                              "cost_per_resolved_need"};

std::string run_headline(const Json& m) {
  BarChart shares;
  shares.title = "Client outcomes (share of the outcome cohort)";
  shares.x_label = "share of cohort clients (for referrals: of referrals; self-help: of needs met)";
  shares.percent = true;
  shares.min = 0;
  shares.max = 1;
  for (const auto& k : kRunShares) {
    const double v = get_number(m, k);
    if (!m.contains(k)) continue;
    Bar b;
    b.label = pretty(k);
    b.value = v;
    b.text = fmt_metric(k, v);
    b.colour = neutral(k) ? "#78909c" : lower_is_better(k) ? "#c62828" : "#1e88e5";
    b.title = k;
    shares.bars.push_back(b);
  }
  shares.legend = {{"higher is better", "#1e88e5"},
                   {"lower is better", "#c62828"},
                   {"no better direction", "#78909c"}};
  BarChart days;
  days.title = "Speed (mean days from the need arising)";
  days.x_label = "days";
  days.min = 0;
  for (const auto& k : kRunDays) {
    if (!m.contains(k)) continue;
    Bar b;
    b.label = pretty(k).substr(std::string("mean days to ").size());
    b.value = get_number(m, k);
    b.text = fmt_num(b.value) + " d";
    b.colour = "#5e35b1";
    b.title = k;
    days.bars.push_back(b);
  }
  std::string tiles = "<div class=\"tiles\">";
  for (const auto& k : kRunNetwork) {
    if (!m.contains(k)) continue;
    tiles += "<div class=\"tile\" title=\"" + esc(k) + "\"><span class=\"tile-value\">" +
             esc(fmt_metric(k, get_number(m, k))) + "</span><span class=\"tile-name\">" +
             esc(pretty(k)) + "</span></div>";
  }
  tiles += "</div>";
  std::string s;
  if (!shares.bars.empty()) s += render_bars(shares);
  if (!days.bars.empty()) s += render_bars(days);
  s += "<h3>Network and staff time</h3>" + tiles;
  // Breakdowns by client kind and service.
  auto table = [&](const char* key, const char* what, const std::vector<std::string>& cols) {
    if (!m.contains(key) || !m[key].is_object() || m[key].empty()) return std::string();
    std::string t = "<table class=\"data\"><caption>By " + std::string(what) +
                    "</caption><thead><tr><th>" + what + "</th>";
    for (const auto& c : cols) t += "<th>" + esc(pretty(c)) + "</th>";
    t += "</tr></thead><tbody>";
    for (const auto& [name, row] : m[key].items()) {
      t += "<tr><th>" + esc(name) + "</th>";
      for (const auto& c : cols) t += "<td>" + esc(fmt_metric(c, get_number(row, c))) + "</td>";
      t += "</tr>";
    }
    return t + "</tbody></table>";
  };
  s += table("by_kind", "client kind",
             {"clients", "complete_package_share", "dropout_share", "mean_days_to_first_service",
              "mean_doors_per_client", "repeat_assessment_share"});
  s += table("by_service", "service", {"needs", "needs_met_share", "mean_days_to_first_service"});
  return s;
}

struct FunnelStage {
  std::string name;
  double count = kNaN;
  double lost = kNaN;  // gave up after this stage, before the next
  std::string lost_text;
};

std::string render_funnel(const std::vector<FunnelStage>& stages, double total,
                          const std::string& title, const std::string& caption) {
  const double W = 720, row = 44, mt = 8, label_w = 190, bar_w = 330;
  const double H = mt * 2 + row * static_cast<double>(stages.size());
  std::string s = svg_open(static_cast<int>(W), static_cast<int>(H), title, "journey-funnel");
  const double cx = label_w + 10 + bar_w / 2;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const FunnelStage& st = stages[i];
    const double y = mt + row * static_cast<double>(i);
    const double frac = total > 0 && std::isfinite(st.count) ? st.count / total : 0.0;
    const double w = std::max(1.0, bar_w * std::clamp(frac, 0.0, 1.0));
    s += "<g class=\"funnel-stage\"><title>" + esc(st.name) + ": " + fmt_num(st.count) + "</title>";
    s += "<rect x=\"" + px(cx - w / 2) + "\" y=\"" + px(y + 4) + "\" width=\"" + px(w) +
         "\" height=\"" + px(row - 14) + "\" rx=\"3\" fill=\"" +
         (i + 1 == stages.size() ? "#2e7d32" : "#1e88e5") + "\"/>";
    s += text_el(label_w, y + row / 2 + 1, esc(st.name), "end", "bar-label");
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", frac * 100);
    s += text_el(cx, y + row / 2 + 1, esc(fmt_num(st.count) + " (" + pct + ")"), "middle",
                 "funnel-count");
    if (!st.lost_text.empty())
      s += text_el(cx + bar_w / 2 + 14, y + row - 4, esc(st.lost_text), "start", "funnel-lost");
    s += "</g>";
  }
  s += "</svg>";
  return figure(title, s, caption);
}

std::string run_funnel(const Json& m, const std::optional<CsvTable>& clients) {
  std::vector<FunnelStage> st = {{"needs arose", kNaN, kNaN, {}},
                                 {"reached a door", kNaN, kNaN, {}},
                                 {"assessed", kNaN, kNaN, {}},
                                 {"served", kNaN, kNaN, {}},
                                 {"complete package", kNaN, kNaN, {}}};
  std::string caption;
  double total = kNaN;
  if (clients && clients->column("in_cohort") >= 0 && clients->column("outcome") >= 0) {
    double n[5] = {0, 0, 0, 0, 0}, lost[4] = {0, 0, 0, 0};
    double unmet = 0, self_only = 0;
    const int ci = clients->column("in_cohort"), co = clients->column("outcome"),
              cc = clients->column("first_contact"), ca = clients->column("first_assessment"),
              cs = clients->column("first_service");
    auto field = [](const std::vector<std::string>& r, int c) -> const std::string& {
      static const std::string empty;
      return c >= 0 && static_cast<std::size_t>(c) < r.size() ? r[static_cast<std::size_t>(c)]
                                                              : empty;
    };
    auto reached = [&](const std::vector<std::string>& r, int c) {
      const double v = to_double(field(r, c));
      return std::isfinite(v) && v >= 0;
    };
    for (const auto& r : clients->rows) {
      if (field(r, ci) != "1") continue;
      const bool c = reached(r, cc), a = reached(r, ca), s = reached(r, cs);
      const std::string& out = field(r, co);
      n[0] += 1;
      n[1] += c;
      n[2] += a;
      n[3] += s;
      n[4] += out == "resolved";
      if (out == "resolved" && !s) self_only += 1;
      if (out == "dropped") lost[!c ? 0 : !a ? 1 : !s ? 2 : 3] += 1;
      if (out == "unmet_at_horizon") unmet += 1;
    }
    for (int i = 0; i < 5; ++i) st[static_cast<std::size_t>(i)].count = n[i];
    for (int i = 0; i < 4; ++i) {
      st[static_cast<std::size_t>(i)].lost = lost[i];
      if (lost[i] > 0)
        st[static_cast<std::size_t>(i)].lost_text =
            "−" + fmt_num(lost[i]) + " gave up before the next step";
    }
    total = n[0];
    st[4].lost_text = fmt_num(unmet) + " still unmet at the end";
    caption =
        "Cohort clients from clients.csv. A client can meet every need by self-help "
        "without being served (" +
        fmt_num(self_only) + " here), so the last bar is not always part of the one above.";
  } else {
    total = get_number(m, "clients");
    const char* keys[5] = {nullptr, "reached_door_share", "assessed_share", "served_share",
                           "complete_package_share"};
    st[0].count = total;
    for (int i = 1; i < 5; ++i)
      st[static_cast<std::size_t>(i)].count = std::round(total * get_number(m, keys[i]));
    const double dropped = std::round(total * get_number(m, "dropout_share"));
    if (std::isfinite(dropped)) st[4].lost_text = fmt_num(dropped) + " gave up in all";
    caption = "From summary.json (no clients.csv: the stage where clients gave up is unknown).";
  }
  if (!(total > 0)) return "<p class=\"empty\">No client in the outcome cohort.</p>";
  return render_funnel(st, total, "The client journey (outcome cohort)", esc(caption));
}

std::string run_time_series(const CsvTable& ts, const Json& summary) {
  const auto ticks = column_values(ts, "tick");
  if (ticks.empty()) return {};
  double from = kNaN, to = kNaN;
  if (summary.contains("cohort")) {
    from = get_number(summary["cohort"], "from_tick");
    to = get_number(summary["cohort"], "to_tick");
  }
  auto base = [&](const std::string& title, const std::string& y_label) {
    XyChart c;
    c.title = title;
    c.x_label = "day of the run";
    c.y_label = y_label;
    c.shade_from = from;
    c.shade_to = to;
    c.shade_label = "cohort arrivals";
    return c;
  };
  std::string s;
  // Waits: services started each day and their mean wait, smoothed over 7 days.
  {
    const auto started = column_values(ts, "services_started");
    const auto wait = column_values(ts, "mean_wait_days_started");
    if (!started.empty() && !wait.empty()) {
      std::vector<double> smooth(ticks.size(), kNaN);
      for (std::size_t i = 0; i < ticks.size(); ++i) {
        double sw = 0, sn = 0;
        for (std::size_t j = i >= 6 ? i - 6 : 0; j <= i; ++j)
          if (std::isfinite(started[j]) && std::isfinite(wait[j]))
            sw += wait[j] * started[j], sn += started[j];
        smooth[i] = sn > 0 ? sw / sn : kNaN;
      }
      XyChart c = base("Waiting for a helper", "days in the queue");
      c.caption = "Mean queue wait of the services that started, over the last 7 days.";
      c.series.push_back(
          make_series("mean wait of services started (7-day)", ticks, smooth, kSeriesColour[1]));
      s += render_xy(c);
    }
  }
  {
    XyChart c = base("Queues", "needs waiting");
    const char* names[][2] = {{"queue_length", "waiting for a helper"},
                              {"intake_length", "waiting at intake"},
                              {"conferences_waiting", "waiting for a case conference"}};
    std::size_t k = 0;
    for (const auto& n : names)
      if (ts.column(n[0]) >= 0)
        c.series.push_back(make_series(n[1], ticks, column_values(ts, n[0]), kSeriesColour[k++]));
    if (!c.series.empty()) s += render_xy(c);
  }
  {
    XyChart c = base("Clients' needs by state", "needs of active clients");
    c.stacked = true;
    c.caption = "Stacked: every need of the clients in the system that day.";
    const char* states[][2] = {{"needs_pending", "#cfd8dc"},    {"needs_seeking", "#ffb74d"},
                               {"needs_travelling", "#ffe082"}, {"needs_intake", "#4dd0e1"},
                               {"needs_waiting", "#e57373"},    {"needs_in_service", "#64b5f6"},
                               {"needs_met", "#81c784"},        {"needs_unmet", "#9e9e9e"}};
    for (const auto& st : states)
      if (ts.column(st[0]) >= 0)
        c.series.push_back(
            make_series(std::string(st[0]).substr(6), ticks, column_values(ts, st[0]), st[1]));
    if (!c.series.empty()) s += render_xy(c);
  }
  {
    XyChart c = base("Ties by level on the collaboration continuum", "ties");
    c.stacked = true;
    c.caption =
        "Stacked, levels 1 (irregular information) to 7 (strategic partnership); pairs "
        "at level 0 are not shown.";
    for (int l = 1; l <= 7; ++l) {
      const std::string col = "ties_level_" + std::to_string(l);
      if (ts.column(col) >= 0)
        c.series.push_back(make_series("level " + std::to_string(l) + ": " + kLevelName[l], ticks,
                                       column_values(ts, col), kLevelColour[l]));
    }
    if (!c.series.empty()) s += render_xy(c);
  }
  {
    XyChart c = base("Staff time", "helper hours per day");
    const char* names[][2] = {{"direct_hours_capacity", "hours available for cases"},
                              {"direct_hours_used", "hours taken by cases"},
                              {"collaboration_hours", "hours on collaboration"}};
    std::size_t k = 0;
    for (const auto& n : names)
      if (ts.column(n[0]) >= 0) {
        c.series.push_back(make_series(n[1], ticks, column_values(ts, n[0]), kSeriesColour[k]));
        c.series.back().dashed = k == 0;
        ++k;
      }
    if (!c.series.empty()) s += render_xy(c);
  }
  return s;
}

constexpr std::size_t kMaxDrawnTies = 20000;

std::string fmt_tie_summary(const std::vector<long long>& counts) {
  long long total = 0;
  for (std::size_t l = 1; l < counts.size(); ++l) total += counts[l];
  std::string s = std::to_string(total) + (total == 1 ? " tie" : " ties");
  std::string parts;
  for (std::size_t l = 1; l < counts.size(); ++l)
    if (counts[l] > 0)
      parts += (parts.empty() ? "" : ", ") + std::string("level ") + std::to_string(l) + ": " +
               std::to_string(counts[l]);
  if (!parts.empty()) s += " — " + parts;
  return s;
}

std::string fmt_day(int d, int T) {
  return d <= 0 ? std::string("Start of the run")
                : "Day " + std::to_string(d) + " of " + std::to_string(T);
}

std::string run_network(const NetworkData& net, bool has_history, Json& data) {
  NetLayout L = layout_network(net);
  {  // Spread a small network out to a readable size (node sizes stay).
    double span = 0;
    for (const auto& g : L.groups)
      span = std::max(span, 2 * (std::max(std::fabs(g.x), std::fabs(g.y)) + g.radius));
    const double k = span > 0 && span < 560 ? 560 / span : 1.0;
    for (auto& v : L.x) v *= k;
    for (auto& v : L.y) v *= k;
    for (auto& g : L.groups) {
      g.x *= k;
      g.y *= k;
      g.radius *= k;
    }
  }
  const bool labels = net.nodes.size() <= 40;
  // The drawing's bounding box: district discs, plus room for labels.
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  for (const auto& g : L.groups) {
    x0 = std::min(x0, g.x - g.radius);
    x1 = std::max(x1, g.x + g.radius);
    y0 = std::min(y0, g.y - g.radius);
    y1 = std::max(y1, g.y + g.radius);
  }
  const double mx = labels ? 150 : 16, my = labels ? 22 : 16;
  const double W = std::ceil(x1 - x0 + 2 * mx), H = std::ceil(y1 - y0 + 2 * my);
  const double ox = mx - x0, oy = my - y0;  // drawing offset
  std::string s = svg_open(static_cast<int>(W), static_cast<int>(H), "Network of organizations",
                           "network-svg", "chart network");
  s += "<g class=\"district-groups\">";
  for (const auto& g : L.groups)
    s += "<circle class=\"district-disc\" cx=\"" + px(ox + g.x) + "\" cy=\"" + px(oy + g.y) +
         "\" r=\"" + px(std::max(g.radius, 14.0)) + "\"><title>" +
         esc(g.district.empty() ? "(no district)" : g.district) + "</title></circle>";
  s += "</g><g class=\"ties\">";
  Json edges = Json::array();
  std::vector<long long> counts(8, 0);
  // A very large network: draw its strongest ties only (final level, then highest level
  // reached), so the page stays a few megabytes at most.
  std::vector<std::size_t> drawn(net.edges.size());
  for (std::size_t i = 0; i < drawn.size(); ++i) drawn[i] = i;
  std::string capped;
  if (drawn.size() > kMaxDrawnTies) {
    auto peak = [&](std::size_t i) {
      int m = net.edges[i].level;
      for (const auto& ch : net.edges[i].changes) m = std::max(m, ch.second);
      return m;
    };
    std::stable_sort(drawn.begin(), drawn.end(), [&](std::size_t x, std::size_t y) {
      return std::make_pair(net.edges[x].level, peak(x)) >
             std::make_pair(net.edges[y].level, peak(y));
    });
    drawn.resize(kMaxDrawnTies);
    std::sort(drawn.begin(), drawn.end());
    capped = "<p class=\"note\">" + std::to_string(net.edges.size()) +
             " ties existed during the run; the " + std::to_string(kMaxDrawnTies) +
             " strongest are drawn (all of them are in network.csv and network.gexf).</p>";
  }
  for (const NetEdge& e : net.edges) counts[static_cast<std::size_t>(std::clamp(e.level, 0, 7))]++;
  for (const std::size_t i : drawn) {
    const NetEdge& e = net.edges[i];
    const int l = std::clamp(e.level, 0, 7);
    char w[32], o[32];
    std::snprintf(w, sizeof w, "%.2f", level_width(l));
    std::snprintf(o, sizeof o, "%.2f", level_opacity(l));
    const auto a = static_cast<std::size_t>(e.a), b = static_cast<std::size_t>(e.b);
    s += "<line class=\"tie\" data-edge=\"" + std::to_string(i) + "\" data-level=\"" +
         std::to_string(l) + "\" x1=\"" + px(ox + L.x[a]) + "\" y1=\"" + px(oy + L.y[a]) +
         "\" x2=\"" + px(ox + L.x[b]) + "\" y2=\"" + px(oy + L.y[b]) + "\" stroke=\"" +
         kLevelColour[l] + "\" stroke-width=\"" + w + "\" stroke-opacity=\"" + o + "\"" +
         (l < 1 ? " visibility=\"hidden\"" : "") + "><title>" + esc(net.nodes[a].name) + " — " +
         esc(net.nodes[b].name) + "</title></line>";
    Json h = Json::array();
    h.push_back(Json::array({-1, e.initial_level}));
    for (const auto& [t, to] : e.changes) h.push_back(Json::array({t, to}));
    edges.push_back(h);
  }
  s += "</g><g class=\"orgs\">";
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    std::string nets;
    for (const auto& x : n.networks) nets += (nets.empty() ? "" : ", ") + x;
    std::string services;
    for (const auto& x : n.services) services += (services.empty() ? "" : ", ") + x;
    s += "<circle class=\"org" + std::string(n.networks.empty() ? "" : " member") + "\" cx=\"" +
         px(ox + L.x[i]) + "\" cy=\"" + px(oy + L.y[i]) + "\" r=\"" + px(L.r[i]) + "\" fill=\"" +
         sector_colour(n.sector) + "\"" + (n.networks.empty() ? "" : " data-member=\"1\"") +
         "><title>" + esc(n.name) + "\n" + esc(pretty(n.sector)) +
         (n.district.empty() ? "" : ", " + esc(n.district)) + "\n" + std::to_string(n.helpers) +
         " helpers" + (services.empty() ? "" : ": " + esc(services)) +
         (nets.empty() ? "" : "\nnetworks: " + esc(nets)) + "</title></circle>";
  }
  s += "</g>";
  if (labels) {
    s += "<g class=\"org-labels\">";
    for (std::size_t i = 0; i < net.nodes.size(); ++i) {
      // Beside the node, away from its district's centre.
      double gx = 0, gy = 0;
      for (const auto& g : L.groups)
        if (g.district == net.nodes[i].district) gx = g.x, gy = g.y;
      double dx = L.x[i] - gx, dy = L.y[i] - gy;
      const double d = std::hypot(dx, dy);
      if (d < 1e-6)
        dx = 0, dy = 1;
      else
        dx /= d, dy /= d;
      const std::string anchor = dx > 0.3 ? "start" : dx < -0.3 ? "end" : "middle";
      s += text_el(ox + L.x[i] + dx * (L.r[i] + 3),
                   oy + L.y[i] + dy * (L.r[i] + 3) +
                       (dy > 0.3    ? 9
                        : dy < -0.3 ? -2
                                    : 4),
                   esc(truncate_utf8(net.nodes[i].name, 26)), anchor, "org-label");
    }
    s += "</g>";
  }
  // District names in the middle of their ring, over the ties (with a halo).
  s += "<g class=\"district-names\">";
  for (const auto& g : L.groups) {
    const bool single = g.radius < 30;
    s += text_el(ox + g.x, oy + g.y + (single ? -g.radius - 4 : 4),
                 esc(truncate_utf8(g.district.empty() ? "(no district)" : g.district, 18)),
                 "middle", "district-label");
  }
  s += "</g></svg>";

  std::vector<std::pair<std::string, std::string>> sectors;
  for (const char* sec :
       {"public_coordinator", "public_provider", "nonpublic", "intermunicipal_coordinator"})
    for (const auto& n : net.nodes)
      if (n.sector == sec) {
        sectors.emplace_back(pretty(sec), sector_colour(sec));
        break;
      }
  std::string legend = "<div class=\"legend\"><span class=\"legend-title\">Organizations:</span>";
  for (const auto& [name, colour] : sectors)
    legend += "<span class=\"key\"><i class=\"swatch dot\" style=\"background:" + colour +
              "\"></i>" + esc(name) + "</span>";
  legend += "<span class=\"key\"><i class=\"swatch dot ring\"></i>member of a network</span></div>";
  legend += "<div class=\"legend\"><span class=\"legend-title\">Ties:</span>";
  for (int l = 1; l <= 7; ++l) {
    char st[128];
    std::snprintf(st, sizeof st, "background:%s;height:%.1fpx;opacity:%.2f", kLevelColour[l],
                  std::max(1.0, level_width(l)), level_opacity(l) + 0.1);
    legend += "<span class=\"key\"><i class=\"swatch line\" style=\"" + std::string(st) +
              "\"></i>" + std::to_string(l) + " " + kLevelName[l] + "</span>";
  }
  legend += "</div>";

  std::string controls;
  if (has_history) {
    controls =
        "<div class=\"controls\"><label for=\"network-time\">Day</label> "
        "<input type=\"range\" id=\"network-time\" min=\"0\" max=\"" +
        std::to_string(net.ticks) + "\" step=\"1\" value=\"" + std::to_string(net.ticks) +
        "\" aria-describedby=\"network-day\"> <button type=\"button\" id=\"network-play\">"
        "Play</button> <output id=\"network-day\" for=\"network-time\">" +
        fmt_day(net.ticks, net.ticks) + "</output></div>";
  } else {
    controls = "<p class=\"note\">No tie_changes.csv: the final network only.</p>";
  }
  controls += capped;
  controls +=
      "<p class=\"tie-summary\" id=\"network-tie-summary\">" + fmt_tie_summary(counts) + "</p>";

  Json nd;
  nd["ticks"] = net.ticks;
  nd["edges"] = edges;
  nd["colour"] = Json::array();
  nd["width"] = Json::array();
  nd["opacity"] = Json::array();
  for (int l = 0; l < 8; ++l) {
    nd["colour"].push_back(kLevelColour[l]);
    char w[32], o[32];
    std::snprintf(w, sizeof w, "%.2f", level_width(l));
    std::snprintf(o, sizeof o, "%.2f", level_opacity(l));
    nd["width"].push_back(w);
    nd["opacity"].push_back(o);
  }
  data["network"] = nd;
  return controls + "<div class=\"network-wrap\">" + s + "</div>" + legend;
}

std::string run_districts(const Json& by_district, Json& data) {
  if (!by_district.is_object() || by_district.empty()) return {};
  std::vector<std::string> names, metrics;
  for (const auto& [name, row] : by_district.items()) {
    names.push_back(name);
    if (row.is_object())
      for (const auto& [k, v] : row.items())
        if ((v.is_number() || v.is_null()) &&
            std::find(metrics.begin(), metrics.end(), k) == metrics.end())
          metrics.push_back(k);
  }
  if (metrics.empty()) return {};
  std::string chosen =
      std::find(metrics.begin(), metrics.end(), "complete_package_share") != metrics.end()
          ? "complete_package_share"
          : metrics.front();
  Json dm = Json::object();
  for (const auto& m : metrics) {
    Json v = Json::array();
    for (const auto& [name, row] : by_district.items()) {
      const double x = get_number(row, m);
      v.push_back(std::isfinite(x) ? Json(x) : Json(nullptr));
    }
    dm[m] = v;
  }
  Json dd;
  dd["names"] = names;
  dd["metrics"] = dm;
  dd["ramp"] = Json::array({kRamp[0], kRamp[1], kRamp[2]});
  dd["selected"] = chosen;
  data["districts"] = dd;

  std::string select =
      "<div class=\"controls\"><label for=\"district-metric\">Colour the "
      "districts by</label> <select id=\"district-metric\">";
  for (const auto& m : metrics)
    select += "<option value=\"" + esc(m) + "\"" + (m == chosen ? " selected" : "") + ">" +
              esc(pretty(m)) + "</option>";
  select += "</select></div>";

  const std::size_t n = names.size();
  const std::size_t cols =
      n <= 6 ? n
             : std::min<std::size_t>(
                   6, static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n)))));
  const std::size_t rows = (n + cols - 1) / cols;
  const double tw = 150, th = 84, gap = 8, mt = 8, legend_h = 46;
  const double W = std::max(360.0, static_cast<double>(cols) * (tw + gap) + gap);
  const double H = mt + static_cast<double>(rows) * (th + gap) + legend_h;
  double lo = kNaN, hi = kNaN;
  std::vector<double> values;
  for (const auto& [name, row] : by_district.items()) {
    const double x = get_number(row, chosen);
    values.push_back(x);
    if (std::isfinite(x)) {
      lo = std::isfinite(lo) ? std::min(lo, x) : x;
      hi = std::isfinite(hi) ? std::max(hi, x) : x;
    }
  }
  std::string s = svg_open(static_cast<int>(W), static_cast<int>(H), "Districts", "district-map");
  std::size_t i = 0;
  for (const auto& [name, row] : by_district.items()) {
    const double x = gap + static_cast<double>(i % cols) * (tw + gap);
    const double y = mt + static_cast<double>(i / cols) * (th + gap);
    const double v = values[i];
    const double t = std::isfinite(v) ? (hi > lo ? (v - lo) / (hi - lo) : 0.5) : kNaN;
    const std::string fill = std::isfinite(t) ? ramp_colour(t) : "#eeeeee";
    const std::string ink = std::isfinite(t) && t > 0.55 ? "light" : "dark";
    const std::string id = std::to_string(i);
    s += "<g class=\"district-tile " + ink + "\" id=\"district-group-" + id + "\"><title>" +
         esc(name) + "</title>";
    s += "<rect id=\"district-tile-" + id + "\" x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" +
         px(tw) + "\" height=\"" + px(th) + "\" rx=\"6\" fill=\"" + fill + "\"/>";
    s += text_el(x + 10, y + 22, esc(truncate_utf8(name, 20)), "start", "tile-name");
    s += text_el(x + 10, y + 52, esc(fmt_metric(chosen, v)), "start", "tile-number",
                 "id=\"district-value-" + id + "\"");
    const double clients = get_number(row, "clients");
    if (std::isfinite(clients))
      s +=
          text_el(x + 10, y + 72, esc(fmt_num(clients) + " cohort clients"), "start", "tile-small");
    s += "</g>";
    ++i;
  }
  const double ly = mt + static_cast<double>(rows) * (th + gap) + 10;
  for (int k = 0; k < 20; ++k)
    s += "<rect x=\"" + px(gap + 80 + k * 10.0) + "\" y=\"" + px(ly) +
         "\" width=\"10.5\" height=\"12\" fill=\"" + ramp_colour(k / 19.0) + "\"/>";
  s += text_el(gap + 74, ly + 10, esc(fmt_metric(chosen, lo)), "end", "tick",
               "id=\"district-legend-min\"");
  s += text_el(gap + 80 + 206, ly + 10, esc(fmt_metric(chosen, hi)), "start", "tick",
               "id=\"district-legend-max\"");
  s += text_el(gap + 80, ly + 28, "lighter: lower, darker: higher (grey: undefined)", "start",
               "tick");
  s += "</svg>";
  return select + s;
}

void add_run(Page& p, const fs::path& dir, Json summary) {
  const Json& m = summary.contains("metrics") ? summary["metrics"] : Json::object();
  const std::string name = summary.contains("scenario") && summary["scenario"].is_object() &&
                                   summary["scenario"].contains("name") &&
                                   summary["scenario"]["name"].is_string()
                               ? summary["scenario"]["name"].get<std::string>()
                               : std::string("run");
  std::string variant;
  if (summary.contains("scenario") && summary["scenario"].is_object() &&
      summary["scenario"].contains("variant") && summary["scenario"]["variant"].is_string())
    variant = summary["scenario"]["variant"].get<std::string>();
  if (p.title.empty()) p.title = name + (variant.empty() ? "" : " — " + variant);
  if (p.lead.empty())
    p.lead = "One simulated run of <em>" + esc(name) + "</em>" +
             (variant.empty() ? "" : " (variant <em>" + esc(variant) + "</em>)") +
             ": residents whose needs arise look for help; organizations assess, serve, refer and "
             "collaborate along the continuum from irregular information exchange to strategic "
             "partnership. The page shows what happened to clients (outcomes, speed and where they "
             "dropped out of the journey), how queues and ties moved day by day, the network of "
             "organizations in the seeds' colours with a slider through time, and a map of "
             "problems by district. A single run has no confidence intervals; use <code>caremesh "
             "compare</code> for those.";
  p.provenance.emplace_back("scenario", esc(name));
  if (!variant.empty()) p.provenance.emplace_back("variant", esc(variant));
  if (summary.contains("scenario") && summary["scenario"].contains("overrides") &&
      summary["scenario"]["overrides"].is_object() && !summary["scenario"]["overrides"].empty()) {
    std::string o;
    for (const auto& [k, v] : summary["scenario"]["overrides"].items())
      o += (o.empty() ? "" : "; ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    p.provenance.emplace_back("overrides", esc(o));
  }
  for (const char* k : {"seed", "ticks", "state_hash", "caremesh_version"})
    if (summary.contains(k))
      p.provenance.emplace_back(
          k == std::string("ticks") ? "days" : pretty(k),
          esc(summary[k].is_string() ? summary[k].get<std::string>() : summary[k].dump()));
  if (summary.contains("cohort"))
    p.provenance.emplace_back(
        "outcome cohort", "clients arriving on days " +
                              esc(fmt_num(get_number(summary["cohort"], "from_tick"))) + " to " +
                              esc(fmt_num(get_number(summary["cohort"], "to_tick") - 1)) + " (" +
                              esc(fmt_num(get_number(m, "clients"))) + " clients)");

  p.section("headline", "Headline outcomes",
            "The answer to the seeds' first question — did residents find and receive the "
            "package of services that fits them? Shares are of the outcome cohort "
            "(docs/metrics.md).",
            run_headline(m));

  const auto clients = optional_csv(dir / "clients.csv");
  p.section("journey", "The client journey",
            "From a need arising to a complete package: how many clients reached each step, "
            "and where those who gave up left.",
            run_funnel(m, clients));

  if (const auto ts = optional_csv(dir / "timeseries.csv"); ts && !ts->rows.empty())
    p.section("time-series", "Day by day",
              "Waits, queues, the state of clients' needs and the ties between organizations "
              "over the run. The shaded band marks the days whose arrivals form the outcome "
              "cohort.",
              run_time_series(*ts, summary));

  if (fs::is_regular_file(dir / "organizations.csv") && fs::is_regular_file(dir / "network.csv")) {
    const NetworkData net = read_network_data(dir);
    p.section("network", "The network of organizations",
              "Organizations grouped by district (districts on a circle), coloured by sector as "
              "in the seeds: green non-public, orange public providers, dark blue the public "
              "coordinator, light blue an intermunicipal coordinator; node size grows with "
              "helpers. Ties are thicker and darker the higher their level on the "
              "collaboration continuum. Move the slider to watch ties climb or fall over the "
              "run.",
              run_network(net, fs::is_regular_file(dir / "tie_changes.csv"), p.data));
  }

  if (m.contains("by_district")) {
    const std::string d = run_districts(m["by_district"], p.data);
    if (!d.empty())
      p.section("districts", "Districts: the map of problems",
                "Each tile is a district of the outcome cohort, coloured by the chosen measure "
                "— the map of social problems that the DPZM cycle starts from.",
                d);
  }
}

// ---------------------------------------------------------------------------------------------
// A comparison.

const std::vector<std::string> kCompareOutcomes = {"complete_package_share",
                                                   "needs_met_share",
                                                   "reached_door_share",
                                                   "dropout_share",
                                                   "unmet_share",
                                                   "mean_days_to_first_service",
                                                   "mean_days_to_complete_package",
                                                   "mean_doors_per_client",
                                                   "repeat_assessment_share",
                                                   "referral_completion_share",
                                                   "continuity_index"};
const std::vector<std::string> kCompareNetwork = {
    "mean_tie_level", "network_density",           "case_conferences",   "pooled_services",
    "multiplexity",   "collaboration_hours_share", "helper_utilization", "cost_per_resolved_need"};

std::string unit_of(std::string_view m) {
  if (is_share(m) || m == "continuity_index") return "shares";
  if (m.starts_with("mean_days")) return "days";
  return "other";
}

void add_comparison(Page& p, const Json& c) {
  std::vector<std::string> variants;
  if (c.contains("variants") && c["variants"].is_array())
    for (const auto& v : c["variants"])
      if (v.is_string()) variants.push_back(v.get<std::string>());
  const Json& metrics = c.contains("metrics") ? c["metrics"] : Json::object();
  if (variants.empty() && metrics.is_object() && !metrics.empty()) {
    const Json& first = metrics.begin().value();
    if (first.contains("variants"))
      for (const auto& [v, x] : first["variants"].items()) variants.push_back(v);
  }
  const std::string baseline = c.contains("baseline") && c["baseline"].is_string()
                                   ? c["baseline"].get<std::string>()
                                   : (variants.empty() ? std::string() : variants.front());
  std::string name = "comparison";
  if (c.contains("scenario") && c["scenario"].is_object() && c["scenario"].contains("name") &&
      c["scenario"]["name"].is_string())
    name = c["scenario"]["name"].get<std::string>();
  const double reps = get_number(c, "replications");
  if (p.title.empty()) p.title = name + " — comparison of variants";
  std::string vlist;
  for (const auto& v : variants) vlist += (vlist.empty() ? "" : ", ") + esc(v);
  p.lead = "A comparison of variants of <em>" + esc(name) + "</em> (" + vlist + ") with " +
           esc(fmt_num(reps)) +
           " replications each. Replication r of every variant shares its residents, needs and "
           "staff (common random numbers), so differences come from how organizations work "
           "together. Bars show each variant's mean with its 95% confidence interval; the "
           "network's added value S(Y) is the paired difference from the baseline <em>" +
           esc(baseline) + "</em>, as in the seeds: X + S(Y).";
  p.provenance.emplace_back("scenario", esc(name));
  p.provenance.emplace_back("baseline", esc(baseline));
  p.provenance.emplace_back("replications", esc(fmt_num(reps)));
  for (const char* k : {"seed", "ticks", "caremesh_version"})
    if (c.contains(k))
      p.provenance.emplace_back(k == std::string("ticks") ? "days" : pretty(k),
                                esc(c[k].is_string() ? c[k].get<std::string>() : c[k].dump()));

  std::vector<std::pair<std::string, std::string>> vlegend;
  for (std::size_t i = 0; i < variants.size(); ++i)
    vlegend.emplace_back(variants[i], variant_colour(i));

  auto variant_chart = [&](const std::string& m) {
    BarChart b;
    b.title = pretty(m);
    b.percent = is_share(m);
    b.label_width = 170;
    b.width = 560;
    b.x_label = is_share(m) ? "share (mean, 95% CI)" : "mean, 95% CI";
    if (is_share(m)) b.min = 0;
    for (std::size_t i = 0; i < variants.size(); ++i) {
      const Json& v = child(child(child(metrics, m), "variants"), variants[i]);
      Bar bar;
      bar.label = variants[i];
      bar.value = get_number(v, "mean");
      bar.lo = get_number(v, "ci_low");
      bar.hi = get_number(v, "ci_high");
      bar.colour = variant_colour(i);
      bar.text = fmt_metric(m, bar.value);
      bar.title = variants[i] + ": " + fmt_metric(m, bar.value) + " [" + fmt_metric(m, bar.lo) +
                  ", " + fmt_metric(m, bar.hi) + "]";
      b.bars.push_back(bar);
    }
    return render_bars(b);
  };

  std::string headline = "<div class=\"small-multiples\">";
  bool any = false;
  for (const auto& m : kCompareOutcomes)
    if (metrics.contains(m) && metrics[m].contains("variants")) {
      headline += variant_chart(m);
      any = true;
    }
  headline += "</div>" + legend_html(vlegend);
  if (any)
    p.section("headline", "Client outcomes per variant",
              "Means over replications with 95% confidence intervals (Student t).", headline);

  // S(Y): the added value, grouped by unit.
  if (c.contains("added_value") && c["added_value"].is_object() && !c["added_value"].empty()) {
    std::map<std::string, BarChart> by_unit;
    std::vector<std::string> units;
    for (const auto& [variant, av] : c["added_value"].items()) {
      if (!av.contains("outcomes") || !av["outcomes"].is_object()) continue;
      for (const auto& [m, e] : av["outcomes"].items()) {
        const std::string u = unit_of(m);
        if (!by_unit.count(u)) {
          units.push_back(u);
          BarChart& b = by_unit[u];
          b.dots = true;
          b.percent = u == "shares";
          b.title = u == "shares" ? "S(Y) for shares (percentage points)"
                    : u == "days" ? "S(Y) for waits (days)"
                                  : "S(Y) for counts per client and ratios";
          b.x_label = "difference to " + baseline + " (mean, 95% CI)";
          b.legend = {{"better for clients (CI excludes 0)", "#2e7d32"},
                      {"worse for clients (CI excludes 0)", "#c62828"},
                      {"clear difference, no better direction", "#1e88e5"},
                      {"no clear difference", "#9e9e9e"}};
        }
        Bar bar;
        bar.group = variant + " vs " + baseline;
        bar.label = pretty(m);
        bar.value = get_number(e, "S");
        bar.lo = get_number(e, "ci_low");
        bar.hi = get_number(e, "ci_high");
        const bool sig = e.contains("excludes_zero") && e["excludes_zero"].is_boolean()
                             ? e["excludes_zero"].get<bool>()
                             : (bar.lo > 0 || bar.hi < 0);
        const bool better = lower_is_better(m) ? bar.value < 0 : bar.value > 0;
        bar.colour = !sig ? "#9e9e9e" : neutral(m) ? "#1e88e5" : better ? "#2e7d32" : "#c62828";
        bar.text = fmt_diff(m, bar.value);
        bar.title = m + ": X = " + fmt_metric(m, get_number(e, "X")) +
                    ", S(Y) = " + fmt_diff(m, bar.value) + " [" + fmt_diff(m, bar.lo) + ", " +
                    fmt_diff(m, bar.hi) +
                    "], X + S(Y) = " + fmt_metric(m, get_number(e, "X_plus_S"));
        by_unit[u].bars.push_back(bar);
      }
    }
    std::string s;
    for (const auto& u : units) s += render_bars(by_unit[u]);
    // Y and efficiency: a table.
    std::string t;
    for (const auto& [variant, av] : c["added_value"].items())
      for (const char* part : {"network", "efficiency"}) {
        if (!av.contains(part) || !av[part].is_object()) continue;
        for (const auto& [m, e] : av[part].items())
          t += "<tr><th scope=\"row\">" + esc(variant) + "</th><th scope=\"row\">" +
               esc(pretty(m)) + "</th><td>" + esc(fmt_metric(m, get_number(e, "baseline"))) +
               "</td><td>" + esc(fmt_metric(m, get_number(e, "variant"))) + "</td><td>" +
               esc(fmt_diff(m, get_number(e, "difference"))) + "</td><td>[" +
               esc(fmt_diff(m, get_number(e, "ci_low"))) + ", " +
               esc(fmt_diff(m, get_number(e, "ci_high"))) + "]</td></tr>";
      }
    if (!t.empty())
      s += "<table class=\"data\"><caption>The network's own value and quality Y, and "
           "efficiency</caption><thead><tr><th>variant</th><th>measure</th><th>" +
           esc(baseline) +
           "</th><th>variant</th><th>difference</th><th>95% CI</th></tr></thead><tbody>" + t +
           "</tbody></table>";
    if (!s.empty())
      p.section("added-value", "The network's added value S(Y)",
                "Without the network organizations deliver X; inside it, X + S(Y). Each dot is "
                "the paired mean difference from the baseline over replications, with its 95% "
                "confidence interval; green and red mark differences whose interval excludes "
                "zero.",
                s);
  }

  // Network measures per variant.
  {
    std::string s = "<div class=\"small-multiples\">";
    bool found = false;
    for (const auto& m : kCompareNetwork)
      if (metrics.contains(m) && metrics[m].contains("variants")) {
        s += variant_chart(m);
        found = true;
      }
    s += "</div>" + legend_html(vlegend);
    if (found)
      p.section("network-measures", "Network measures per variant",
                "The network's own value and quality Y (ties, density, conferences, pooling) "
                "and what collaboration costs in staff time.",
                s);
  }

  // Funnels per variant.
  {
    const std::vector<std::pair<std::string, std::string>> stages = {
        {"reached a door", "reached_door_share"},
        {"assessed", "assessed_share"},
        {"served", "served_share"},
        {"complete package", "complete_package_share"},
        {"dropped out", "dropout_share"}};
    BarChart b;
    b.title = "The client journey per variant";
    b.percent = true;
    b.min = 0;
    b.max = 1;
    b.x_label = "share of cohort clients (mean over replications)";
    for (const auto& [stage, m] : stages) {
      if (!metrics.contains(m)) continue;
      for (std::size_t i = 0; i < variants.size(); ++i) {
        const Json& v = child(child(child(metrics, m), "variants"), variants[i]);
        Bar bar;
        bar.group = stage;
        bar.label = variants[i];
        bar.value = get_number(v, "mean");
        bar.lo = get_number(v, "ci_low");
        bar.hi = get_number(v, "ci_high");
        bar.colour = m == "dropout_share" ? "#c62828" : variant_colour(i);
        bar.text = fmt_metric(m, bar.value);
        b.bars.push_back(bar);
      }
    }
    if (!b.bars.empty())
      p.section("journey", "The client journey",
                "Of the clients whose needs arose, the share that reached a door, was assessed, "
                "was served and received the complete package — and the share that gave up.",
                render_bars(b) + legend_html(vlegend));
  }
}

// ---------------------------------------------------------------------------------------------
// A sweep.

void add_sweep(Page& p, const Json& sw) {
  const std::string method = sw.contains("method") && sw["method"].is_string()
                                 ? sw["method"].get<std::string>()
                                 : std::string("?");
  std::vector<std::string> factors;
  if (sw.contains("factors") && sw["factors"].is_array())
    for (const auto& f : sw["factors"])
      if (f.contains("path") && f["path"].is_string()) factors.push_back(f["path"]);
  std::vector<std::string> metrics;
  if (sw.contains("metrics") && sw["metrics"].is_array())
    for (const auto& m : sw["metrics"])
      if (m.is_string()) metrics.push_back(m.get<std::string>());
  std::string name = "sweep";
  if (sw.contains("scenario") && sw["scenario"].is_object() && sw["scenario"].contains("name") &&
      sw["scenario"]["name"].is_string())
    name = sw["scenario"]["name"].get<std::string>();
  if (p.title.empty()) p.title = name + " — " + method + " sweep";
  std::string flist;
  for (const auto& f : factors) flist += (flist.empty() ? "" : ", ") + esc(f);
  p.lead = "A " + esc(method) + " sweep of <em>" + esc(name) + "</em> over " +
           std::to_string(factors.size()) + " factors (" + flist + "), " +
           esc(fmt_num(get_number(sw, "points"))) + " design points × " +
           esc(fmt_num(get_number(sw, "replications"))) +
           " replications. It shows how each response changes with each factor (main effects or "
           "scatter plots of the point means) and which factors matter most (sensitivity "
           "indices with bootstrap 95% intervals).";
  p.provenance.emplace_back("scenario", esc(name));
  p.provenance.emplace_back("method", esc(method));
  for (const char* k : {"points", "replications", "runs", "seed", "ticks", "caremesh_version"})
    if (sw.contains(k))
      p.provenance.emplace_back(k == std::string("ticks") ? "days" : pretty(k),
                                esc(sw[k].is_string() ? sw[k].get<std::string>() : sw[k].dump()));

  const Json& analysis = sw.contains("analysis") ? sw["analysis"] : Json::object();
  std::string effects, sens;
  for (const auto& m : metrics) {
    const Json& a = analysis.contains(m) ? analysis[m] : Json::object();
    if (a.contains("error") && a["error"].is_string()) {
      sens += "<p class=\"empty\"><strong>" + esc(pretty(m)) + ":</strong> " +
              esc(a["error"].get<std::string>()) + "</p>";
    }
    // Main effects (grid).
    if (a.contains("main_effects") && a["main_effects"].is_object()) {
      effects += "<h3>" + esc(pretty(m)) + "</h3><div class=\"small-multiples\">";
      for (const auto& [f, e] : a["main_effects"].items()) {
        XyChart c;
        c.title = f;
        c.x_label = f;
        c.y_label = pretty(m);
        c.percent = is_share(m);
        c.y_from_zero = false;
        c.width = 420;
        c.height = 220;
        XySeries s;
        s.name = "mean of " + m;
        s.colour = "#1e88e5";
        s.markers = true;
        if (e.contains("levels") && e["levels"].is_array())
          for (const auto& v : e["levels"]) s.x.push_back(v.is_number() ? v.get<double>() : kNaN);
        if (e.contains("mean") && e["mean"].is_array())
          for (const auto& v : e["mean"]) s.y.push_back(v.is_number() ? v.get<double>() : kNaN);
        c.series.push_back(s);
        c.caption = "range " + esc(fmt_span(m, get_number(e, "range")));
        c.x_nice = true;
        effects += render_xy(c);
      }
      effects += "</div>";
    }
    // Scatter of point means against each factor (other designs).
    if (!a.contains("main_effects") && sw.contains("design") && sw["design"].is_array() &&
        !factors.empty()) {
      effects += "<h3>" + esc(pretty(m)) + "</h3><div class=\"small-multiples\">";
      for (std::size_t j = 0; j < factors.size() && j < 12; ++j) {
        XyChart c;
        c.title = factors[j];
        c.x_label = factors[j];
        c.y_label = pretty(m);
        c.percent = is_share(m);
        c.y_from_zero = false;
        c.width = 420;
        c.height = 220;
        c.x_nice = true;
        XySeries s;
        s.name = m;
        s.colour = "#1e88e5";
        s.line = false;
        s.markers = true;
        for (const auto& row : sw["design"]) {
          if (!row.contains("values") || !row["values"].is_array() || row["values"].size() <= j)
            continue;
          const Json& x = row["values"][j];
          s.x.push_back(x.is_number() ? x.get<double>() : kNaN);
          s.y.push_back(get_number(row, m));
        }
        c.series.push_back(s);
        effects += render_xy(c);
      }
      effects += "</div>";
    }
    // Sensitivity indices.
    auto interval_bar = [](const std::string& label, const Json& e, const char* colour,
                           const std::string& group) {
      Bar b;
      b.group = group;
      b.label = label;
      b.value = get_number(e, "value");
      b.lo = get_number(e, "ci_low");
      b.hi = get_number(e, "ci_high");
      b.colour = colour;
      b.text = fmt_num(b.value);
      return b;
    };
    if (a.contains("sobol") && a["sobol"].is_object()) {
      BarChart b;
      b.title = "Sobol indices: " + pretty(m);
      b.x_label = "share of the variance (bootstrap 95% CI)";
      b.legend = {{"first order S1", "#1e88e5"}, {"total order ST", "#8e24aa"}};
      for (const auto& [f, e] : a["sobol"].items()) {
        if (e.contains("first")) b.bars.push_back(interval_bar("S1", e["first"], "#1e88e5", f));
        if (e.contains("total")) b.bars.push_back(interval_bar("ST", e["total"], "#8e24aa", f));
      }
      sens += render_bars(b);
    }
    if (a.contains("morris") && a["morris"].is_object()) {
      BarChart b;
      b.title = "Morris elementary effects: " + pretty(m);
      b.x_label = "μ* (mean absolute effect, bootstrap 95% CI)";
      XyChart sc;
      sc.title = "Morris μ* against σ: " + pretty(m);
      sc.x_label = "μ* (importance)";
      sc.y_label = "σ (interactions, non-linearity)";
      XySeries pts;
      pts.name = "factors";
      pts.colour = "#8e24aa";
      pts.line = false;
      pts.markers = true;
      for (const auto& [f, e] : a["morris"].items()) {
        if (e.contains("mu_star")) b.bars.push_back(interval_bar(f, e["mu_star"], "#8e24aa", ""));
        pts.x.push_back(e.contains("mu_star") ? get_number(e["mu_star"], "value") : kNaN);
        pts.y.push_back(get_number(e, "sigma"));
        pts.labels.push_back(f);
      }
      sc.series.push_back(pts);
      sc.legend = false;
      sc.x_from_zero = true;
      sc.x_nice = true;
      sens += render_bars(b) + render_xy(sc);
    }
    if (a.contains("regression") && a["regression"].is_object() &&
        a["regression"].contains("factors")) {
      BarChart b;
      b.title = "Standardized regression coefficients: " + pretty(m);
      b.dots = false;
      b.x_label =
          "SRC (bootstrap 95% CI); R² = " + fmt_num(get_number(a["regression"], "r_squared"));
      for (const auto& [f, e] : a["regression"]["factors"].items()) {
        Bar bar;
        bar.label = f;
        bar.value = get_number(e, "src");
        bar.lo = get_number(e, "src_ci_low");
        bar.hi = get_number(e, "src_ci_high");
        bar.colour = bar.value >= 0 ? "#1e88e5" : "#c62828";
        bar.text = fmt_num(bar.value);
        b.bars.push_back(bar);
      }
      sens += render_bars(b);
    }
    if (a.contains("main_effects") && a["main_effects"].is_object()) {
      BarChart b;
      b.title = "Range of the main effect: " + pretty(m);
      b.x_label = "max − min of the level means";
      b.percent = is_share(m);
      for (const auto& [f, e] : a["main_effects"].items()) {
        Bar bar;
        bar.label = f;
        bar.value = get_number(e, "range");
        bar.colour = "#1e88e5";
        bar.text = fmt_span(m, bar.value);
        b.bars.push_back(bar);
      }
      sens += render_bars(b);
    }
  }
  if (!effects.empty())
    p.section("sweep-effects", method == "grid" ? "Main effects" : "Responses by factor",
              method == "grid"
                  ? "The mean response at each level of a factor, averaged over the other "
                    "factors' levels."
                  : "Each dot is a design point's mean response (over its replications) "
                    "against one factor's value.",
              effects);
  if (!sens.empty())
    p.section("sweep-sensitivity", "Which factors matter",
              "Sensitivity of each response to each factor, with bootstrap 95% intervals.", sens);
  // S against Y: which elements of the network as a collaboration go with better outcomes.
  std::string rel;
  if (sw.contains("collaboration_relation") && sw["collaboration_relation"].is_object())
    for (const auto& [m, rm] : sw["collaboration_relation"].items()) {
      if (!rm.is_object() || rm.empty()) continue;
      BarChart b;
      b.title = pretty(m) + " against the network as a collaboration (Y)";
      b.x_label = "Spearman rank correlation across the design points";
      b.min = -1;
      b.max = 1;
      for (const auto& [y, v] : rm.items()) {
        Bar bar;
        bar.label = pretty(y);
        bar.value = v.is_number() ? v.get<double>() : kNaN;
        bar.colour = !std::isfinite(bar.value) ? "#9e9e9e" : bar.value >= 0 ? "#2e7d32" : "#c62828";
        bar.text = std::isfinite(bar.value) ? fmt_num(bar.value) : "n/a";
        b.bars.push_back(bar);
      }
      rel += render_bars(b);
    }
  if (!rel.empty())
    p.section("sweep-collaboration", "Which elements of Y go with a larger S",
              "Across the design points, the rank correlation of each outcome's mean with each "
              "measure of the network as a collaboration (network_evaluation, "
              "docs/metrics.md). An association across designs, not an effect: a factor may "
              "move both.",
              rel);
}

// ---------------------------------------------------------------------------------------------
// The page: its style and script are report/assets/report.{css,js}, embedded at build time
// (cmake/EmbedAssets.cmake).

std::string assemble(const Page& p, const fs::path& dir, const std::vector<std::string>& sources) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n";
  h += "<meta name=\"generator\" content=\"caremesh " + esc(kVersion) + "\">\n";
  h += "<title>caremesh report: " + esc(p.title) + "</title>\n";
  h += "<style>" + std::string(assets::report_css()) + "</style>\n</head>\n<body>\n<header>\n";
  h += "<h1>" + esc(p.title) + "</h1>\n";
  h += "<p class=\"lead\"><strong>What this shows.</strong> " + p.lead + "</p>\n";
  if (!p.provenance.empty()) {
    h += "<dl class=\"provenance\">";
    for (const auto& [k, v] : p.provenance)
      h += "<div><dt>" + esc(k) + "</dt><dd>" + v + "</dd></div>";
    h += "</dl>\n";
  }
  h += "<nav aria-label=\"sections\">";
  for (const auto& [id, title] : p.nav) h += "<a href=\"#" + id + "\">" + esc(title) + "</a>";
  h += "</nav>\n</header>\n<main>\n" + p.body + "</main>\n";
  std::string files;
  for (const auto& f : sources) files += (files.empty() ? "" : ", ") + esc(f);
  h += "<footer>Made by caremesh " + esc(kVersion) + " from " + files + " in " + esc(dir.string()) +
       ". Self-contained: no part of this page is loaded from anywhere else, so it works "
       "offline. Metrics are defined in docs/metrics.md.</footer>\n";
  h +=
      "<script type=\"application/json\" id=\"report-data\">" + script_json(p.data) + "</script>\n";
  h += "<script>" + std::string(assets::report_js()) + "</script>\n</body>\n</html>\n";
  return h;
}

}  // namespace

Report build_report(const fs::path& dir) {
  const fs::path summary = dir / "summary.json", comparison = dir / "comparison.json",
                 sweep = dir / "sweep.json";
  const bool has_run = fs::is_regular_file(summary), has_cmp = fs::is_regular_file(comparison),
             has_sweep = fs::is_regular_file(sweep);
  if (!has_run && !has_cmp && !has_sweep)
    throw std::invalid_argument(
        dir.string() +
        ": no summary.json, comparison.json or sweep.json (the --out directory of caremesh "
        "run, compare or sweep)");
  Page p;
  Report r;
  if (has_cmp) {
    add_comparison(p, read_json_file(comparison));
    r.sources.push_back("comparison.json");
  }
  if (has_sweep) {
    Page q;
    add_sweep(q, read_json_file(sweep));
    if (p.title.empty()) p.title = q.title, p.lead = q.lead;
    p.provenance.insert(p.provenance.end(), q.provenance.begin(), q.provenance.end());
    p.nav.insert(p.nav.end(), q.nav.begin(), q.nav.end());
    p.sections.insert(p.sections.end(), q.sections.begin(), q.sections.end());
    p.body += q.body;
    r.sources.push_back("sweep.json");
  }
  if (has_run) {
    Page q;
    add_run(q, dir, read_json_file(summary));
    if (p.title.empty()) p.title = q.title, p.lead = q.lead;
    p.provenance.insert(p.provenance.end(), q.provenance.begin(), q.provenance.end());
    for (auto& [id, title] : q.nav) {
      // Keep ids unique when a directory holds more than one kind of result.
      const bool taken = std::find(p.sections.begin(), p.sections.end(), id) != p.sections.end();
      if (taken) {
        const std::string from = "id=\"" + id + "\"", to = "id=\"run-" + id + "\"";
        if (auto at = q.body.find(from); at != std::string::npos)
          q.body.replace(at, from.size(), to);
        id = "run-" + id;
      }
      p.nav.emplace_back(id, title);
      p.sections.push_back(id);
    }
    p.body += q.body;
    p.data = q.data;
    r.sources.push_back("summary.json");
    for (const char* f :
         {"timeseries.csv", "network.csv", "tie_changes.csv", "organizations.csv", "clients.csv"})
      if (fs::is_regular_file(dir / f)) r.sources.push_back(f);
  }
  r.html = assemble(p, dir, r.sources);
  r.sections = p.sections;
  return r;
}

Report write_report(const fs::path& dir, const fs::path& file) {
  Report r = build_report(dir);
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  write_file_atomically(file, r.html);
  return r;
}

}  // namespace cm::care
