#!/usr/bin/env python3
"""Escape suite, class "compiler": modules built to crash or stall
faasm-codegen (docs/Security.md, "Compiler"). Each case generates its module
with pathological.py when it runs, compiles it with faasm-codegen in one
bounds mode, and checks the outcome: an artefact, or exactly one line
"faasm-codegen: FILE: <the limit's message>" with exit status 1 and no
artefact. A crash, or a hang past ctest's timeout, fails the case.

  compiler_limits.py CASE --faasm-codegen PATH --bounds guard|explicit
  compiler_limits.py --list
"""

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "support"))
sys.path.insert(0, str(HERE))

import faasmtest  # noqa: E402
import pathological  # noqa: E402

# The limits of compiler/codegen/src/WasmLimits.h, repeated: a changed limit
# must change this file too, and the docs with it.
NESTING = 10000
PARAMS = 1000
RESULTS = 100
LOCALS = 50000
BR_TABLE = 65520
VALUES = 2000000
BODY_BYTES = 7654321
MODULE_BYTES = 64 << 20

OK = None


def padded_uleb(value):
    """value as a five-byte LEB128 (the binary format allows the padding)."""
    return bytes([(value >> (7 * i)) & 0x7F | (0x80 if i < 4 else 0) for i in range(5)])


def big_custom_section(size):
    """A module that is one custom section, `size` bytes in all."""
    header = b"\0asm\1\0\0\0"
    name = pathological.vec([b"x"])
    payload = size - len(header) - 1 - 5 - len(name)
    return header + bytes([0]) + padded_uleb(len(name) + payload) + name + bytes(payload)


def huge_body(size):
    """One function whose body is `size` bytes (no locals, nops, end)."""
    return pathological.one_func(bytes([0x01]) * (size - 2))


def huge_local_decl(_):
    """One local declaration of 2^28 - 1 locals (five bytes; WABT itself
    refuses 2^28 and more as malformed)."""
    return pathological.one_func(b"", locals_=[(0x0FFFFFFF, pathological.I32)])


# name: (module maker, n, expected message or OK)
CASES = {
    # Nesting: the 15k-block attack crashed the recursive translator.
    "nest-block-attack": (pathological.nest_block, 1000000,
                          f"block nesting {NESTING + 1} in function 0 exceeds the limit of {NESTING}"),
    "nest-block-over": (pathological.nest_block, NESTING + 1,
                        f"block nesting {NESTING + 1} in function 0 exceeds the limit of {NESTING}"),
    "nest-unbalanced": (pathological.nest_unbalanced, 2 * NESTING,
                        f"block nesting {NESTING + 1} in function 0 exceeds the limit of {NESTING}"),
    "nest-block-limit": (pathological.nest_block, NESTING, OK),
    "nest-loop-limit": (pathological.nest_loop, NESTING, OK),
    "nest-if-limit": (pathological.nest_if, NESTING, OK),
    "nest-branching-limit": (pathological.nest_branching, NESTING, OK),
    # Signatures: 1000 params and results stalled the optimiser for minutes.
    "params-limit": (pathological.params, PARAMS, OK),
    "params-over": (pathological.params, PARAMS + 1,
                    f"type 0 has {PARAMS + 1} params, more than the limit of {PARAMS}"),
    "results-limit": (pathological.results, RESULTS, OK),
    "results-over": (pathological.results, RESULTS + 1,
                     f"type 0 has {RESULTS + 1} results, more than the limit of {RESULTS}"),
    "results-passed-on": (pathological.many_results, 200, OK),
    "block-results": (pathological.block_results, RESULTS, OK),
    "block-type-bomb": (pathological.block_bomb, 4000, OK),
    "block-type-bomb-over": (pathological.block_bomb, 10000,
                             f"function 0 makes more than {VALUES} values (instructions, and the "
                             "params and results they move), the limit"),
    # Tables, locals, sizes.
    "br-table-limit": (pathological.br_table, BR_TABLE, OK),
    "br-table-over": (pathological.br_table, BR_TABLE + 1,
                      f"br_table of {BR_TABLE + 1} targets in function 0 exceeds the limit of {BR_TABLE}"),
    "locals-limit": (pathological.locals_, LOCALS, OK),
    "locals-over": (pathological.locals_unused, LOCALS + 1,
                    f"function 0 declares {LOCALS + 1} locals, more than the limit of {LOCALS}"),
    "locals-huge-declaration": (huge_local_decl, 0,
                                f"function 0 declares {0x0FFFFFFF} locals, more than the limit of {LOCALS}"),
    "giant-function": (pathological.giant, 1000000, OK),
    "giant-block-of-stores": (pathological.giant_stores, 600000, OK),
    "body-over": (huge_body, BODY_BYTES + 1,
                  f"function 0 has a body of {BODY_BYTES + 1} bytes, more than the limit of {BODY_BYTES}"),
    "module-over": (big_custom_section, MODULE_BYTES + 1,
                    f"module of {MODULE_BYTES + 1} bytes exceeds the limit of {MODULE_BYTES}"),
    "many-functions": (pathological.functions, 3000, OK),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", nargs="?")
    parser.add_argument("--faasm-codegen")
    parser.add_argument("--bounds", choices=["guard", "explicit"], default="guard")
    parser.add_argument("--work-dir", default=".")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return
    if args.case not in CASES or not args.faasm_codegen:
        faasmtest.fail(f"usage: compiler_limits.py CASE --faasm-codegen PATH (cases: {', '.join(CASES)})")
    make, n, expected = CASES[args.case]
    with faasmtest.work_dir(args.work_dir, f"{args.case}.{args.bounds}") as work:
        wasm = Path(work) / f"{args.case}.wasm"
        out = Path(work) / f"{args.case}.so"
        wasm.write_bytes(make(n))
        result = faasmtest.capture(
            [args.faasm_codegen, "--bounds", args.bounds, str(wasm), "-o", str(out)], timeout=1200
        )
        if result.returncode not in (0, 1):
            faasmtest.fail(f"faasm-codegen {faasmtest.describe_status(result.returncode)}: {result.stderr[-2000:]}")
        if expected is OK:
            if result.returncode != 0 or not out.exists():
                faasmtest.fail(f"expected an artefact, got: {result.stderr.strip()}")
            return
        want = f"faasm-codegen: {wasm}: {expected}\n"
        if result.returncode != 1 or result.stderr != want:
            faasmtest.fail(f"expected exit 1 and {want!r}, got exit {result.returncode} and {result.stderr!r}")
        if out.exists():
            faasmtest.fail("a rejected module left an artefact")


if __name__ == "__main__":
    main()
