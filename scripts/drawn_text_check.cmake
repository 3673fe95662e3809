# kvscope_check_drawn_text(<files>...): stops configuring with the file and line when a window source
# draws text through ImGui directly (ImGui::Text..., SetTooltip, a draw list's AddText) instead of
# gui/panels/drawn_text.h, whose namesakes also record each text for the figure ledger (--state-file
# "texts"). drawn_text.cpp itself is the one place that calls them. Used by gui/CMakeLists.txt at
# configure time and by tests/drawn_text_check_test.cmake.
function(kvscope_check_drawn_text)
  foreach(file ${ARGN})
    if(file MATCHES "drawn_text\\.cpp$")
      continue()
    endif()
    file(STRINGS ${file} lines)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      if(line MATCHES "ImGui::(Text|TextWrapped|TextDisabled|TextColored|TextUnformatted|SetTooltip|BulletText|LabelText)\\(" OR
         line MATCHES "->AddText\\(")
        string(STRIP "${line}" shown)
        message(FATAL_ERROR "${file}:${n}: text is drawn through gui/panels/drawn_text.h (drawn::${CMAKE_MATCH_1}...), "
                            "which records it for the figure ledger (${shown})")
      endif()
    endforeach()
  endforeach()
endfunction()
