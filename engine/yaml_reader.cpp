#include "engine/yaml_reader.hpp"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "engine/input_file.hpp"

namespace cm {

namespace detail {

// Shared by a Document and every Node taken from it (copies included).
struct YamlContext {
  std::string file;
  Diagnostics owned;  // used when no outside Diagnostics was given
  Diagnostics* diags = &owned;

  // Keys asked for on each mapping, by mapping identity (path + position in the file).
  struct Asked {
    std::vector<std::string> keys;  // in the order asked
    std::unordered_set<std::string> set;
  };
  std::unordered_map<std::string, Asked> asked;
  // Tokens of diagnostics that must be given only once (a node of the wrong kind asked for
  // many keys, a mapping finished twice, ...).
  std::unordered_set<std::string> once;

  YamlContext() = default;
  YamlContext(const YamlContext&) = delete;
  YamlContext& operator=(const YamlContext&) = delete;

  Location at(const YAML::Mark& m) const {
    if (m.is_null() || m.line < 0 || m.column < 0) return {file, 0, 0};
    return {file, m.line + 1, m.column + 1};
  }
  bool first_time(std::string token) { return once.insert(std::move(token)).second; }
};

}  // namespace detail

using detail::YamlContext;

namespace {

constexpr double kUnbounded = 1e300;
constexpr std::size_t kMaxQuoted = 60;

// ---- text helpers ---------------------------------------------------------------------------

// A value or key as it appears in a message: quoted, escaped, one line, not too long.
std::string quote(std::string_view s) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (shown >= kMaxQuoted && (c & 0xC0) != 0x80) {  // cut between UTF-8 characters
      out += "...";
      break;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char* hex = "0123456789ABCDEF";
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
    ++shown;
  }
  out += '"';
  return out;
}

std::string hex_byte(unsigned char c) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("0x") + hex[c >> 4] + hex[c & 15];
}

// A key is written plainly in a path when it is a simple word; otherwise as ["key"].
bool plain_path_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || c == '_' || c == '-' || c >= 0x80;
  });
}

std::string join_key(const std::string& path, std::string_view key) {
  if (!plain_path_key(key)) return path + "[" + quote(key) + "]";
  if (path.empty()) return std::string(key);
  std::string out = path;
  out += '.';
  out += key;
  return out;
}

std::string join_index(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// What a node is, for "got ..." in messages.
std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return quote(n.Scalar());
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// The text of a mapping key, or nothing when the key is not a scalar.
std::optional<std::string> key_text(const YAML::Node& key) {
  if (!key.IsDefined() || !key.IsScalar()) return std::nullopt;
  return key.Scalar();
}

std::string describe_key(const YAML::Node& key) {
  if (key.IsNull()) return "an empty key";
  return describe(key);
}

std::string format_bound(double v) {
  if (std::abs(v) < 1e15 && v == std::floor(v)) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string describe_number(double min, double max) {
  const bool has_min = min > -kUnbounded;
  const bool has_max = max < kUnbounded;
  if (has_min && has_max)
    return "a number between " + format_bound(min) + " and " + format_bound(max);
  if (has_min) return "a number >= " + format_bound(min);
  if (has_max) return "a number <= " + format_bound(max);
  return "a number";
}

std::string describe_integer(std::int64_t min, std::int64_t max) {
  const bool has_min = min > std::numeric_limits<std::int64_t>::min();
  const bool has_max = max < std::numeric_limits<std::int64_t>::max();
  if (has_min && has_max) {
    return "a whole number between " + std::to_string(min) + " and " + std::to_string(max);
  }
  if (has_min) return "a whole number >= " + std::to_string(min);
  if (has_max) return "a whole number <= " + std::to_string(max);
  return "a whole number";
}

std::string describe_choice(std::initializer_list<std::string_view> allowed) {
  std::string out = "one of ";
  bool first = true;
  for (const auto a : allowed) {
    if (!first) out += ", ";
    out += quote(a);
    first = false;
  }
  return out;
}

// Optimal string alignment distance (edits, with adjacent transpositions), ASCII case folded.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto low = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = low(a[i - 1]) == low(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && low(a[i - 1]) == low(b[j - 2]) && low(a[i - 2]) == low(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// The closest candidate within a small edit distance (earliest on ties), or nothing.
template <class Range>
std::optional<std::string> closest(std::string_view word, const Range& candidates) {
  // one-letter slips in short words, two in longer ones; nothing for one- or two-letter words
  const std::size_t limit = word.size() <= 2 ? 0 : word.size() <= 4 ? 1 : 2;
  std::optional<std::string> best;
  std::size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    if (std::string_view(c) == word) continue;
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}

// ---- scalar conversion ----------------------------------------------------------------------

enum class Parse { ok, syntax, nan, inf, too_large, too_small, fractional };

std::string hint(Parse p) {
  switch (p) {
    case Parse::nan:
      return " (not-a-number is not allowed)";
    case Parse::inf:
      return " (infinity is not allowed)";
    case Parse::too_large:
      return " (too large)";
    case Parse::too_small:
      return " (too small: it underflows to zero; write 0 if zero is meant)";
    case Parse::fractional:
      return " (not a whole number)";
    case Parse::ok:
    case Parse::syntax:
      break;
  }
  return {};
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), s) != words.end();
}

