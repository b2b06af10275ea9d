#include "engine/yaml_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace cm {

nlohmann::ordered_json yaml_to_json(const YAML::Node& n) {
  if (!n || n.IsNull()) return nullptr;
  if (n.IsSequence()) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& x : n) a.push_back(yaml_to_json(x));
    return a;
  }
  if (n.IsMap()) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const auto& kv : n) {
      // a key that is itself a mapping or sequence (YAML allows it) is kept as its YAML text
      std::string key;
      if (kv.first.IsScalar()) {
        key = kv.first.Scalar();
      } else {
        YAML::Emitter e;
        e << YAML::Flow << kv.first;
        key = e.c_str();
      }
      o[key] = yaml_to_json(kv.second);
    }
    return o;
  }
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: a string whatever it looks like
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::int64_t i = 0;
  if (auto r = std::from_chars(s.data(), s.data() + s.size(), i);
      r.ec == std::errc() && r.ptr == s.data() + s.size())
    return i;
  double d = 0;
  if (auto r = std::from_chars(s.data(), s.data() + s.size(), d);
      r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(d))
    return d;
  return s;
}

std::string provenance_dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace cm
