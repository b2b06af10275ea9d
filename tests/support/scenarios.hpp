// The built-in scenario files (scenarios/*.yaml), sorted: the tests that must hold for every
// scenario and variant iterate them.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace cm::test {

inline std::vector<std::string> scenario_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(CAREMESH_SCENARIO_DIR))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace cm::test
