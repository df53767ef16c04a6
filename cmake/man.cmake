# Man pages (man/*.N, hand-written roff): configured with the version into
# <build>/man/src (what the man_pages test lints), compressed as Debian
# policy wants (gzip -9n: no name or time stamp, so the package is
# reproducible) into <build>/man/manN, and installed into share/man/manN.
# Aliases are symbolic links to a page: one per C API function to libmtcp(3)
# (the names are read from the public headers, so a new function gets its
# link), and each application's -kernel build to the application's page.
find_program(MVNF_GZIP gzip)
set(MVNF_MAN_DIR ${CMAKE_BINARY_DIR}/man)
file(GLOB mvnf_man_sources ${PROJECT_SOURCE_DIR}/man/*.[1-8])
set(mvnf_man_outputs)
set(mvnf_man_sections)
foreach(src ${mvnf_man_sources})
  get_filename_component(page ${src} NAME)
  string(REGEX REPLACE ".*\\.([1-8])$" "\\1" sec ${page})
  list(APPEND mvnf_man_sections ${sec})
  configure_file(${src} ${MVNF_MAN_DIR}/src/${page} @ONLY)
  if(MVNF_GZIP)
    set(out ${MVNF_MAN_DIR}/man${sec}/${page}.gz)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${MVNF_MAN_DIR}/man${sec}
      COMMAND sh -c "'${MVNF_GZIP}' -9n -c '${MVNF_MAN_DIR}/src/${page}' > '${out}'"
      DEPENDS ${MVNF_MAN_DIR}/src/${page}
      COMMENT "Compressing man page ${page}" VERBATIM)
  else()
    set(out ${MVNF_MAN_DIR}/man${sec}/${page})
    configure_file(${src} ${out} @ONLY)
  endif()
  list(APPEND mvnf_man_outputs ${out})
endforeach()
list(REMOVE_DUPLICATES mvnf_man_sections)
add_custom_target(man_pages ALL DEPENDS ${mvnf_man_outputs})
if(MVNF_GZIP)
  set(MVNF_MAN_EXT .gz)
else()
  set(MVNF_MAN_EXT "")
endif()

# mvnf_man_alias(SECTION NAME PAGE): NAME(SECTION) shows PAGE(SECTION).
function(mvnf_man_alias sec name page)
  file(MAKE_DIRECTORY ${MVNF_MAN_DIR}/man${sec})
  file(CREATE_LINK ${page}.${sec}${MVNF_MAN_EXT} ${MVNF_MAN_DIR}/man${sec}/${name}.${sec}${MVNF_MAN_EXT}
    SYMBOLIC)
endfunction()

# Every function the public headers declare (a line that starts with its
# return type and has the name before '('): an alias to libmtcp(3).
set(MVNF_API_FUNCTIONS)
file(GLOB mvnf_api_headers ${PROJECT_SOURCE_DIR}/include/mtcp/*.h)
foreach(h ${mvnf_api_headers})
  file(STRINGS ${h} protos REGEX "^[A-Za-z_][A-Za-z0-9_ *]*[ *][A-Za-z_][A-Za-z0-9_]*\\(")
  foreach(p ${protos})
    string(REGEX MATCH "([A-Za-z_][A-Za-z0-9_]*)\\(" m "${p}")
    list(APPEND MVNF_API_FUNCTIONS ${CMAKE_MATCH_1})
  endforeach()
endforeach()
list(SORT MVNF_API_FUNCTIONS)
list(REMOVE_DUPLICATES MVNF_API_FUNCTIONS)
foreach(fn ${MVNF_API_FUNCTIONS} mtcp_api)
  mvnf_man_alias(3 ${fn} libmtcp)
endforeach()
# The list the man_pages test compares with the headers and libmtcp.3.
string(REPLACE ";" "\n" fn_lines "${MVNF_API_FUNCTIONS}")
file(WRITE ${MVNF_MAN_DIR}/api_functions.txt "${fn_lines}\n")
foreach(app mvnf-httpd mvnf-wget mvnf-tcpperf mvnf-udpperf)
  mvnf_man_alias(1 ${app}-kernel ${app})
endforeach()

foreach(sec ${mvnf_man_sections})
  install(DIRECTORY ${MVNF_MAN_DIR}/man${sec} DESTINATION ${CMAKE_INSTALL_MANDIR})
endforeach()
