;; The code map through inlining: $leaf is inlined into $middle and both into
;; $top, so a trap in $top's code says it happened in $leaf's division,
;; inlined at $middle's call, inlined at $top's call ("a < b < c"): three
;; wasm frames for one native frame.
;; golden modes: guard
;; golden functions: $top
;; golden kind: code-map
(module
  (func $leaf (param i32) (result i32)
    (i32.div_s (i32.const 1000) (local.get 0)))
  (func $middle (param i32) (result i32)
    (i32.add (call $leaf (local.get 0)) (i32.const 1)))
  (func $top (export "top") (param i32) (result i32)
    (call $middle (i32.sub (local.get 0) (i32.const 3)))))
