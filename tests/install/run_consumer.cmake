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
run(${CONSUMER_BUILD}/consumer_custom_optimizer)

# The gradient checks: each program has one passing and one deliberately failing check, so it
# exits non-zero, and its output must carry the whole report, the inputs' values and the seed.
function(expect_failure program)
  execute_process(COMMAND ${CONSUMER_BUILD}/${program} RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  string(APPEND output "${errors}")
  message(STATUS "${program} (one check fails on purpose):\n${output}")
  if(result EQUAL 0)
    message(FATAL_ERROR "${program}: the deliberately wrong check passed")
  endif()
  foreach(expected IN LISTS ARGN)
    string(FIND "${output}" "${expected}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${program}: the output lacks \"${expected}\"")
    endif()
  endforeach()
endfunction()
set(_gradient_report
  "TG_CHECK_GRADIENTS([](const auto& in) { return WrongProduct::apply(in[0], in[1]); }, {leaf({1, 2}), leaf({3, 5})}, {.seed = 7}) failed"
  "gradcheck failed (2 mismatching Jacobian entries):"
  "input 1 [2], element [1] -> output [1]: analytical 4, numerical 2, input value 5"
  "inputs as given:\n  input 0 [2] f64 = [1, 2]\n  input 1 [2] f64 = [3, 5]\n"
  "seed 7, samples 1")
expect_failure(consumer_doctest ${_gradient_report}
  "test cases: 2 | 1 passed | 1 failed")
expect_failure(consumer_gtest ${_gradient_report}
  "[       OK ] Gradients.TanhPasses"
  "[  FAILED  ] Gradients.DeliberatelyWrongBackwardFails")
