#!/usr/bin/env python3
"""Escape tests of dynamic loading (docs/Security.md, "Dynamic loading";
docs/DynamicLoading.md): hostile libraries and paths against dlopen, in one
bounds mode. Each dlopen must fail with one line naming the library and the
problem (or, for interposition, change nothing of the main module), and the
Faaslet must carry on ("alive").

    dl_escape.py CASE --bounds B --codegen C --run R --wat2wasm W --work DIR

Cases:
  dylink      dylink.0 asking for 4 GiB of data, 2^32-1 table slots, a memory
              alignment of 2^31 and 2^(2^32-1) (shifts that wrap around)
  bounds      a library compiled in the other bounds mode
  artefact    the granted library's file tampered (one byte), stripped of its
              seal, a raw .wasm; and --lib naming a tampered artefact
  path        a granted library outside the preopen, reached through `..`
              and through a symlink inside the preopen
  relocs      __wasm_apply_data_relocs storing past the end of memory, an
              active data segment past it, an element segment past the table
  interpose   a library defining host_twice, malloc, free, _faasm_dispatch
              and __faasm_dlopen: the main module's and the host's stay
  imports     a library's function import of a main function with another
              signature (parameters, results), of a name main does not export
              (a hidden libc function, a global, a table), of a host
              function with another signature: each refused at dlopen, so
              no call target is ever resolved for it (calls to an import
              go straight to the target resolved at link time, ABI 5)
Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from faasmtest import (FAASM_CC, check_equal, compile_wasm, describe_status, fail,  # noqa: E402
                       require_tool, run_command, wat_to_wasm, work_dir)

HERE = os.path.dirname(os.path.abspath(__file__))
GUESTS = os.path.join(HERE, "guests")
E2E_GUESTS = os.path.join(HERE, "..", "..", "e2e-dl", "guests")
OTHER = {"guard": "explicit", "explicit": "guard"}


def leb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_leb(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def dylink_section(mem_size, mem_align, table_size, table_align):
    info = leb(mem_size) + leb(mem_align) + leb(table_size) + leb(table_align)
    body = leb(8) + b"dylink.0" + bytes([1]) + leb(len(info)) + info
    return bytes([0]) + leb(len(body)) + body


def with_dylink(wasm, section):
    """`wasm` with its dylink.0 section replaced by `section` (added first if
    it has none)."""
    out, pos, replaced = bytearray(wasm[:8]), 8, False
    while pos < len(wasm):
        size, start = read_leb(wasm, pos + 1)
        end = start + size
        if wasm[pos] == 0:
            name_len, name_at = read_leb(wasm, start)
            if wasm[name_at:name_at + name_len] == b"dylink.0":
                out += section
                replaced = True
                pos = end
                continue
        out += wasm[pos:end]
        pos = end
    if not replaced:
        out = bytearray(wasm[:8]) + section + out[8:]
    return bytes(out)


RELOCS_WAT = """(module
  (import "env" "memory" (memory 1))
  (import "env" "__memory_base" (global $base i32))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (func (export "__wasm_apply_data_relocs")
    (i32.store (i32.const 0xFFFFFFF0) (i32.const 1)))
  (func (export "probe") (result i32) (i32.const 1)))
"""
SEGMENT_WAT = """(module
  (import "env" "memory" (memory 1))
  (import "env" "__memory_base" (global $base i32))
  (data (i32.const 0xFFFFFF00) "past the end of memory"))
"""
ELEM_WAT = """(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (func $f)
  (elem (i32.const 0x7FFFFFF0) $f))
"""


# A side module whose one function import is (module, name, signature), with
# a function that calls it: the call site that would use the resolved target.
IMPORT_WAT = """(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (import "{module}" "{name}" (func $f {sig}))
  (func (export "call_it") {call}))
