#include "TestHelpers.h"

namespace {

int32_t plusOne(abi::VMContext*, int32_t x) {
  return x + 1;
}
int64_t wrongType(abi::VMContext*, int64_t x) {
  return x;
}

// What the spec tests' host module provides, plus what imports.cpp needs.
struct ImportsHost {
  rt::HostModuleRegistry registry;
  std::shared_ptr<rt::Memory> mem = rt::Memory::create(abi::BoundsMode::Guard, 1, 2).value();
  std::shared_ptr<rt::TableObject> tab =
      rt::TableObject::create(abi::ValType::FuncRef, 10, 20).value();
  std::shared_ptr<rt::GlobalObject> g =
      rt::GlobalObject::create(abi::ValType::I32, false, i32(666));
  std::shared_ptr<rt::GlobalObject> gm =
      rt::GlobalObject::create(abi::ValType::I64, true, i64(666));
  ImportsHost() {
    registry.addFunction(faasm::host::hostFunction<&plusOne>("env", "f"));
    registry.addMemory("env", "mem", mem);
    registry.addTable("env", "tab", tab);
    registry.addGlobal("env", "g", g);
    registry.addGlobal("env", "gm", gm);
  }
  std::string link() {
    auto inst = rt::Instance::instantiate(loadOk("art-imports"), registry.resolver());
    return inst ? "" : inst.error().message;
  }
};

// The call target generated code reads for imported function `index`
// (abi::ImportCall, after the VMContext).
const abi::ImportCall& importCall(rt::Instance& inst, uint32_t index) {
  return reinterpret_cast<const abi::ImportCall*>(reinterpret_cast<const std::byte*>(inst.vmctx()) +
                                                  abi::kImportCallsOffset)[index];
}

} // namespace

TEST_CASE("imports of every kind link and are used by reference") {
  ImportsHost host;
  auto inst = rt::Instance::instantiate(loadOk("art-imports"), host.registry.resolver());
  REQUIRE(inst.ok());
  rt::Instance& i = *inst.value();
  CHECK(callI32(i, "callF", {i32(41)}) == 42);
  // A host function is called with the importer's own VMContext.
  CHECK(importCall(i, 0).code == i.function(0)->code);
  CHECK(importCall(i, 0).vmctx == i.vmctx());
  CHECK(callI32(i, "getG") == 666);
  CHECK(i.memory() == host.mem.get());
  CHECK(callI32(i, "memPages") == 1);
  // The shared memory grows for the host and the instance alike.
  CHECK(host.mem->grow(1) == 1);
  CHECK(callI32(i, "memPages") == 2);
  CHECK(callI32(i, "grow", {i32(1)}) == -1);
}

TEST_CASE("unknown imports are reported by module and name") {
  ImportsHost host;
  host.registry = rt::HostModuleRegistry();
  CHECK(host.link() == "unknown import: \"env\".\"f\"");
}

TEST_CASE("import matching follows the spec") {
  ImportsHost host;
  SUBCASE("function signature") {
    host.registry.addFunction(faasm::host::hostFunction<&wrongType>("env", "f"));
    CHECK(host.link() == "incompatible import type: \"env\".\"f\" (expected i:i, got I:I)");
  }
  SUBCASE("kind") {
    host.registry.addGlobal("env", "f", host.g);
    CHECK(host.link() == "incompatible import type: \"env\".\"f\" (expected function, got global)");
  }
  SUBCASE("memory min too small") {
    host.registry.addMemory("env", "mem", rt::Memory::create(abi::BoundsMode::Guard, 0, 2).value());
    CHECK(host.link() ==
          "incompatible import type: \"env\".\"mem\" (expected limits 1..2, got 0..2)");
  }
  SUBCASE("memory without max where one is required") {
    host.registry.addMemory("env", "mem",
                            rt::Memory::create(abi::BoundsMode::Guard, 1, std::nullopt).value());
    CHECK(host.link() ==
          "incompatible import type: \"env\".\"mem\" (expected limits 1..2, got 1..)");
  }
  SUBCASE("memory max too large") {
    host.registry.addMemory("env", "mem", rt::Memory::create(abi::BoundsMode::Guard, 1, 3).value());
    CHECK(host.link().find("incompatible import type: \"env\".\"mem\"") == 0);
  }
  SUBCASE("a larger min and a smaller max are fine") {
    host.registry.addMemory("env", "mem", rt::Memory::create(abi::BoundsMode::Guard, 2, 2).value());
    CHECK(host.link() == "");
  }
  SUBCASE("explicit-mode memory into a guard-mode module") {
    host.registry.addMemory("env", "mem",
                            rt::Memory::create(abi::BoundsMode::Explicit, 1, 2).value());
    CHECK(host.link().find("an explicit-mode memory for a guard-mode module") != std::string::npos);
  }
  SUBCASE("table limits") {
    host.registry.addTable("env", "tab",
                           rt::TableObject::create(abi::ValType::FuncRef, 10, 21).value());
    CHECK(host.link() ==
          "incompatible import type: \"env\".\"tab\" (expected limits 10..20, got 10..21)");
  }
  SUBCASE("table element type") {
    host.registry.addTable("env", "tab",
                           rt::TableObject::create(abi::ValType::ExternRef, 10, 20).value());
    CHECK(host.link() == "incompatible import type: \"env\".\"tab\" (element type mismatch)");
  }
  SUBCASE("global mutability") {
    host.registry.addGlobal("env", "g", rt::GlobalObject::create(abi::ValType::I32, true, i32(1)));
    CHECK(host.link() ==
          "incompatible import type: \"env\".\"g\" (global type or mutability mismatch)");
  }
  SUBCASE("global type") {
    host.registry.addGlobal("env", "gm", rt::GlobalObject::create(abi::ValType::I32, true, i32(1)));
    CHECK(host.link() ==
          "incompatible import type: \"env\".\"gm\" (global type or mutability mismatch)");
  }
}

