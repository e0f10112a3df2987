;; Traps at once: faasm-run must print "trap: unreachable" and exit 134.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    unreachable))
