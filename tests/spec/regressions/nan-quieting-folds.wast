;; Regression (found by the spec suite, fixed in debd2fb); the bug was:
;; At --opt-level >= 1 LLVM folds x - 0.0 (and x * 1.0, x / 1.0, ...) to x,
;; which returns a signalling NaN operand unquieted; the spec requires an
;; arithmetic NaN. spec: float_exprs.wast:75 and 25 more (opt-level 1/2 only).
(module
  (func (export "f32.sub0") (param f32) (result f32) (f32.sub (local.get 0) (f32.const 0.0)))
  (func (export "f64.mul1") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 1.0))))
(assert_return (invoke "f32.sub0" (f32.const nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "f64.mul1" (f64.const nan:0x4000000000000)) (f64.const nan:arithmetic))
