# blst 0.3.10 from the C sources shipped in the npm package @chainsafe/blst@0.2.11
# (pinned with its integrity hash in package-lock.json, installed by `npm ci --ignore-scripts`).
# Built here as a static library; the package's install scripts and prebuilt .node files are never used.
set(BLST_DIR "${PROJECT_SOURCE_DIR}/node_modules/@chainsafe/blst/blst" CACHE PATH "blst source tree")
if(NOT EXISTS "${BLST_DIR}/src/server.c")
  message(FATAL_ERROR "blst sources not found in ${BLST_DIR}: run `npm ci --ignore-scripts` (scripts/setup.sh does)")
endif()

# The ADX code paths (mulx) are faster but fault on CPUs without ADX; blst 0.3.10 has no run-time dispatch,
# so decide at configure time: AUTO looks at this CPU, ON/OFF force it (OFF for portable binaries).
set(CACHET_BLST_ADX "AUTO" CACHE STRING "Build blst with ADX instructions: AUTO, ON or OFF")
set(_blst_adx OFF)
if(CACHET_BLST_ADX STREQUAL "AUTO")
  if(EXISTS /proc/cpuinfo)
    file(STRINGS /proc/cpuinfo _cpu_flags REGEX "^flags" LIMIT_COUNT 1)
    if(_cpu_flags MATCHES " adx( |$)")
      set(_blst_adx ON)
    endif()
  endif()
elseif(CACHET_BLST_ADX)
  set(_blst_adx ON)
endif()
message(STATUS "blst: ${BLST_DIR} (ADX ${_blst_adx})")

enable_language(ASM)
add_library(blst STATIC "${BLST_DIR}/src/server.c" "${BLST_DIR}/build/assembly.S")
target_include_directories(blst SYSTEM PUBLIC "${BLST_DIR}/bindings")
set_target_properties(blst PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
# Always optimised, and created before any sanitizer flags are added, so blst stays uninstrumented.
target_compile_options(blst PRIVATE -O2 -fno-builtin -Wno-unused-function)
if(_blst_adx)
  target_compile_definitions(blst PRIVATE __ADX__)
else()
  target_compile_definitions(blst PRIVATE __BLST_PORTABLE__)
endif()
add_library(blst::blst ALIAS blst)