Parse parse_double(std::string_view s, double& out) {
  if (one_of(s, {".nan", ".NaN", ".NAN"})) return Parse::nan;
  std::string_view body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (one_of(body, {".inf", ".Inf", ".INF"})) return Parse::inf;
  std::string_view t = s;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  if (t.empty() || t[0] == '+' || (t[0] == '-' && t.size() > 1 && t[1] == '+')) {
    return Parse::syntax;
  }
  double v = 0;
  const auto res = std::from_chars(t.data(), t.data() + t.size(), v);
  if (res.ec == std::errc::invalid_argument || res.ptr != t.data() + t.size()) {
    return Parse::syntax;
  }
  if (res.ec == std::errc::result_out_of_range) {
    // from_chars says out of range for both ends: strtod tells an underflow (a tiny result)
    // from an overflow (HUGE_VAL)
    const std::string copy(t);
    const double x = std::strtod(copy.c_str(), nullptr);
    return std::fabs(x) < 1.0 ? Parse::too_small : Parse::too_large;
  }
  if (std::isnan(v)) return Parse::nan;  // "nan", "NAN(...)"
  if (std::isinf(v)) return Parse::inf;  // "inf", "infinity"
  out = v;
  return Parse::ok;
}

Parse parse_integer(std::string_view s, std::int64_t& out) {
  std::string_view t = s;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  if (!t.empty() && t[0] != '+') {
    std::int64_t v = 0;
    const auto res = std::from_chars(t.data(), t.data() + t.size(), v);
    if (res.ptr == t.data() + t.size()) {
      if (res.ec == std::errc()) {
        out = v;
        return Parse::ok;
      }
      if (res.ec == std::errc::result_out_of_range) return Parse::too_large;
    }
  }
  // 1e6 or 2.0 are whole numbers too
  double d = 0;
  const Parse p = parse_double(s, d);
  if (p != Parse::ok) return p;
  if (d != std::floor(d)) return Parse::fractional;
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return Parse::too_large;
  out = static_cast<std::int64_t>(d);
  return Parse::ok;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (one_of(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) return true;
  if (one_of(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) return false;
  return std::nullopt;
}

// Converters: value node → T, or a message saying what is wrong ("expected ..., got ...").
struct NumberSpec {
  double min, max;
  std::string describe() const { return describe_number(min, max); }
  std::optional<double> convert(const YAML::Node& n, std::string& error) const {
    if (!n.IsScalar()) {
      error = "expected " + describe() + ", got " + ::cm::describe(n);
      return std::nullopt;
    }
    double v = 0;
    const Parse p = parse_double(n.Scalar(), v);
    if (p != Parse::ok || v < min || v > max) {
      error = "expected " + describe() + ", got " + quote(n.Scalar()) + hint(p);
      return std::nullopt;
    }
    return v;
  }
};

struct IntegerSpec {
  std::int64_t min, max;
  std::string describe() const { return describe_integer(min, max); }
  std::optional<std::int64_t> convert(const YAML::Node& n, std::string& error) const {
    if (!n.IsScalar()) {
      error = "expected " + describe() + ", got " + ::cm::describe(n);
      return std::nullopt;
    }
    std::int64_t v = 0;
    const Parse p = parse_integer(n.Scalar(), v);
    if (p != Parse::ok || v < min || v > max) {
      error = "expected " + describe() + ", got " + quote(n.Scalar()) + hint(p);
      return std::nullopt;
    }
    return v;
  }
};

struct BoolSpec {
  std::string describe() const { return "true or false"; }
  std::optional<bool> convert(const YAML::Node& n, std::string& error) const {
    std::optional<bool> v;
    if (n.IsScalar()) v = parse_bool(n.Scalar());
    if (!v) error = "expected " + describe() + ", got " + ::cm::describe(n);
    return v;
  }
};

// Unicode normalization form C (ICU): two spellings of one name (a precomposed "ó" and "o" with
// a combining accent) read as one string, so names compare as a reader sees them. Text that is
// not valid UTF-8 is left as it is (its own checks refuse it).
std::string nfc(const std::string& s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return s;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return s;
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  std::string back;
  u.toUTF8String(back);
  if (back != s) return s;  // not valid UTF-8
  if (nfc->isNormalized(u, status) || U_FAILURE(status)) return s;
  status = U_ZERO_ERROR;
  const icu::UnicodeString normal = nfc->normalize(u, status);
  if (U_FAILURE(status)) return s;
  std::string out;
  normal.toUTF8String(out);
  return out;
}

struct StringSpec {
  std::string describe() const { return "a string"; }
  std::optional<std::string> convert(const YAML::Node& n, std::string& error) const {
    if (n.IsScalar()) return nfc(n.Scalar());
    error = "expected " + describe() + ", got " + ::cm::describe(n);
    return std::nullopt;
  }
};

struct ChoiceSpec {
  std::initializer_list<std::string_view> allowed;
  std::string describe() const { return describe_choice(allowed); }
  std::optional<std::string> convert(const YAML::Node& n, std::string& error) const {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (one_of(s, allowed)) return s;
      error = "expected " + describe() + ", got " + quote(s);
      if (const auto near = closest(s, allowed)) error += " (did you mean " + quote(*near) + "?)";
      return std::nullopt;
    }
    error = "expected " + describe() + ", got " + ::cm::describe(n);
    return std::nullopt;
  }
};

// ---- document checks ------------------------------------------------------------------------

// Reports the first byte that is not UTF-8 text (or a control character YAML forbids).
// Columns count bytes, like yaml-cpp's marks; a UTF-8 byte order mark is skipped.
bool check_encoding(const std::string& text, const std::string& file, Diagnostics& diags) {
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
    diags.add({file, 1, 1}, "", "the file is UTF-16 or UTF-32 encoded, expected UTF-8 text");
    return false;
  }
  std::size_t i = 0;
  if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) i = 3;
  int line = 1;
  int column = 1;
  while (i < n) {
    const unsigned char c = b[i];
    if (c == '\n') {
      ++line;
      column = 1;
      ++i;
      continue;
    }
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
        diags.add({file, line, column}, "",
                  "control character " + hex_byte(c) + " is not allowed, expected printable text");
        return false;
      }
      ++column;
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    }
    bool valid = len > 0 && i + len <= n;
    for (std::size_t k = 1; valid && k < len; ++k) {
      const unsigned char cc = b[i + k];
      valid = k == 1 ? (cc >= lo && cc <= hi) : (cc >= 0x80 && cc <= 0xBF);
    }
    if (!valid) {
      diags.add({file, line, column}, "",
                "invalid UTF-8 byte " + hex_byte(c) +
                    ", expected UTF-8 text (was the file saved as Latin-1 or Windows-1252?)");
      return false;
    }
    column += static_cast<int>(len);
    i += len;
  }
  return true;
}

