#include "TestHelpers.h"

#include <sys/mman.h>

TEST_CASE("memory.grow up to the declared maximum, then -1") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  CHECK(callI32(*inst, "size") == 1);
  CHECK(callI32(*inst, "grow", {i32(0)}) == 1);
  CHECK(callI32(*inst, "grow", {i32(3)}) == -1); // 4 > max 3
  CHECK(callI32(*inst, "grow", {i32(2)}) == 1);
  CHECK(callI32(*inst, "size") == 3);
  CHECK(callI32(*inst, "grow", {i32(1)}) == -1);
  CHECK(callI32(*inst, "grow", {i32(-1)}) == -1); // 0xffffffff pages
  // New pages are zero and usable; the base never moved.
  uint8_t* base = inst->memory()->base();
  CHECK(callI32(*inst, "load8", {i32(3 * 65536 - 1)}) == 0);
  call(*inst, "store8", {i32(3 * 65536 - 1), i32(5)});
  CHECK(base[3 * 65536 - 1] == 5);
  CHECK(inst->vmctx()->memoryBase == base);
  CHECK(inst->vmctx()->memorySize == 3 * 65536);
}

TEST_CASE("standalone memories: limits and growth to 65536 pages") {
  CHECK(!rt::Memory::create(abi::BoundsMode::Guard, 2, 1).ok());
  CHECK(!rt::Memory::create(abi::BoundsMode::Guard, 65537, std::nullopt).ok());
  auto m = rt::Memory::create(abi::BoundsMode::Guard, 0, std::nullopt).value();
  CHECK(m->sizeBytes() == 0);
  CHECK(m->reservationBytes() == abi::kGuardReservationBytes);
  CHECK(m->grow(65537) == -1);
  CHECK(m->grow(65536) == 0);
  CHECK(m->pages() == 65536);
  CHECK(m->grow(1) == -1);
  CHECK(m->grow(0) == 65536);
  // Explicit mode has the same reservation: past its maximum, a guard region.
  auto e = rt::Memory::create(abi::BoundsMode::Explicit, 1, 2).value();
  CHECK(e->reservationBytes() == abi::kGuardReservationBytes);
  CHECK(e->grow(1) == 1);
  CHECK(e->grow(1) == -1);
}

