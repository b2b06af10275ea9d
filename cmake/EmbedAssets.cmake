# Embeds files (HTML, CSS, JavaScript) in a target at build time, so the pages' code lives in
# asset files and not in C++ string literals.
#
#   cm_embed_assets(TARGET target HEADER name NAMESPACE ns FILES file...)
#
# generates ${CMAKE_BINARY_DIR}/generated/<name>.hpp declaring, in namespace ns, one function
# per file, `std::string_view <stem>_<ext>()` (workshop.html -> workshop_html()), and a .cpp
# defining them over byte arrays (no literal length limit), added to the target. The files are
# read again whenever one of them changes.
set(CM_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/EmbedAssetsScript.cmake)

function(cm_embed_assets)
  cmake_parse_arguments(ARG "" "TARGET;HEADER;NAMESPACE" "FILES" ${ARGN})
  set(dir ${CMAKE_BINARY_DIR}/generated)
  set(hpp ${dir}/${ARG_HEADER}.hpp)
  set(cpp ${dir}/${ARG_HEADER}.cpp)
  string(REPLACE ";" "|" files "${ARG_FILES}")
  add_custom_command(
    OUTPUT ${hpp} ${cpp}
    COMMAND ${CMAKE_COMMAND} -DHEADER=${hpp} -DSOURCE=${cpp} -DNAMESPACE=${ARG_NAMESPACE}
            "-DFILES=${files}" -P ${CM_EMBED_SCRIPT}
    DEPENDS ${ARG_FILES} ${CM_EMBED_SCRIPT}
    COMMENT "Embedding ${ARG_HEADER}: ${ARG_FILES}"
    VERBATIM)
  target_sources(${ARG_TARGET} PRIVATE ${hpp} ${cpp})
  target_include_directories(${ARG_TARGET} PUBLIC ${dir})
endfunction()
