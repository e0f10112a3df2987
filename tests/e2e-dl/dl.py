#!/usr/bin/env python3
"""End-to-end tests of dynamic loading (docs/DynamicLoading.md): C guests
built with faasm-cc --faasm-dl-main / --faasm-dl-lib, compiled by
faasm-codegen and run by faasm-run, in one bounds mode.

    dl.py SCENARIO --bounds B --codegen C --run R --work DIR

Scenarios:
  plugins   guests/plugins.c loads liba and libb (libb first, liba calls it),
            both call back into the main module, main calls them through
            pointers, reads and writes their data, dlerror for a missing
            symbol and library, dlclose; the output must equal the native
            build's with real shared libraries (clang-19 -shared, -rdynamic)
            and the expected text below
  warm      the same, three times in one warm Faaslet: a warm reset forgets
            the call's libraries with the memory and table they lived in,
            and the next call links them again
  init      a dlopen in a constructor (initialisation, the Proto-Faaslet) is
            refused with one line: a library cannot be part of a snapshot
Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (FAASM_CC, check_equal, compile_wasm, describe_status, fail,  # noqa: E402
                       require_tool, run_command, work_dir)

HERE = os.path.dirname(os.path.abspath(__file__))
GUESTS = os.path.join(HERE, "guests")

EXPECTED = """a_run(3) = 40
a_data = 10
a_run(3) after a_data = 100: 130
host_calls = 4
a_get_scale()(7) = 35
a_get_scale() == dlsym(b, b_scale): 1
a_get_host_twice() == host_twice: 1
host_calls = 5
missing symbol: NULL
dlerror set: 1
dlerror cleared: 1
missing library: NULL
dlclose(a) = 0
dlclose(b) = 0
"""


def build(args, work):
    """The wasm main module and the two libraries, compiled in args.bounds:
    (main .so, directory holding liba.so and libb.so)."""
    require_tool(os.environ.get("FAASM_WASI_CLANG", "clang-19"))
    libdir = os.path.join(work, "lib")
    os.makedirs(libdir, exist_ok=True)
    for lib in ("liba", "libb"):
        wasm = os.path.join(work, lib + ".wasm")
        run_command([FAASM_CC, "--faasm-dl-lib", "-O2", "-Wall", "-Werror",
                     os.path.join(GUESTS, lib + ".c"), "-o", wasm], check=True)
        compile_wasm(args.codegen, wasm, os.path.join(libdir, lib + ".so"), args.bounds)
    mains = {}
    for main in ("plugins", "initload"):
        wasm = os.path.join(work, main + ".wasm")
        run_command([FAASM_CC, "--faasm-dl-main", "-O2", "-Wall", "-Werror",
                     os.path.join(GUESTS, main + ".c"), "-o", wasm], check=True)
        mains[main] = compile_wasm(args.codegen, wasm, os.path.join(work, main + ".so"),
                                   args.bounds)
    return mains, libdir


def faasm_run(args, libdir, main, *extra):
    cmd = [args.run, "--dir", f"{libdir}:/lib"]
    for lib in ("liba", "libb"):
        cmd += ["--lib", os.path.join(libdir, lib + ".so")]
    return run_command(cmd + list(extra) + [main], timeout=120)


def native_output(work):
    clang = shutil.which("clang-19")
    if not clang:
        fail("clang-19 builds the wasm guests but is not on PATH for the native twin")
    native = os.path.join(work, "native")
    os.makedirs(native, exist_ok=True)
    for lib in ("liba", "libb"):
        run_command([clang, "-O2", "-fPIC", "-shared", os.path.join(GUESTS, lib + ".c"), "-o",
                     os.path.join(native, lib + ".so")], check=True)
    exe = os.path.join(native, "plugins")
    run_command([clang, "-O2", "-rdynamic", os.path.join(GUESTS, "plugins.c"), "-ldl", "-o", exe],
                check=True)
    return run_command([exe, native], check=True).stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["plugins", "warm", "init"])
    parser.add_argument("--bounds", required=True)
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    with work_dir(args.work, f"{args.scenario}-{args.bounds}") as work:
        mains, libdir = build(args, work)
        if args.scenario == "plugins":
            proc = faasm_run(args, libdir, mains["plugins"])
            if proc.returncode != 0:
                fail(f"faasm-run ended with {describe_status(proc.returncode)}: {proc.stderr}")
            check_equal("output", proc.stdout, EXPECTED)
            check_equal("output against the native build", proc.stdout, native_output(work))
        elif args.scenario == "warm":
            proc = faasm_run(args, libdir, mains["plugins"], "--warm", "3")
            if proc.returncode != 0:
                fail(f"faasm-run ended with {describe_status(proc.returncode)}: {proc.stderr}")
            check_equal("output of three warm runs", proc.stdout, EXPECTED * 3)
        else:
            proc = faasm_run(args, libdir, mains["initload"])
            lines = proc.stderr.strip().splitlines()
            if proc.returncode == 0 or len(lines) != 1 or \
                    "libraries cannot be part of a snapshot" not in lines[0] or \
                    "/lib/libb.so" not in lines[0]:
                fail(f"expected a refusal naming /lib/libb.so, got "
                     f"{describe_status(proc.returncode)}: {proc.stderr!r}")


if __name__ == "__main__":
    main()
