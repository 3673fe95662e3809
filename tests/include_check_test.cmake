# cmake -DCASE=<case> -DWORK=<dir> -P tests/include_check_test.cmake: plants one include in a file of
# core/engine/cache and runs the configure-time include check (scripts/include_check.cmake) on it.
# "allowed" must pass; every other case must stop with an error (CTest: WILL_FAIL).
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/../scripts/include_check.cmake)
set(lines_allowed "#include \"core/engine/model/config.h\"\n#include <vector>\n")
set(lines_upward "#include \"core/engine/session/trace.h\"\n")
set(lines_upward_angle "#include <core/lessons/lesson.h>\n")
set(lines_relative "#include \"../kernels/tensor.h\"\n")
set(lines_same_folder "#include \"kv_rows.h\"\n")
set(lines_graphical "#include <imgui.h>\n")
if(NOT DEFINED lines_${CASE})
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()
file(WRITE ${WORK}/${CASE}.h "#pragma once\n${lines_${CASE}}")
kvscope_check_includes(engine/cache "engine/cache;engine/kernels;engine/model" ${WORK}/${CASE}.h)
message(STATUS "include check passed: ${CASE}")