// Walks the whole document with aliases expanded: duplicate keys, depth, recursive aliases
// and the size after expansion.
// What is wrong with one node's own text, if anything: an explicit tag (`!!str 7`, `!!binary`,
// `!custom`: yaml-cpp keeps them but nothing here would honour them, so they are refused rather
// than ignored) or a control character in a scalar's value (which quoted escapes such as "\0" or
// "\x01" produce after the file's bytes were checked). Tab, LF and CR are allowed.
std::string value_problem(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  if (!tag.empty() && tag != "?" && tag != "!") {
    static const std::string core = "tag:yaml.org,2002:";
    const std::string shown = tag.rfind(core, 0) == 0 ? "!!" + tag.substr(core.size()) : tag;
    return "the YAML tag " + quote(shown) +
           " is not supported, expected an untagged value (remove the tag; types come from the "
           "key)";
  }
  if (n.IsScalar())
    for (const char ch : n.Scalar()) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
        return "control character " + hex_byte(c) +
               " in the value (written as an escape?) is not allowed, expected printable text";
    }
  return {};
}

class Walker {
 public:
  explicit Walker(YamlContext& ctx) : ctx_(ctx) {}

  enum class Stop { none, too_deep, recursive, too_large };

  Stop walk(const YAML::Node& root) {
    visit(root, 1);
    return stop_;
  }
  YAML::Mark stop_mark() const { return stop_mark_; }
  const std::string& stop_path() const { return stop_path_; }

 private:
  // One step of the current path: a key (pointing into the document) or an index.
  struct Step {
    const std::string* key = nullptr;
    std::size_t index = 0;
  };

  std::string path() const {
    std::string out;
    for (const Step& s : steps_) out = s.key ? join_key(out, *s.key) : join_index(out, s.index);
    return out;
  }

