;; The third copy of a versioned loop (compiler/codegen/src/NoAliasCopy.cpp):
;; accesses in groups whose ranges are checked apart at run time are told
;; they cannot alias, so the vectorisers may reorder them. Here clang's shape
;; of a loop unrolled by two (row[j] -= piv[j]; row[j + 1] -= piv[j + 1]) runs
;; with row and piv apart, adjacent, overlapping by one element, by half an
;; element (unaligned), and identical. Each result is that of running the
;; loop one access at a time (computed outside, by a plain interpreter of the
;; same loop), in i32 and f64.
(module
  (memory 1 1)

  ;; p[i] = i * k + c for i < n
  (func $init-i32 (param $p i32) (param $n i32) (param $k i32) (param $c i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 4)))
                   (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func $sub-pairs-i32 (param $row i32) (param $piv i32) (param $n i32)
    (local $j i32) (local $r i32) (local $q i32)
    (block $done
      (loop $next
        (br_if $done (i32.eq (local.get $j) (local.get $n)))
        (local.set $r (i32.add (local.get $row) (i32.mul (local.get $j) (i32.const 4))))
        (local.set $q (i32.add (local.get $piv) (i32.mul (local.get $j) (i32.const 4))))
        (i32.store (local.get $r) (i32.sub (i32.load (local.get $r)) (i32.load (local.get $q))))
        (i32.store offset=4 (local.get $r)
                   (i32.sub (i32.load offset=4 (local.get $r)) (i32.load offset=4 (local.get $q))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $next))))

  ;; sum of (i + 1) * row[i] over i < n + 2
  (func $weighted-i32 (param $p i32) (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.add (local.get $n) (i32.const 2))))
        (local.set $s (i32.add (local.get $s)
          (i32.mul (i32.load (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 4))))
                   (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))

  (func (export "run-i32") (param $row i32) (param $piv i32) (param $n i32) (param $ka i32) (param $kb i32)
        (result i32)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 8192))
    (call $init-i32 (local.get $piv) (i32.add (local.get $n) (i32.const 2)) (local.get $kb) (i32.const 3))
    (call $init-i32 (local.get $row) (i32.add (local.get $n) (i32.const 2)) (local.get $ka) (i32.const 7))
    (call $sub-pairs-i32 (local.get $row) (local.get $piv) (local.get $n))
    (call $weighted-i32 (local.get $row) (local.get $n)))

  ;; p[i] = i * k + c for i < n
  (func $init-f64 (param $p i32) (param $n i32) (param $k i32) (param $c i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (f64.store (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 8)))
                   (f64.convert_i32_u (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $c))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func $sub-pairs-f64 (param $row i32) (param $piv i32) (param $n i32)
    (local $j i32) (local $r i32) (local $q i32)
    (block $done
      (loop $next
        (br_if $done (i32.eq (local.get $j) (local.get $n)))
        (local.set $r (i32.add (local.get $row) (i32.mul (local.get $j) (i32.const 8))))
        (local.set $q (i32.add (local.get $piv) (i32.mul (local.get $j) (i32.const 8))))
        (f64.store (local.get $r) (f64.sub (f64.load (local.get $r)) (f64.load (local.get $q))))
        (f64.store offset=8 (local.get $r)
                   (f64.sub (f64.load offset=8 (local.get $r)) (f64.load offset=8 (local.get $q))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $next))))

  ;; sum of (i + 1) * row[i] over i < n + 2
  (func $weighted-f64 (param $p i32) (param $n i32) (result f64)
    (local $i i32) (local $s f64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.add (local.get $n) (i32.const 2))))
        (local.set $s (f64.add (local.get $s)
          (f64.mul (f64.load (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 8))))
                   (f64.convert_i32_u (i32.add (local.get $i) (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))

  (func (export "run-f64") (param $row i32) (param $piv i32) (param $n i32) (param $ka i32) (param $kb i32)
        (result f64)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 8192))
    (call $init-f64 (local.get $piv) (i32.add (local.get $n) (i32.const 2)) (local.get $kb) (i32.const 3))
    (call $init-f64 (local.get $row) (i32.add (local.get $n) (i32.const 2)) (local.get $ka) (i32.const 7))
    (call $sub-pairs-f64 (local.get $row) (local.get $piv) (local.get $n))
    (call $weighted-f64 (local.get $row) (local.get $n)))
)
(assert_return (invoke "run-i32" (i32.const 0) (i32.const 1024) (i32.const 64) (i32.const 5) (i32.const 11)) (i32.const -472673))
(assert_return (invoke "run-i32" (i32.const 1024) (i32.const 0) (i32.const 64) (i32.const 5) (i32.const 11)) (i32.const -472673))
(assert_return (invoke "run-i32" (i32.const 256) (i32.const 260) (i32.const 64) (i32.const 3) (i32.const 9)) (i32.const 20027))
(assert_return (invoke "run-i32" (i32.const 260) (i32.const 256) (i32.const 64) (i32.const 3) (i32.const 9)) (i32.const 166155))
(assert_return (invoke "run-i32" (i32.const 256) (i32.const 256) (i32.const 64) (i32.const 3) (i32.const 9)) (i32.const 26267))
(assert_return (invoke "run-i32" (i32.const 256) (i32.const 258) (i32.const 64) (i32.const 13) (i32.const 17)) (i32.const 156450255))
(assert_return (invoke "run-i32" (i32.const 258) (i32.const 256) (i32.const 64) (i32.const 13) (i32.const 17)) (i32.const 1793419631))
(assert_return (invoke "run-i32" (i32.const 256) (i32.const 264) (i32.const 64) (i32.const 2) (i32.const 3)) (i32.const 9497))
(assert_return (invoke "run-i32" (i32.const 264) (i32.const 256) (i32.const 64) (i32.const 2) (i32.const 3)) (i32.const 114633))
(assert_return (invoke "run-i32" (i32.const 512) (i32.const 768) (i32.const 64) (i32.const 7) (i32.const 5)) (i32.const 241747))
(assert_return (invoke "run-i32" (i32.const 768) (i32.const 512) (i32.const 64) (i32.const 7) (i32.const 5)) (i32.const 243107))
(assert_return (invoke "run-i32" (i32.const 100) (i32.const 90) (i32.const 30) (i32.const 4) (i32.const 6)) (i32.const -1890201090))
(assert_return (invoke "run-i32" (i32.const 2000) (i32.const 1748) (i32.const 62) (i32.const 9) (i32.const 1)) (i32.const 715519))
(assert_return (invoke "run-i32" (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 1)) (i32.const 23))
(assert_return (invoke "run-f64" (i32.const 0) (i32.const 2048) (i32.const 64) (i32.const 5) (i32.const 11)) (f64.const -472673.0))
(assert_return (invoke "run-f64" (i32.const 2048) (i32.const 0) (i32.const 64) (i32.const 5) (i32.const 11)) (f64.const -472673.0))
(assert_return (invoke "run-f64" (i32.const 512) (i32.const 520) (i32.const 64) (i32.const 3) (i32.const 9)) (f64.const 20027.0))
(assert_return (invoke "run-f64" (i32.const 520) (i32.const 512) (i32.const 64) (i32.const 3) (i32.const 9)) (f64.const 166155.0))
(assert_return (invoke "run-f64" (i32.const 512) (i32.const 512) (i32.const 64) (i32.const 3) (i32.const 9)) (f64.const 26267.0))
(assert_return (invoke "run-f64" (i32.const 512) (i32.const 516) (i32.const 64) (i32.const 13) (i32.const 17)) (f64.const 1261007.0))
(assert_return (invoke "run-f64" (i32.const 516) (i32.const 512) (i32.const 64) (i32.const 13) (i32.const 17)) (f64.const 1261007.0))
(assert_return (invoke "run-f64" (i32.const 512) (i32.const 528) (i32.const 64) (i32.const 2) (i32.const 3)) (f64.const 9497.0))
(assert_return (invoke "run-f64" (i32.const 528) (i32.const 512) (i32.const 64) (i32.const 2) (i32.const 3)) (f64.const 114633.0))
(assert_return (invoke "run-f64" (i32.const 1024) (i32.const 1536) (i32.const 64) (i32.const 7) (i32.const 5)) (f64.const 241747.0))
(assert_return (invoke "run-f64" (i32.const 1536) (i32.const 1024) (i32.const 64) (i32.const 7) (i32.const 5)) (f64.const 243107.0))
(assert_return (invoke "run-f64" (i32.const 200) (i32.const 180) (i32.const 30) (i32.const 4) (i32.const 6)) (f64.const 47323.0))
(assert_return (invoke "run-f64" (i32.const 4000) (i32.const 3496) (i32.const 62) (i32.const 9) (i32.const 1)) (f64.const 715519.0))
(assert_return (invoke "run-f64" (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 1)) (f64.const 23.0))
(assert_trap (invoke "run-i32" (i32.const 65280) (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 1)) "out of bounds memory access")
