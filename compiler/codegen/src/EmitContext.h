// Shared state of the wasm -> LLVM IR translation. ModuleContext holds what
// every function needs (declarations, types, options); FunctionEmitter
// translates one function body and is split by instruction family across
// EmitControl.cpp, EmitMemory.cpp, EmitNumeric.cpp, EmitTable.cpp, EmitSimd.cpp.
#pragma once

#include "WasmOffsets.h"

#include "faasm/abi/Abi.h"
#include "faasm/codegen/Compiler.h"

#include "WasmReader.h"

#include "wabt/cast.h"
#include "wabt/ir.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faasm::codegen {

// The function-signature string of the ABI ("ii:i").
std::string signatureString(const wabt::FuncSignature& sig);
char valTypeChar(wabt::Type type);
// Whether an opcode takes or produces a v128 (handled by EmitSimd.cpp).
bool isVectorOpcode(wabt::Opcode opcode);

// Thrown for a construct the translator does not support; caught at the top
// and reported as ErrorKind::Unsupported. Never thrown for valid 2.0 code
// once the translator is complete.
struct UnsupportedError {
  std::string message;
  bool invalid = false; // the module is invalid WebAssembly 2.0, not just unsupported
};

struct ModuleContext {
  ModuleContext(llvm::LLVMContext& llvmContext, const wabt::Module& wasm,
                std::span<const uint8_t> wasmBytes, const CompileOptions& options);

  llvm::LLVMContext& ctx;
  std::unique_ptr<llvm::Module> llvmModule;
  const wabt::Module& wasm;
  std::span<const uint8_t> wasmBytes; // the binary `wasm` was read from
  const CompileOptions& options;

  // Common types.
  llvm::Type* voidTy;
  llvm::IntegerType* i1Ty;
  llvm::IntegerType* i8Ty;
  llvm::IntegerType* i16Ty;
  llvm::IntegerType* i32Ty;
  llvm::IntegerType* i64Ty;
  llvm::Type* f32Ty;
  llvm::Type* f64Ty;
  llvm::FixedVectorType* v128Ty; // <4 x i32>, the canonical form of a v128 on the value stack
  llvm::PointerType* ptrTy;

  // TBAA: accesses to linear memory never alias the runtime's structures.
  llvm::MDNode* tbaaMemory;
  llvm::MDNode* tbaaContext; // VMContext fields that may change (memorySize)
  llvm::MDNode* tbaaGlobal;  // global cells
  llvm::MDNode* tbaaTable;   // table structures and elements
  llvm::MDNode* emptyNode;   // for !invariant.load

  uint32_t numImportedFuncs;
  uint64_t cpuFeatures = abi::kCpuBaseline;
  const DylinkInfo* dylink = nullptr;            // a side module's dylink.0, or null
  std::vector<llvm::Function*> definedFunctions; // by defined index
  std::map<std::string, llvm::Function*> thunks; // by signature string

  llvm::Type* wasmType(wabt::Type type) const;
  // The LLVM type of a wasm function: the VMContext, the params, and the
  // results as the return value, or, above kMaxReturnedResults results, in
  // memory (see resultsInMemory).
  llvm::FunctionType* functionType(const wabt::FuncSignature& sig) const;
  llvm::Type* resultType(const wabt::TypeVector& results) const;
  // Whether a function of this signature writes its results to memory: one
  // abi::Value slot each, at a pointer passed as its last argument. An LLVM
  // aggregate return is built by a chain of insertvalues whose cost in
  // (IP)SCCP grows with the cube of its length (400 results: 18 s for one
  // function), so long result lists, which multi-value allows up to the
  // limit of 1000, take the memory path, whose cost is linear.
  static constexpr size_t kMaxReturnedResults = 8;
  static bool resultsInMemory(const wabt::FuncSignature& sig) {
    return sig.result_types.size() > kMaxReturnedResults;
  }
  const wabt::FuncSignature& funcSignature(uint32_t funcIndex) const;
  const wabt::FuncSignature& typeSignature(uint32_t typeIndex) const;
  const wabt::FuncSignature& blockSignature(const wabt::BlockDeclaration& decl) const;
  uint32_t globalCount() const { return (uint32_t)wasm.globals.size(); }
  wabt::Type globalType(uint32_t index) const { return wasm.globals[index]->type; }
  bool globalMutable(uint32_t index) const { return wasm.globals[index]->mutable_; }
  wabt::Type tableElemType(uint32_t index) const { return wasm.tables[index]->elem_type; }
};

