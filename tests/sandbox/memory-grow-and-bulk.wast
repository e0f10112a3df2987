;; memory.grow at its limits, and bulk operations that straddle the end: they
;; trap before writing anything.
(module
  (memory 1 2)
  (data $seg "\aa\bb\cc\dd")
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $seg (local.get 0) (local.get 1) (local.get 2)))
)

(assert_trap (invoke "load8" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 2)) (i32.const -1))
(assert_return (invoke "grow" (i32.const -1)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 0x10000)) (i32.const -1))
(assert_return (invoke "size") (i32.const 1))
(assert_return (invoke "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke "size") (i32.const 2))
(assert_return (invoke "load8" (i32.const 131071)) (i32.const 0))
(assert_trap (invoke "load8" (i32.const 131072)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 0)) (i32.const 2))

;; fill straddling the end writes nothing
(assert_trap (invoke "fill" (i32.const 131071) (i32.const 0x55) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 131071)) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 0) (i32.const 0x55) (i32.const -1)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_trap (invoke "fill" (i32.const -1) (i32.const 0x55) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "fill" (i32.const 131072) (i32.const 0x55) (i32.const 0)))
(assert_trap (invoke "fill" (i32.const 131073) (i32.const 0x55) (i32.const 0)) "out of bounds memory access")

;; copy straddling either end writes nothing
(invoke "store8" (i32.const 131071) (i32.const 9))
(assert_trap (invoke "copy" (i32.const 131071) (i32.const 0) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 131071)) (i32.const 9))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 131071) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 0) (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const -1) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 1) (i32.const -1)) "out of bounds memory access")
(assert_return (invoke "copy" (i32.const 131072) (i32.const 131072) (i32.const 0)))

;; init straddling the destination end or the segment end writes nothing
(assert_trap (invoke "init" (i32.const 131070) (i32.const 0) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 131070)) (i32.const 0))
(assert_trap (invoke "init" (i32.const 0) (i32.const 2) (i32.const 3)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_trap (invoke "init" (i32.const 0) (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "init" (i32.const 0) (i32.const 0) (i32.const 4)))
(assert_return (invoke "load8" (i32.const 3)) (i32.const 0xdd))

;; A memory with no maximum grows to the whole 4 GiB and no further; the last
;; byte is reachable, the one past it is not.
(module
  (memory 0)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
)
(assert_trap (invoke "load8" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 0x10001)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 0x10000)) (i32.const 0))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(invoke "store8" (i32.const -1) (i32.const 77))
(assert_return (invoke "load8" (i32.const -1)) (i32.const 77))
(assert_return (invoke "load32" (i32.const -4)) (i32.const 0x4d000000))
(assert_trap (invoke "load32" (i32.const -3)) "out of bounds memory access")
