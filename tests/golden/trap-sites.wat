;; The code map (what a trap reports): every instruction that can trap has
;; native code attributed to it, at its own offset, so a trap names the
;; instruction itself: a division, a load and a store (a fault in guard mode,
;; a check in explicit mode, one trap block per access), a call_indirect's
;; three checks, an unreachable, and the calls a caller's frame returns to.
;; golden modes: guard explicit
;; golden functions: $divide $memory $indirect $fail $caller
;; golden kind: code-map
(module
  (type $t (func (result i32)))
  (table 2 funcref)
  (memory 1)
  (func $divide (export "divide") (param i32 i32) (result i32)
    (i32.div_u (local.get 0) (local.get 1)))
  (func $memory (export "memory") (param i32 i32)
    (i32.store offset=4 (local.get 0) (i32.load offset=8 (local.get 1)))
    (i32.store (local.get 1) (i32.const 0)))
  (func $indirect (export "indirect") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0)))
  (func $fail (export "fail") (param i32)
    (if (local.get 0) (then unreachable)))
  (func $caller (export "caller") (param i32) (result i32)
    (call $fail (local.get 0))
    (call $memory (local.get 0) (local.get 0))
    (call $indirect (local.get 0))))
