// Faasm's C++ helpers and raw host interface, as a function uses them. The
// first argument is the mode; the call's input is the data:
//   string   getStringInput and setStringOutput: the output is the input
//            between brackets, or "[none]" without input
//   int      getIntInput: prints twice the input
//   ints     parseStringToIntArray of four numbers
//   typed    getTypedInput<int32_t> (default -1)
//   raw      __faasm_read_input, __faasm_write_output, __faasm_conf_flag,
//            getConfFlag, the migration point and host interface test 0
//   misc     compareArrays and printArray, the random helpers, time,
//            zeroState, the files helpers (on the file named by argument 2)
#include <faasm/compare.h>
#include <faasm/faasm.h>
#include <faasm/files.h>
#include <faasm/host_interface.h>
#include <faasm/host_interface_test.h>
#include <faasm/input.h>
#include <faasm/migrate.h>
#include <faasm/print.h>
#include <faasm/random.h>
#include <faasm/state.h>
#include <faasm/time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int misc(const char* file) {
  int a[3] = {1, 2, 3}, b[3] = {1, 2, 3}, c[3] = {1, 5, 3};
  bool same = faasm::compareArrays<int>(a, b, 3);
  bool differ = !faasm::compareArrays<int>(a, c, 3); // prints both
  uint8_t bytes[2] = {7, 255};
  faasm::printArray<uint8_t>(bytes, 2);
  double reals[2] = {0.5, -2};
  faasm::printArray<double>(reals, 2);
  std::printf("\ncompareArrays: same %d, differ %d\n", same, differ);

  bool inRange = true;
  for (int i = 0; i < 200; ++i) {
    int v = faasm::randomInteger(3, 6);
    float f = faasm::randomFloat();
    inRange = inRange && v >= 3 && v <= 6 && f >= 0 && f < 1;
  }
  int* range = faasm::randomIntRange(50);
  std::sort(range, range + 50);
  bool permutation = true;
  for (int i = 0; i < 50; ++i)
    permutation = permutation && range[i] == i;
  delete[] range;
  std::string word = faasm::randomString(40);
  bool alphabet = word.size() == 40 &&
                  word.find_first_not_of("123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "abcdefghijklmnopqrstuvwxyz") == std::string::npos;
  std::printf("random: in range %d, permutation %d, alphabet %d\n", inRange, permutation, alphabet);

  FAASM_PROF_START(span)
  double now = faasm::getSecondsSinceEpoch();
  FAASM_PROF_END(span)
  std::printf("time: after 2020 %d\n", now > 1.6e9);

  uint8_t junk[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  faasmWriteState("guestapi-zero", junk, 8);
  faasm::zeroState("guestapi-zero", 8);
  faasmReadState("guestapi-zero", junk, 8);
  std::printf("zeroState: %d; masks %#x %#llx\n", int(std::count(junk, junk + 8, 0)), BIT_MASK_8,
              (unsigned long long)BIT_MASK_32);

  char* text = faasm::readFileToString(file);
  std::printf("files: length %ld, text %s, missing %ld %s\n", faasm::getFileLength(file),
              text ? text : "(null)", faasm::getFileLength("/no/such/file"),
              faasm::readFileToString("/no/such/file") ? "read" : "null");
  std::free(text);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "string") {
    std::string out = std::string("[") + faasm::getStringInput("none") + "]";
    faasm::setStringOutput(out.c_str());
  } else if (mode == "int") {
    std::printf("%d\n", 2 * faasm::getIntInput());
  } else if (mode == "ints") {
    int* v = faasm::parseStringToIntArray(faasm::getStringInput(""), 4);
    std::printf("%d %d %d %d\n", v[0], v[1], v[2], v[3]);
    delete[] v;
  } else if (mode == "typed") {
    std::printf("%d\n", faasm::getTypedInput<int32_t>(-1));
  } else if (mode == "raw") {
    unsigned char buffer[8] = {0};
    long size = __faasm_read_input(nullptr, 0);
    long copied = __faasm_read_input(buffer, 3);
    __faasm_migrate_point(nullptr, 0);
    __faasm_host_interface_test(NoTest);
    std::printf("input %ld bytes, copied %ld: %s; flags %u %u %u %u\n", size, copied,
                reinterpret_cast<char*>(buffer), __faasm_conf_flag("ALWAYS_ON"),
                getConfFlag("ALWAYS_OFF"), getConfFlag("PYTHON_PRELOAD"), getConfFlag("OTHER"));
    __faasm_write_output("raw output", 10);
  } else if (mode == "misc") {
    return misc(argc > 2 ? argv[2] : "");
  } else {
    std::fprintf(stderr, "helpers: unknown mode %s\n", mode.c_str());
    return 2;
  }
  return 0;
}
