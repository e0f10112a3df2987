;; Well formed but invalid: the body leaves no i32 for the declared result.
;; Built with wat2wasm --no-check; faasm-codegen must reject it in validation.
(module
  (memory (export "memory") 1)
  (func (export "_start") (result i32)))
