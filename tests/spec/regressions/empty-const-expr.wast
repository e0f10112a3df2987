;; Regression (found by the spec suite, fixed in debd2fb); the bug was:
;; An empty constant expression (an offset with no instruction) is invalid
;; ("type mismatch"); the compiler reports ErrorKind::Unsupported
;; ("constant expression of more than one instruction") instead of Invalid.
;; spec: data.wast:400, elem.wast:372.
(assert_invalid
  (module (memory 1) (data (offset)))
  "type mismatch")