TEST_CASE("guard mode: faults anywhere in the reservation become traps") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  CHECK(call(*inst, "load8", {i32(65536)}).trap == abi::TrapCode::MemoryOutOfBounds);
  CHECK(call(*inst, "load8", {i32(-1)}).trap == abi::TrapCode::MemoryOutOfBounds); // base+4GiB-1
  CHECK(call(*inst, "loadEff", {i64((8ll << 30) - 1)}).trap == abi::TrapCode::MemoryOutOfBounds);
  CHECK(call(*inst, "loadEff", {i64((8ll << 30) + 65535)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  // The host keeps running and the instance stays usable.
  CHECK(callI32(*inst, "load8", {i32(16)}) == 'h');
  for (int i = 0; i < 100; ++i)
    REQUIRE(call(*inst, "load8", {i32(70000 + i)}).trap == abi::TrapCode::MemoryOutOfBounds);
  CHECK(callI32(*inst, "double", {i32(4)}) == 8);
}

TEST_CASE("explicit mode: generated checks against memorySize") {
  EnvHost host;
  auto inst = instantiateBasic(host, "art-basic-explicit");
  CHECK(inst->memory()->mode() == abi::BoundsMode::Explicit);
  CHECK(call(*inst, "load8", {i32(65536)}).trap == abi::TrapCode::MemoryOutOfBounds);
  CHECK(callI32(*inst, "grow", {i32(1)}) == 1);
  CHECK(callI32(*inst, "load8", {i32(65536)}) == 0);
  CHECK(callI32(*inst, "grow", {i32(1)}) == -1);
  CHECK(call(*inst, "load8", {i32(2 * 65536)}).trap == abi::TrapCode::MemoryOutOfBounds);
}

TEST_CASE("memory.init/copy/fill check the whole range before writing") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  uint8_t* base = inst->memory()->base();
  const int32_t end = 65536;

  // memory.init from the passive segment "PASSIVE-DATA" (12 bytes).
  CHECK(call(*inst, "memInit", {i32(1), i32(100), i32(0), i32(12)}).ok());
  CHECK(std::memcmp(base + 100, "PASSIVE-DATA", 12) == 0);
  CHECK(call(*inst, "memInit", {i32(1), i32(end - 4), i32(0), i32(5)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  CHECK(base[end - 4] == 0); // no partial write
  CHECK(call(*inst, "memInit", {i32(1), i32(0), i32(8), i32(5)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);                                 // source range
  CHECK(call(*inst, "memInit", {i32(1), i32(end), i32(12), i32(0)}).ok()); // n == 0 at the ends
  CHECK(call(*inst, "memInit", {i32(1), i32(end + 1), i32(0), i32(0)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  CHECK(call(*inst, "memInit", {i32(1), i32(-1), i32(0), i32(1)}).trap ==
        abi::TrapCode::MemoryOutOfBounds); // 32-bit wrap
  // After data.drop the segment is empty.
  CHECK(call(*inst, "dataDrop", {i32(1)}).ok());
  CHECK(call(*inst, "memInit", {i32(1), i32(0), i32(0), i32(1)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  CHECK(call(*inst, "memInit", {i32(1), i32(0), i32(0), i32(0)}).ok());

  // memory.fill
  CHECK(call(*inst, "memFill", {i32(end - 10), i32(0x1ab), i32(10)}).ok());
  CHECK(base[end - 1] == 0xab);
  CHECK(call(*inst, "memFill", {i32(end - 20), i32(7), i32(21)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  CHECK(base[end - 20] == 0);
  CHECK(call(*inst, "memFill", {i32(end), i32(7), i32(0)}).ok());
  CHECK(call(*inst, "memFill", {i32(1), i32(7), i32(-1)}).trap == abi::TrapCode::MemoryOutOfBounds);

  // memory.copy, overlapping both ways.
  std::memcpy(base + 200, "0123456789", 10);
  CHECK(call(*inst, "memCopy", {i32(202), i32(200), i32(8)}).ok());
  CHECK(std::memcmp(base + 200, "0101234567", 10) == 0);
  CHECK(call(*inst, "memCopy", {i32(200), i32(202), i32(8)}).ok());
  CHECK(std::memcmp(base + 200, "0123456767", 10) == 0);
  CHECK(call(*inst, "memCopy", {i32(end - 5), i32(200), i32(6)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  CHECK(base[end - 5] == 0xab);
  CHECK(call(*inst, "memCopy", {i32(300), i32(end - 5), i32(6)}).trap ==
        abi::TrapCode::MemoryOutOfBounds);
  CHECK(base[300] == 0);
  CHECK(call(*inst, "memCopy", {i32(end), i32(end), i32(0)}).ok());
}

TEST_CASE("table.grow/fill/copy/init out of range trap without partial writes") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  rt::TableObject* t = inst->table(0);
  REQUIRE(t);
  CHECK(callI32(*inst, "tableSize") == 4);
  CHECK(callI32(*inst, "tableGrow", {i32(7)}) == -1); // max 10
  CHECK(callI32(*inst, "tableGrow", {i32(2)}) == 4);
  CHECK(callI32(*inst, "tableSize") == 6);
  CHECK(t->get(5) == nullptr);

  // table.fill with "double" (function 18)
  CHECK(call(*inst, "tableFill", {i32(4), i32(18), i32(3)}).trap ==
        abi::TrapCode::TableOutOfBounds);
  CHECK(t->get(4) == nullptr);
  CHECK(call(*inst, "tableFill", {i32(4), i32(18), i32(2)}).ok());
  CHECK(callI32(*inst, "callIndirect", {i32(5), i32(3)}) == 6);
  CHECK(call(*inst, "tableFill", {i32(6), i32(18), i32(0)}).ok());

  // table.copy
  CHECK(call(*inst, "tableCopy", {i32(3), i32(4), i32(3)}).trap == abi::TrapCode::TableOutOfBounds);
  CHECK(t->get(3) == nullptr);
  CHECK(call(*inst, "tableCopy", {i32(1), i32(0), i32(3)}).ok()); // overlapping
  CHECK(t->get(1) == inst->function(18));
  CHECK(t->get(2) == inst->function(4));
  CHECK(t->get(3) == nullptr);

  // table.init from passive segment 1 {double, recurse}
  CHECK(call(*inst, "tableInit", {i32(1), i32(5), i32(0), i32(2)}).trap ==
        abi::TrapCode::TableOutOfBounds);
  CHECK(call(*inst, "tableInit", {i32(1), i32(0), i32(1), i32(2)}).trap ==
        abi::TrapCode::TableOutOfBounds);
  CHECK(call(*inst, "tableInit", {i32(1), i32(2), i32(0), i32(2)}).ok());
  CHECK(t->get(3) == inst->function(16));
  CHECK(call(*inst, "elemDrop", {i32(1)}).ok());
  CHECK(call(*inst, "tableInit", {i32(1), i32(0), i32(0), i32(1)}).trap ==
        abi::TrapCode::TableOutOfBounds);
  CHECK(call(*inst, "tableInit", {i32(1), i32(6), i32(0), i32(0)}).ok());
  CHECK(call(*inst, "tableInit", {i32(7), i32(0), i32(0), i32(0)}).ok());
}

TEST_CASE("guest pointer validation in host functions") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  abi::VMContext* vm = inst->vmctx();
  CHECK(faasm::host::guestRangeValid(vm, 0, 65536));
  CHECK(faasm::host::guestRangeValid(vm, 65536, 0));
  CHECK(!faasm::host::guestRangeValid(vm, 65536, 1));
  CHECK(!faasm::host::guestRangeValid(vm, 0xffffffffull, 2));
  CHECK(!faasm::host::guestRangeValid(vm, 1, UINT64_MAX));
  CHECK(!faasm::host::guestRangeValid(vm, UINT64_MAX, 2));

  CHECK(callI32(*inst, "checkPtr", {i32(16), i32(2)}) == 'h' + 'e');
  CHECK(callI32(*inst, "checkPtr", {i32(65536), i32(0)}) == 0);
  CHECK(call(*inst, "checkPtr", {i32(65535), i32(2)}).trap ==
        abi::TrapCode::HostPointerOutOfBounds);
  CHECK(call(*inst, "checkPtr", {i32(-4), i32(8)}).trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(call(*inst, "checkPtr", {i32(16), i32(-1)}).trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(call(*inst, "checkPtr", {i32(-1), i32(-1)}).trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(callI32(*inst, "double", {i32(1)}) == 2);
}
