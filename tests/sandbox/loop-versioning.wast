;; Loops whose bounds checks the compiler proves once, in front of the loop
;; (compiler/codegen/src/LoopVersioning.cpp). Every loop here either stays in bounds,
;; where the unchecked copy must compute what the checked one would, or leaves
;; memory at some iteration, where the trap must come at exactly that access
;; with every earlier store done: addresses that wrap at 2^32, negative and
;; huge strides, counters that never reach their limit, memory grown inside
;; the loop, overlapping copies.
(module
  (memory 1 1)
  (func (export "peek8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "peek-f64") (param i32) (result f64) (f64.load (local.get 0)))

  ;; p[i] = i + 1 for i < n, ascending.
  (func (export "fill-up") (param $p i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $p) (local.get $i))
                    (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; p[-i] = 0x5a for i < n, descending.
  (func (export "fill-down") (param $p i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.sub (local.get $p) (local.get $i)) (i32.const 0x5a))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func (export "sum-up") (param $p i32) (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum)
                                 (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  ;; Sum of the i32 at p + i * stride for i < n (the stride is a parameter).
  (func (export "sum-stride") (param $p i32) (param $stride i32) (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum
          (i32.add (local.get $sum)
                   (i32.load (i32.add (local.get $p)
                                      (i32.mul (local.get $i) (local.get $stride))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  ;; dst[i] = src[i] ascending: with dst = src + 1 the first byte spreads.
  (func (export "copy-up") (param $dst i32) (param $src i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $dst) (local.get $i))
                    (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; The shape of a loop unrolled by two: the counter steps by -2 and the loop
  ;; leaves when it is 0, so an odd count never leaves.
  (func (export "unrolled-sum") (param $p i32) (param $count i32) (result i32)
    (local $sum i32)
    (loop $next
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $p))))
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u offset=1 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (local.set $count (i32.sub (local.get $count) (i32.const 2)))
      (br_if $next (local.get $count)))
    (local.get $sum))

  ;; A counter kept in memory at a fixed address, updated every iteration,
  ;; then a load at an address read from a table: in guard mode the copy that
  ;; runs once the fixed and affine accesses are proven keeps an explicit
  ;; check on the indirect one.
  (func (export "poke32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "peek32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "count-and-probe") (param $table i32) (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.const 0x40) (i32.add (i32.load (i32.const 0x40)) (i32.const 1)))
        (local.set $sum
          (i32.add (local.get $sum)
                   (i32.load8_u (i32.load (i32.add (local.get $table)
                                                   (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  ;; f64 loops the optimiser vectorises when they are proven in bounds.
  (func (export "iota-f64") (param $p i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (f64.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))
                   (f64.convert_i32_u (i32.add (local.get $i) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func (export "scale-f64") (param $p i32) (param $n i32)
    (local $i i32) (local $a i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))
        (f64.store (local.get $a) (f64.mul (f64.load (local.get $a)) (f64.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
)

;; Ascending stores that leave memory on the 7th: the first six are done.
(assert_trap (invoke "fill-up" (i32.const 65530) (i32.const 10)) "out of bounds memory access")
(assert_return (invoke "peek8" (i32.const 65530)) (i32.const 1))
(assert_return (invoke "peek8" (i32.const 65535)) (i32.const 6))
(assert_return (invoke "sum-up" (i32.const 65530) (i32.const 6)) (i32.const 21))
(assert_trap (invoke "sum-up" (i32.const 65530) (i32.const 7)) "out of bounds memory access")
(assert_trap (invoke "sum-up" (i32.const 0) (i32.const -1)) "out of bounds memory access")

;; Descending stores: 2, 1, 0, then 0xffffffff, which traps.
(invoke "fill-down" (i32.const 16) (i32.const 4))
(assert_return (invoke "peek8" (i32.const 13)) (i32.const 0x5a))
(assert_trap (invoke "fill-down" (i32.const 2) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "peek8" (i32.const 0)) (i32.const 0x5a))
(assert_return (invoke "peek8" (i32.const 3)) (i32.const 0))

;; Strides: an address that starts past 2^32 - 8, a stride of 2^31, and a
;; negative stride that wraps the i32 sum back to 0 (65532 + 0xffff0004).
(assert_trap (invoke "sum-stride" (i32.const -8) (i32.const 8) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "sum-stride" (i32.const 0) (i32.const 0x80000000) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "sum-stride" (i32.const 8) (i32.const 0x7fffffff) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "sum-stride" (i32.const 65532) (i32.const -65532) (i32.const 2)) (i32.const 106913373))
(assert_trap (invoke "sum-stride" (i32.const 65532) (i32.const -65532) (i32.const 3)) "out of bounds memory access")
(assert_return (invoke "sum-stride" (i32.const 100) (i32.const 0) (i32.const 1000)) (i32.const 0))

;; An overlapping copy runs as the sequential loop would.
(invoke "fill-up" (i32.const 100) (i32.const 16))
(invoke "copy-up" (i32.const 101) (i32.const 100) (i32.const 15))
(assert_return (invoke "sum-up" (i32.const 100) (i32.const 16)) (i32.const 16))
(assert_return (invoke "peek8" (i32.const 115)) (i32.const 1))

;; Counter stepping by -2: an even count leaves, an odd one runs off the end.
(invoke "fill-up" (i32.const 200) (i32.const 6))
(assert_return (invoke "unrolled-sum" (i32.const 200) (i32.const 6)) (i32.const 21))
(assert_return (invoke "unrolled-sum" (i32.const 200) (i32.const 2)) (i32.const 3))
(assert_trap (invoke "unrolled-sum" (i32.const 200) (i32.const 5)) "out of bounds memory access")
(assert_trap (invoke "unrolled-sum" (i32.const 65534) (i32.const 4)) "out of bounds memory access")

;; The counter's store of each iteration is done before that iteration's
;; probe traps: 3 + 4 after the second call, 8 after the third.
(invoke "poke32" (i32.const 300) (i32.const 100))
(invoke "poke32" (i32.const 304) (i32.const 101))
(invoke "poke32" (i32.const 308) (i32.const 102))
(invoke "poke32" (i32.const 312) (i32.const 70000))
(assert_return (invoke "count-and-probe" (i32.const 300) (i32.const 3)) (i32.const 3))
(assert_return (invoke "peek32" (i32.const 0x40)) (i32.const 3))
(assert_trap (invoke "count-and-probe" (i32.const 300) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "peek32" (i32.const 0x40)) (i32.const 7))
(assert_trap (invoke "count-and-probe" (i32.const 65532) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "peek32" (i32.const 0x40)) (i32.const 8))

;; Vectorisable f64 loops: in bounds, and leaving memory after three elements.
(invoke "iota-f64" (i32.const 1024) (i32.const 9))
(invoke "scale-f64" (i32.const 1024) (i32.const 9))
(assert_return (invoke "peek-f64" (i32.const 1088)) (f64.const 18))
(assert_return (invoke "peek-f64" (i32.const 1024)) (f64.const 2))
(invoke "iota-f64" (i32.const 65512) (i32.const 3))
(assert_trap (invoke "scale-f64" (i32.const 65512) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "peek-f64" (i32.const 65528)) (f64.const 6))
(assert_return (invoke "peek-f64" (i32.const 65512)) (f64.const 2))
(assert_trap (invoke "iota-f64" (i32.const 65512) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "peek-f64" (i32.const 65528)) (f64.const 3))

;; Memory grown inside the loop: accesses past the old end become valid.
(module
  (memory 1 2)
  (func (export "grow-in-loop") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eqz (local.get $i)) (then (drop (memory.grow (i32.const 1)))))
        (i32.store8 (i32.add (i32.const 65530) (local.get $i)) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.load8_u (i32.const 65549)))
  (func (export "sum-to-end") (param $p i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (i32.mul (memory.size) (i32.const 65536))))
        (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $sum))
)
(assert_return (invoke "grow-in-loop" (i32.const 20)) (i32.const 19))
(assert_return (invoke "sum-to-end" (i32.const 65530)) (i32.const 190))

;; An index scaled to bytes (k << 2), which scalar evolution spells as
;; 4 * zext(a 30-bit recurrence): the shift wraps at 2^32, so a 30-bit
;; counter past 2^30 addresses from 0 again.
(module
  (memory 1 1)
  (func (export "fill") (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 16)))
        (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func (export "sum-scaled") (param $k i32) (param $end i32) (result i32)
    (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.eq (local.get $k) (local.get $end)))
        (local.set $s (i32.add (local.get $s) (i32.load (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $s))
)
(invoke "fill")
(assert_return (invoke "sum-scaled" (i32.const 0) (i32.const 16)) (i32.const 136))
(assert_return (invoke "sum-scaled" (i32.const 0x40000000) (i32.const 0x40000004)) (i32.const 10))
(assert_return (invoke "sum-scaled" (i32.const 0xc0000002) (i32.const 0xc0000005)) (i32.const 12))
(assert_trap (invoke "sum-scaled" (i32.const 0x3fffffff) (i32.const 0x40000002)) "out of bounds memory access")
(assert_trap (invoke "sum-scaled" (i32.const 16380) (i32.const 16390)) "out of bounds memory access")
(assert_return (invoke "sum-scaled" (i32.const 16380) (i32.const 16384)) (i32.const 0))
