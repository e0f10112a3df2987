// Reading an artefact file before any of it runs: the seal (faasm/abi/Artefact.h)
// and the shape of the ELF image. Private to the runtime; Module::load is the
// only user. Every failure is one line that names the problem (the tool
// prefixes the file).
#pragma once

#include "faasm/abi/Artefact.h"
#include "faasm/runtime/Error.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace faasm::runtime::detail {

// The largest artefact the runtime reads (it holds the whole file in memory).
inline constexpr uint64_t kMaxArtefactBytes = 1ull << 30;

// The platform's artefact key, as faasm/abi/Artefact.h says where it lives.
// The caller wipes it (explicit_bzero) once used.
Expected<abi::ArtefactKey> loadArtefactKey();

// The image of an artefact whose seal checked out: in a sealed memfd (no
// more writes, no resizing; it holds the image alone, seal stripped), mapped
// read-only for the checks that follow.
class SealedImage {
public:
  SealedImage() = default;
  ~SealedImage();
  SealedImage(const SealedImage&) = delete;
  SealedImage& operator=(const SealedImage&) = delete;

  std::span<const uint8_t> image() const { return {bytes_, size_}; }
  const abi::Digest& imageDigest() const { return imageDigest_; }
  const abi::Digest& sourceDigest() const { return sourceDigest_; }
  // The memfd, which the caller now owns (and dlopens); unmaps the image.
  int releaseFd();

private:
  friend Expected<std::unique_ptr<SealedImage>> readSealedArtefact(const std::string& path);
  int fd_ = -1;
  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  abi::Digest imageDigest_{};
  abi::Digest sourceDigest_{};
};

// Copies `path` into a memfd named `faasm:<file name>` (in the kernel: one
// read of the file, no copy in this process's heap, which every Faaslet
// would share), and checks its seal there: present, of this version, the
// image's SHA-256 equal to the recorded one, the MAC right under this host's
// key. The bytes checked are the bytes the memfd keeps: the file can change
// afterwards without effect.
Expected<std::unique_ptr<SealedImage>> readSealedArtefact(const std::string& path);

// What the loader needs of an ELF image it has checked.
struct ElfLayout {
  struct Segment {
    uint64_t vaddr;
    uint64_t size;
  };
  std::vector<Segment> code;      // executable PT_LOAD segments (relative to the load bias)
  std::vector<Segment> loaded;    // every PT_LOAD segment
  uint64_t descriptorAddress = 0; // st_value of faasm_module_descriptor
};

// Refuses any image faasm-codegen would never produce: not an x86-64 ELF
// shared object, an interpreter, needed libraries, initialisers or
// finalisers, thread-local storage, an executable stack or a writable and
// executable segment, text relocations, relocations other than the plain
// data kinds (an IRELATIVE one runs code while loading), IFUNC symbols,
// undefined symbols other than memcpy/memmove/memset, or no descriptor
// symbol. Every offset and size is checked against the image first.
Expected<ElfLayout> checkElfImage(std::span<const uint8_t> image);

} // namespace faasm::runtime::detail
