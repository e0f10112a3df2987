;; One load and one store, outside any loop: the address of each access.
;; Both modes zero-extend the 32-bit address to 64 bits (never sign-extend,
;; which would reach 2 GiB below the memory) and add the static offset in
;; 64 bits, so address + offset cannot wrap.
;; guard: no compare; the access is volatile (it is the check: a fault in the
;;   guard region becomes the trap, and must happen exactly here).
;; explicit: the end of the access (address + offset + size, in i64) is
;;   compared with VMContext::memorySize, and the access runs only after the
;;   branch to the trap block (MemoryOutOfBounds, code 2 in the IR) is not
;;   taken; the access is not volatile.
;; golden modes: guard explicit
;; golden functions: $load $store
(module
  (memory 1)
  (func $load (export "load") (param $p i32) (result i64)
    (i64.load offset=16 (local.get $p)))
  (func $store (export "store") (param $p i32) (param $v i32)
    (i32.store16 offset=6 (local.get $p) (local.get $v))))
