;; A module that chains itself by function pointer (faasmChain) without the
;; entry faasm/faasm.h gives it: a plain WASI command, entered only at
;; _start. The callee must fail with one line, the caller go on: it exits 7
;; when the callee's return code is 134, 8 otherwise.
(module
  (import "faasm" "faasmChain" (func $chain (param i32 i32 i32) (result i32)))
  (import "faasm" "faasmAwaitCall" (func $await (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $exit
      (select (i32.const 7) (i32.const 8)
        (i32.eq (call $await (call $chain (i32.const 5) (i32.const 0) (i32.const 0)))
                (i32.const 134))))))
