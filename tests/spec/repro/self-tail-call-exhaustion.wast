;; At --opt-level >= 1 a self-recursive tail call becomes a loop (LLVM's
;; tail-call elimination), so the stack check never fires and the call
;; spins forever instead of trapping "call stack exhausted".
;; spec: call.wast, call_indirect.wast, fac.wast, ... (timeouts at -O1/-O2).
(module (func $rec (export "rec") (call $rec)))
(assert_exhaustion (invoke "rec") "call stack exhausted")