  void halt(Stop why, const YAML::Node& at) {
    stop_ = why;
    stop_mark_ = at.Mark();
    stop_path_ = path();
  }

  void visit(const YAML::Node& n, int depth) {
    if (++visited_ > Document::kMaxExpandedNodes) {
      halt(Stop::too_large, n);
      return;
    }
    if (n.IsDefined()) {
      const std::string problem = value_problem(n);
      if (!problem.empty() && ctx_.first_time("value:" + std::to_string(n.Mark().pos)))
        ctx_.diags->add(ctx_.at(n.Mark()), path(), problem);
    }
    if (!n.IsDefined() || !(n.IsMap() || n.IsSequence())) return;
    for (const auto& open : open_) {
      if (open.is(n)) {
        halt(Stop::recursive, n);
        return;
      }
    }
    if (depth > Document::kMaxDepth) {
      halt(Stop::too_deep, n);
      return;
    }
    open_.push_back(n);
    if (n.IsSequence()) {
      std::size_t i = 0;
      for (const auto& item : n) {
        steps_.push_back({nullptr, i++});
        visit(item, depth + 1);
        if (stop_ != Stop::none) return;
        steps_.pop_back();
      }
    } else {
      std::unordered_map<std::string_view, int> first_line;
      for (auto it = n.begin(); it != n.end(); ++it) {
        const YAML::Node key = it->first;
        const YAML::Node value = it->second;
        if (!key.IsDefined() || !value.IsDefined()) continue;
        visit(key, depth + 1);  // a complex key counts like any node
        if (stop_ != Stop::none) return;
        static const std::string unnamed = "?";
        const std::string& text = key.IsScalar() ? key.Scalar() : unnamed;
        steps_.push_back({&text, 0});
        if (key.IsScalar()) {
          const YAML::Mark m = key.Mark();
          const auto [pos, inserted] = first_line.emplace(text, m.line + 1);
          if (!inserted && ctx_.first_time("dup:" + std::to_string(m.pos))) {
            ctx_.diags->add(ctx_.at(m), path(),
                            "duplicate key " + quote(text) + " (first defined at line " +
                                std::to_string(pos->second) + "), expected each key once");
          }
        }
        visit(value, depth + 1);
        if (stop_ != Stop::none) return;
        steps_.pop_back();
      }
    }
    open_.pop_back();
  }

  YamlContext& ctx_;
  std::size_t visited_ = 0;
  std::vector<YAML::Node> open_;  // containers on the current path
  std::vector<Step> steps_;
  Stop stop_ = Stop::none;
  YAML::Mark stop_mark_ = YAML::Mark::null_mark();
  std::string stop_path_;
};

// ---- reading the documents ------------------------------------------------------------------

// The root of one document, from the parser's events: whether it is null, and where it is.
class DocumentProbe : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m, true); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m, false); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(m, false);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(m, false);
    ++depth_;
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(m, false);
    ++depth_;
  }
  void OnMapEnd() override { --depth_; }

  bool null_root() const { return null_root_; }
  const YAML::Mark& root_mark() const { return mark_; }

 private:
  void node(const YAML::Mark& m, bool null) {
    if (depth_ != 0 || seen_) return;
    seen_ = true;
    null_root_ = null;
    mark_ = m;
  }
  int depth_ = 0;
  bool seen_ = false;
  bool null_root_ = true;
  YAML::Mark mark_ = YAML::Mark::null_mark();
};

struct Documents {
  YAML::Node first;                  // the first document (null when empty)
  std::optional<YAML::Mark> second;  // where a second non-empty document starts
};

// YAML::LoadAll without its endless loop: yaml-cpp 0.7 loops forever, allocating until memory
// runs out, on a ',' (or an anchor or tag followed by one) where a document's root should be,
// because each pass reports a null document without consuming the token (yaml-cpp issue 1040,
// found by fuzz/fuzz_design with a one-byte input ","). The documents are probed first, and a
// null document that does not get past the previous one is a syntax error; there are never
// more passes than bytes. Only the first document is built: the reader refuses any other.
Documents load_documents(const std::string& text) {
  Documents out;
  std::istringstream in(text);
  YAML::Parser parser(in);
  std::optional<std::size_t> previous_null;  // position of the previous null document
  bool first = true;
  for (std::size_t pass = 0; pass <= text.size() + 1; ++pass) {
    DocumentProbe probe;
    if (!parser.HandleNextDocument(probe)) return out;
    const YAML::Mark& m = probe.root_mark();
    if (probe.null_root()) {
      const auto pos = static_cast<std::size_t>(std::max(m.pos, 0));
      if (previous_null == pos) {
        const char c = pos < text.size() ? text[pos] : ' ';
        throw YAML::ParserException(
            m, c == ',' ? "unexpected ',' (items are separated by ',' only inside [ ] or { })"
                        : "unexpected " + quote(std::string(1, c)) + " where a value should be");
      }
      previous_null = pos;
    } else {
      previous_null.reset();
    }
    if (first) {
      if (!probe.null_root()) out.first = YAML::Load(text);
      first = false;
    } else if (!probe.null_root() && !out.second) {
      out.second = m;
    }
  }
  throw YAML::ParserException(YAML::Mark::null_mark(), "the YAML parser does not advance");
}

}  // namespace

