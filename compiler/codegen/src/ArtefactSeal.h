// The compiler's half of the artefact seal (faasm/abi/Artefact.h): the key
// (created on first use) and the seal appended to every artefact it writes.
#pragma once

#include "faasm/abi/Artefact.h"

#include <string>

namespace faasm::codegen {

// The platform's artefact key, as faasm/abi/Artefact.h says where it lives;
// creates the per-user key file if there is no key at all. Returns an error
// message (one line), empty on success. The caller wipes `key` once used.
std::string loadOrCreateArtefactKey(abi::ArtefactKey& key);

// Appends the seal to the ELF image at `path`: its SHA-256, the source's,
// the key id and the MAC. Returns an error message, empty on success.
std::string sealArtefact(const std::string& path, const abi::Digest& sourceDigest,
                         const abi::ArtefactKey& key);

} // namespace faasm::codegen
