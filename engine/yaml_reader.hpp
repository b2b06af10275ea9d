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

// Thrown by loaders when a scenario cannot be used; carries every diagnostic found.
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(Diagnostics d);
  const Diagnostics& diagnostics() const { return diagnostics_; }

 private:
  Diagnostics diagnostics_;
};

class Node;

// A parsed YAML file. Syntax errors, duplicate keys, unreadable or missing files, directories
// and empty documents are reported into the Diagnostics given to load_*; root() is then an
// absent node.
class Document {
 public:
  static Document load_file(const std::string& path, Diagnostics& diags);
  static Document load_string(const std::string& text, const std::string& name,
                              Diagnostics& diags);
  Node root();
  bool ok() const { return ok_; }

 private:
  struct State;
  std::shared_ptr<State> state_;
  bool ok_ = false;
};

// A view of one YAML node with its path. Accessors that take a key mark it as used; a
// missing required key, a wrong type or an out-of-range value adds a Diagnostic and returns
// the given fallback so that loading continues and reports everything at once.
class Node {
 public:
  Node() = default;
  Node(YAML::Node node, std::string path, std::shared_ptr<void> context);

  bool present() const;  // the node exists and is not null
  bool is_map() const;
  bool is_sequence() const;
  bool is_scalar() const;
  const std::string& path() const { return path_; }
  Location location() const;
  Diagnostics& diags() const;

  bool has(std::string_view key) const;  // marks the key as used
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
  YAML::Node node_;
  std::string path_;
  std::shared_ptr<void> context_;
};

}  // namespace cm
