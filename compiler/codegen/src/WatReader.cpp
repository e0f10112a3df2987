// The WebAssembly text format in: a .wat module assembled by WABT's parser
// into the binary the rest of the compiler reads, so that users can compile
// and run text modules directly, as other engines accept them.
//
// WABT's text parser recurses once per level of parenthesis nesting, so the
// nesting is measured (outside comments and strings) before WABT sees the
// text: an input cannot choose how deep the parser's stack goes.
#include "faasm/codegen/Compiler.h"

#include "wabt/binary-writer.h"
#include "wabt/error-formatter.h"
#include "wabt/feature.h"
#include "wabt/ir.h"
#include "wabt/stream.h"
#include "wabt/validator.h"
#include "wabt/wast-lexer.h"
#include "wabt/wast-parser.h"

#include <string>

namespace faasm::codegen {
namespace {

// The deepest parenthesis nesting outside comments and strings, or
// kMaxTextNesting + 1 as soon as it is exceeded.
size_t textNesting(std::string_view text) {
  size_t depth = 0, deepest = 0, blockComments = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (blockComments > 0) {
      if (c == '(' && next == ';')
        ++blockComments, ++i;
      else if (c == ';' && next == ')')
        --blockComments, ++i;
      continue;
    }
    if (c == ';' && next == ';') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '(' && next == ';') {
      ++blockComments;
      ++i;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
    } else if (c == '(') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxTextNesting) return deepest;
    } else if (c == ')' && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

} // namespace

WatResult watToWasm(std::string_view text, const std::string& sourceName) {
  WatResult out;
  if (textNesting(text) > kMaxTextNesting) {
    out.message = "parentheses nest deeper than " + std::to_string(kMaxTextNesting) + " levels";
    return out;
  }
  wabt::Errors errors;
  std::unique_ptr<wabt::WastLexer> lexer =
      wabt::WastLexer::CreateBufferLexer(sourceName, text.data(), text.size(), &errors);
  wabt::Features features; // WebAssembly 2.0: WABT's defaults
  wabt::WastParseOptions parseOptions(features);
  std::unique_ptr<wabt::Module> module;
  // Validated here too, so that an error points at a line of the text
  // rather than at a byte of the binary made from it.
  wabt::ValidateOptions validateOptions(features);
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parseOptions)) ||
      wabt::Failed(wabt::ValidateModule(module.get(), &errors, validateOptions))) {
    std::string all = wabt::FormatErrorsToString(errors, wabt::Location::Type::Text);
    // The first error, on one line: "<file>:<line>:<col>: error: <what>".
    std::string first = all.substr(0, all.find('\n'));
    if (first.starts_with(sourceName + ":")) first = first.substr(sourceName.size() + 1);
    out.message = "invalid text module: " + first;
    return out;
  }
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions writeOptions(features, /*canonicalize_lebs=*/true,
                                        /*relocatable=*/false, /*write_debug_names=*/true);
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), writeOptions))) {
    out.message = "cannot encode the text module as a binary";
    return out;
  }
  out.ok = true;
  out.wasm = std::move(stream.output_buffer().data);
  return out;
}

} // namespace faasm::codegen
