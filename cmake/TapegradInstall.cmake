# cmake --install support: headers, libraries, and a package config for find_package(tapegrad).
include(CMakePackageConfigHelpers)

# The six libraries install themselves and their headers (tg_add_library, TapegradLibrary.cmake);
# here: the umbrella, the header-only testing target and the export sets.
install(TARGETS tapegrad tapegrad_testing
        EXPORT tapegradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ testing/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tapegradTargets NAMESPACE tapegrad::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
# tapegrad::distributed in its own export set (see distributed/CMakeLists.txt).
if(TG_HAVE_MPI)
  install(EXPORT tapegradDistributedTargets NAMESPACE tapegrad::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
endif()
configure_package_config_file(cmake/tapegradConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/tapegradConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tapegradConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
# FindOpenBLAS.cmake goes beside the config, which uses it to find the consumer's own OpenBLAS.
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tapegradConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/tapegradConfigVersion.cmake
              cmake/FindOpenBLAS.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)

# A Debian package of the same files (`cpack -G DEB` in the build directory): libtapegrad-dev
# puts them under /usr, where find_package(tapegrad) looks without a prefix path, and declares
# the Debian packages that the package config's find_dependency calls need. Static libraries:
# no shared-library dependencies to compute. Only for a top-level build (not add_subdirectory).
if(PROJECT_IS_TOP_LEVEL)
  set(CPACK_PACKAGE_NAME libtapegrad-dev)
  set(CPACK_PACKAGE_VENDOR tapegrad)
  set(CPACK_PACKAGE_CONTACT "tapegrad maintainers <tapegrad@localhost>")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
      "tapegrad: a small reverse-mode autodiff library in C++20 (headers, static libraries, CMake package)")
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas-dev, libfmt-dev, zlib1g-dev, nlohmann-json3-dev")
  if(TG_HAVE_MPI)
    # tapegrad::distributed is loaded only where MPI is found.
    set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libopenmpi-dev, openmpi-bin")
  endif()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  include(CPack)
endif()
