;; As init-drop-data.wat, for a passive element segment (table.init traps).
(module
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem $e func $f)
  (func $f)
  (func (export "_faasm_zygote") (result i32) (elem.drop $e) (i32.const 0))
  (func (export "_start") (result i32)
    (table.init $e (i32.const 0) (i32.const 0) (i32.const 1))
    (i32.const 5)))
