;; A loop with a gather, sgd's w[c[k]] * v[k]: the index array c and the
;; value array v are affine in k and covered by the check in front; w[c[k]]
;; is not (its address is loaded).
;; guard: the covered accesses are all loads, so the loop is versioned
;;   anyway, the uncovered load staying volatile where it stands in the fast
;;   copy (an ordinary load that cannot fault may move across one that can:
;;   neither writes, and the trap is the same).
;; explicit: the fast copy drops the checks of c[k] and v[k] and keeps the
;;   compare and trap branch of w[c[k]].
;; In both the checked copy (.checked) keeps every check.
;; golden modes: guard explicit
;; golden functions: $dot-sparse
(module
  (memory 1)
  (func $dot-sparse (export "dot-sparse") (param $w i32) (param $c i32) (param $v i32) (param $n i32)
    (result f32)
    (local $k i32) (local $s f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $s (f32.add (local.get $s)
          (f32.mul
            (f32.load (i32.add (local.get $w)
              (i32.shl (i32.load (i32.add (local.get $c) (i32.shl (local.get $k) (i32.const 2))))
                       (i32.const 2))))
            (f32.load (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 2)))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $s)))
