// The 2020 API (the ATC paper's), in C: FAASM_MAIN_FUNC, functions numbered
// with FAASM_FUNC and chained by number with faasmChainThisInput, the
// number a call runs seen through faasmGetCurrentIdx, outputs through the
// buffer spelling of faasmAwaitCallOutput, and faasmChain of a FAASM_FUNC
// by its name.
#include <faasm/faasm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Each worker answers "<its number>:<what faasmGetCurrentIdx says>:<its
// input times its number>".
static int answer(int number) {
  char in[16] = {0};
  faasmGetInput((uint8_t*)in, sizeof in - 1);
  char out[64];
  int len = snprintf(out, sizeof out, "%d:%d:%d", number, faasmGetCurrentIdx(), atoi(in) * number);
  faasmSetOutput((uint8_t*)out, len);
  return 0;
}

FAASM_FUNC(first, 1) {
  return answer(1);
}

FAASM_FUNC(second, 2) {
  return answer(2);
}

// Chains number 2 itself and passes its output on: a chain from a call that
// was itself entered by number.
FAASM_FUNC(relay, 3) {
  unsigned int id = faasmChainThisInput(2, (const uint8_t*)"50", 2);
  uint8_t out[64] = {0};
  unsigned int rc = faasmAwaitCallOutput(id, out, sizeof out - 1);
  char text[96];
  int len = snprintf(text, sizeof text, "relay(%d) %s rc=%u", faasmGetCurrentIdx(), out, rc);
  faasmSetOutput(text, len);
  return 0;
}

static void show(const char* what, unsigned int id) {
  uint8_t out[96] = {0};
  unsigned int rc = faasmAwaitCallOutput(id, out, sizeof out - 1);
  printf("%s -> %s (rc %u)\n", what, (const char*)out, rc);
}

FAASM_MAIN_FUNC() {
  show("index 1", faasmChainThisInput(1, (const uint8_t*)"10", 2));
  show("index 2", faasmChainThisInput(2, (const uint8_t*)"10", 2));
  show("index 3", faasmChainThisInput(3, NULL, 0));
  show("pointer to second", faasmChain(second, (const uint8_t*)"7", 1));
  printf("main runs index %d; getFaasmFunc(2) %s, getFaasmFunc(5) %s\n", faasmGetCurrentIdx(),
         getFaasmFunc(2) == _faasm_func_2 ? "is _faasm_func_2" : "is wrong",
         getFaasmFunc(5) ? "is not null" : "is null");
  printf("direct call of first: %d\n", first());
  printf("index 5 (none): id %u\n", faasmChainThisInput(5, NULL, 0));
  return 0;
}
