// std::thread with the wasm32 libc++ (built without threads): must not compile.
#include <thread>

int main() {
  std::thread worker([] {});
  worker.join();
  return 0;
}
