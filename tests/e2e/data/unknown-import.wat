;; Valid, and compiles, but imports a host function no runtime provides:
;; faasm-run must refuse to link it, naming the import.
(module
  (import "env" "faasm_no_such_function" (func $missing (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $missing (i32.const 1)))))
