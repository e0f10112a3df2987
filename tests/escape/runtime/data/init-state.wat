;; Initialisation maps the state value "escape-counter" (faasmReadStatePtr)
;; and keeps the pointer; each call adds 1 through it and exits with the new
;; value. The mapping is shared state: every call of every Faaslet must write
;; the same pages as the state object, not a private copy of them.
(module
  (import "faasm" "faasmReadStatePtr" (func $ptr (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "escape-counter\00")
  (global $p (mut i32) (i32.const 0))
  (func (export "_faasm_zygote") (result i32)
    (global.set $p (call $ptr (i32.const 16) (i32.const 4)))
    (i32.const 0))
  (func (export "_start") (result i32)
    (local $v i32)
    (local.set $v (i32.add (i32.load (global.get $p)) (i32.const 1)))
    (i32.store (global.get $p) (local.get $v))
    (local.get $v)))
