# Runs clang++ -fsyntax-only over small_blocks_probe.cpp three times: under -fsanitize=address
# and -fsanitize=thread the probe asserts the small-block caches are off (clang's
# __has_feature, the libFuzzer build's compiler), without a sanitizer that they are on.
# Usage: cmake -DCLANGXX=<clang++ or empty> -DSOURCE_DIR=<repository> -P small_blocks_probe.cmake
if(NOT CLANGXX)
  message("skipped: no clang++ found (apt-get install clang-14)")
  return()
endif()
foreach(flags "-fsanitize=address;-DTG_EXPECT_SANITIZED=1"
              "-fsanitize=thread;-DTG_EXPECT_SANITIZED=1" "-DTG_EXPECT_SANITIZED=0")
  execute_process(
    COMMAND ${CLANGXX} -std=c++20 -fsyntax-only ${flags} -I${SOURCE_DIR}/autograd/src
            ${SOURCE_DIR}/tests/fuzz/small_blocks_probe.cpp
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out TIMEOUT 60)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "clang++ ${flags}: the probe failed (${result}):\n${out}")
  endif()
  message("clang++ ${flags}: small-block caches as expected")
endforeach()