// ---- Diagnostics ----------------------------------------------------------------------------

std::string Diagnostic::str() const {
  std::string out =
      where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

void Diagnostics::add(Location where, std::string path, std::string message) {
  items_.push_back({std::move(where), std::move(path), std::move(message)});
}

std::string Diagnostics::report() const {
  // Files in order of first appearance, then line, then column; ties keep insertion order.
  std::map<std::string, std::size_t> file_order;
  for (const auto& d : items_) file_order.emplace(d.where.file, file_order.size());
  std::vector<const Diagnostic*> sorted;
  sorted.reserve(items_.size());
  for (const auto& d : items_) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [&](const Diagnostic* a, const Diagnostic* b) {
    const auto fa = file_order.at(a->where.file);
    const auto fb = file_order.at(b->where.file);
    if (fa != fb) return fa < fb;
    if (a->where.line != b->where.line) return a->where.line < b->where.line;
    return a->where.column < b->where.column;
  });
  std::string out;
  std::set<std::string> seen;
  for (const auto* d : sorted) {
    std::string line = d->str();
    if (!seen.insert(line).second) continue;
    out += line;
    out += '\n';
  }
  return out;
}

InputError::InputError(Diagnostics d)
    : std::runtime_error(d.report()), diagnostics_(std::move(d)) {}

// ---- Document -------------------------------------------------------------------------------

Document Document::load_file(const std::string& path, Diagnostics& diags) {
  std::string error;
  std::optional<std::string> text =
      read_regular_file(path, kMaxScenarioBytes, "a YAML file", error);
  if (!text) {
    diags.add({path, 0, 0}, "", error);
    Document doc;
    doc.context_ = std::make_shared<YamlContext>();
    doc.context_->file = path;
    doc.context_->diags = &diags;
    return doc;
  }
  return load_string(*text, path, diags);
}

Document Document::load_string(const std::string& text, const std::string& name,
                               Diagnostics& diags) {
  Document doc;
  doc.context_ = std::make_shared<YamlContext>();
  doc.context_->file = name;
  doc.context_->diags = &diags;
  YamlContext& ctx = *doc.context_;
  const std::size_t before = diags.size();

  if (!check_encoding(text, name, diags)) return doc;

  // Old Mac line ends (CR only): yaml-cpp sees one line; read them as line ends.
  std::string cr_only;
  const bool cr_lines =
      text.find('\r') != std::string::npos && text.find('\n') == std::string::npos;
  if (cr_lines) {
    cr_only = text;
    std::replace(cr_only.begin(), cr_only.end(), '\r', '\n');
  }
  const std::string& source = cr_lines ? cr_only : text;

  Documents docs;
  try {
    docs = load_documents(source);
  } catch (const YAML::DeepRecursion& e) {
    diags.add(ctx.at(e.mark), "",
              "nesting is too deep for the YAML parser (it stops at " + std::to_string(e.depth()) +
                  " levels), expected at most " + std::to_string(kMaxDepth) +
                  " nested mappings and sequences");
    return doc;
  } catch (const YAML::Exception& e) {
    diags.add(ctx.at(e.mark), "", "YAML syntax error: " + e.msg);
    return doc;
  } catch (const std::exception& e) {
    diags.add({name, 0, 0}, "", std::string("cannot parse the YAML text: ") + e.what());
    return doc;
  }

  try {
    if (!docs.first || docs.first.IsNull()) {
      diags.add({name, 1, 1}, "", "the file is empty, expected a scenario mapping");
    }
    if (docs.second) {
      diags.add(ctx.at(*docs.second), "",
                "a second YAML document, expected a single document (remove the \"---\" "
                "separator)");
    }
    if (!docs.first || docs.first.IsNull()) return doc;

    Walker walker(ctx);
    const Walker::Stop stop = walker.walk(docs.first);
    const Location where = ctx.at(walker.stop_mark());
    switch (stop) {
      case Walker::Stop::none:
        break;
      case Walker::Stop::too_deep:
        diags.add(where, walker.stop_path(),
                  "nesting is deeper than " + std::to_string(kMaxDepth) +
                      " levels, expected at most " + std::to_string(kMaxDepth) +
                      " nested mappings and sequences");
        break;
      case Walker::Stop::recursive:
        diags.add(where, walker.stop_path(),
                  "an alias refers to a mapping or sequence that contains it (recursive "
                  "alias), expected a finite document");
        break;
      case Walker::Stop::too_large:
        diags.add(ctx.at(docs.first.Mark()), "",
                  "document too large after expanding aliases (alias bomb?): more than " +
                      std::to_string(kMaxExpandedNodes) + " nodes, expected at most " +
                      std::to_string(kMaxExpandedNodes));
        break;
    }
    if (stop == Walker::Stop::none) {
      doc.root_ = docs.first;
      doc.readable_ = true;
    }
  } catch (const std::exception& e) {
    diags.add({name, 0, 0}, "", std::string("cannot read the YAML document: ") + e.what());
    doc.readable_ = false;
  }
  doc.ok_ = doc.readable_ && diags.size() == before;
  return doc;
}

