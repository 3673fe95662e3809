# The page (gui/CMakeLists.txt includes this in the browser build): kvscope.js, kvscope.wasm and
# kvscope.data (the embedded files and the DejaVu fonts, preloaded), and gui/web's index.html and
# kvscope_page.js, all in KVSCOPE_WEB_OUTPUT, a folder any static file server can serve.
set(KVSCOPE_WEB_OUTPUT ${CMAKE_BINARY_DIR}/page CACHE PATH "where the page goes (scripts/web.sh: build-web/)")
add_executable(kvscope ${PROJECT_SOURCE_DIR}/gui/web/main_web.cpp ${PROJECT_SOURCE_DIR}/gui/web/stb_image_write.cpp)
target_link_libraries(kvscope PRIVATE kvscope_gui)
set(font_dir /usr/share/fonts/truetype/dejavu)
target_link_options(kvscope PRIVATE
  "SHELL:--preload-file ${font_dir}/DejaVuSans.ttf@${font_dir}/DejaVuSans.ttf"
  "SHELL:--preload-file ${font_dir}/DejaVuSans-Bold.ttf@${font_dir}/DejaVuSans-Bold.ttf"
  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=4GB
  -sEXPORTED_FUNCTIONS=_main,_kvscope_state,_kvscope_open_folder
  -sEXPORTED_RUNTIME_METHODS=ccall,FS,UTF8ToString
  -sENVIRONMENT=web -sFILESYSTEM=1)
set_target_properties(kvscope PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${KVSCOPE_WEB_OUTPUT} SUFFIX .js)
foreach(file index.html kvscope_page.js)
  configure_file(${PROJECT_SOURCE_DIR}/gui/web/${file} ${KVSCOPE_WEB_OUTPUT}/${file} COPYONLY)
endforeach()
