// Partial pushes (C++): a mask built with faasm::maskDouble and pushed with
// faasmPushStatePartialMask, faasm::AsyncArray marking the elements it
// reaches, dirty ranges flagged by hand. The first argument is the mode:
//   push       the happy path; prints what the values hold afterwards
//   mismatch   a mask shorter than its value: the call fails
//   no-mask    a mask key with no value: the call fails
//   range      a dirty range past the value's length: the pointer trap
#include <faasm/array.h>
#include <faasm/faasm.h>
#include <faasm/state.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char* kWeights = "guestapi-weights";
const char* kMask = "guestapi-weights-mask";
constexpr int kCount = 4;

int push() {
  double weights[kCount] = {1.5, 2.5, 3.5, 4.5};
  faasmWriteState(kWeights, BYTES(weights), sizeof weights);
  unsigned int mask[2 * kCount] = {};
  faasm::maskDouble(mask, 1);
  faasm::maskDouble(mask, 3);
  faasmWriteState(kMask, BYTES(mask), sizeof mask);
  faasmFlagStateOffsetDirty(kWeights, sizeof weights, sizeof(double), sizeof(double));
  faasmPushStatePartialMask(kWeights, kMask);
  unsigned int after[2 * kCount];
  faasmReadState(kMask, BYTES(after), sizeof after);
  bool zeroed = true;
  for (unsigned int word : after)
    zeroed = zeroed && word == 0;
  double read[kCount];
  faasmReadState(kWeights, BYTES(read), sizeof read);
  std::printf("mask %s after the push; weights %g %g %g %g\n", zeroed ? "zeroed" : "NOT zeroed",
              read[0], read[1], read[2], read[3]);

  faasm::AsyncArray<double> array("guestapi-array", kCount);
  array.zero();
  array[2] = 9.25;
  array.push();
  double stored[kCount];
  faasmReadState("guestapi-array", BYTES(stored), sizeof stored);
  std::printf("array %g %g %g %g\n", stored[0], stored[1], stored[2], stored[3]);
  faasmPushStatePartial(kWeights);
  faasmPushState(kWeights);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "push") return push();
  uint8_t bytes[16] = {};
  if (mode == "mismatch") {
    faasmWriteState("guestapi-v16", bytes, 16);
    faasmWriteState("guestapi-m8", bytes, 8);
    faasmPushStatePartialMask("guestapi-v16", "guestapi-m8");
  } else if (mode == "no-mask") {
    faasmWriteState("guestapi-v16", bytes, 16);
    faasmPushStatePartialMask("guestapi-v16", "guestapi-no-such-mask");
  } else if (mode == "range") {
    faasmFlagStateOffsetDirty("guestapi-v16", 16, 12, 8);
  } else {
    std::fprintf(stderr, "state-mask: unknown mode %s\n", mode.c_str());
    return 2;
  }
  std::printf("state-mask: %s returned\n", mode.c_str());
  return 1;
}
