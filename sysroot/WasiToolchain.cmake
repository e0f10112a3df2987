# CMake toolchain file: cross-compile C and C++ to wasm32-wasi with Debian's
# clang-19, wasi-libc and libc++ (packages clang-19, lld-19, wasi-libc,
# libc++-19-dev-wasm32, libc++abi-19-dev-wasm32, libclang-rt-19-dev-wasm32).
#
#   cmake -G Ninja -B build-wasm -S my-project \
#         -DCMAKE_TOOLCHAIN_FILE=<repo>/sysroot/WasiToolchain.cmake
#
# Executables come out as <name>.wasm, ready for faasm-codegen. Debian's clang
# finds the wasi-libc libraries (/usr/lib/wasm32-wasi) on its own, so no
# --sysroot is passed; the headers it may see are named below. Overrides:
# FAASM_WASI_CLANG / FAASM_WASI_CLANGXX (compiler paths), FAASM_RUN (faasm-run,
# the CMAKE_CROSSCOMPILING_EMULATOR).

set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
# Platform/WASI.cmake (CMake before 3.27 has none of its own) and FindThreads.cmake.
list(PREPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}/cmake")

set(FAASM_WASI_TRIPLE wasm32-wasi)
set(FAASM_SYSROOT_DIR "${CMAKE_CURRENT_LIST_DIR}")
# Debian's flat wasm32-wasi trees: wasi-libc's and libc++'s headers, and the
# static libraries and start files.
set(FAASM_WASI_INCLUDE_DIR /usr/include/wasm32-wasi)
set(FAASM_WASI_LIBRARY_DIR /usr/lib/wasm32-wasi)

if(NOT FAASM_WASI_CLANG)
  set(FAASM_WASI_CLANG clang-19)
endif()
if(NOT FAASM_WASI_CLANGXX)
  set(FAASM_WASI_CLANGXX clang++-19)
endif()
# Debian's clang searches /usr/local/include and /usr/include after the
# wasm32-wasi headers, so a host header (zlib.h, glibc's pthread.h) would
# compile for wasm and check_include_file would report a library the target
# does not have. The target sees only its own headers, in the driver's own
# order: (C++) libc++, clang's builtin headers, wasi-libc. As items of the
# compiler command rather than of CMAKE_<LANG>_FLAGS, they hold for every
# compile and try-compile, whatever flags a project sets.
set(CMAKE_C_COMPILER "${FAASM_WASI_CLANG}" -nostdlibinc -idirafter ${FAASM_WASI_INCLUDE_DIR})
set(CMAKE_CXX_COMPILER "${FAASM_WASI_CLANGXX}" -nostdlibinc
    -isystem ${FAASM_WASI_INCLUDE_DIR}/c++/v1 -idirafter ${FAASM_WASI_INCLUDE_DIR})
set(CMAKE_C_COMPILER_TARGET ${FAASM_WASI_TRIPLE})
set(CMAKE_CXX_COMPILER_TARGET ${FAASM_WASI_TRIPLE})
set(CMAKE_ASM_COMPILER_TARGET ${FAASM_WASI_TRIPLE})
find_program(CMAKE_AR NAMES llvm-ar-19 llvm-ar)
find_program(CMAKE_RANLIB NAMES llvm-ranlib-19 llvm-ranlib)

# The wasm32 libc++ is built without exception support, and its ABI library
# (operator new, RTTI, __cxa_*) is a separate archive clang does not add itself.
set(CMAKE_CXX_FLAGS_INIT "-fno-exceptions")
set(CMAKE_CXX_STANDARD_LIBRARIES "-lc++abi")

# faasm/faasm.h and friends, for C and C++ alike.
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/include")
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/include")

set(CMAKE_EXECUTABLE_SUFFIX .wasm)

# The exports Proto-Faaslets need are added by the platform file
# (cmake/Platform/WASI.cmake), which CMake reads at every configure.

# try_compile links an executable, as for a native build, so that
# check_function_exists, check_library_exists, check_symbol_exists and
# check_*_source_compiles answer what the final link will: wasm-ld rejects an
# undefined symbol, so a function wasi-libc lacks (fork, execve) or a library
# that is not in the target's tree is reported missing. Compiling alone (a
# STATIC_LIBRARY try-compile) would say yes to any name.
set(CMAKE_TRY_COMPILE_TARGET_TYPE EXECUTABLE)
set(CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FAASM_WASI_CLANG FAASM_WASI_CLANGXX)

