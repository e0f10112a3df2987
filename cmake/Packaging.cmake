# Installing and packaging: `cmake --install build --prefix P` puts the tools
# in P/bin, the sysroot (toolchain file, headers, faasm-cc/faasm-c++) in
# P/share/faasm-sysroot, a CMake package config (find_package(FaasmSysroot))
# in P/share/cmake/FaasmSysroot and a pkg-config file in P/share/pkgconfig.
# `cpack -G DEB` in the build directory makes a .deb of the same tree for
# /usr (tests/package checks it; scripts/test-package installs it in a
# clean Debian chroot).
include(CMakePackageConfigHelpers)

set(packageDir ${CMAKE_INSTALL_DATADIR}/cmake/FaasmSysroot)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/package/FaasmSysrootConfig.cmake.in
  ${CMAKE_BINARY_DIR}/package/FaasmSysrootConfig.cmake
  INSTALL_DESTINATION ${packageDir}
  PATH_VARS FAASM_SYSROOT_INSTALL_DIR CMAKE_INSTALL_BINDIR)
# The sysroot is architecture independent data: any version compatible within
# a major version, whatever the consumer's pointer size (wasm32 or the host's).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/package/FaasmSysrootConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_BINARY_DIR}/package/FaasmSysrootConfig.cmake
              ${CMAKE_BINARY_DIR}/package/FaasmSysrootConfigVersion.cmake
        DESTINATION ${packageDir} COMPONENT sysroot)
configure_file(${CMAKE_CURRENT_LIST_DIR}/package/faasm-sysroot.pc.in
               ${CMAKE_BINARY_DIR}/package/faasm-sysroot.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/package/faasm-sysroot.pc
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig COMPONENT sysroot)

set(CPACK_PACKAGE_NAME faasm)
set(CPACK_PACKAGE_VENDOR "faasm-aot")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Serverless functions isolated by WebAssembly, compiled ahead of time")
set(CPACK_PACKAGE_CONTACT "faasm-aot developers <faasm-aot@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# Shared libraries the tools link (libLLVM-19 for faasm-codegen, libc) come
# from dpkg-shlibdeps; the guest toolchain the sysroot drives is named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "clang-19, lld-19, wasi-libc, libc++-19-dev-wasm32, libc++abi-19-dev-wasm32, libclang-rt-19-dev-wasm32")
include(CPack)