void check_value_tree(const YAML::Node& value, const Location& where, const std::string& path,
                      Diagnostics& diags) {
  std::size_t visited = 0;
  std::string first;
  const std::function<void(const YAML::Node&, int)> visit = [&](const YAML::Node& n, int depth) {
    if (!first.empty() || !n.IsDefined() || ++visited > 10'000 || depth > Document::kMaxDepth)
      return;
    first = value_problem(n);
    if (n.IsSequence())
      for (const auto& item : n) visit(item, depth + 1);
    if (n.IsMap())
      for (const auto& kv : n) {
        visit(kv.first, depth + 1);
        visit(kv.second, depth + 1);
      }
  };
  visit(value, 1);
  if (!first.empty()) diags.add(where, path, first);
}

Node Document::root() {
  if (!context_) {
    context_ = std::make_shared<YamlContext>();
  }
  if (!readable_) return Node(YAML::Node(), false, YAML::Mark::null_mark(), "", context_);
  return Node(root_, true, root_.Mark(), "", context_);
}

// ---- Node -----------------------------------------------------------------------------------

struct Node::Lookup {
  enum State { no_mapping, missing, null, value } state = no_mapping;
  YAML::Node key;
  YAML::Node val;
};

Node::Node() : context_(std::make_shared<YamlContext>()) {}

Node::Node(YAML::Node node, std::string path, std::shared_ptr<void> context)
    : path_(std::move(path)),
      context_(context ? std::static_pointer_cast<YamlContext>(context)
                       : std::make_shared<YamlContext>()) {
  try {
    if (node.IsDefined()) {
      node_ = node;
      exists_ = true;
      mark_ = node.Mark();
    }
  } catch (const YAML::Exception&) {
    exists_ = false;
  }
}

Node::Node(YAML::Node node, bool exists, YAML::Mark mark, std::string path,
           std::shared_ptr<YamlContext> context)
    : node_(std::move(node)),
      exists_(exists),
      mark_(mark),
      path_(std::move(path)),
      context_(std::move(context)) {}

bool Node::exists() const {
  return exists_ && node_.IsDefined();
}
bool Node::present() const {
  return exists_ && node_.IsDefined() && !node_.IsNull();
}
bool Node::is_map() const {
  return exists_ && node_.IsDefined() && node_.IsMap();
}
bool Node::is_sequence() const {
  return exists_ && node_.IsDefined() && node_.IsSequence();
}
bool Node::is_scalar() const {
  return exists_ && node_.IsDefined() && node_.IsScalar();
}
Location Node::location() const {
  return context_->at(mark_);
}
Diagnostics& Node::diags() const {
  return *context_->diags;
}
YAML::Node Node::yaml() const {
  return exists_ ? node_ : YAML::Node();
}
std::shared_ptr<void> Node::context() const {
  return context_;
}

std::string Node::identity() const {
  return path_ + '\x1f' + std::to_string(mark_.pos) + ':' + std::to_string(mark_.line);
}

void Node::diagnose(const YAML::Mark& mark, const std::string& path, std::string message) const {
  context_->diags->add(context_->at(mark), path, std::move(message));
}

Node::Lookup Node::lookup(std::string_view key) const {
  Lookup out;
  if (!exists_) return out;
  try {
    if (!node_.IsDefined()) return out;
    if (!node_.IsMap()) {
      if (context_->first_time("kind:" + identity())) {
        const std::string want = "a mapping (with key " + quote(key) + ")";
        diagnose(mark_, path_,
                 node_.IsNull() ? "has no value, expected " + want
                                : "expected " + want + ", got " + describe(node_));
      }
      return out;
    }
    auto& asked = context_->asked[identity()];
    if (asked.set.emplace(key).second) asked.keys.emplace_back(key);
    out.state = Lookup::missing;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsDefined() || !v.IsDefined()) continue;
      const auto text = key_text(k);
      if (!text || *text != key) continue;
      out.key = k;
      out.val = v;
      out.state = v.IsNull() ? Lookup::null : Lookup::value;
      break;
    }
  } catch (const YAML::Exception& e) {
    diagnose(mark_, path_, std::string("cannot read this node: ") + e.what());
    out.state = Lookup::no_mapping;
  }
  return out;
}

