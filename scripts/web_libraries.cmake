# The browser build's libraries (CMakeLists.txt includes this under emcmake, scripts/web.sh). It makes
# the same targets the desktop finds with find_package and pkg-config, so core/ and gui/ link them
# unchanged:
#   header-only Debian packages (Eigen, nlohmann-json, CLI11, stb) through a folder of links to their
#     folders: /usr/include itself (glibc's headers) must never enter a WebAssembly compile;
#   ImGui, PCRE2 and utf8proc built from Debian's source packages (KVSCOPE_WEB_SOURCES);
#   GLFW and WebGL2 from emscripten itself (-sUSE_GLFW=3, -sUSE_WEBGL2=1 -sFULL_ES3=1).
# No threads in the browser: a page served by any static server gets no SharedArrayBuffer (that
# needs COOP/COEP headers), so kvscope runs on one thread there (engine/kernels/thread_pool.h).
set(KVSCOPE_WEB_SOURCES "" CACHE PATH "unpacked Debian source packages imgui, pcre2 and utf8proc (scripts/web.sh)")
foreach(package imgui-1.86+ds pcre2-10.42 utf8proc-2.8.0)
  if(NOT EXISTS ${KVSCOPE_WEB_SOURCES}/${package})
    message(FATAL_ERROR "KVSCOPE_WEB_SOURCES: no ${package} in '${KVSCOPE_WEB_SOURCES}' (scripts/web.sh fetches it)")
  endif()
endforeach()
add_compile_options(-msimd128)  # wasm SIMD128 for Eigen and the kernels
# kvscope reports bad input by exceptions: WebAssembly's own exception handling (Chromium has it).
add_compile_options(-fwasm-exceptions)
add_link_options(-fwasm-exceptions)

set(host_include ${CMAKE_BINARY_DIR}/host-include)
file(MAKE_DIRECTORY ${host_include})
foreach(link Eigen=/usr/include/eigen3/Eigen nlohmann=/usr/include/nlohmann CLI=/usr/include/CLI stb=/usr/include/stb)
  string(REPLACE "=" ";" link ${link})
  list(GET link 0 name)
  list(GET link 1 folder)
  if(NOT EXISTS ${folder})
    message(FATAL_ERROR "${folder} is missing (scripts/install-deps.sh installs it)")
  endif()
  file(CREATE_LINK ${folder} ${host_include}/${name} SYMBOLIC)
endforeach()

function(kvscope_web_target name)
  cmake_parse_arguments(arg "" "" "INCLUDES;LINK;OPTIONS;DEFINES" ${ARGN})
  add_library(${name} INTERFACE IMPORTED)
  set_target_properties(${name} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${arg_INCLUDES}"
                        INTERFACE_LINK_LIBRARIES "${arg_LINK}" INTERFACE_LINK_OPTIONS "${arg_OPTIONS}"
                        INTERFACE_COMPILE_DEFINITIONS "${arg_DEFINES}")
endfunction()

kvscope_web_target(Eigen3::Eigen INCLUDES ${host_include})
kvscope_web_target(nlohmann_json::nlohmann_json INCLUDES ${host_include})
kvscope_web_target(CLI11::CLI11 INCLUDES ${host_include})
kvscope_web_target(Threads::Threads)

# PCRE2 with its own CMake build, 8-bit code units only, no JIT (WebAssembly has none).
foreach(setting PCRE2_BUILD_PCRE2_8=ON PCRE2_BUILD_PCRE2_16=OFF PCRE2_BUILD_PCRE2_32=OFF PCRE2_BUILD_PCRE2GREP=OFF
        PCRE2_BUILD_TESTS=OFF PCRE2_SUPPORT_JIT=OFF PCRE2_SUPPORT_LIBBZ2=OFF PCRE2_SUPPORT_LIBZ=OFF
        PCRE2_SUPPORT_LIBEDIT=OFF PCRE2_SUPPORT_LIBREADLINE=OFF BUILD_SHARED_LIBS=OFF BUILD_STATIC_LIBS=ON)
  string(REPLACE "=" ";" setting ${setting})
  list(GET setting 0 variable)
  list(GET setting 1 value)
  set(${variable} ${value} CACHE BOOL "" FORCE)
