;; Merged explicit checks (CheckMerging.cpp), straight-line code in explicit
;; mode. $sum3 loads three fields of one record, p[0], p[4] and p[8]: one
;; check of the largest end, p + 12, at the first load, and none before the
;; other two (a trap comes earlier, but only loads are skipped). $sum3-store
;; is the same with a store between the second and third loads: the
;; merging stops at the store, so the third load keeps a check of its own,
;; after the store (the store must happen before that trap).
;; golden modes: explicit
;; golden functions: $sum3 $sum3-store
(module
  (memory 1)
  (func $sum3 (export "sum3") (param $p i32) (result i32)
    (i32.add (i32.add (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))
             (i32.load offset=8 (local.get $p))))
  (func $sum3-store (export "sum3-store") (param $p i32) (param $q i32) (result i32)
    (local $s i32)
    (local.set $s (i32.add (i32.load (local.get $p)) (i32.load offset=4 (local.get $p))))
    (i32.store (local.get $q) (local.get $s))
    (i32.add (local.get $s) (i32.load offset=8 (local.get $p)))))
