;; A function in two builds: snapshots.py makes v2 by changing VERSION. Its
;; initialisation leaves VERSION in memory, so a run shows which build's
;; snapshot it started from.
(module
  (memory (export "memory") 1)
  (func (export "_faasm_zygote") (result i32)
    (i32.store (i32.const 0) (i32.const 11 (; VERSION ;)))
    (i32.const 0))
  (func (export "_start") (result i32) (i32.load (i32.const 0))))
