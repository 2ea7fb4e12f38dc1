# cmake -DRUNNER=<cachet-interchange-test> -DCASE=<file> -P expect_failure.cmake
# Passes only if the runner ran the case in both modes, failed it in both with a FAIL line naming what differed,
# and exited with status 1: a crash, a usage error or a vacuous pass all fail this test.
execute_process(COMMAND ${RUNNER} ${CASE} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
message("${out}${err}")
if(NOT status EQUAL 1)
  message(FATAL_ERROR "expected exit status 1, got ${status}")
endif()
if(NOT out MATCHES "\n0 passed, 2 failed\n$")
  message(FATAL_ERROR "expected the last line '0 passed, 2 failed'")
endif()
string(REGEX MATCHALL "FAIL [^\n]*\\(step [0-9]+, [^\n]*expected [^\n]*got " fails "${out}")
list(LENGTH fails count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "expected two FAIL lines saying where and what differed, found ${count}")
endif()
if(out MATCHES "runner error")
  message(FATAL_ERROR "the runner failed for its own reasons, not because of the wrong expectation")
endif()
