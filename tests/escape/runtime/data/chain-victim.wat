;; A genuine caller that chains "victim" (a forged artefact in the function
;; table) and exits with the callee's return code.
(module
  (import "faasm" "faasmChainNamed" (func $chain (param i32 i32 i32) (result i32)))
  (import "faasm" "faasmAwaitCall" (func $await (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "victim\00")
  (func (export "_start") (result i32)
    (local $id i32)
    (local.set $id (call $chain (i32.const 16) (i32.const 0) (i32.const 0)))
    (if (i32.eqz (local.get $id)) (then (return (i32.const 99))))
    (call $await (local.get $id))))
