;; Not from a fuzz run: pins down the dummy imports of faasm-spec
;; --run-all-exports (tests/spec/DummyImports.cpp), whose arguments past the
;; registers (5 integer, 8 float) arrive on the stack, mixed in order.
(module
  (import "env" "many" (func $many
    (param i32 i64 f32 f64 i32 i64 i32 i64 f32 f64 f32 f64 f32 f64 f32 f64 i32 f32 i64)
    (result f64)))
  (import "env" "none" (func $none))
  (import "env" "one" (func $one (param i32) (result i32)))
  (func (export "call_many") (result f64)
    (call $many
      (i32.const -1) (i64.const -2) (f32.const 1.5) (f64.const -2.25)
      (i32.const 5) (i64.const 6) (i32.const 7) (i64.const 8)
      (f32.const 9) (f64.const 10) (f32.const 11) (f64.const 12)
      (f32.const 13) (f64.const 14) (f32.const 15) (f64.const 16)
      (i32.const 17) (f32.const 18.5) (i64.const 0x7fffffffffffffff)))
  (func (export "call_few") (result i32)
    (call $none)
    (call $one (i32.const 42)))
  (func (export "has_params") (param i32)))
