// Faasm's guard for WAMR, which shrank a module's memory when the module had
// no memory.grow: a function that contains one, kept but never called. This
// runtime never shrinks a memory; the function is here for code that names it.
#pragma once

#if defined(__wasm__)
static inline void __attribute__((used)) __faasm_memory_layout_protection(void) {
  __builtin_wasm_memory_grow(0, 0);
}
#endif
