# Script behind the install_consumer test: install, configure the consumer, build it, run it.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGN}")
  endif()
endfunction()

file(REMOVE_RECURSE ${PREFIX} ${CONSUMER_BUILD})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})
# The exported targets name their dependencies by target (OpenBLAS::OpenBLAS, ZLIB::ZLIB), never
# by a file path that only exists on the machine that built tapegrad.
file(GLOB _exports ${PREFIX}/lib*/cmake/tapegrad/tapegradTargets*.cmake)
if(NOT _exports)
  message(FATAL_ERROR "no tapegradTargets*.cmake under ${PREFIX}")
endif()
foreach(_export IN LISTS _exports)
  file(STRINGS ${_export} _links REGEX "INTERFACE_LINK_LIBRARIES")
  if(_links MATCHES "[\"; ]/[^\";]*\\.(so|a)")
    message(FATAL_ERROR "${_export} links a library by absolute path: ${_links}")
  endif()
endforeach()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${CONSUMER_BUILD} -DCMAKE_PREFIX_PATH=${PREFIX}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE} "-DCMAKE_CXX_FLAGS=${FLAGS}")
run(${CMAKE_COMMAND} --build ${CONSUMER_BUILD})
run(${CONSUMER_BUILD}/consumer)
run(${CONSUMER_BUILD}/consumer_data)
