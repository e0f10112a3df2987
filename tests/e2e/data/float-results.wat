;; Results faasm-run --invoke must print in full: the shortest text that
;; reads back as the same float.
(module
  (func (export "tenth32") (result f32) (f32.const 0.1))
  (func (export "tenth64") (result f64) (f64.const 0.1))
  (func (export "third64") (result f64) (f64.div (f64.const 1) (f64.const 3)))
  (func (export "big32") (result f32) (f32.const 16777217))
  (func (export "nan64") (result f64) (f64.const nan))
  (func (export "_start")))
