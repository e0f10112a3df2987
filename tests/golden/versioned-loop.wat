;; A loop whose accesses are all affine in its counter: dst[i] = src[i] * k
;; for i < n. LoopVersioning puts one check in front of it (the whole range
;; of both arrays, over every iteration, below memorySize; the counter's
;; arithmetic not wrapping), and runs one of two copies:
;;  - the fast copy, the loop LLVM vectorised: plain (non-volatile) loads and
;;    stores at i64 offsets, no compare with memory.size, no trap branch;
;;  - the checked copy (blocks suffixed .checked), the loop as it was: in
;;    guard mode volatile accesses, in explicit mode a compare and a branch
;;    to the trap block per access; its !llvm.loop forbids vectorising and
;;    unrolling it.
;; golden modes: guard explicit
;; golden functions: $scale
(module
  (memory 1)
  (func $scale (export "scale") (param $dst i32) (param $src i32) (param $n i32) (param $k i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store
          (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (i32.mul (local.get $k)
                   (i32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
