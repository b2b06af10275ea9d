# Project-wide compile flags: warnings on, no floating-point contraction (determinism).
add_library(caremesh_flags INTERFACE)
target_compile_options(caremesh_flags INTERFACE -Wall -Wextra -Wpedantic -ffp-contract=off
                                                $<$<BOOL:${CAREMESH_WERROR}>:-Werror>)
target_include_directories(caremesh_flags INTERFACE ${PROJECT_SOURCE_DIR}
                                                    ${CMAKE_BINARY_DIR}/generated)
