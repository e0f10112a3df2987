// What the ML functions need from the platform, in one place, so that the same
// source builds as a Faasm function (wasm32-wasi, PlatformFaasm.cpp: each call
// forwards to the Faasm API of faasm/faasm.h) and as a native process for the
// container baseline (PlatformNative.cpp: state in Redis through hiredis,
// chained calls as child processes).
//
// Each function defines functionMain(); the platform defines main() around it.
// A function may also define functionInit() (declare it with ML_FUNCTION_INIT
// below): what it prepares once for all its calls. Under Faasm it runs in the
// Proto-Faaslet (the _faasm_zygote hook), so whatever it maps or allocates is
// part of the snapshot every Faaslet starts from and a warm reset returns to;
// natively it runs when the process starts.
//
// State follows Faasm's two tiers. A value is mapped into the caller's memory
// (mapState); under Faasm co-located callers share those pages, natively each
// process has a private replica. Writes through a mapping are flagged dirty by
// byte range; pushPartial sends the dirty chunks to the global tier (Redis),
// pull replaces the replica with the global value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

int functionMain();

// Makes `init` (int(), 0 on success) the function's functionInit.
#if defined(__wasm__)
#define ML_FUNCTION_INIT(init)                                                                     \
  extern "C" __attribute__((export_name("_faasm_zygote"))) int32_t _faasm_zygote(void) {           \
    return init();                                                                                 \
  }
#else
#define ML_FUNCTION_INIT(init)                                                                     \
  static const bool mlFunctionInitRegistered = ml::platform::registerInit(init);
#endif

namespace ml::platform {

// The call's input, whole.
std::string input();
// Replaces the call's output.
void setOutput(std::string_view output);

// Size in bytes of the value under key, 0 if there is none.
size_t stateSize(const char* key);
// Replaces the value with `len` bytes and pushes it to the global tier.
void writeState(const char* key, const void* data, size_t len);
// Copies the first `len` bytes of the value into `out`.
void readState(const char* key, void* out, size_t len);
// Maps a value of `len` bytes (pulled first if there is no local replica).
uint8_t* mapState(const char* key, size_t len);
// Maps bytes [offset, offset + len) of a value of `total` bytes; natively only
// that range is fetched and held.
const uint8_t* mapStateRange(const char* key, size_t total, size_t offset, size_t len);
// Marks bytes [offset, offset + len) of a mapped value as written.
void flagDirty(const char* key, size_t total, size_t offset, size_t len);
// Sends the dirty chunks of a mapped value to the global tier.
void pushPartial(const char* key);
// Replaces the local replica of a mapped value with the global value.
void pull(const char* key, size_t len);
// HOGWILD weights: `count` floats under key, mapped for updating in place
// without locks. Writes are flagged with flagDirty as for any mapped value.
float* mapHogwild(const char* key, size_t count);
// What a HOGWILD worker does every K updates and at its end: make its updates
// visible to other hosts, and see theirs.
//   Faasm: the replica is shared by the co-located workers, whose writes
//          meet in the same pages; this pushes the dirty chunks.
//   Native: every process is a host of its own with a private replica. A
//          push alone would overwrite, chunk by chunk, every update other
//          workers pushed since this one pulled; so it pulls, adds its own
//          updates since its last sync (replica - value at that sync) to the
//          global value, and pushes its dirty chunks of the sum. Only
//          updates pushed by another worker between that pull and push are
//          lost (a window of one round trip).
void syncHogwild(const char* key);

// Starts a call of function `name` with `input`; 0 if it could not be started.
uint32_t chain(const char* name, std::string_view input);
// Waits for a chained call; its return code.
int await(uint32_t id);
// The output of a finished chained call.
std::string output(uint32_t id);

// Seconds on a monotonic clock.
double now();
// CPU seconds of the calling thread (user and system): a timing that a busy
// machine disturbs less than the wall clock.
double cpuNow();

// Natively: has main() run `init` before the first call (ML_FUNCTION_INIT).
bool registerInit(int (*init)());

} // namespace ml::platform
