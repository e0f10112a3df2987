# faasm_target_warnings(<target>): the project's warning set for host code.
function(faasm_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(FAASM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(FAASM_ENABLE_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(FAASM_BUILD_FUZZERS)
    # Coverage for libFuzzer in every host target; the fuzz targets add
    # -fsanitize=fuzzer (its main) themselves.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
