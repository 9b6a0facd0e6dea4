# cmake --install support: headers, libraries, and a package config for find_package(tapegrad).
include(CMakePackageConfigHelpers)

set(_tg_installed_targets tapegrad tapegrad_autograd tapegrad_nn tapegrad_optim)
set(_tg_installed_headers autograd/include/ nn/include/ optim/include/)
if(TG_HAVE_MPI)
  list(APPEND _tg_installed_targets tapegrad_distributed)
  list(APPEND _tg_installed_headers distributed/include/)
endif()
install(TARGETS ${_tg_installed_targets}
        EXPORT tapegradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${_tg_installed_headers}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tapegradTargets NAMESPACE tapegrad::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
configure_package_config_file(cmake/tapegradConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/tapegradConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tapegradConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tapegradConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/tapegradConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad)
