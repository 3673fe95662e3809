# kvscope_check_includes(<library> <allowed libraries> <files>...): stops configuring with the file and
# line when one of the files includes a core/ header of a library not allowed, a header by a relative
# path ("x.h", "../x.h": core/ names its headers from the top, "core/..."), or anything graphical.
# Libraries are named as in core/CMakeLists.txt: engine/kernels, ..., tokenizers, formats, lessons, train.
# Used by core/CMakeLists.txt at configure time and by tests/include_check_test.cmake.

# "core/engine/cache/x.h" -> engine/cache, "core/formats/x.h" -> formats, anything else -> "".
function(kvscope_library_of_include path out)
  if(path MATCHES "^core/engine/([a-z_]+)/")
    set(${out} engine/${CMAKE_MATCH_1} PARENT_SCOPE)
  elseif(path MATCHES "^core/([a-z_]+)/")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

function(kvscope_check_includes library allowed)
  foreach(file ${ARGN})
    file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    foreach(line ${includes})
      if(NOT line MATCHES "#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
        continue()
      endif()
      set(path ${CMAKE_MATCH_1})
      if(line MATCHES "\"" AND NOT path MATCHES "^core/")
        message(FATAL_ERROR "${file}: core/ includes its own headers by their full path from the top, \"core/...\" (${line})")
      elseif(path MATCHES "^(imgui|GLFW|GL/|gui/)")
        message(FATAL_ERROR "${file}: core/ includes nothing graphical (${line})")
      endif()
      kvscope_library_of_include(${path} used)
      if(used AND NOT used IN_LIST allowed)
        message(FATAL_ERROR "${file}: core/${library} may not include core/${used} (allowed: ${allowed})")
      endif()
    endforeach()
  endforeach()
endfunction()
