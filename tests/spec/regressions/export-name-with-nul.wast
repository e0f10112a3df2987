;; Regression (found by the spec suite, fixed in debd2fb); the bug was:
;; Export names are stored as NUL-terminated C strings in the module
;; descriptor (abi::ExportDesc::name), so a name containing "\00" is cut
;; short and cannot be found. spec: names.wast:637. Needs a length in the ABI.
(module (func (export "a\00b") (result i32) (i32.const 22)))
(assert_return (invoke "a\00b") (i32.const 22))
