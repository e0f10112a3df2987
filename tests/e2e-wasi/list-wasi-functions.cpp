// Prints the host's WASI functions, "module name signature" per line, for
// tests/e2e-wasi/wasi.py's check against wasi-libc's imports and the witx.
#include "faasm/wasi/Wasi.h"

#include <cstdio>

int main() {
  for (const auto& f : faasm::wasi::hostFunctions())
    std::printf("%s %s %s\n", f.module.c_str(), f.name.c_str(), f.signature.c_str());
  return 0;
}
