# Platform description for CMAKE_SYSTEM_NAME WASI, loaded through the toolchain
# file's CMAKE_MODULE_PATH. WASI preview1 modules are single statically linked
# executables: no shared libraries, no rpath, no soname.
set(WASI 1)
set(UNIX 1)
set(CMAKE_EXECUTABLE_SUFFIX .wasm)
set(CMAKE_STATIC_LIBRARY_PREFIX lib)
set(CMAKE_STATIC_LIBRARY_SUFFIX .a)
set(CMAKE_FIND_LIBRARY_PREFIXES lib)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)
# Debian keeps wasm32-wasi libraries and headers flat in /usr/lib/wasm32-wasi
# and /usr/include/wasm32-wasi, the toolchain file's find roots; searching "/"
# under each root finds them there (find_library(m), find_path(faasm/faasm.h)),
# and prefix "/" makes find_package look in each root as an installation
# prefix (/usr/share/eigen3/cmake/ under the root /usr/share).
set(CMAKE_SYSTEM_LIBRARY_PATH /)
set(CMAKE_SYSTEM_INCLUDE_PATH /)
set(CMAKE_SYSTEM_PREFIX_PATH /)

# Proto-Faaslets (docs/Faaslets.md) run the constructors once, before the
# snapshot, and every call then enters at __main_void and flushes stdio with
# __wasm_call_dtors: the three parts of wasi-libc's _start, exported. A
# runtime that knows nothing of this still calls _start. Set here, in the link
# rule's flags, rather than in a cached *_INIT variable, so that an existing
# build directory picks it up too.
set(FAASM_WASI_EXPORT_FLAGS
    "-Wl,--export-if-defined=__wasm_call_ctors -Wl,--export-if-defined=__main_void -Wl,--export-if-defined=__wasm_call_dtors")
set(CMAKE_C_LINK_FLAGS "${FAASM_WASI_EXPORT_FLAGS}")
set(CMAKE_CXX_LINK_FLAGS "${FAASM_WASI_EXPORT_FLAGS}")
