;; As no-dispatch.wat, but shaped as this toolchain's modules are (the
;; constructors and __main_void exported apart), with a _faasm_dispatch of
;; the wrong type (no parameter): not an entry the runtime may call.
(module
  (import "faasm" "faasmChain" (func $chain (param i32 i32 i32) (result i32)))
  (import "faasm" "faasmAwaitCall" (func $await (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "__wasm_call_ctors"))
  (func (export "_faasm_dispatch") (result i32) (i32.const 0))
  (func (export "__main_void") (result i32)
    (select (i32.const 7) (i32.const 8)
      (i32.eq (call $await (call $chain (i32.const 5) (i32.const 0) (i32.const 0)))
              (i32.const 134)))))