class FunctionEmitter {
public:
  FunctionEmitter(ModuleContext& module, const wabt::Func& func, llvm::Function* function);
  void emit();

private:
  // One open label. The frames are also the translator's only stack of
  // work: each one holds the instruction sequence it is translating and
  // where it is in it, so nesting costs a frame here, never a host stack
  // frame (emitBody is a loop; the input decides how deep the nesting goes).
  struct Frame {
    enum Kind { Function, Block, Loop, If } kind;
    llvm::BasicBlock* branchTarget; // where a branch to this label goes
    llvm::BasicBlock* endBlock;     // null for Loop: its end is reached only by falling through
    std::vector<llvm::PHINode*> branchPhis; // at branchTarget: results, or params for Loop
    std::vector<llvm::PHINode*> endPhis;    // at endBlock: results
    wabt::TypeVector params;
    wabt::TypeVector results;
    size_t stackBase; // value stack height below the block's params
    llvm::BasicBlock* elseBlock = nullptr;
    std::vector<llvm::Value*> ifParams = {};
    const wabt::ExprList* exprs = nullptr; // the sequence being translated (the arm, for If)
    std::optional<wabt::ExprList::const_iterator> next = {}; // set with exprs
    const wabt::IfExpr* ifExpr = nullptr; // for If: the else arm still to come, until inElse
    bool inElse = false;
  };

  // EmitControl.cpp
  void emitBody();
  void finishFrame();
  void emitExpr(const wabt::Expr& expr);
  // `offset`: where a `loop`'s body starts in the module (after its block
  // type), which names its header when loops are reported.
  void beginBlock(const wabt::Block& block, Frame::Kind kind, size_t offset = 0);
  void beginIf(const wabt::IfExpr& expr);
  void emitBranch(uint32_t depth);
  void emitBrIf(uint32_t depth);
  void emitBrTable(const wabt::BrTableExpr& expr);
  void emitReturn();
  void emitCall(uint32_t funcIndex);
  void emitCallIndirect(const wabt::CallIndirectExpr& expr);
  void emitCallWithSignature(llvm::Value* code, llvm::Value* calleeContext,
                             const wabt::FuncSignature& sig);
  void emitCallThroughRef(llvm::Value* ref, const wabt::FuncSignature& sig);
  void addIncoming(std::vector<llvm::PHINode*>& phis, size_t count);
  std::vector<llvm::PHINode*> makePhis(llvm::BasicBlock* block, const wabt::TypeVector& types);
  void finishPhis(llvm::BasicBlock* block, std::vector<llvm::PHINode*>& phis);
  void markUnreachable();
  void emitStackCheck();
  // Gives what is emitted from here on the instruction's location (its
  // offset in the module file, as the code map will report it).
  void locate(const wabt::Expr& expr);
  void locate(uint32_t wasmOffset);
  Frame& frameAt(uint32_t depth) { return frames[frames.size() - 1 - depth]; }

  // EmitMemory.cpp
  void emitLoad(const wabt::LoadExpr& expr);
  void emitStore(const wabt::StoreExpr& expr);
  void emitMemoryOp(const wabt::Expr& expr);
  llvm::Value* memoryAddress(llvm::Value* address, uint64_t offset, unsigned accessBytes);
  llvm::LoadInst* loadFromMemory(llvm::Type* type, llvm::Value* pointer);
  llvm::StoreInst* storeToMemory(llvm::Value* value, llvm::Value* pointer);
  llvm::Value* memoryBase();
  llvm::Value* memorySize();

  // EmitNumeric.cpp
  void emitConst(const wabt::Const& value);
  void emitUnary(wabt::Opcode opcode);
  void emitBinary(wabt::Opcode opcode);
  void emitCompare(wabt::Opcode opcode);
  void emitConvert(wabt::Opcode opcode);
  llvm::Value* emitTruncTrapping(llvm::Value* value, llvm::Type* target, bool isSigned);
  llvm::Value* emitIntDivRem(wabt::Opcode opcode, llvm::Value* lhs, llvm::Value* rhs);
  llvm::Value* emitFloatMinMax(bool isMin, llvm::Value* lhs, llvm::Value* rhs);
  llvm::Value* hideIdentityConstant(llvm::Value* operand);

  // EmitTable.cpp: tables, references, globals
  void emitTableOp(const wabt::Expr& expr);
  void emitGlobalGet(uint32_t index);
  void emitGlobalSet(uint32_t index);
  llvm::Value* tablePointer(uint32_t index);
  llvm::Value* globalCell(uint32_t index);
  llvm::Value* funcRef(uint32_t funcIndex);

  // EmitSimd.cpp
  void emitSimd(const wabt::Expr& expr);
  void emitSimdExtendingLoad(const wabt::LoadExpr& load);
  void emitSimdScalarLoad(const wabt::Expr& expr);
  void emitSimdLoadLane(const wabt::SimdLoadLaneExpr& load);
  void emitSimdStoreLane(const wabt::SimdStoreLaneExpr& store);
  void emitSimdShuffle(const wabt::SimdShuffleOpExpr& shuffle);
  void emitSimdLaneOp(const wabt::SimdLaneOpExpr& laneOp);
  void emitSimdBitSelect(wabt::Opcode opcode);
  void emitSimdUnary(wabt::Opcode opcode);
  void emitSimdLaneTest(wabt::Opcode opcode, llvm::FixedVectorType* type);
  void emitSimdConvert(wabt::Opcode opcode);
  void emitSimdCompare(wabt::Opcode opcode);
  void emitSimdBinary(wabt::Opcode opcode);
  void emitSimdShift(wabt::Opcode opcode, llvm::FixedVectorType* type);
  void emitSimdNarrow(wabt::Opcode opcode);
  llvm::Value* emitSimdLanewiseBinary(wabt::Opcode opcode, llvm::FixedVectorType* type,
                                      llvm::Value* a, llvm::Value* b);
  llvm::Value* emitSimdComposedBinary(wabt::Opcode opcode, llvm::FixedVectorType* type,
                                      llvm::Value* a, llvm::Value* b);
  llvm::Value* popVector(llvm::FixedVectorType* type);
  void pushVector(llvm::Value* value);

