# Finds OpenBLAS (the library and <cblas.h>) and defines the imported target OpenBLAS::OpenBLAS.
#
# Linking the target rather than a file keeps absolute paths out of tapegrad's exported targets:
# the installed tapegradConfig.cmake runs this module again on the consumer's machine, so a
# consumer with another OpenBLAS variant (pthread, OpenMP, serial, or a build in its own prefix)
# links the one it has. Hints, in the order used: OpenBLAS_ROOT / CMAKE_PREFIX_PATH, the
# system's default paths (on Debian the variant chosen by update-alternatives), then pkg-config.
#
# Sets OpenBLAS_FOUND, OpenBLAS_INCLUDE_DIR, OpenBLAS_LIBRARY and OpenBLAS_VERSION (if known).
#
# tg::linalg calls LAPACK's Fortran entry points (dgetrf_, ...), which Debian's OpenBLAS exports.
# An OpenBLAS built without LAPACK (NO_LAPACK=1) gets the system's LAPACK added to the target.

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_OpenBLAS QUIET openblas)
endif()

# openblas_config.h is OpenBLAS's own: a directory that has it holds OpenBLAS's cblas.h, not
# another BLAS's.
find_path(OpenBLAS_INCLUDE_DIR
  NAMES openblas_config.h
  PATH_SUFFIXES openblas
  PATHS ${PC_OpenBLAS_INCLUDE_DIRS})
find_library(OpenBLAS_LIBRARY
  NAMES openblas
  PATHS ${PC_OpenBLAS_LIBRARY_DIRS})

if(OpenBLAS_INCLUDE_DIR AND EXISTS "${OpenBLAS_INCLUDE_DIR}/openblas_config.h")
  file(STRINGS "${OpenBLAS_INCLUDE_DIR}/openblas_config.h" _tg_openblas_version_line
       REGEX "#define OPENBLAS_VERSION")
  if(_tg_openblas_version_line MATCHES "OpenBLAS ([0-9]+\\.[0-9]+\\.[0-9]+)")
    set(OpenBLAS_VERSION "${CMAKE_MATCH_1}")
  endif()
  unset(_tg_openblas_version_line)
endif()
if(NOT OpenBLAS_VERSION AND PC_OpenBLAS_VERSION)
  set(OpenBLAS_VERSION "${PC_OpenBLAS_VERSION}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenBLAS
  REQUIRED_VARS OpenBLAS_LIBRARY OpenBLAS_INCLUDE_DIR
  VERSION_VAR OpenBLAS_VERSION)
mark_as_advanced(OpenBLAS_INCLUDE_DIR OpenBLAS_LIBRARY)

if(OpenBLAS_FOUND AND NOT TARGET OpenBLAS::OpenBLAS)
  add_library(OpenBLAS::OpenBLAS UNKNOWN IMPORTED)
  set_target_properties(OpenBLAS::OpenBLAS PROPERTIES
    IMPORTED_LOCATION "${OpenBLAS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIR}")
  include(CheckCXXSourceCompiles)
  include(CMakePushCheckState)
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_LIBRARIES "${OpenBLAS_LIBRARY}")
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles([[
    extern "C" void dgetrf_(const int*, const int*, double*, const int*, int*, int*);
    int main() { int n = 1, pivot = 0, info = 0; double a = 2; dgetrf_(&n, &n, &a, &n, &pivot, &info); return info; }
  ]] OpenBLAS_HAS_LAPACK)
  cmake_pop_check_state()
  if(NOT OpenBLAS_HAS_LAPACK)
    find_package(LAPACK QUIET)
    if(LAPACK_FOUND)
      set_property(TARGET OpenBLAS::OpenBLAS APPEND PROPERTY
        INTERFACE_LINK_LIBRARIES ${LAPACK_LIBRARIES})
    else()
      message(WARNING "OpenBLAS at ${OpenBLAS_LIBRARY} has no LAPACK and no LAPACK was found: "
                      "tg::linalg will not link (on Debian: apt-get install liblapack-dev)")
    endif()
  endif()
endif()
