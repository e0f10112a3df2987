;; fuzz-diff seed 1000 (with --enable-simd): an export returning DBL_MAX
;; among several results. faasm-spec --run-all-exports printed "%f" of it
;; into a 128-byte buffer, truncating the line; wasm-interp prints all 316
;; characters. A bug of the runner, not of the compiler, kept so the
;; printing stays exactly wasm-interp's.
(module
  (func (export "max_and_more") (result f64 f64 f32 i32 f64)
    (f64.const nan)
    (f64.const 0x1.fffffffffffffp+1023)
    (f32.const -0x1p+54)
    (i32.const -20)
    (f64.const 156)))
