# Runs COMMAND (a list, "|"-separated) and passes only if it exits 0 within 60 s, its output
# matches EXPECTED, and OpenMPI did not report a rank that "exited improperly" (a rank that
# returned from main without MPI_Finalize).
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 60)
message(STATUS "exit status: ${result}\n${out}${err}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the job exited with ${result}; expected 0")
endif()
if("${out}${err}" MATCHES "exited improperly")
  message(FATAL_ERROR "OpenMPI reports a rank that exited improperly")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECTED}")
  message(FATAL_ERROR "the output does not contain '${EXPECTED}'")
endif()
