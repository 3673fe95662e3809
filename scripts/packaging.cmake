# Installing and packaging (included last by the top CMakeLists.txt). `cmake --install` puts the two
# programs in bin/ and the desktop entry, icon and man pages in share/; the model, lessons and
# shaders are compiled in and the window's fonts come from fonts-dejavu-core, so nothing else is
# needed at run time. `cpack -G DEB` in a release build writes kvscope_<version>_amd64.deb;
# scripts/test-deb.sh installs that in a fresh Debian 12 root and runs it.
include(GNUInstallDirs)

install(TARGETS kvscope-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(KVSCOPE_BUILD_GUI)
  install(TARGETS kvscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/gui/kvscope.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${PROJECT_SOURCE_DIR}/gui/kvscope.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()

# Man pages made from each program's --help at build time, so they cannot drift from it.
find_program(HELP2MAN help2man REQUIRED)
set(man_dir ${CMAKE_BINARY_DIR}/man)
set(man_pages "")
# kvscope_man_page(<target> <summary> <see also>): ${man_dir}/<target>.1.gz, rebuilt with the target.
function(kvscope_man_page target summary see_also)
  set(out ${man_dir}/${target}.1.gz)
  add_custom_command(OUTPUT ${out}
                     COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/man-page.sh $<TARGET_FILE:${target}> ${target}
                             ${PROJECT_VERSION} ${summary} ${see_also} ${out}
                     DEPENDS ${target} ${PROJECT_SOURCE_DIR}/scripts/man-page.sh
                     COMMENT "Man page ${target}(1) from ${target} --help" VERBATIM)
  set(man_pages ${man_pages} ${out} PARENT_SCOPE)
endfunction()
kvscope_man_page(kvscope-cli "watch a KV cache at work, step by step, from the terminal" kvscope)
if(KVSCOPE_BUILD_GUI)
  kvscope_man_page(kvscope "step through GPT decoding with and without a KV cache" kvscope-cli)
endif()
add_custom_target(man_pages ALL DEPENDS ${man_pages})
install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kvscope)
set(CPACK_PACKAGE_VENDOR "kvscope maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "step-through visualizer of a transformer's KV cache")
set(CPACK_PACKAGE_DESCRIPTION
    "kvscope decodes with a small pure-CPU GPT twice side by side, once recomputing everything and \
once with a KV cache, and shows step by step which K and V rows are computed, recomputed or read \
back, the attention heatmap, the cost of each step and that both ways give the same logits. It is \
made for teaching. The package has the window (kvscope) and a terminal front end (kvscope-cli) \
that also tokenizes, benchmarks and trains small models.")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "kvscope maintainers <maintainers@users.noreply.r-seed-d87eaec4.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION education)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps finds the shared libraries; the fonts are read by path, so they are named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS fonts-dejavu-core)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

# The install tree checked by label "package": the desktop entry validates, the man pages cover
# every subcommand and option --help prints, and the installed CLI runs from /.
if(KVSCOPE_BUILD_TESTS)
  find_program(DESKTOP_FILE_VALIDATE desktop-file-validate REQUIRED)
  add_test(NAME package.install
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/test-package.sh ${CMAKE_BINARY_DIR} ${KVSCOPE_BUILD_GUI})
  set_tests_properties(package.install PROPERTIES LABELS package TIMEOUT 120)
endif()
