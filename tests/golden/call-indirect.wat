;; call_indirect's checks, before the call, in this order: the index below
;; the table's size (else trap UndefinedElement, code 4 in the IR), the
;; element not null (UninitializedElement, 5), and the canonical type id of
;; the callee, read from the function reference, equal to that of the
;; expected signature, read from VMContext::typeIds (IndirectCallTypeMismatch,
;; 6). Each is a branch to its own trap block. The function calls, so it
;; starts with the stack check (the stack pointer below
;; VMContext::stackLimit traps: StackExhausted, 10). Memory is not
;; involved, so one bounds mode is enough.
;; golden modes: guard
;; golden functions: $dispatch
(module
  (type $binary (func (param i32 i32) (result i32)))
  (table 4 funcref)
  (func $add (type $binary) (i32.add (local.get 0) (local.get 1)))
  (elem (i32.const 0) $add)
  (func $dispatch (export "dispatch") (param $f i32) (param $a i32) (param $b i32) (result i32)
    (call_indirect (type $binary) (local.get $a) (local.get $b) (local.get $f))))
