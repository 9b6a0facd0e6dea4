# Script behind the install_add_subdirectory and install_fetchcontent tests: configure, build and
# run tests/install/subproject, which builds tapegrad from this checkout (VIA = add_subdirectory)
# or from a source archive of it made here (VIA = FetchContent; a file URL, no network).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGN}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(args -DTAPEGRAD_VIA=${VIA})
if(VIA STREQUAL "FetchContent")
  # What a release archive holds: the library's sources and CMake files (no tests, examples or
  # build directories).
  set(archive ${WORK}/tapegrad-src.tar.gz)
  execute_process(COMMAND ${CMAKE_COMMAND} -E tar czf ${archive} --format=gnutar
                          CMakeLists.txt cmake include autograd nn optim data checkpoint distributed
                          testing
                  WORKING_DIRECTORY ${TAPEGRAD_SOURCE} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "could not archive ${TAPEGRAD_SOURCE}")
  endif()
  list(APPEND args -DTAPEGRAD_URL=file://${archive})
else()
  list(APPEND args -DTAPEGRAD_SOURCE=${TAPEGRAD_SOURCE})
endif()
# Debug (-O0): these builds prove the CMake plumbing, so they compile as fast as they can.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK}/build -DCMAKE_BUILD_TYPE=Debug ${args})
run(${CMAKE_COMMAND} --build ${WORK}/build -j ${JOBS})
run(${WORK}/build/consumer)
run(${WORK}/build/consumer_data)
message(STATUS "${VIA}: tapegrad built inside the consumer's build; consumer and consumer_data ran")
