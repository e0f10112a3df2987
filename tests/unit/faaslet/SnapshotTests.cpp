// Snapshot.cpp on an instance of the hand-made art-basic: what a snapshot
// records of globals and segments, and what applying it or resetting to it
// puts back (docs/Faaslets.md, "Snapshot").
#include "../runtime/TestHelpers.h"

#include "faasm/faaslet/Faaslet.h"

using namespace faasm;

namespace {

struct Basic {
  EnvHost host;
  std::shared_ptr<rt::Instance> inst = instantiateBasic(host);
  rt::GlobalObject& funcref() { return *inst->global(2); }
  rt::GlobalObject& externref() { return *inst->global(3); }
};

} // namespace

TEST_CASE("a funcref global is snapshotted as a function index, never as a pointer") {
  Basic a;
  REQUIRE(a.funcref().type() == abi::ValType::FuncRef);
  a.funcref().cell()->lo = reinterpret_cast<uint64_t>(a.inst->function(18)); // "double"
  auto snap = faaslet::captureSnapshot(*a.inst);
  REQUIRE_MESSAGE(snap.ok(), snap.error().message);
  CHECK(snap.value()->globals[2].lo == 18);
  CHECK(snap.value()->globals[2].hi == 0);

  // Applied to another instance, the global is that instance's function 18.
  Basic b;
  REQUIRE(faaslet::applySnapshot(*b.inst, *snap.value()).message.empty());
  CHECK(b.funcref().cell()->lo == reinterpret_cast<uint64_t>(b.inst->function(18)));

  // A call that changes it is undone by the reset.
  b.funcref().cell()->lo = 0;
  REQUIRE(faaslet::resetToSnapshot(*b.inst, *snap.value()).message.empty());
  CHECK(b.funcref().cell()->lo == reinterpret_cast<uint64_t>(b.inst->function(18)));

  // A null one stays null, as an index that is none.
  a.funcref().cell()->lo = 0;
  auto nullSnap = faaslet::captureSnapshot(*a.inst);
  REQUIRE(nullSnap.ok());
  CHECK(nullSnap.value()->globals[2].lo == faaslet::Snapshot::kNullElement);
  REQUIRE(faaslet::applySnapshot(*b.inst, *nullSnap.value()).message.empty());
  CHECK(b.funcref().cell()->lo == 0);
}

TEST_CASE("a snapshot refuses a funcref global of another instance and a live externref") {
  Basic a, other;
  a.funcref().cell()->lo = reinterpret_cast<uint64_t>(other.inst->function(18));
  auto snap = faaslet::captureSnapshot(*a.inst);
  REQUIRE(!snap.ok());
  CHECK(snap.error().message ==
        "cannot snapshot global 2: it holds a function of another instance");
  a.funcref().cell()->lo = 0;
  int hostObject = 0;
  a.externref().cell()->lo = reinterpret_cast<uint64_t>(&hostObject);
  snap = faaslet::captureSnapshot(*a.inst);
  REQUIRE(!snap.ok());
  CHECK(snap.error().message ==
        "cannot snapshot global 3: it holds an externref, a host reference no snapshot can carry");
}

TEST_CASE("dropped segments are part of the snapshot: reset undoes a call's drops") {
  Basic a;
  // The active segments were dropped by instantiation; the passive ones not.
  CHECK(a.inst->droppedDataSegments() == std::vector<bool>{true, false});
  CHECK(a.inst->droppedElemSegments() == std::vector<bool>{true, false, true});
  auto snap = faaslet::captureSnapshot(*a.inst);
  REQUIRE(snap.ok());
  REQUIRE(faaslet::applySnapshot(*a.inst, *snap.value()).message.empty());

  // A call uses and drops the passive segments ...
  call(*a.inst, "memInit", {i32(1), i32(100), i32(0), i32(4)});
  call(*a.inst, "dataDrop", {i32(1)});
  call(*a.inst, "elemDrop", {i32(1)});
  CHECK(call(*a.inst, "memInit", {i32(1), i32(100), i32(0), i32(4)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  // ... and after the reset the next call has them again.
  REQUIRE(faaslet::resetToSnapshot(*a.inst, *snap.value()).message.empty());
  CHECK(call(*a.inst, "memInit", {i32(1), i32(100), i32(0), i32(4)}).ok());
  CHECK(callI32(*a.inst, "load8", {i32(100)}) == 'P');
  CHECK(call(*a.inst, "tableInit", {i32(1), i32(0), i32(0), i32(2)}).ok());

  // Drops made before the snapshot stay: a second instance restored from it
  // has the passive data segment dropped too.
  call(*a.inst, "dataDrop", {i32(1)});
  auto dropped = faaslet::captureSnapshot(*a.inst);
  REQUIRE(dropped.ok());
  Basic b;
  REQUIRE(faaslet::applySnapshot(*b.inst, *dropped.value()).message.empty());
  CHECK(call(*b.inst, "memInit", {i32(1), i32(100), i32(0), i32(4)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  CHECK(call(*b.inst, "tableInit", {i32(1), i32(0), i32(0), i32(2)}).ok());
}
