# Runs one fuzz regression: WAT -> wasm, faasm-spec --run-all-exports, and
# compares stdout+stderr with EXPECTED.
execute_process(COMMAND ${WAT2WASM} ${WAT} -o ${WORK}.wasm RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "wat2wasm failed on ${WAT}")
endif()
execute_process(COMMAND ${FAASM_SPEC} --run-all-exports --bounds=${BOUNDS} ${WORK}.wasm
  OUTPUT_VARIABLE out ERROR_VARIABLE out)
file(READ ${EXPECTED} expected)
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "output differs from ${EXPECTED}:\n--- got\n${out}--- expected\n${expected}")
endif()
