# cmake -DCASE=<case> -DWORK=<dir> -P tests/drawn_text_check_test.cmake: plants one line in a panel-like
# file and runs the configure-time drawn-text check (scripts/drawn_text_check.cmake) on it. "recorded"
# must pass; the direct ImGui calls must stop with an error naming the file and line.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/../scripts/drawn_text_check.cmake)
set(lines_recorded "  drawn::Text(\"%d rows\", n);\n")
set(lines_direct "  ImGui::Text(\"%d rows\", n);\n")
set(lines_tooltip "  ImGui::SetTooltip(\"weight %.4f\", w);\n")
set(lines_draw_list "  dl->AddText(p, colour, label.c_str());\n")
if(NOT DEFINED lines_${CASE})
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()
file(WRITE ${WORK}/panel_${CASE}.cpp "void draw(int n) {\n${lines_${CASE}}}\n")
kvscope_check_drawn_text(${WORK}/panel_${CASE}.cpp)
message(STATUS "drawn-text check passed: ${CASE}")
