# faasm_target_warnings(<target>): the project's warning set for host code.
function(faasm_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(FAASM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # A hand-made test artefact stands in for faasm-codegen's output, which is
  # LLVM's and never instrumented: instrumented, it would have the
  # sanitizers' initialisers and imports, which Module::load refuses.
  get_target_property(handMade ${target} FAASM_HAND_MADE_ARTEFACT)
  if(handMade)
    return()
  endif()
  if(FAASM_ENABLE_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    # UBSan's vptr check probes memory with pipe2, which a Faaslet's seccomp
    # filter forbids (the Faaslet is killed). It stays on only in the
    # compiler, which never runs in a Faaslet (docs/Security.md, "Compiler").
    if(NOT target STREQUAL "faasm_codegen")
      target_compile_options(${target} PRIVATE -fno-sanitize=vptr)
      target_link_options(${target} PRIVATE -fno-sanitize=vptr)
    endif()
  endif()
  if(FAASM_BUILD_FUZZERS)
    # Coverage for libFuzzer in every host target; the fuzz targets add
    # -fsanitize=fuzzer (its main) themselves.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
