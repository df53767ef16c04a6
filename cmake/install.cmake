# Installation and packaging: `cmake --install` puts the public headers (as
# <mtcp/mtcp_api.h> and mTCP's flat <mtcp_api.h>), libmtcp.so (with a
# SOVERSION), one self-contained libmtcp.a, mtcp.pc, the CMake package
# (find_package(mtcp): mtcp::mtcp, mtcp::mtcp_static), the tools, the apps,
# the man pages (cmake/man.cmake) and the manuals; CPack makes the Debian
# package (cpack -G DEB in the build directory). tests/install checks all of
# it: install_examples from a temporary prefix, install_deb from the .deb
# installed with apt-get.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# 0.x: the ABI may change with every minor version (struct mtcp_conf grows).
set(MVNF_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set_target_properties(mtcp_shared PROPERTIES VERSION ${PROJECT_VERSION}
  SOVERSION ${MVNF_SOVERSION} EXPORT_NAME mtcp)

# One static archive with every layer's objects: the layers are separate
# static libraries in the build (mtcp -> config, net, tcp, arp, dist, netio,
# timer); an application should not have to know them or their order.
set(mvnf_bundle_libs mtcp mvnf_config mvnf_net mvnf_tcp mvnf_arp mvnf_dist mvnf_netio mvnf_timer)
set(mri "CREATE ${CMAKE_BINARY_DIR}/bundle/libmtcp.a\n")
set(bundle_deps)
foreach(lib ${mvnf_bundle_libs})
  if(TARGET ${lib})
    string(APPEND mri "ADDLIB $<TARGET_FILE:${lib}>\n")
    list(APPEND bundle_deps ${lib})
  endif()
endforeach()
string(APPEND mri "SAVE\nEND\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/bundle/libmtcp.mri CONTENT "${mri}")
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/bundle/libmtcp.a
  COMMAND ${CMAKE_COMMAND} -E rm -f ${CMAKE_BINARY_DIR}/bundle/libmtcp.a
  COMMAND sh -c "${CMAKE_AR} -M < ${CMAKE_BINARY_DIR}/bundle/libmtcp.mri"
  COMMAND ${CMAKE_RANLIB} ${CMAKE_BINARY_DIR}/bundle/libmtcp.a
  DEPENDS ${bundle_deps} ${CMAKE_BINARY_DIR}/bundle/libmtcp.mri
  COMMENT "Bundling every layer into one libmtcp.a" VERBATIM)
add_custom_target(mtcp_bundle ALL DEPENDS ${CMAKE_BINARY_DIR}/bundle/libmtcp.a)

# What a static link needs besides the archive (libmtcp.so carries it).
set(MVNF_STATIC_LIBS "-lstdc++ -lm -lpthread -lrt")
set(MVNF_STATIC_CMAKE_LIBS "stdc++;m;Threads::Threads;rt")
if(MVNF_HAVE_AFXDP)
  string(APPEND MVNF_STATIC_LIBS " -lxdp -lbpf")
  list(APPEND MVNF_STATIC_CMAKE_LIBS xdp bpf)
endif()

install(TARGETS mtcp_shared EXPORT mtcpTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${CMAKE_INSTALL_INCLUDEDIR}/mtcp)
install(FILES ${CMAKE_BINARY_DIR}/bundle/libmtcp.a DESTINATION ${CMAKE_INSTALL_LIBDIR})
# `cmake --install --strip` and CPack (CPACK_STRIP_FILES) strip the programs
# and libmtcp.so; the archive's debug information (most of its ~50 MB in a
# RelWithDebInfo build) goes too, its symbols stay (as Debian's dh_strip).
install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug --enable-deterministic-archives
    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libmtcp.a\" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR \"strip --strip-debug libmtcp.a failed\")
  endif()
endif()")
file(GLOB mvnf_public_headers ${PROJECT_SOURCE_DIR}/include/mtcp/*.h)
install(FILES ${mvnf_public_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mtcp)

# pkg-config: relative to the .pc file, so any --prefix given at install
# time works. Both include directories: <mtcp/mtcp_api.h> and <mtcp_api.h>.
file(RELATIVE_PATH MVNF_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" MVNF_PC_TO_PREFIX "${MVNF_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/mtcp.pc.in ${CMAKE_BINARY_DIR}/mtcp.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/mtcp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(MVNF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mtcp)
install(EXPORT mtcpTargets NAMESPACE mtcp:: DESTINATION ${MVNF_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mtcpConfig.cmake.in
  ${CMAKE_BINARY_DIR}/mtcpConfig.cmake INSTALL_DESTINATION ${MVNF_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/mtcpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/mtcpConfig.cmake ${CMAKE_BINARY_DIR}/mtcpConfigVersion.cmake
  DESTINATION ${MVNF_CMAKE_DIR})

# Tools and apps (whichever this build has).
foreach(prog mvnf-pktgen mvnf-impair mvnf-httpd mvnf-httpd-kernel mvnf-wget mvnf-wget-kernel
        mvnf-tcpperf mvnf-tcpperf-kernel mvnf-udpperf mvnf-udpperf-kernel)
  if(TARGET ${prog})
    install(TARGETS ${prog} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
# mvnf-top: a python3 script (the standard library only) reading stat_http.
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tools/mvnf-top/mvnf-top DESTINATION ${CMAKE_INSTALL_BINDIR})
include(${CMAKE_CURRENT_LIST_DIR}/man.cmake)

# The manuals, and the examples as sources to start from.
set(MVNF_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/mtcp-vnf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${MVNF_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${MVNF_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${MVNF_DOCDIR}/examples)

# Debian package: cpack -G DEB (mtcp-vnf_<version>_<arch>.deb).
set(CPACK_PACKAGE_NAME mtcp-vnf)
set(CPACK_PACKAGE_VENDOR "mtcp-vnf")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "User-space TCP/UDP/IPv4 stack for VNFs with mTCP's C API (libmtcp)")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "mtcp-vnf developers <mtcp-vnf@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Depends: dpkg-shlibdeps finds the packages of the libraries the binaries
# load (libc6, libstdc++6, and libxdp1/libbpf1 when AF_XDP is built) and
# appends them to python3 (mvnf-top), so apt-get installs what is missing.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# A shlibs file for packages built against libmtcp.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
# ld.so's cache learns libmtcp.so.<soversion> on install and forgets it on
# removal through libc-bin's ldconfig trigger, as Debian's packages do
# (cmake/deb/triggers). CPack would otherwise add postinst and postrm
# scripts that call ldconfig themselves, which lintian reports; giving our
# own (cmake/deb/postinst, postrm: nothing to do) keeps it from doing so.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/cmake/deb/triggers ${PROJECT_SOURCE_DIR}/cmake/deb/postinst
  ${PROJECT_SOURCE_DIR}/cmake/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)  # the build keeps its debug information; the package does not
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "mTCP-compatible user-space TCP/IP stack: libmtcp (shared and static),\nheaders, pkg-config and CMake files, tools (mvnf-pktgen, mvnf-impair,\nmvnf-top), applications (mvnf-httpd, mvnf-wget, mvnf-tcpperf,\nmvnf-udpperf), man pages (mtcp-vnf(7), libmtcp(3), mtcp.conf(5), one per\nprogram) and manuals.")
include(CPack)
