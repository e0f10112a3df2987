// Two Faaslets talk through a state value mapped into both linear memories
// with faasmReadStatePtr, with no push, pull, read or write call: each sees
// the other's stores because both map the same physical pages.
//
//   state-shared-ptr <key> ping   writes a token, waits for the answer
//   state-shared-ptr <key> pong   waits for the token, answers it
// Each gives up after about 20 s (exit 1).
#include <faasm/faasm.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

enum { kValueBytes = 100000, kTokenAt = 70000 }; // spans two wasm pages

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int waitFor(volatile uint32_t* slot, uint32_t want) {
  double deadline = now() + 20;
  while (*slot != want) {
    if (now() > deadline) return 0;
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const char* key = argv[1];
  uint8_t* value = faasmReadStatePtr(key, kValueBytes);
  if (faasmReadStatePtr(key, kValueBytes) != value) {
    printf("second faasmReadStatePtr moved the value\n");
    return 1;
  }
  volatile uint32_t* token = (volatile uint32_t*)(value + kTokenAt);
  volatile uint32_t* answer = token + 1;
  if (strcmp(argv[2], "ping") == 0) {
    *token = 0xC0FFEE;
    if (!waitFor(answer, 0xC0FFEE + 1)) {
      printf("ping: no answer\n");
      return 1;
    }
    printf("ping: answered\n");
    return 0;
  }
  if (!waitFor(token, 0xC0FFEE)) {
    printf("pong: no token\n");
    return 1;
  }
  *answer = *token + 1;
  printf("pong: saw token\n");
  return 0;
}
