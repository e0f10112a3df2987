;; Regression (found by the spec suite, fixed in debd2fb); the bug was:
;; At --opt-level >= 1 LLVM's tail-call elimination turns self recursion
;; (and, after inlining, mutual recursion) into a loop, so the stack check
;; in the prologue never fires: the first call spins forever instead of
;; trapping "call stack exhausted" (spec call.wast:337-338,
;; call_indirect.wast:585-586 time out), the second is turned into an
;; accumulator loop and returns 0 (spec fac.wast:109).
(module
  (func $rec (export "rec") (call $rec))
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1))))))))
(assert_exhaustion (invoke "rec") "call stack exhausted")
(assert_exhaustion (invoke "fac" (i64.const 1073741824)) "call stack exhausted")
