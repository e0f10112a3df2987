;; A loop that is NOT versioned: the sum of a linked list's values. Each
;; node's address is loaded by the previous iteration, so no access is an
;; affine function of an iteration count, and nothing can be proven about
;; the addresses before the loop starts (BoundsProof covers no access). Every
;; access keeps its own check: volatile in guard mode, a compare with
;; memory.size and a branch to the trap block in explicit mode; there is a
;; single copy of the loop and no .checked or .inbounds blocks. (In explicit
;; mode the two checks of one node, of the value at +0 and of the next
;; pointer at +4, are merged into one of the node's end: CheckMerging.)
;; golden modes: guard explicit
;; golden functions: $sum-list
(module
  (memory 1)
  ;; node: {value: i32 at 0, next: i32 at 4}; next == 0 ends the list
  (func $sum-list (export "sum-list") (param $node i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $node)))
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $node))))
        (local.set $node (i32.load offset=4 (local.get $node)))
        (br $next)))
    (local.get $sum)))