endforeach()
add_subdirectory(${KVSCOPE_WEB_SOURCES}/pcre2-10.42 ${CMAKE_BINARY_DIR}/pcre2 EXCLUDE_FROM_ALL SYSTEM)
kvscope_web_target(PkgConfig::PCRE2 INCLUDES ${CMAKE_BINARY_DIR}/pcre2 LINK pcre2-8-static DEFINES PCRE2_STATIC)

set(utf8proc ${KVSCOPE_WEB_SOURCES}/utf8proc-2.8.0)
add_library(kvscope_web_utf8proc STATIC EXCLUDE_FROM_ALL ${utf8proc}/utf8proc.c)
target_compile_definitions(kvscope_web_utf8proc PUBLIC UTF8PROC_STATIC)
kvscope_web_target(PkgConfig::UTF8PROC INCLUDES ${utf8proc} LINK kvscope_web_utf8proc DEFINES UTF8PROC_STATIC)

# ImGui as Debian builds it (its Makefile), but with the stb implementations it leaves to libstb
# compiled in from libstb-dev's headers; the OpenGL backend speaks OpenGL ES 3 (WebGL2).
set(imgui ${KVSCOPE_WEB_SOURCES}/imgui-1.86+ds)
add_library(kvscope_web_imgui STATIC EXCLUDE_FROM_ALL ${imgui}/imgui.cpp ${imgui}/imgui_draw.cpp ${imgui}/imgui_tables.cpp
            ${imgui}/imgui_widgets.cpp ${imgui}/imgui_demo.cpp ${imgui}/backends/imgui_impl_glfw.cpp
            ${imgui}/backends/imgui_impl_opengl3.cpp)
target_include_directories(kvscope_web_imgui SYSTEM PUBLIC ${imgui} ${host_include})
target_compile_definitions(kvscope_web_imgui PUBLIC IMGUI_IMPL_OPENGL_ES3
                           "IMGUI_STB_RECT_PACK_FILENAME=<stb/stb_rect_pack.h>"
                           "IMGUI_STB_TRUETYPE_FILENAME=<stb/stb_truetype.h>")
kvscope_web_target(PkgConfig::IMGUI INCLUDES ${imgui} ${host_include}/stb LINK kvscope_web_imgui)
kvscope_web_target(PkgConfig::GLFW OPTIONS -sUSE_GLFW=3)
kvscope_web_target(OpenGL::GL OPTIONS -sUSE_WEBGL2=1 -sFULL_ES3=1 -sMIN_WEBGL_VERSION=2 -sMAX_WEBGL_VERSION=2)

# kvscope_embed (CMakeLists.txt) in the browser: the files go into the page's kvscope.data, preloaded
# into the in-memory file system at /embedded/<group>/<name> before main(), and embedded_<group>()
# reads them from there once.
function(kvscope_embed_web target group names files)
  set(quoted "")
  foreach(name file IN ZIP_LISTS names files)
    string(APPEND quoted "\"${name}\", ")
    target_link_options(${target} INTERFACE "SHELL:--preload-file ${file}@/embedded/${group}/${name}")
  endforeach()
  string(CONCAT cpp
       "// Generated by kvscope_embed_web (scripts/web_libraries.cmake): do not edit.\n"
       "#include \"core/engine/kernels/embedded_file.h\"\n\nnamespace kvscope {\n\n"
       "const std::vector<EmbeddedFile>& embedded_${group}() {\n"
       "  static const std::vector<EmbeddedFile> files = read_embedded_folder(\"/embedded/${group}\", {${quoted}});\n"
       "  return files;\n}\n\n}  // namespace kvscope\n")
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${group}.cpp)
  file(CONFIGURE OUTPUT ${out} CONTENT "${cpp}" @ONLY)
  target_sources(${target} PRIVATE ${out})
endfunction()
