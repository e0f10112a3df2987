#include "WasmReader.h"

#include "WasmLimits.h"

#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/cast.h"
#include "wabt/feature.h"
#include "wabt/ir.h"
#include "wabt/validator.h"

#include <cstdio>
#include <cstring>

namespace faasm::codegen {

namespace {

// WebAssembly 2.0: the MVP plus the proposals merged into it. Everything else
// (threads, tail calls, exceptions, memory64, multi-memory, ...) is rejected.
wabt::Features webAssembly20() {
  wabt::Features features;
  features.set_mutable_globals_enabled(true);
  features.set_sat_float_to_int_enabled(true);
  features.set_sign_extension_enabled(true);
  features.set_simd_enabled(true);
  features.set_multi_value_enabled(true);
  features.set_bulk_memory_enabled(true);
  features.set_reference_types_enabled(true);
  return features;
}

std::string firstError(const wabt::Errors& errors, const char* fallback) {
  for (const wabt::Error& error : errors) {
    if (error.error_level != wabt::ErrorLevel::Error) continue;
    char where[48];
    std::snprintf(where, sizeof where, "at byte 0x%zx: ", error.loc.offset);
    std::string message = error.message;
    if (!message.empty() && message.back() == '\n') message.pop_back();
    return (error.loc.offset == wabt::kInvalidOffset ? std::string() : std::string(where)) +
           message;
  }
  return fallback;
}

// Moves the instructions nested in `exprs` (at any depth) to its end, so
// that no instruction of it owns others. Appending while walking forwards
// visits what was appended too.
void flatten(wabt::ExprList& exprs) {
  for (wabt::Expr& expr : exprs) {
    switch (expr.type()) {
    case wabt::ExprType::Block:
      exprs.splice(exprs.end(), wabt::cast<wabt::BlockExpr>(&expr)->block.exprs);
      break;
    case wabt::ExprType::Loop:
      exprs.splice(exprs.end(), wabt::cast<wabt::LoopExpr>(&expr)->block.exprs);
      break;
    case wabt::ExprType::If: {
      auto* ifExpr = wabt::cast<wabt::IfExpr>(&expr);
      exprs.splice(exprs.end(), ifExpr->true_.exprs);
      exprs.splice(exprs.end(), ifExpr->false_);
      break;
    }
    case wabt::ExprType::Try: {
      auto* tryExpr = wabt::cast<wabt::TryExpr>(&expr);
      exprs.splice(exprs.end(), tryExpr->block.exprs);
      for (wabt::Catch& handler : tryExpr->catches)
        exprs.splice(exprs.end(), handler.exprs);
      break;
    }
    default: break;
    }
  }
}

// LEB128 reading for the dylink.0 section; every read checks the end.
struct ByteReader {
  std::span<const uint8_t> bytes;
  size_t at = 0;
  bool u32(uint32_t& out) {
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
      if (at >= bytes.size()) return false;
      uint8_t byte = bytes[at++];
      value |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        if (value > UINT32_MAX) return false;
        out = uint32_t(value);
        return true;
      }
    }
    return false;
  }
  bool name(std::string& out) {
    uint32_t length = 0;
    if (!u32(length) || length > bytes.size() - at) return false;
    out.assign(reinterpret_cast<const char*>(bytes.data() + at), length);
    at += length;
    return true;
  }
};

