# Runs COMMAND (a list) and passes only if it exits non-zero within 30 s and its output matches
# EXPECTED: the job-wide failure of tests/distributed/abort_driver.
string(REPLACE "|" ";" command "${COMMAND}")
string(TIMESTAMP start "%s")
execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 30)
string(TIMESTAMP end "%s")
math(EXPR elapsed "${end} - ${start}")
message(STATUS "exit: ${result} after ${elapsed} s\n${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "the job exited 0; expected a failure")
endif()
if(result MATCHES "timeout|Timeout|terminated")
  message(FATAL_ERROR "the job did not end within 30 s: ${result}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECTED}")
  message(FATAL_ERROR "the output does not contain '${EXPECTED}'")
endif()
