;; Explicit checks merged along a run of blocks (compiler/codegen/src/CheckMerging.cpp,
;; mergeChecks): accesses at constant offsets from one address share the check
;; of the largest. A merged check may trap before loads that would have run,
;; never before a store or a call, and never for an access that would not run.
(module
  (memory 1 1)
  (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  ;; A store, then three loads from one base: offsets 0, 4 and 12.
  (func (export "fields") (param $p i32) (result i32)
    (i32.store (i32.const 0) (i32.const 1))
    (i32.add (i32.add (i32.load offset=0 (local.get $p)) (i32.load offset=4 (local.get $p)))
             (i32.load offset=12 (local.get $p))))
  ;; A store between two loads of one base: the second's check stays after it.
  (func (export "store-between") (param $p i32) (result i32)
    (local $a i32)
    (local.set $a (i32.load offset=0 (local.get $p)))
    (i32.store (i32.const 8) (local.get $a))
    (i32.add (local.get $a) (i32.load offset=12 (local.get $p))))
  ;; The larger offset only on one path: it must not be checked on the other.
  (func (export "conditional") (param $p i32) (param $deep i32) (result i32)
    (local $a i32)
    (local.set $a (i32.load offset=0 (local.get $p)))
    (if (local.get $deep)
      (then (local.set $a (i32.add (local.get $a) (i32.load offset=12 (local.get $p))))))
    (local.get $a))
  ;; Offsets near 2^32 on one base.
  (func (export "far") (param $p i32) (result i32)
    (i32.add (i32.load offset=0 (local.get $p)) (i32.load offset=0xfffffff0 (local.get $p))))
)

(assert_return (invoke "fields" (i32.const 100)) (i32.const 0))
(assert_return (invoke "peek" (i32.const 0)) (i32.const 1))
(invoke "poke" (i32.const 0) (i32.const 0))
(assert_return (invoke "fields" (i32.const 65520)) (i32.const 0))
(assert_trap (invoke "fields" (i32.const 65524)) "out of bounds memory access")
(assert_return (invoke "peek" (i32.const 0)) (i32.const 1))

(invoke "poke" (i32.const 65528) (i32.const 7))
(assert_trap (invoke "store-between" (i32.const 65528)) "out of bounds memory access")
(assert_return (invoke "peek" (i32.const 8)) (i32.const 7))

(assert_return (invoke "conditional" (i32.const 65528) (i32.const 0)) (i32.const 7))
(assert_trap (invoke "conditional" (i32.const 65528) (i32.const 1)) "out of bounds memory access")

(assert_trap (invoke "far" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "far" (i32.const 16)) "out of bounds memory access")
(assert_trap (invoke "far" (i32.const 65536)) "out of bounds memory access")
