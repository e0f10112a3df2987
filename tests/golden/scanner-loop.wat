;; A loop that is NOT versioned although every access could be covered: a
;; scanner that keeps its cursor in memory, as a parser skipping spaces does.
;; It has two exits (the end of the input, a character other than a space)
;; and stores to a fixed address (the cursor) every time round without
;; loading it again. Such loops run zero or one iteration per entry more
;; often than not, and the vectoriser does not take a loop with two exits,
;; so the check in front would cost more than it saves (json: 1.37-1.47x
;; native with it, 1.13-1.21x without, guard mode; LoopVersioning's
;; worthVersioning). The loop keeps its per-access checks (volatile in guard
;; mode, compare and trap branch in explicit mode), in a single copy.
;; golden modes: guard explicit
;; golden functions: $skip-spaces
(module
  (memory 1)
  (func $skip-spaces (export "skip-spaces") (param $cursor i32) (param $p i32) (param $end i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.ne (i32.load8_u (local.get $p)) (i32.const 32)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (i32.store (local.get $cursor) (local.get $p))
        (br $next)))))
