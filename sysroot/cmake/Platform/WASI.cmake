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
# under each root finds them there (find_library(m), find_path(faasm/faasm.h)).
set(CMAKE_SYSTEM_LIBRARY_PATH /)
set(CMAKE_SYSTEM_INCLUDE_PATH /)