"""


class Case:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.lib = os.path.join(work, "lib")
        os.makedirs(self.lib, exist_ok=True)

    def cc(self, source, wasm, *flags):
        run_command([FAASM_CC, *flags, "-O2", source, "-o", wasm], check=True)
        return wasm

    def library(self, source, name, bounds=None):
        """The library `source` (.c or .wasm) compiled into the preopen as `name`.so."""
        wasm = source
        if source.endswith(".c"):
            wasm = self.cc(source, os.path.join(self.work, name + ".wasm"), "--faasm-dl-lib")
        return compile_wasm(self.args.codegen, wasm, os.path.join(self.lib, name + ".so"),
                            bounds or self.args.bounds)

    def main(self, source):
        name = os.path.basename(source)[:-2]
        wasm = self.cc(source, os.path.join(self.work, name + ".wasm"), "--faasm-dl-main")
        return compile_wasm(self.args.codegen, wasm, os.path.join(self.work, name + ".so"),
                            self.args.bounds)

    def run(self, main, libs, args=(), dirs=None):
        cmd = [self.args.run]
        for host, guest in (dirs or [(self.lib, "/lib")]):
            cmd += ["--dir", f"{host}:{guest}"]
        for lib in libs:
            cmd += ["--lib", lib]
        return run_command(cmd + [main, *args], timeout=120)

    def probe(self, libs, expectations, dirs=None):
        """Runs probe.so over the (guest path, expected dlerror substring or
        None for success) pairs; fails unless every line matches."""
        main = self.main(os.path.join(GUESTS, "probe.c"))
        proc = self.run(main, libs, [p for p, _ in expectations], dirs)
        if proc.returncode != 0:
            fail(f"probe ended with {describe_status(proc.returncode)}: {proc.stderr}")
        lines = proc.stdout.splitlines()
        if len(lines) != len(expectations) + 1 or lines[-1] != "alive":
            fail(f"unexpected probe output: {proc.stdout!r}")
        for (path, want), line in zip(expectations, lines):
            if want is None:
                if line != f"{path}: OK":
                    fail(f"{path} should load: {line}")
            elif not line.startswith(f"{path}: NULL: ") or want not in line:
                fail(f"{path}: expected an error containing {want!r}, got {line!r}")
            elif line.count("\n") or len(line) > 300:
                fail(f"{path}: the error is not one line: {line!r}")


def case_dylink(c):
    base = open(c.cc(os.path.join(E2E_GUESTS, "libb.c"), os.path.join(c.work, "libb.wasm"),
                     "--faasm-dl-lib"), "rb").read()
    hostile = {
        "memsize": (dylink_section(0xFFFFFFFF, 2, 0, 0), "for its data"),
        "tablesize": (dylink_section(16, 2, 0xFFFFFFFF, 0), "above the limit"),
        "memalign31": (dylink_section(16, 31, 0, 0), "alignment 2^31"),
        "memalignwrap": (dylink_section(16, 0xFFFFFFFF, 0, 0), "alignment 2^4294967295"),
        "tablealignwrap": (dylink_section(16, 2, 1, 0xFFFFFFFF), "table alignment"),
    }
    libs, expectations = [], []
    for name, (section, want) in hostile.items():
        wasm = os.path.join(c.work, name + ".wasm")
        with open(wasm, "wb") as f:
            f.write(with_dylink(base, section))
        libs.append(c.library(wasm, name))
        expectations.append((f"/lib/{name}.so", want))
    # The genuine library still loads after all of them.
    libs.append(c.library(os.path.join(E2E_GUESTS, "libb.c"), "libb"))
    expectations.append(("/lib/libb.so", None))
    c.probe(libs, expectations)


def case_bounds(c):
    other = c.library(os.path.join(E2E_GUESTS, "libb.c"), "other", OTHER[c.args.bounds])
    c.probe([other], [("/lib/other.so", f"compiled with --bounds={OTHER[c.args.bounds]}")])


def case_artefact(c):
    good = c.library(os.path.join(E2E_GUESTS, "libb.c"), "libb")
    data = open(good, "rb").read()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    with open(os.path.join(c.lib, "flipped.so"), "wb") as f:
        f.write(flipped)
    with open(os.path.join(c.lib, "unsealed.so"), "wb") as f:
        f.write(data[:-128])
    with open(os.path.join(c.lib, "raw.wasm"), "wb") as f:
        f.write(open(os.path.join(c.work, "libb.wasm"), "rb").read())
    c.probe([good], [("/lib/flipped.so", "not a library this function may load"),
                     ("/lib/unsealed.so", "not a sealed artefact"),
                     ("/lib/raw.wasm", "a WebAssembly file, not an artefact"),
                     ("/lib/libb.so", None)])
    # A tampered artefact cannot be granted either: the Proto-Faaslet refuses it.
    main = c.main(os.path.join(GUESTS, "probe.c"))
    proc = c.run(main, [os.path.join(c.lib, "flipped.so")])
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != 126 or len(lines) != 1 or "flipped.so" not in lines[0]:
        fail(f"--lib of a tampered artefact: expected status 126 and one line, got "
             f"{describe_status(proc.returncode)}: {proc.stderr!r}")


def case_path(c):
    outside = os.path.join(c.work, "outside")
    os.makedirs(outside, exist_ok=True)
    good = c.library(os.path.join(E2E_GUESTS, "libb.c"), "libb")
    secret = os.path.join(outside, "libb.so")
    with open(secret, "wb") as f:
        f.write(open(good, "rb").read())
    os.remove(good)
    os.symlink(secret, os.path.join(c.lib, "link.so"))
    os.symlink("../outside/libb.so", os.path.join(c.lib, "rel.so"))
    # Granted (--lib), so only the path's confinement can stop it.
    c.probe([secret], [("/lib/../outside/libb.so", "cannot open"),
                       ("/lib/link.so", "cannot open"),
                       ("/lib/rel.so", "cannot open"),
                       ("/outside/libb.so", "cannot open")])


def case_relocs(c):
    libs, expectations = [], []
    for name, wat, want in (("relocs", RELOCS_WAT, "__wasm_apply_data_relocs trapped"),
                            ("segment", SEGMENT_WAT, "out of bounds memory access"),
                            ("elem", ELEM_WAT, "out of bounds table access")):
        path = os.path.join(c.work, name + ".wat")
        with open(path, "w") as f:
            f.write(wat)
        wasm = wat_to_wasm(path, os.path.join(c.work, name + ".plain.wasm"))
        side = os.path.join(c.work, name + ".wasm")
        with open(side, "wb") as f:
            f.write(with_dylink(open(wasm, "rb").read(), dylink_section(64, 2, 1, 0)))
        libs.append(c.library(side, name))
        expectations.append((f"/lib/{name}.so", want))
    libs.append(c.library(os.path.join(E2E_GUESTS, "libb.c"), "libb"))
    expectations.append(("/lib/libb.so", None))
    c.probe(libs, expectations)


def case_interpose(c):
    libs = [c.library(os.path.join(GUESTS, "evil.c"), "evil"),
            c.library(os.path.join(E2E_GUESTS, "libb.c"), "libb"),
            c.library(os.path.join(E2E_GUESTS, "liba.c"), "liba")]
    main = c.main(os.path.join(GUESTS, "interpose.c"))
    proc = c.run(main, libs)
    if proc.returncode != 0:
        fail(f"interpose ended with {describe_status(proc.returncode)}: {proc.stderr}")
    check_equal("output", proc.stdout,
                "a_run(3) = 40\ndefault host_twice is main's: 1\n"
                "evil's own host_twice differs: 1\nmalloc is main's: 1\nstill main's heap\n")


def case_imports(c):
    hostile = {
        # probe.c exports host_twice as (i32) -> i32.
        "i64param": ("env", "host_twice", "(param i64) (result i64)",
                     "(drop (call $f (i64.const 1)))", "incompatible import type"),
        "noresult": ("env", "host_twice", "(param i32)", "(call $f (i32.const 1))",
                     "incompatible import type"),
        "extraparam": ("env", "host_twice", "(param i32 i32) (result i32)",
                       "(drop (call $f (i32.const 1) (i32.const 2)))",
                       "incompatible import type"),
        # wasi-libc's functions are hidden: main does not export printf.
        "hidden": ("env", "printf", "(param i32 i32) (result i32)",
                   "(drop (call $f (i32.const 0) (i32.const 0)))", "undefined symbol printf"),
        # Exported by main, but not functions.
        "global": ("env", "__stack_pointer", "(result i32)", "(drop (call $f))",
                   "incompatible import type"),
        "table": ("env", "__indirect_function_table", "(result i32)", "(drop (call $f))",
                  "incompatible import type"),
        "nosuch": ("env", "no_such_function_anywhere", "(result i32)", "(drop (call $f))",
                   "undefined symbol no_such_function_anywhere"),
        # A host function the runtime provides, with another signature.
        "hostsig": ("wasi_snapshot_preview1", "fd_write", "(param i32) (result i32)",
                    "(drop (call $f (i32.const 1)))", "incompatible import type"),
    }
    libs, expectations = [], []
    for name, (module, field, sig, call, want) in hostile.items():
        path = os.path.join(c.work, name + ".wat")
        with open(path, "w") as f:
            f.write(IMPORT_WAT.format(module=module, name=field, sig=sig, call=call))
        wasm = wat_to_wasm(path, os.path.join(c.work, name + ".plain.wasm"))
        side = os.path.join(c.work, name + ".wasm")
        with open(side, "wb") as f:
            f.write(with_dylink(open(wasm, "rb").read(), dylink_section(0, 2, 0, 0)))
        libs.append(c.library(side, name))
        expectations.append((f"/lib/{name}.so", want))
    # The same import with main's signature loads.
    path = os.path.join(c.work, "good.wat")
    with open(path, "w") as f:
        f.write(IMPORT_WAT.format(module="env", name="host_twice",
                                  sig="(param i32) (result i32)",
                                  call="(drop (call $f (i32.const 1)))"))
    wasm = wat_to_wasm(path, os.path.join(c.work, "good.plain.wasm"))
    side = os.path.join(c.work, "good.wasm")
    with open(side, "wb") as f:
        f.write(with_dylink(open(wasm, "rb").read(), dylink_section(0, 2, 0, 0)))
    libs.append(c.library(side, "good"))
    expectations.append(("/lib/good.so", None))
    c.probe(libs, expectations)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["dylink", "bounds", "artefact", "path", "relocs",
                                         "interpose", "imports"])
    parser.add_argument("--bounds", required=True)
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--wat2wasm", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    require_tool(os.environ.get("FAASM_WASI_CLANG", "clang-19"))
    with work_dir(args.work, f"{args.case}-{args.bounds}") as work:
        globals()["case_" + args.case](Case(args, work))


if __name__ == "__main__":
    main()