# Release (-O3 -DNDEBUG) when the user names no build type; an explicit one,
# even an empty -DCMAKE_BUILD_TYPE=, is kept, and multi-config generators are
# left alone (CMake reads this only for single-config generators). An -O0
# module is several times larger and slower to compile ahead of time.
set(CMAKE_BUILD_TYPE_INIT Release)

# Headers, libraries and packages for the target come only from its trees
# (Debian's flat wasm32-wasi directories, searched at their roots: see
# Platform/WASI.cmake); tools come only from the host.
#
# Two host directories are roots too, for packages: /usr/share and
# /usr/share/cmake, which give exactly the architecture-independent config
# locations of prefix /usr (share/<name>*/, share/<name>*/cmake/,
# share/cmake/<name>*/). The FHS reserves /usr/share for
# architecture-independent files, and Debian's multiarch layout keeps a package
# config that names a library under /usr/lib/<triplet>/cmake, one per
# architecture; so what is found in /usr/share is header-only (Eigen3::Eigen,
# CLI11) and brings no host .so or .a into the wasm link. The host's library
# directories, /usr/lib/cmake and /usr/include stay out of reach, as wasi-sdk's
# sysroot keeps them out.
set(CMAKE_FIND_ROOT_PATH ${FAASM_WASI_LIBRARY_DIR} ${FAASM_WASI_INCLUDE_DIR}
    "${CMAKE_CURRENT_LIST_DIR}/include" /usr/share /usr/share/cmake)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# An installed sysroot (<prefix>/share/faasm-sysroot) has its CMake package
# beside it: find_package(FaasmSysroot) in a function's project finds this
# very installation, whatever the prefix and the find root paths above.
if(EXISTS "${FAASM_SYSROOT_DIR}/../cmake/FaasmSysroot/FaasmSysrootConfig.cmake")
  get_filename_component(FaasmSysroot_DIR "${FAASM_SYSROOT_DIR}/../cmake/FaasmSysroot" ABSOLUTE)
  set(FaasmSysroot_DIR "${FaasmSysroot_DIR}" CACHE PATH "the installed FaasmSysroot package")
endif()

# CMake runs try_run programs and add_test executables through
# CMAKE_CROSSCOMPILING_EMULATOR; for wasm that is faasm-run, which compiles the
# .wasm on the fly (through its cache), so `ctest` in a wasm build runs the
# project's tests as Faaslets. FAASM_RUN names it;
# otherwise it is looked for in this repository's build tree
# (<sysroot>/../build/bin), then in an installed layout (<sysroot>/../../bin),
# then on PATH. Found nowhere, the emulator stays unset: try_run then asks for
# its results, as in any cross build. A try-compile project needs none.
get_property(_faasmInTryCompile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT _faasmInTryCompile)
  find_program(FAASM_RUN faasm-run
    PATHS "${FAASM_SYSROOT_DIR}/../build/bin" "${FAASM_SYSROOT_DIR}/../../bin"
    NO_DEFAULT_PATH
    DOC "faasm-run, the CMAKE_CROSSCOMPILING_EMULATOR for wasm32-wasi")
  find_program(FAASM_RUN faasm-run)
  # CMake reads this file twice in a first configure; one report is enough.
  get_property(_faasmRunReported GLOBAL PROPERTY FAASM_RUN_REPORTED)
  set_property(GLOBAL PROPERTY FAASM_RUN_REPORTED TRUE)
  if(FAASM_RUN AND EXISTS "${FAASM_RUN}" AND NOT IS_DIRECTORY "${FAASM_RUN}")
    set(CMAKE_CROSSCOMPILING_EMULATOR "${FAASM_RUN}")
  elseif(NOT _faasmRunReported)
    if(FAASM_RUN)
      message(WARNING "FAASM_RUN=${FAASM_RUN}: no such program; CMAKE_CROSSCOMPILING_EMULATOR left unset")
    else()
      message(STATUS "faasm-run not found (set FAASM_RUN): CMAKE_CROSSCOMPILING_EMULATOR left unset")
    endif()
  endif()
  unset(_faasmRunReported)
endif()
unset(_faasmInTryCompile)
