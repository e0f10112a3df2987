;; Guard mode's volatile accesses, outside loops. A trap must happen exactly
;; where the spec says, after every earlier store, so in guard mode (where
;; the access itself is the check):
;;  - a load whose value is dropped is still made (load volatile), since it
;;    may be the one that traps;
;;  - stores stay in program order with the loads around them, none merged
;;    or removed (two stores to the same address both happen);
;;  - global.set is a volatile store too: LLVM orders volatile operations
;;    only among themselves, and once kept a global in a register across a
;;    loop whose load faulted (tests/sandbox/trap-state.wast).
;; In explicit mode none of this is volatile: the dropped load goes, but
;; its check (compare and trap branch) stays, the two stores to one
;; address become one after the check, and the last load's check is not
;; merged with the first load's (CheckMerging stops at a store).
;; golden modes: guard explicit
;; golden functions: $ordered
(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $ordered (export "ordered") (param $p i32) (param $q i32) (result i32)
    (drop (i32.load (local.get $q)))
    (i32.store (local.get $p) (i32.const 1))
    (i32.store (local.get $p) (i32.const 2))
    (global.set $g (i32.const 3))
    (i32.load offset=4 (local.get $q))))
