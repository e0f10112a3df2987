;; Each call uses a passive data and a passive element segment once, then
;; drops them: what a call drops must be back for the next call of a warm
;; Faaslet. Exits 42 + 7.
(module
  (type $t (func (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (data $d "\2a")
  (elem $e func $seven)
  (func $seven (result i32) (i32.const 7))
  (func (export "_start") (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
    (data.drop $d)
    (table.init $e (i32.const 0) (i32.const 0) (i32.const 1))
    (elem.drop $e)
    (i32.add (i32.load8_u (i32.const 0)) (call_indirect (type $t) (i32.const 0)))))
