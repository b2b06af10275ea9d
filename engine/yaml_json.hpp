// A YAML value as JSON, for provenance records: plain scalars become numbers, booleans or null
// where they read as such; quoted scalars stay strings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace cm {

nlohmann::ordered_json yaml_to_json(const YAML::Node& n);

}  // namespace cm
