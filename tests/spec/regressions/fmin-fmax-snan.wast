;; Regression (found by the spec suite, fixed in debd2fb); the bug was:
;; f32/f64 min and max (scalar and f32x4/f64x2) return a signalling NaN
;; operand unchanged; the spec requires an arithmetic (quiet) NaN result.
;; spec: f32.wast:1652 and 143 more in f32/f64/simd_f32x4/simd_f64x2.
(module
  (func (export "f32.min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "f64.max") (param f64 f64) (result f64) (f64.max (local.get 0) (local.get 1))))
(assert_return (invoke "f32.min" (f32.const 0) (f32.const nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "f64.max" (f64.const 0) (f64.const nan:0x4000000000000)) (f64.const nan:arithmetic))