  // Helpers shared by all families.
  llvm::Value* pop();
  llvm::Value* pop(llvm::Type* expected);
  void push(llvm::Value* value) { stack.push_back(value); }
  std::vector<llvm::Value*> popN(size_t count);
  llvm::Value* contextField(unsigned offset, llvm::Type* type, bool invariant, llvm::MDNode* tbaa);
  llvm::Value* loadRuntimeCall(unsigned index);
  llvm::CallInst* callRuntime(unsigned index, llvm::FunctionType* type,
                              llvm::ArrayRef<llvm::Value*> args);
  void trapIf(llvm::Value* condition, abi::TrapCode code);
  // The function's trap block for `code`, the current block's edge to it
  // recorded (the instruction's offset into the block's site phi).
  llvm::BasicBlock* trapEdge(abi::TrapCode code);
  llvm::Value* intrinsic(llvm::Intrinsic::ID id, llvm::ArrayRef<llvm::Type*> types,
                         llvm::ArrayRef<llvm::Value*> args);
  llvm::BasicBlock* newBlock(const char* name);

  ModuleContext& module;
  const wabt::Func& func;
  llvm::Function* function;
  FunctionOffsets offsets;
  uint32_t currentOffset = 0; // what locate() said last
  llvm::IRBuilder<> builder;
  llvm::Value* vmctx;
  std::vector<llvm::AllocaInst*> locals;
  std::vector<wabt::Type> localTypes;
  std::vector<llvm::Value*> stack;
  std::vector<Frame> frames;
  bool reachable = true;
  // A trap block is shared by at most kTrapEdgesPerBlock edges: the site phi
  // of one block per function and code grew an incoming value per check, and
  // LLVM handles a phi of hundreds of thousands of them in quadratic time
  // (a block of 600,000 checked stores compiled for over ten minutes).
  static constexpr unsigned kTrapEdgesPerBlock = 1024;
  struct TrapBlock {
    llvm::BasicBlock* block;
    llvm::PHINode* site; // the trapping instruction's wasm offset, per edge (CodeMap.h)
    unsigned edges;
  };
  std::map<abi::TrapCode, TrapBlock> trapBlocks;
  llvm::Value* cachedMemoryBase = nullptr;
  llvm::AllocaInst* resultSlots = nullptr; // for calls whose results come in memory
};

// Indices into abi::RuntimeCalls, in declaration order.
enum RuntimeCall : unsigned {
  kRtTrap = 0,
  kRtMemoryGrow,
  kRtMemoryInit,
  kRtDataDrop,
  kRtMemoryCopy,
  kRtMemoryFill,
  kRtTableGrow,
  kRtTableFill,
  kRtTableCopy,
  kRtTableInit,
  kRtElemDrop,
};

// Functions translated to more LLVM instructions than this are compiled
// without optimisation (docs/Compiler.md, "Limits").
inline constexpr unsigned kMaxOptimisedInstructions = 200000;

// A share of the module's defined functions, translated, optimised and
// compiled on its own thread in its own LLVMContext.
struct Partition {
  std::vector<uint32_t> functions; // function indices (imports counted) whose bodies it holds
  bool primary = false;            // also holds the thunks and the descriptor
  bool whole = false;              // the only partition: functions may stay internal
};

// Splits the defined functions into at most maxPartitions of similar size.
std::vector<Partition> partitionFunctions(const wabt::Module& wasm, unsigned maxPartitions);

// Module-level emission (ModuleEmitter.cpp): declarations, function bodies,
// thunks and the descriptor. Throws UnsupportedError. cpuFeatures
// (abi::CpuFeature bits) is recorded in the descriptor. Every instruction
// carries the wasm offset it came from as its debug location (line = offset),
// which CodeMap.cpp turns into the artefact's code map.
// `dylink` is a side module's dylink.0 (recorded in the descriptor), or null.
std::unique_ptr<llvm::Module> translatePartition(llvm::LLVMContext& ctx, const wabt::Module& wasm,
                                                 std::span<const uint8_t> wasmBytes,
                                                 const CompileOptions& options,
                                                 uint64_t cpuFeatures, const Partition& partition,
                                                 const DylinkInfo* dylink);

} // namespace faasm::codegen
