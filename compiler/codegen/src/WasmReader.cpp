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
  result.module = std::move(module);
  return result;
}

} // namespace faasm::codegen
