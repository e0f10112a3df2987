(; Traps in nested calls, for the backtrace tests (traps.py): each case is
   reached through main and dispatch, so that a trap has callers to show. ;)
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $mode (mut i32) (i32.const 0))
  ;; The number of arguments (argc, the program name counted) picks the trap:
  ;; 2 divide by zero, 3 out of bounds load, 4 unreachable two calls deep,
  ;; 5 unbounded recursion, 6 a host call with a pointer out of bounds,
  ;; 7 out of bounds in a leaf, on its fast path (its only call is on its
  ;; division's trap path, so a compiler may set up its frame there only),
  ;; called through the table so that it is not inlined.
  (func $argc (result i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (i32.load (i32.const 0)))
  (func $divide (export "divide") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $load (param i32) (result i32)
    (i32.load offset=8 (local.get 0)))
  (func $inner (param i32)
    (if (local.get 0) (then unreachable)))
  (func $outer (param i32)
    (call $inner (local.get 0))
    (global.set $mode (local.get 0)))
  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (type $leafType (func (param i32 i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $leaf)
  (func $leaf (param i32 i32) (result i32)
    (i32.div_u (i32.load offset=16 (local.get 0)) (local.get 1)))
  (func $write (param i32)
    (drop (call $fd_write (i32.const 1) (local.get 0) (i32.const 1) (i32.const 0))))
  (func $dispatch (param $n i32)
    (if (i32.eq (local.get $n) (i32.const 2)) (then (drop (call $divide (i32.const 7) (global.get $mode)))))
    (if (i32.eq (local.get $n) (i32.const 3)) (then (drop (call $load (i32.const 65530)))))
    (if (i32.eq (local.get $n) (i32.const 4)) (then (call $outer (i32.const 1))))
    (if (i32.eq (local.get $n) (i32.const 5)) (then (drop (call $recurse (i32.const 0)))))
    (if (i32.eq (local.get $n) (i32.const 6)) (then (call $write (i32.const 0x7ffffff0))))
    (if (i32.eq (local.get $n) (i32.const 7))
      (then (drop (call_indirect (type $leafType) (i32.const 65530) (i32.const 3) (i32.const 0))))))
  (func $main (export "_start")
    (call $dispatch (call $argc))))
