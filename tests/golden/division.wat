;; Integer division's traps, which LLVM leaves undefined: a divisor of zero
;; traps (IntegerDivideByZero, code 7 in the IR) before any division,
;; signed division of INT_MIN by -1 traps (IntegerOverflow, 8), and signed
;; remainder by -1 divides by 1 instead (the result is 0 either way, but
;; x86's idiv would fault). Unsigned division needs only the zero check.
;; Memory is not involved, so one bounds mode is enough.
;; golden modes: guard
;; golden functions: $div-s $rem-s $div-u
(module
  (func $div-s (export "div-s") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b)))
  (func $rem-s (export "rem-s") (param $a i64) (param $b i64) (result i64)
    (i64.rem_s (local.get $a) (local.get $b)))
  (func $div-u (export "div-u") (param $a i32) (param $b i32) (result i32)
    (i32.div_u (local.get $a) (local.get $b))))
