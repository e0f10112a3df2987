;; A trap ends the call, not the instance: everything the code did before the
;; trapping access must be visible afterwards, globals included. In guard
;; mode the access that faults is an ordinary instruction to the optimiser,
;; so a global kept in a register across a loop (and stored once after it)
;; would be lost when the loop traps half-way.
(module
  (memory 1 1)
  (global $budget (mut i32) (i32.const 0))
  (global $wide (mut i64) (i64.const 0))
  (func (export "budget") (result i32) (global.get $budget))
  (func (export "wide") (result i64) (global.get $wide))

  ;; Counts $budget down from n, loading p + 4i each time round.
  (func (export "count-and-load") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (global.set $budget (local.get $n))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (global.get $budget)))
        (global.set $budget (i32.sub (global.get $budget) (i32.const 1)))
        (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next)))
    (local.get $s))

  ;; The same with a store as the access that traps, and a 64-bit global.
  (func (export "count-and-store") (param $p i32) (param $n i64)
    (global.set $wide (i64.const 0))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (global.get $wide) (local.get $n)))
        (global.set $wide (i64.add (global.get $wide) (i64.const 1)))
        (i64.store (local.get $p) (global.get $wide))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $next))))

  ;; Straight-line: set, trap, set.
  (func (export "set-then-trap") (param $a i32)
    (global.set $budget (i32.const 42))
    (drop (i32.load8_u (local.get $a)))
    (global.set $budget (i32.const 43)))
)

(assert_return (invoke "count-and-load" (i32.const 0) (i32.const 10)) (i32.const 0))
(assert_return (invoke "budget") (i32.const 0))
;; loads at 65528 and 65532 succeed, the third (65536) traps with 7 left
(assert_trap (invoke "count-and-load" (i32.const 65528) (i32.const 10)) "out of bounds memory access")
(assert_return (invoke "budget") (i32.const 7))
(assert_trap (invoke "count-and-load" (i32.const 65536) (i32.const 1000)) "out of bounds memory access")
(assert_return (invoke "budget") (i32.const 999))

;; stores at 65520 and 65528 succeed, the third traps after $wide became 3
(assert_trap (invoke "count-and-store" (i32.const 65520) (i64.const 100)) "out of bounds memory access")
(assert_return (invoke "wide") (i64.const 3))
(assert_return (invoke "count-and-store" (i32.const 0) (i64.const 100)))
(assert_return (invoke "wide") (i64.const 100))

(assert_trap (invoke "set-then-trap" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "budget") (i32.const 42))
(assert_return (invoke "set-then-trap" (i32.const 65535)))
(assert_return (invoke "budget") (i32.const 43))

;; table.set before a faulting access
(module
  (memory 1 1)
  (table $t 2 funcref)
  (func $f (result i32) (i32.const 7))
  (elem declare func $f)
  (func (export "is-null") (result i32) (ref.is_null (table.get $t (i32.const 1))))
  (func (export "set-then-trap") (param $a i32)
    (table.set $t (i32.const 1) (ref.func $f))
    (drop (i32.load (local.get $a)))
    (table.set $t (i32.const 1) (ref.null func)))
)
(assert_return (invoke "is-null") (i32.const 1))
(assert_trap (invoke "set-then-trap" (i32.const 65533)) "out of bounds memory access")
(assert_return (invoke "is-null") (i32.const 0))
(assert_return (invoke "set-then-trap" (i32.const 0)))
(assert_return (invoke "is-null") (i32.const 1))

;; A gather/scatter loop: idx[k] and val[k] are affine (the compiler proves
;; them in bounds once, in front of the loop); mem[idx[k]] is not and faults
;; where it stands. The increments before the faulting index must all be
;; done, none after it.
(module
  (memory 1 1)
  ;; idx at 0 (i32 x 8), val at 64 (i32 x 8), targets at 1024..
  (func (export "setup") (param $bad i32)
    (local $k i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (i32.const 8)))
        (i32.store (i32.shl (local.get $k) (i32.const 2))
                   (select (i32.const 70000)
                           (i32.add (i32.const 1024) (i32.shl (local.get $k) (i32.const 2)))
                           (i32.eq (local.get $k) (local.get $bad))))
        (i32.store offset=64 (i32.shl (local.get $k) (i32.const 2)) (i32.add (local.get $k) (i32.const 1)))
        (i32.store offset=1024 (i32.shl (local.get $k) (i32.const 2)) (i32.const 100))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next))))
  ;; in clang's shape: a cursor stepping by 4 through idx and val
  (func (export "scatter-add") (param $n i32)
    (local $q i32) (local $p i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $q) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $p (i32.load (local.get $q)))
        (i32.store (local.get $p)
                   (i32.add (i32.load (local.get $p)) (i32.load offset=64 (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $next))))
  (func (export "target") (param $k i32) (result i32)
    (i32.load offset=1024 (i32.shl (local.get $k) (i32.const 2))))
)
(invoke "setup" (i32.const 99))
(assert_return (invoke "scatter-add" (i32.const 8)))
(assert_return (invoke "target" (i32.const 0)) (i32.const 101))
(assert_return (invoke "target" (i32.const 7)) (i32.const 108))
(invoke "setup" (i32.const 3))
(assert_trap (invoke "scatter-add" (i32.const 8)) "out of bounds memory access")
(assert_return (invoke "target" (i32.const 0)) (i32.const 101))
(assert_return (invoke "target" (i32.const 2)) (i32.const 103))
(assert_return (invoke "target" (i32.const 3)) (i32.const 100))
(assert_return (invoke "target" (i32.const 4)) (i32.const 100))
(assert_return (invoke "target" (i32.const 7)) (i32.const 100))
