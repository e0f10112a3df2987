;; Loads one byte past the end of its one-page memory, in a load whose value
;; is unused (it must still trap): "trap: out of bounds memory access", 134.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (i32.load8_u (i32.const 65536)))))
