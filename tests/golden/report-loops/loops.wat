;; Two loops whose fate --report-loops must tell (report_loops.py):
;; $scale: y[i] = 2 * x[i] over n f64s, affine accesses and a counted loop,
;; versioned on bounds and then vectorised by LLVM;
;; $sum-list: a linked-list walk, whose addresses are loaded by the
;; previous iteration, so no check can be proven up front: not versioned,
;; every check kept, and the vectoriser cannot count its iterations.
(module
  (memory 1)
  (func $scale (export "scale") (param $x i32) (param $y i32) (param $n i32)
    (local $i i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $next
        (f64.store
          (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3)))
          (f64.mul (f64.const 2)
            (f64.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $n))))))
  (func $sum-list (export "sum-list") (param $node i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $node)))
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $node))))
        (local.set $node (i32.load offset=4 (local.get $node)))
        (br $next)))
    (local.get $sum)))
