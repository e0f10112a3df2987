// Never ends: holds its Faaslet until a deadline kills it.
int main(void) {
  for (volatile int i = 0;; ++i) {
  }
}
