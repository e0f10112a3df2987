// The benchmark's function as a WASI command, run through loader/faaslet (the
// zygote and Faaslets faasm-run uses): a constructor writes BENCH_INIT_BYTES of
// data (run once, in the Proto-Faaslet, when linked with the toolchain's
// exports of __wasm_call_ctors/__main_void/__wasm_call_dtors), main reads the
// monotonic clock first thing (WASI clock_time_get is the host's
// CLOCK_MONOTONIC), then reads and writes one byte of the data, and returns
// the clock reading as its output: the driver's "entry" time of the call.
#include <faasm/faasm.h>
#include <stdint.h>
#include <wasi/api.h>

#ifndef BENCH_INIT_BYTES
#define BENCH_INIT_BYTES (1u << 20)
#endif

static unsigned char data[BENCH_INIT_BYTES];

__attribute__((constructor)) static void init(void) {
  for (unsigned i = 0; i < BENCH_INIT_BYTES; ++i)
    data[i] = (unsigned char)(i * 31u + 7u);
}

int main(void) {
  __wasi_timestamp_t entry = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &entry);
  data[4097] ^= 1;
  uint64_t out[2] = {entry, data[4097]};
  faasmSetOutput((const uint8_t*)out, sizeof out);
  return 0;
}
