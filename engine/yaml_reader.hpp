// Strict scenario loading on top of yaml-cpp.
//
// yaml-cpp reports syntax errors with a position but accepts duplicate keys, ignores unknown
// keys and throws a bare "bad conversion" for a wrong type. This reader closes those gaps:
// every problem becomes a Diagnostic "FILE:LINE:COL: yaml.path: what is wrong, what was
// expected", all problems of a file are collected (not only the first), and the model's
// loader turns a non-empty Diagnostics into exit status 2 before anything is written.
//
// Use: open a Document, walk it with Node accessors that name the key and the expected
// range, then call Node::finish() on every mapping read, which reports keys nobody asked for.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cm {

struct Location {
  std::string file;  // file name as given by the user
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

struct Diagnostic {
  Location where;
  std::string path;     // dotted YAML path, e.g. "organizations[3].services[0].capacity"
  std::string message;  // what is wrong and what was expected
  // "FILE:LINE:COL: path: message" (path omitted when empty)
  std::string str() const;
};

class Diagnostics {
 public:
  void add(Location where, std::string path, std::string message);
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // All diagnostics, one per line, sorted by (line, column) with duplicates removed.
  std::string report() const;

 private:
  std::vector<Diagnostic> items_;
};

// Thrown by loaders when an input file (a scenario, a design, targets) cannot be used; carries
// every diagnostic found.
class InputError : public std::runtime_error {
 public:
  explicit InputError(Diagnostics d);
  const Diagnostics& diagnostics() const { return diagnostics_; }

 private:
  Diagnostics diagnostics_;
};

class Node;

// Reports (once, at where) an explicit YAML tag or a control character in the scalars of a
// value that did not come from a file, e.g. a --set override's value. Values read from files
// are checked the same way as they are loaded.
void check_value_tree(const YAML::Node& value, const Location& where, const std::string& path,
                      Diagnostics& diags);

namespace detail {
struct YamlContext;  // file name, diagnostics sink and used-key bookkeeping of one document
}  // namespace detail

// A parsed YAML file. Unreadable or missing files, directories, bytes that are not UTF-8 text,
// syntax errors, empty documents, duplicate keys, nesting deeper than kMaxDepth and documents
// that expand to more than kMaxExpandedNodes nodes through aliases are reported into the
// Diagnostics given to load_*. ok() is true when loading added no diagnostic. root() is an
// absent node when the document could not be parsed or is unsafe to walk; with only duplicate
// keys (or a second YAML document) it stays readable so that later problems are reported too.
// The Diagnostics object must outlive the Document and every Node taken from it.
class Document {
 public:
  static constexpr int kMaxDepth = 64;                         // nested mappings/sequences
  static constexpr std::size_t kMaxExpandedNodes = 1'000'000;  // counting aliases expanded

  static Document load_file(const std::string& path, Diagnostics& diags);
  static Document load_string(const std::string& text, const std::string& name, Diagnostics& diags);
  Node root();
  bool ok() const { return ok_; }

 private:
  std::shared_ptr<detail::YamlContext> context_;
  YAML::Node root_;
  bool readable_ = false;  // root_ may be walked
  bool ok_ = false;
};

// A view of one YAML node with its path. Accessors that take a key mark it as used; a
// missing required key, a wrong type or an out-of-range value adds a Diagnostic and returns
// the given fallback so that loading continues and reports everything at once.
//
// A key that is present with no value (`key:` or `key: ~`) is an error for every accessor
// ("has no value"), for optional keys too. Accessors on an absent node return their fallback
// silently (the absence was reported, or allowed, where the node was taken); error() still
// reports, at the parent mapping. Numeric bounds at or beyond +-1e300 (or the int64 limits)
// count as "no bound" in messages.
class Node {
 public:
  Node();  // absent, with a private Diagnostics
  // Wraps a yaml-cpp node. context: nullptr for a standalone node with its own Diagnostics,
  // or another Node's context() to report into that node's document.
  Node(YAML::Node node, std::string path, std::shared_ptr<void> context);

  bool exists() const;   // the node is written in the file, possibly with no value (null)
  bool present() const;  // the node exists and is not null
  bool is_map() const;
  bool is_sequence() const;
  bool is_scalar() const;
  const std::string& path() const { return path_; }
  Location location() const;
  Diagnostics& diags() const;
  YAML::Node yaml() const;                // the underlying yaml-cpp node (null if absent)
  std::shared_ptr<void> context() const;  // for Node(YAML::Node, path, context)

  // Marks the key as used; true when the key is written, even with no value.
  bool has(std::string_view key) const;
  Node child(std::string_view key) const;  // marks used; absent Node when missing

  // Scalars at a key. With a default: an optional key. Without: required.
  double number(std::string_view key, double fallback, double min, double max) const;
  double require_number(std::string_view key, double min, double max) const;
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  std::int64_t require_integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  bool boolean(std::string_view key, bool fallback) const;
  std::string string(std::string_view key, std::string fallback) const;
  std::string require_string(std::string_view key) const;
  // One of the allowed words.
  std::string choice(std::string_view key, std::string fallback,
                     std::initializer_list<std::string_view> allowed) const;

  // This node itself as a scalar (for sequence items).
  double as_number(double min, double max, double fallback = 0.0) const;
  std::int64_t as_integer(std::int64_t min, std::int64_t max, std::int64_t fallback = 0) const;
  std::string as_string(std::string fallback = {}) const;

  // Children of a sequence (items get paths like "key[3]"), or of a mapping with their keys.
  // A node of the wrong kind adds a diagnostic and yields nothing.
  std::vector<Node> items() const;
  std::vector<std::pair<std::string, Node>> entries() const;  // marks all keys used

  // Reports every key of this mapping that no accessor asked for, naming the closest known
  // key when one is near ("did you mean ...?").
  void finish() const;

  // Adds a diagnostic located at this node (or at the key within it, if given).
  void error(std::string message) const;
  void error_at(std::string_view key, std::string message) const;

 private:
  friend class Document;
  struct Lookup;
  Node(YAML::Node node, bool exists, YAML::Mark mark, std::string path,
       std::shared_ptr<detail::YamlContext> context);
  Lookup lookup(std::string_view key) const;
  Node make_child(const Lookup& found, std::string_view key) const;
  std::string identity() const;
  void diagnose(const YAML::Mark& mark, const std::string& path, std::string message) const;

  YAML::Node node_;  // meaningful only when exists_
  bool exists_ = false;
  YAML::Mark mark_ = YAML::Mark::null_mark();  // where messages about this node point
  std::string path_;
  std::shared_ptr<detail::YamlContext> context_;
};

}  // namespace cm
