;; Float-to-int conversions that trap. clang 19 and older, without
;; nontrapping-fptoint, put a test in front of every C cast from float to int
;; ((int)x becomes `|x| < 2^31 ? trunc(x) : INT_MIN`, (unsigned)x
;; `x < 2^32 & x >= 0 ? trunc(x) : 0`); the conversion's own checks sit behind
;; the same test, so behind clang's they must vanish ($guarded-s, $guarded-u:
;; no faasm.trap left), while a bare conversion keeps both checks, NaN
;; (InvalidConversionToInteger, code 9) and overflow (IntegerOverflow, 8),
;; behind the test ($bare-s, $bare-u). Memory is not involved, so one bounds
;; mode is enough.
;; golden modes: guard
;; golden functions: $guarded-s $guarded-u $bare-s $bare-u
(module
  (func $guarded-s (export "guarded-s") (param $x f32) (result i32)
    (if (result i32) (f32.lt (f32.abs (local.get $x)) (f32.const 0x1p+31))
      (then (i32.trunc_f32_s (local.get $x)))
      (else (i32.const 0x80000000))))
  (func $guarded-u (export "guarded-u") (param $x f64) (result i32)
    (if (result i32) (i32.and (f64.lt (local.get $x) (f64.const 0x1p+32))
                              (f64.ge (local.get $x) (f64.const 0)))
      (then (i32.trunc_f64_u (local.get $x)))
      (else (i32.const 0))))
  (func $bare-s (export "bare-s") (param $x f64) (result i64)
    (i64.trunc_f64_s (local.get $x)))
  (func $bare-u (export "bare-u") (param $x f32) (result i32)
    (i32.trunc_f32_u (local.get $x))))