Node Node::make_child(const Lookup& found, std::string_view key) const {
  std::string path = join_key(path_, key);
  switch (found.state) {
    case Lookup::value:
      return Node(found.val, true, found.val.Mark(), std::move(path), context_);
    case Lookup::null:  // a null value has no useful position of its own: point at its key
      return Node(found.val, true, found.key.Mark(), std::move(path), context_);
    case Lookup::missing:
    case Lookup::no_mapping:
      break;
  }
  return Node(YAML::Node(), false, mark_, std::move(path), context_);
}

bool Node::has(std::string_view key) const {
  const Lookup f = lookup(key);
  return f.state == Lookup::value || f.state == Lookup::null;
}

Node Node::child(std::string_view key) const {
  return make_child(lookup(key), key);
}

namespace {

// Reads the value at `key` with `spec`; reports problems; returns nothing on any problem.
template <class Spec>
auto read_at(const Node& parent, std::string_view key, const Spec& spec, bool required)
    -> decltype(spec.convert(YAML::Node(), std::declval<std::string&>())) {
  // An absent parent is silent; a parent of the wrong kind is reported once, by child().
  const Node c = parent.child(key);
  if (!parent.is_map()) return std::nullopt;
  if (!c.exists()) {
    if (required) {
      parent.error("missing required key " + quote(key) + " (" + spec.describe() + ")");
    }
    return std::nullopt;
  }
  if (!c.present()) {
    c.error("has no value, expected " + spec.describe());
    return std::nullopt;
  }
  std::string message;
  auto v = spec.convert(c.yaml(), message);
  if (!v) c.error(message);
  return v;
}

// The same for a node itself (sequence items).
template <class Spec>
auto read_self(const Node& n, const Spec& spec)
    -> decltype(spec.convert(YAML::Node(), std::declval<std::string&>())) {
  if (!n.exists()) return std::nullopt;
  if (!n.present()) {
    n.error("has no value, expected " + spec.describe());
    return std::nullopt;
  }
  std::string message;
  auto v = spec.convert(n.yaml(), message);
  if (!v) n.error(message);
  return v;
}

}  // namespace

double Node::number(std::string_view key, double fallback, double min, double max) const {
  return read_at(*this, key, NumberSpec{min, max}, false).value_or(fallback);
}

double Node::require_number(std::string_view key, double min, double max) const {
  const double fallback = std::clamp(0.0, min, std::max(min, max));
  return read_at(*this, key, NumberSpec{min, max}, true).value_or(fallback);
}

std::int64_t Node::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                           std::int64_t max) const {
  return read_at(*this, key, IntegerSpec{min, max}, false).value_or(fallback);
}

std::int64_t Node::require_integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  const std::int64_t fallback = std::clamp<std::int64_t>(0, min, std::max(min, max));
  return read_at(*this, key, IntegerSpec{min, max}, true).value_or(fallback);
}

bool Node::boolean(std::string_view key, bool fallback) const {
  return read_at(*this, key, BoolSpec{}, false).value_or(fallback);
}

std::string Node::string(std::string_view key, std::string fallback) const {
  auto v = read_at(*this, key, StringSpec{}, false);
  return v ? std::move(*v) : std::move(fallback);
}

std::string Node::require_string(std::string_view key) const {
  return read_at(*this, key, StringSpec{}, true).value_or(std::string());
}

std::string Node::choice(std::string_view key, std::string fallback,
                         std::initializer_list<std::string_view> allowed) const {
  auto v = read_at(*this, key, ChoiceSpec{allowed}, false);
  return v ? std::move(*v) : std::move(fallback);
}

double Node::as_number(double min, double max, double fallback) const {
  return read_self(*this, NumberSpec{min, max}).value_or(fallback);
}

std::int64_t Node::as_integer(std::int64_t min, std::int64_t max, std::int64_t fallback) const {
  return read_self(*this, IntegerSpec{min, max}).value_or(fallback);
}

std::string Node::as_string(std::string fallback) const {
  auto v = read_self(*this, StringSpec{});
  return v ? std::move(*v) : std::move(fallback);
}