TEST_CASE("an instance's exports link into another instance") {
  EnvHost env;
  auto provider = instantiateBasic(env);
  ImportsHost host;
  // Provide "env"."f" (i:i) from the other instance's export "double".
  host.registry.addExtern("env", "f", *provider->getExport("double"));
  auto inst = rt::Instance::instantiate(loadOk("art-imports"), host.registry.resolver());
  REQUIRE_MESSAGE(inst.ok(), inst.error().message);
  CHECK(callI32(*inst.value(), "callF", {i32(21)}) == 42);
  // A function import is the provider's own FuncRef, not a copy.
  CHECK(inst.value()->function(0) == provider->exportedFunction("double"));
  // Its call target is resolved once, at link time, to the provider's code
  // and VMContext.
  CHECK(importCall(*inst.value(), 0).code == provider->exportedFunction("double")->code);
  CHECK(importCall(*inst.value(), 0).vmctx == provider->vmctx());
}

TEST_CASE("globals, segments and the start function at instantiation") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  // counter = global.get $base (41), then start adds one.
  CHECK(callI32(*inst, "getGlobal") == 42);
  CHECK(callI32(*inst, "load8", {i32(16)}) == 'h');
  CHECK(callI32(*inst, "load8", {i32(20)}) == 'o');
  // Active element segment at 0: double, load8, null.
  CHECK(callI32(*inst, "callIndirect", {i32(0), i32(21)}) == 42);
  CHECK(call(*inst, "callIndirect", {i32(2), i32(0)}).trap == abi::TrapCode::UninitializedElement);
  CHECK(call(*inst, "callIndirect", {i32(4), i32(0)}).trap == abi::TrapCode::UndefinedElement);
  // Active and declared segments count as dropped: table.init of 1 traps, of 0 is fine.
  CHECK(call(*inst, "tableInit", {i32(0), i32(0), i32(0), i32(1)}).trap ==
        abi::TrapCode::TableOutOfBounds);
  CHECK(call(*inst, "tableInit", {i32(0), i32(0), i32(0), i32(0)}).ok());
  CHECK(call(*inst, "tableInit", {i32(2), i32(0), i32(0), i32(1)}).trap ==
        abi::TrapCode::TableOutOfBounds);
  // And an active data segment: memory.init of it traps unless empty.
  CHECK(call(*inst, "memInit", {i32(0), i32(0), i32(0), i32(1)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
}

TEST_CASE("an out-of-bounds data segment fails but earlier writes stay") {
  auto mem = rt::Memory::create(abi::BoundsMode::Guard, 1, std::nullopt).value();
  auto tab = rt::TableObject::create(abi::ValType::FuncRef, 1, std::nullopt).value();
  rt::HostModuleRegistry reg;
  reg.addMemory("env", "mem", mem);
  reg.addTable("env", "tab", tab);
  std::shared_ptr<rt::Instance> failed;
  rt::InstantiateOptions opts;
  opts.outFailedInstance = &failed;
  auto inst = rt::Instance::instantiate(loadOk("art-segfail"), reg.resolver(), opts);
  REQUIRE(!inst.ok());
  CHECK(inst.error().message == "out of bounds memory access");
  CHECK(inst.error().trap == abi::TrapCode::MemoryOutOfBounds);
  CHECK(mem->base()[0] == 'A');
  CHECK(mem->base()[1] == 'B');
  CHECK(mem->base()[65535] == 0);
  // The element written before the failure still works.
  REQUIRE(failed);
  auto* f = static_cast<const abi::FuncRef*>(tab->get(0));
  REQUIRE(f != nullptr);
  rt::InvokeResult r = rt::invoke(f, {});
  REQUIRE(r.ok());
  CHECK(asI32(r.results[0]) == 7);
}

TEST_CASE("an out-of-bounds element segment fails before any data segment") {
  auto mem = rt::Memory::create(abi::BoundsMode::Guard, 1, std::nullopt).value();
  auto tab = rt::TableObject::create(abi::ValType::FuncRef, 1, std::nullopt).value();
  rt::HostModuleRegistry reg;
  reg.addMemory("env", "mem", mem);
  reg.addTable("env", "tab", tab);
  auto inst = rt::Instance::instantiate(loadOk("art-elemfail"), reg.resolver());
  REQUIRE(!inst.ok());
  CHECK(inst.error().message == "out of bounds table access");
  CHECK(tab->get(0) != nullptr);
  CHECK(mem->base()[0] == 0);
}
