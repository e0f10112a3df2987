/* A register-machine bytecode interpreter (switch dispatch), running a
 * program that counts the primes below n by trial division (argv[1] = n).
 * Check: the count from an independent sieve of Eratosthenes in C. */
#include "bench.h"

enum Op { LOADI, ADD, ADDI, MUL, REM, JGT, JNZ, JMP, HALT };

typedef struct {
  uint8_t op, a, b, c;
  int32_t imm;
} Insn;

static int64_t run(const Insn* code, int64_t* r) {
  const Insn* pc = code;
  for (;;) {
    const Insn* i = pc++;
    switch (i->op) {
    case LOADI: r[i->a] = i->imm; break;
    case ADD: r[i->a] = r[i->b] + r[i->c]; break;
    case ADDI: r[i->a] = r[i->b] + i->imm; break;
    case MUL: r[i->a] = r[i->b] * r[i->c]; break;
    case REM: r[i->a] = r[i->b] % r[i->c]; break;
    case JGT:
      if (r[i->a] > r[i->b]) pc = code + i->imm;
      break;
    case JNZ:
      if (r[i->a] != 0) pc = code + i->imm;
      break;
    case JMP: pc = code + i->imm; break;
    case HALT: return r[i->a];
    }
  }
}

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 500000);
  /* r1 = i, r2 = j, r3 = j*j, r4 = i % j, r5 = count, r6 = 1, r7 = n - 1 */
  const Insn code[] = {
      /* 0 */ {LOADI, 1, 0, 0, 2},
      /* 1 */ {LOADI, 5, 0, 0, 0},
      /* 2 */ {LOADI, 6, 0, 0, 1},
      /* 3 loop over i */ {JGT, 1, 7, 0, 15},
      /* 4 */ {LOADI, 2, 0, 0, 2},
      /* 5 loop over j */ {MUL, 3, 2, 2, 0},
      /* 6 */ {JGT, 3, 1, 0, 10},
      /* 7 */ {REM, 4, 1, 2, 0},
      /* 8 */ {JNZ, 4, 0, 0, 13},
      /* 9 composite */ {JMP, 0, 0, 0, 11},
      /* 10 prime */ {ADD, 5, 5, 6, 0},
      /* 11 next i */ {ADDI, 1, 1, 0, 1},
      /* 12 */ {JMP, 0, 0, 0, 3},
      /* 13 next j */ {ADDI, 2, 2, 0, 1},
      /* 14 */ {JMP, 0, 0, 0, 5},
      /* 15 */ {HALT, 5, 0, 0, 0},
  };
  int64_t registers[8] = {0};
  registers[7] = n - 1;

  benchStart();
  int64_t count = run(code, registers);
  benchStop();

  uint8_t* composite = calloc((size_t)n + 1, 1);
  int64_t expected = 0;
  for (long i = 2; i < n; i++) {
    if (composite[i]) continue;
    expected++;
    for (long j = 2 * i; j < n; j += i)
      composite[j] = 1;
  }
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%lld", (long long)count);
  return benchFinish(checksum, count == expected, "interpreted prime count differs from the sieve");
}