std::vector<Node> Node::items() const {
  std::vector<Node> out;
  if (!exists_) return out;
  try {
    if (!node_.IsDefined()) return out;
    if (!node_.IsSequence()) {
      if (context_->first_time("items:" + identity())) {
        diagnose(mark_, path_,
                 node_.IsNull() ? std::string("has no value, expected a sequence")
                                : "expected a sequence, got " + describe(node_));
      }
      return out;
    }
    std::size_t i = 0;
    for (const auto& item : node_) {
      const YAML::Node v = item;
      std::string path = join_index(path_, i++);
      if (!v.IsDefined()) continue;
      // an empty item ("- ") is positioned where the next token starts: use the sequence's
      const YAML::Mark m = v.IsNull() ? mark_ : v.Mark();
      out.push_back(Node(v, true, m, std::move(path), context_));
    }
  } catch (const YAML::Exception& e) {
    diagnose(mark_, path_, std::string("cannot read this node: ") + e.what());
  }
  return out;
}

std::vector<std::pair<std::string, Node>> Node::entries() const {
  std::vector<std::pair<std::string, Node>> out;
  if (!exists_) return out;
  try {
    if (!node_.IsDefined()) return out;
    if (!node_.IsMap()) {
      if (context_->first_time("entries:" + identity())) {
        diagnose(mark_, path_,
                 node_.IsNull() ? std::string("has no value, expected a mapping")
                                : "expected a mapping, got " + describe(node_));
      }
      return out;
    }
    auto& asked = context_->asked[identity()];
    std::unordered_set<std::string> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsDefined() || !v.IsDefined()) continue;
      const auto text = key_text(k);
      if (!text) {
        if (context_->first_time("key:" + identity() + std::to_string(k.Mark().pos))) {
          diagnose(k.Mark(), path_, "expected a plain key, got " + describe_key(k));
        }
        continue;
      }
      if (asked.set.insert(*text).second) asked.keys.push_back(*text);
      if (!seen.insert(*text).second) continue;  // duplicate: reported at load
      const YAML::Mark m = v.IsNull() ? k.Mark() : v.Mark();
      out.emplace_back(*text, Node(v, true, m, join_key(path_, *text), context_));
    }
  } catch (const YAML::Exception& e) {
    diagnose(mark_, path_, std::string("cannot read this node: ") + e.what());
  }
  return out;
}

void Node::finish() const {
  if (!is_map()) return;
  const std::string id = identity();
  if (!context_->first_time("finish:" + id)) return;
  try {
    const auto& asked = context_->asked[id];
    std::unordered_set<std::string> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const YAML::Node k = it->first;
      if (!k.IsDefined() || !it->second.IsDefined()) continue;
      const auto text = key_text(k);
      if (!text) {
        if (context_->first_time("key:" + id + std::to_string(k.Mark().pos))) {
          diagnose(k.Mark(), path_, "expected a plain key, got " + describe_key(k));
        }
        continue;
      }
      if (!seen.insert(*text).second) continue;  // duplicate: reported at load
      if (asked.set.count(*text)) continue;
      std::string message;
      if (*text == "<<") {
        message =
            "merge keys (\"<<\") are not supported, expected the keys written out (an alias "
            "can only stand for a whole value)";
      } else if (const auto near = closest(*text, asked.keys)) {
        message = "unknown key " + quote(*text) + " (did you mean " + quote(*near) + "?)";
      } else if (asked.keys.empty()) {
        message = "unknown key " + quote(*text) + " (no keys are expected here)";
      } else {
        std::vector<std::string> known = asked.keys;
        std::sort(known.begin(), known.end());
        message = "unknown key " + quote(*text) + " (expected one of: ";
        for (std::size_t i = 0; i < known.size(); ++i) {
          if (i) message += ", ";
          message += known[i];
        }
        message += ")";
      }
      diagnose(k.Mark(), join_key(path_, *text), std::move(message));
    }
  } catch (const YAML::Exception& e) {
    diagnose(mark_, path_, std::string("cannot read this node: ") + e.what());
  }
}

void Node::error(std::string message) const {
  diagnose(mark_, path_, std::move(message));
}

void Node::error_at(std::string_view key, std::string message) const {
  if (is_map()) {
    try {
      for (auto it = node_.begin(); it != node_.end(); ++it) {
        const YAML::Node k = it->first;
        const auto text = key_text(k);
        if (text && *text == key) {
          diagnose(k.Mark(), join_key(path_, key), std::move(message));
          return;
        }
      }
    } catch (const YAML::Exception&) {
      // fall through to this node's position
    }
  }
  diagnose(mark_, join_key(path_, key), std::move(message));
}

}  // namespace cm
