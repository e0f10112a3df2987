;; Initialisation drops a passive data segment: every call, in a Faaslet forked
;; from the Proto-Faaslet or restored from its snapshot file, must find it
;; dropped (memory.init of one byte traps).
(module
  (memory (export "memory") 1)
  (data $d "\2a")
  (func (export "_faasm_zygote") (result i32) (data.drop $d) (i32.const 0))
  (func (export "_start") (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
    (i32.const 5)))
