// Traps at once.
int main(void) {
  __builtin_trap();
}
