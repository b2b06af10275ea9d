# All third-party code comes from Debian packages; see scripts/setup.sh.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED)
find_package(TBB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 QUIET CONFIG)
find_package(SQLite3 REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc)  # Unicode normalization of scenario names (NFC)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# Nettle (nettle-dev): SHA-256 (the results store's content digest) and HMAC-SHA-256 (the
# checkpoints' authenticated digest).
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)

find_path(RANDOM123_INCLUDE_DIR Random123/philox.h REQUIRED)
add_library(random123 INTERFACE)
target_include_directories(random123 SYSTEM INTERFACE ${RANDOM123_INCLUDE_DIR})

if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

if(CAREMESH_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CAREMESH_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Distributed experiments (docs/distributed.md): only the caremesh executable links MPI; the
# engine and model libraries stay MPI-free. mpiexec (MPIEXEC_EXECUTABLE) runs the tests.
# FindMPI finds the C interface through the C compiler; caremesh calls it from C++.
enable_language(C)
find_package(MPI REQUIRED COMPONENTS C)
