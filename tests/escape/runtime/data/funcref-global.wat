;; Initialisation stores a function reference in a global; every call calls
;; it. In a snapshot file the global must be a function index, not the
;; Proto-Faaslet's host pointer. Exits 33.
(module
  (type $t (func (result i32)))
  (memory (export "memory") 1)
  (table $tab 1 funcref)
  (global $g (mut funcref) (ref.null func))
  (elem declare func $thirtyThree)
  (func $thirtyThree (result i32) (i32.const 33))
  (func (export "_faasm_zygote") (result i32)
    (global.set $g (ref.func $thirtyThree))
    (i32.const 0))
  (func (export "_start") (result i32)
    (table.set $tab (i32.const 0) (global.get $g))
    (call_indirect (type $t) (i32.const 0))))
