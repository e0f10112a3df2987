# find_package(Threads) for wasm32-wasi guests, found first on the toolchain
# file's CMAKE_MODULE_PATH. The runtime gives a module no shared memory and no
# atomics.wait, and Debian's wasi-libc and libc++ are built without threads, so
# there is nothing to find: Threads_FOUND is false, no Threads::Threads target
# exists, and REQUIRED stops the configure here, with the reason, instead of at
# a link against -lpthreads. CMake's own FindThreads would also come out empty
# (no pthread.h for the target), but without saying why.
set(Threads_FOUND FALSE)
set(THREADS_FOUND FALSE)
set(CMAKE_THREAD_LIBS_INIT "")
set(CMAKE_USE_PTHREADS_INIT "")
set(CMAKE_USE_WIN32_THREADS_INIT "")
set(CMAKE_HP_PTHREADS_INIT "")

set(_faasmThreadsReason
    "wasm threads are not supported by this platform (no shared memory, no atomics.wait)")
if(Threads_FIND_REQUIRED)
  message(FATAL_ERROR "Threads: ${_faasmThreadsReason}")
elseif(NOT Threads_FIND_QUIETLY)
  message(STATUS "Could NOT find Threads: ${_faasmThreadsReason}")
endif()
unset(_faasmThreadsReason)
