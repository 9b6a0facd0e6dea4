# cmake --install support: headers, libraries, and a package config for find_package(tapegrad).
include(CMakePackageConfigHelpers)

install(TARGETS tapegrad tapegrad_autograd tapegrad_nn tapegrad_optim tapegrad_data
        tapegrad_checkpoint tapegrad_testing
        EXPORT tapegradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ autograd/include/ nn/include/ optim/include/ data/include/
        checkpoint/include/ testing/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tapegradTargets NAMESPACE tapegrad::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
# tapegrad::distributed in its own export set: the package config loads it only where MPI is
# found, so a consumer without MPI still gets the core targets.
if(TG_HAVE_MPI)
  install(TARGETS tapegrad_distributed
          EXPORT tapegradDistributedTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY distributed/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
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
