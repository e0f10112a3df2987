// The benchmark's function as a WASI command, for loader/faaslet's
// ProtoFaaslet: a constructor writes BENCH_INIT_BYTES of data (run once, in
// the Proto-Faaslet), main reads and writes one byte of it (each call).
#ifndef BENCH_INIT_BYTES
#define BENCH_INIT_BYTES (1u << 20)
#endif

static unsigned char data[BENCH_INIT_BYTES];

__attribute__((constructor)) static void init(void) {
  for (unsigned i = 0; i < BENCH_INIT_BYTES; ++i)
    data[i] = (unsigned char)(i * 31u + 7u);
}

int main(void) {
  data[4097] ^= 1;
  return data[4097] == 0xff ? 1 : 0;
}
