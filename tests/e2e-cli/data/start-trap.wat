(; A trap during initialisation (the start function), for traps.py: the
   Proto-Faaslet fails to initialise, and says where. ;)
(module
  (memory (export "memory") 1)
  (global $zero (mut i32) (i32.const 0))
  (func $boom (result i32)
    (i32.div_u (i32.const 1) (global.get $zero)))
  (func $init
    (drop (call $boom)))
  (start $init)
  (func (export "_start")))
