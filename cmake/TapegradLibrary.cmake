# tg_add_library(): the one way a tapegrad library is declared, built and installed.
#
# tg_add_library(<name> SOURCES <file>... [PUBLIC <dep>...] [PRIVATE <dep>...]
#                [EXPORT <export set>])
# declares the static library tapegrad_<name> in the calling folder, with
#  - the alias tapegrad::<name>, and the export and file names that match it;
#  - C++20, the folder's include/ as public headers and its src/ as private ones;
#  - PUBLIC and PRIVATE dependencies (fmt, which every library formats its errors with, is
#    always private);
#  - the project's warnings and the libraries' code generation flags (TapegradOptions.cmake);
#  - installation of the library and of its include/ folder, in the export set EXPORT
#    (tapegradTargets unless told; TapegradInstall.cmake installs the sets).
function(tg_add_library name)
  cmake_parse_arguments(ARG "" "EXPORT" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "tg_add_library(${name}): no SOURCES")
  endif()
  if(NOT ARG_EXPORT)
    set(ARG_EXPORT tapegradTargets)
  endif()
  set(target tapegrad_${name})
  add_library(${target} ${ARG_SOURCES})
  add_library(tapegrad::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME ${target})
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC} PRIVATE fmt::fmt ${ARG_PRIVATE})
  tg_set_warnings(${target})
  tg_set_library_codegen(${target})
  install(TARGETS ${target}
          EXPORT ${ARG_EXPORT}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
