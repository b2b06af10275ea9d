# Project-wide compile flags: warnings on, no floating-point contraction (determinism).
add_library(caremesh_flags INTERFACE)
target_compile_options(caremesh_flags INTERFACE -Wall -Wextra -Wpedantic -ffp-contract=off
                                                $<$<BOOL:${CAREMESH_WERROR}>:-Werror>)
# GCC 12 at -O2/-O3 reports -Wrestrict and -Wmaybe-uninitialized inside libstdc++'s own
# std::string code (GCC bugs 105329 and 105562), not in ours; they are silenced for GCC 12 only.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(caremesh_flags INTERFACE -Wno-restrict -Wno-maybe-uninitialized)
endif()
target_include_directories(caremesh_flags INTERFACE ${PROJECT_SOURCE_DIR}
                                                    ${CMAKE_BINARY_DIR}/generated)
