;; The no-alias copy (NoAliasCopy.cpp): lu's inner loop as clang unrolls it
;; by two, row[j] -= m * piv[j]; row[j + 1] -= m * piv[j + 1], counting j by
;; 2 until it equals n (so its bound on back edges is (n - j0) / 2, with n - j0
;; checked to be even: countedBackedges). The fast copy stores row at two
;; offsets, so the loop vectoriser's own run-time checks, which compare every
;; pair of pointers, always fail; the fast copy is therefore copied once more:
;;  - .checked blocks: the original loop, per-access checks, not vectorised;
;;  - .overlapping blocks: the fast copy without no-alias metadata, run when
;;    the ranges of row and piv over the whole loop overlap;
;;  - the tagged copy, entered when they are apart (the .disjoint preheader):
;;    the row accesses in one alias scope, piv's in another, each declared
;;    not to alias the other (!alias.scope, !noalias), and vectorised.
;; golden modes: guard explicit
;; golden functions: $row-minus-pivot
(module
  (memory 1)
  (func $row-minus-pivot (export "row-minus-pivot") (param $row i32) (param $piv i32) (param $n i32)
    (param $m f64)
    (local $j i32) (local $r i32) (local $q i32)
    (block $done
      (loop $next
        (br_if $done (i32.eq (local.get $j) (local.get $n)))
        (local.set $r (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $q (i32.add (local.get $piv) (i32.shl (local.get $j) (i32.const 3))))
        (f64.store (local.get $r)
          (f64.sub (f64.load (local.get $r)) (f64.mul (local.get $m) (f64.load (local.get $q)))))
        (f64.store offset=8 (local.get $r)
          (f64.sub (f64.load offset=8 (local.get $r))
                   (f64.mul (local.get $m) (f64.load offset=8 (local.get $q)))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $next)))))
