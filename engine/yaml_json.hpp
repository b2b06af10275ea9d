// A YAML value as JSON, for provenance records: plain scalars become numbers, booleans or null
// where they read as such; quoted scalars stay strings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace cm {

nlohmann::ordered_json yaml_to_json(const YAML::Node& n);

// The JSON text of a provenance record; bytes that are not UTF-8 become U+FFFD instead of
// throwing (a record must never be what makes a valid run fail).
std::string provenance_dump(const nlohmann::ordered_json& j);

}  // namespace cm