// The dylink.0 custom section, if the module has one (tool-conventions'
// DynamicLinking.md: it is the first section; subsection 1 is the memory and
// table info, 2 the needed libraries; the export and import info (3, 4) only
// concern symbol flags this loader does not use). An empty string or an error.
std::string readDylink(std::span<const uint8_t> wasm, std::optional<DylinkInfo>& out) {
  ByteReader top{wasm, 8};
  while (top.at < wasm.size()) {
    uint8_t id = wasm[top.at++];
    uint32_t size = 0;
    if (!top.u32(size) || size > wasm.size() - top.at) return {}; // WABT reports the framing
    std::span<const uint8_t> body = wasm.subspan(top.at, size);
    top.at += size;
    if (id != 0) continue;
    ByteReader section{body};
    std::string name;
    if (!section.name(name) || name != "dylink.0") continue;
    if (out) return "more than one dylink.0 section";
    DylinkInfo info;
    while (section.at < body.size()) {
      uint8_t kind = body[section.at++];
      uint32_t length = 0;
      if (!section.u32(length) || length > body.size() - section.at)
        return "malformed dylink.0 subsection";
      ByteReader sub{body.subspan(section.at, length)};
      section.at += length;
      if (kind == 1) {
        if (!sub.u32(info.memorySize) || !sub.u32(info.memoryAlign) || !sub.u32(info.tableSize) ||
            !sub.u32(info.tableAlign))
          return "malformed dylink.0 memory info";
      } else if (kind == 2) {
        uint32_t count = 0;
        if (!sub.u32(count) || count > length) return "malformed dylink.0 needed list";
        for (uint32_t i = 0; i < count; ++i) {
          std::string needed;
          if (!sub.name(needed)) return "malformed dylink.0 needed list";
          info.needed.push_back(std::move(needed));
        }
      }
    }
    out = std::move(info);
  }
  return {};
}

} // namespace

void WabtModuleDeleter::operator()(wabt::Module* module) const {
  for (wabt::Func* func : module->funcs)
    flatten(func->exprs);
  for (wabt::Global* global : module->globals)
    flatten(global->init_expr);
  for (wabt::ElemSegment* segment : module->elem_segments) {
    flatten(segment->offset);
    for (wabt::ExprList& item : segment->elem_exprs)
      flatten(item);
  }
  for (wabt::DataSegment* segment : module->data_segments)
    flatten(segment->offset);
  delete module;
}

ReadResult readAndValidate(std::span<const uint8_t> wasm) {
  ReadResult result;
  if (wasm.size() < 8 || std::memcmp(wasm.data(), "\0asm", 4) != 0) {
    result.status = {false, ErrorKind::Malformed, "not a WebAssembly module (bad magic number)"};
    return result;
  }
  wabt::Features features = webAssembly20();
  if (std::string problem = checkLimits(wasm, features); !problem.empty()) {
    result.status = {false, ErrorKind::Unsupported, problem};
    return result;
  }
  // A custom section's framing (size, UTF-8 name) is part of the binary format
  // and must decode; its contents are not, so a broken "name" section must not
  // reject a module. Read with debug names first (they name the generated
  // functions), and without them if that is what failed.
  auto read = [&](bool debugNames, wabt::Errors& errors) {
    wabt::ReadBinaryOptions options(features, /*log_stream=*/nullptr, debugNames,
                                    /*stop_on_first_error=*/true,
                                    /*fail_on_custom_section_error=*/true);
    WabtModulePtr module(new wabt::Module);
    if (wabt::Failed(
            wabt::ReadBinaryIr("module", wasm.data(), wasm.size(), options, &errors, module.get())))
      module.reset();
    return module;
  };
  wabt::Errors errors;
  WabtModulePtr module = read(true, errors);
  if (!module) {
    wabt::Errors withoutNames;
    module = read(false, withoutNames);
  }
  if (!module) {
    result.status = {false, ErrorKind::Malformed,
                     "malformed module: " + firstError(errors, "cannot decode")};
    return result;
  }
  errors.clear();
  wabt::ValidateOptions validateOptions(features);
  if (wabt::Failed(wabt::ValidateModule(module.get(), &errors, validateOptions))) {
    result.status = {false, ErrorKind::Invalid,
                     "invalid module: " + firstError(errors, "validation failed")};
    return result;
  }
  if (std::string error = readDylink(wasm, result.dylink); !error.empty()) {
    result.status = {false, ErrorKind::Malformed, "malformed module: " + error};
    return result;
  }
  result.module = std::move(module);
  return result;
}

} // namespace faasm::codegen
