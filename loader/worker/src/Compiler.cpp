#include "Compiler.h"

#include "faasm/abi/Abi.h"
#include "faasm/abi/Artefact.h"
#include "faasm/abi/Sha256.h"
#include "faasm/codegenjob/CodegenJob.h"
#include "faasm/log/Log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace faasm::worker {
namespace {

std::string hexDigest(const abi::Digest& d) {
  return abi::hexOf(d);
}

} // namespace

Compiler::Compiler(CompilerConfig config, ArtefactStore& store, std::string& error)
    : config_(std::move(config)), store_(store),
      slots_(std::ptrdiff_t(std::clamp(config_.jobs, 1U, 64U))) {
  abi::Digest binary{};
  if (!codegenjob::digestOfFile(config_.codegen, binary)) {
    error = "cannot read the compiler " + config_.codegen + ": " + std::strerror(errno);
    return;
  }
  std::string text =
      "faasm-codegen " + hexDigest(binary) + " abi " + std::to_string(abi::kAbiVersion);
  for (const std::string& f : config_.flags)
    text += " " + f;
  identity_ = text;
}

Compiler::Outcome Compiler::artefactFor(const std::vector<uint8_t>& wasm) {
  std::string wasmHex = hexDigest(abi::Sha256::of(wasm));
  std::string material = "faasm-worker artefact v1\n" + wasmHex + "\n" + identity_ + "\n";
  std::string key = hexDigest(abi::Sha256::of(
      std::span(reinterpret_cast<const uint8_t*>(material.data()), material.size())));
  // One compile per key at a time: a second upload of the same bytes waits
  // for the first and then finds its artefact.
  std::shared_ptr<std::mutex> keyLock;
  {
    std::lock_guard lock(mutex_);
    keyLock = inFlight_[key].lock();
    if (!keyLock) inFlight_[key] = keyLock = std::make_shared<std::mutex>();
    std::erase_if(inFlight_, [](auto& e) { return e.second.expired(); });
  }
  std::lock_guard compiling(*keyLock);
  Outcome out;
  out.key = key;
  if (!store_.find(key).empty()) {
    FAASM_LOG(Debug, "artefact %s found: no compile", key.c_str());
    return out;
  }
  if (!slots_.try_acquire_for(config_.waitForSlot)) {
    out.httpStatus = 503;
    out.error = "the compiler is busy (" + std::to_string(config_.jobs) +
                " compiles at once): try again later";
    return out;
  }
  out = compile(wasm, key);
  slots_.release();
  return out;
}

Compiler::Outcome Compiler::compile(const std::vector<uint8_t>& wasm, const std::string& key) {
  Outcome out;
  out.key = key;
  const std::string base = store_.scratchDir() + "/" + CallId::random().hex();
  const std::string in = base + ".wasm", so = base + ".so";
  {
    std::ofstream f(in, std::ios::binary);
    f.write(reinterpret_cast<const char*>(wasm.data()), std::streamsize(wasm.size()));
    if (!f.flush()) {
      out.httpStatus = 500;
      out.error = "cannot write the module to " + in;
      return out;
    }
  }
  std::vector<std::string> flags{"-j", "1"};
  flags.insert(flags.end(), config_.flags.begin(), config_.flags.end());
  codegenjob::Outcome run = codegenjob::compile(
      config_.codegen, in, so, flags, {config_.memoryBytes, config_.cpuTime, config_.wallTimeout});
  out.seconds = run.seconds;
  unlink(in.c_str());
  if (!run.ok) {
    out.httpStatus = run.refused ? 400 : 500;
    out.error = run.problem;
  }
  std::string error;
  if (out.error.empty()) {
    error = store_.put(key, so);
    if (!error.empty())
      out.httpStatus = 500, out.error = error;
    else
      out.compiled = true;
  }
  unlink(so.c_str());
  if (out.compiled)
    FAASM_LOG(Info, "compiled artefact %s (%zu bytes of wasm) in %.2f s", key.c_str(), wasm.size(),
              out.seconds);
  return out;
}

} // namespace faasm::worker
