;; The smallest valid command module: its _start returns at once (exit 0).
;; Also the source of the truncated module in the bad-input tests.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
