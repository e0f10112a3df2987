#!/usr/bin/env python3
"""End-to-end tests of Faasm's guest API (sysroot/include/faasm/, docs/GuestAPI.md):
Faasm-style functions in C and C++ (guests/), built with the sysroot's
faasm-cc / faasm-c++ at build time, compiled here by faasm-codegen in the
bounds mode given and run by faasm-run as Faaslets. Every check is against
exact stdout, stderr, output and exit status.

    guestapi.py SCENARIO --bounds guard|explicit --codegen C --run R --guests DIR --work DIR
    guestapi.py inventory --cc CC --cxx CXX --include DIR --doc FILE --work DIR

  chain-ptr     faasmChain by function pointer: fan-out/fan-in through outputs
                and through faasmChainBatch and an append list, a nested chain,
                pointers that are no function, a null pointer (main), random
                strings drawn in two callees
  chain-index   the 2020 API: FAASM_MAIN_FUNC, FAASM_FUNC, faasmChainThisInput,
                faasmGetCurrentIdx
  state-mask    faasmPushStatePartialMask with maskDouble, AsyncArray, dirty
                ranges; a mask of the wrong length or missing, a range too long
  state-file    faasmWriteStateFromFile inside a preopen; paths outside it
  state-ptr-first  a value mapped by a constructor, before any allocation: the
                heap grows past it and never into it
  helpers       faasm/input.h and the other C++ helpers, the raw host interface
  unsupported   every name that cannot mean here what it means in Faasm fails
                the call with one line
  no-dispatch   a module without faasm.h's _faasm_dispatch (or with one of
                the wrong type) chained by pointer: the callee fails with one
                line, the caller goes on
  inventory     every function and macro of Faasm's public headers (the list
                below) is declared by the sysroot's headers and named in
                docs/GuestAPI.md

Exit 0 = pass, 1 = fail, 77 = skipped.
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (compile_wasm, expect_result, fail, require_tool,  # noqa: E402
                       run_command, wat_to_wasm, work_dir)

RUN_TIMEOUT_SECONDS = 120
UNREACHABLE = "trap: unreachable\n"
POINTER_TRAP = "trap: host call with out of bounds pointer\n"
HOST_ERROR = "trap: host function error\n"


def without_backtrace(stderr):
    """stderr without the frames after a "trap: " line ("  at ...", "  ...
    more"): where a trap happened is tests/e2e-cli's (traps.py) to check,
    these tests compare what the API said."""
    lines, in_trace = [], False
    for line in stderr.splitlines(keepends=True):
        if in_trace and line.startswith("  "):
            continue
        in_trace = line.startswith("trap: ")
        lines.append(line)
    return "".join(lines)


class Env:
    def __init__(self, args, dir):
        self.args = args
        self.dir = dir
        self.state = os.path.join(dir, "state")
        os.makedirs(self.state, exist_ok=True)

    def so(self, name):
        return compile_wasm(self.args.codegen, os.path.join(self.args.guests, name + ".wasm"),
                            os.path.join(self.dir, name + ".so"), self.args.bounds)

    def run(self, so, *guest_args, options=()):
        """faasm-run OPTIONS so GUEST_ARGS with the test's own state directory:
        (status, stdout, stderr)."""
        env = dict(os.environ, FAASM_STATE_DIR=self.state)
        p = run_command([self.args.run, *options, so, *guest_args], timeout=RUN_TIMEOUT_SECONDS,
                        env=env)
        return p.returncode, p.stdout, without_backtrace(p.stderr)

    def output_file(self):
        return os.path.join(self.dir, "output")

    def read_output(self):
        with open(self.output_file(), "rb") as f:
            return f.read()


# ----- chaining -------------------------------------------------------------------

def chain_ptr(env):
    so = env.so("chain-ptr")
    # No function table: a call chained by pointer is of the caller's own
    # function, whatever the table holds.
    for n in (5, 20):
        squares = sum(k * k for k in range(1, n + 1))
        expect_result(env.run(so, options=["--input", f"fanout {n}"]), 0,
                      stdout=f"squares 1..{n} by pointer: {squares}; batch of {n}: failed=0 "
                             f"appended={7 * n}\n", stderr="")
    expect_result(env.run(so, options=["--input", "nested"]), 0,
                  stdout="nested: inner saw from outer x rc=3 (rc 0)\n", stderr="")
    out, _ = expect_result(env.run(so, options=["--input", "bad"]), 0)
    if out != "bad: wrong type 134, out of table 134, then a good one 0\n":
        fail(f"bad pointers: {out!r}")
    expect_result(env.run(so, options=["--input", "random"]), 0,
                  stdout="random: 24 and 24 characters, different\n", stderr="")
    expect_result(env.run(so, options=["--input", "main"]), 0,
                  stdout="main chained by null: main ran as a callee (rc 5)\n", stderr="")
    # The same through a function table that names the function: no change.
    table = os.path.join(env.dir, "table")
    os.makedirs(table, exist_ok=True)
    os.link(so, os.path.join(table, "chain-ptr.so"))
    expect_result(env.run(os.path.join(table, "chain-ptr.so"),
                          options=["--functions", table, "--input", "nested"]), 0,
                  stdout="nested: inner saw from outer x rc=3 (rc 0)\n", stderr="")


def chain_index(env):
    so = env.so("chain-index")
    result = env.run(so, options=["--output-file", env.output_file()])
    expect_result(result, 0, stdout=(
        "index 1 -> 1:1:10 (rc 0)\n"
        "index 2 -> 2:2:20 (rc 0)\n"
        "index 3 -> relay(3) 2:2:100 rc=0 (rc 0)\n"
        "pointer to second -> 2:2:14 (rc 0)\n"
        "main runs index 0; getFaasmFunc(2) is _faasm_func_2, getFaasmFunc(5) is null\n"
        "direct call of first: 0\n"
        "index 5 (none): id 0\n"),
        stderr="faasm: faasmChainThisInput: this module has no FAASM_FUNC number 5\n")
    # A FAASM_FUNC called directly runs in this call: its output is main's.
    if env.read_output() != b"1:0:0":
        fail(f"output of the direct call: {env.read_output()!r}")


# ----- state ----------------------------------------------------------------------

def state_mask(env):
    so = env.so("state-mask")
    expect_result(env.run(so, "push"), 0, stderr="", stdout=(
        "mask zeroed after the push; weights 1.5 2.5 3.5 4.5\n"
        "array 0 0 9.25 0\n"))
    expect_result(env.run(so, "mismatch"), 134, stdout="", stderr=(
        'faasm: faasmPushStatePartialMask: user "demo": mask "guestapi-m8" is 8 bytes, value '
        '"guestapi-v16" is 16 (they must be the same length)\n' + HOST_ERROR))
    expect_result(env.run(so, "no-mask"), 134, stdout="", stderr=(
        'faasm: faasmPushStatePartialMask: user "demo": no value under mask key '
        '"guestapi-no-such-mask"\n' + HOST_ERROR))
    expect_result(env.run(so, "range"), 134, stdout="", stderr=POINTER_TRAP)


def state_file(env):
    so = env.so("state-file")
    files = os.path.join(env.dir, "files")
    os.makedirs(files, exist_ok=True)
    grant = ["--dir", f"{files}:/data"]
    expect_result(env.run(so, "write", "/data/in.txt", options=grant), 0, stderr="",
                  stdout="wrote 18 bytes; state holds 18: state from a file\n")
    # Outside the function's files: refused by WASI, and the call fails loudly.
    with open(os.path.join(env.dir, "secret.txt"), "w") as f:
        f.write("host secret\n")
    for path in ("/etc/passwd", "/data/../secret.txt", "../secret.txt",
                 os.path.join(env.dir, "secret.txt"), "/data/missing.txt"):
        status, out, err = env.run(so, "copy", path, options=grant)
        lines = err.splitlines()
        if (status != 134 or out != "" or len(lines) != 2 or
                not lines[0].startswith(f"faasm: faasmWriteStateFromFile: cannot open {path}: ")
                or lines[1] + "\n" != UNREACHABLE):
            fail(f"copy {path}: status {status}, stdout {out!r}, stderr {err!r}")
    # The value is still the file the function could read.
    value = os.path.join(env.state, "faasm-demo", "guestapi-file")
    with open(value, "rb") as f:
        data = f.read()
    if b"state from a file\n" not in data or b"root:" in data or b"host secret" in data:
        fail("the state value holds bytes of a file outside the preopen")


def state_ptr_first(env):
    expect_result(env.run(env.so("state-ptr-first")), 0, stderr="", stdout=(
        "heap grown past the value: yes; allocations inside it: 0; bytes changed: 0\n"))


# ----- helpers --------------------------------------------------------------------

def helpers(env):
    so = env.so("helpers")
    out = ["--output-file", env.output_file()]

    def check(mode, input, stdout, output=None, status=0, stderr=""):
        opts = out + (["--input", input] if input is not None else [])
        expect_result(env.run(so, mode, options=opts), status, stdout=stdout, stderr=stderr)
        if output is not None and env.read_output() != output:
            fail(f"{mode}: output {env.read_output()!r}, want {output!r}")

    check("string", "abc", "", b"[abc]")
    check("string", None, "", b"[none]")
    check("int", "21", "42\n")
    check("int", None, "0\n")
    check("int", "abc", "", status=134,
          stderr="faasm: faasm::getIntInput: the input is not an int: abc\n" + UNREACHABLE)
    check("ints", "1 -2  3 4 5", "1 -2 3 4\n")
    check("ints", "5 6", "5 6 0 0\n")
    typed = os.path.join(env.dir, "typed.bin")
    with open(typed, "wb") as f:
        f.write(struct.pack("<i", 16909060))
    expect_result(env.run(so, "typed", options=["--input-file", typed]), 0, stdout="16909060\n")
    check("typed", None, "-1\n")
    check("raw", "hello", "input 5 bytes, copied 3: hel; flags 1 0 0 0\n", b"raw output")
    files = os.path.join(env.dir, "files")
    os.makedirs(files, exist_ok=True)
    with open(os.path.join(files, "note.txt"), "w") as f:
        f.write("note")
    expect_result(env.run(so, "misc", "/data/note.txt", options=["--dir", f"{files}:/data"]), 0,
                  stderr="", stdout=(
                      "Arrays not equal: A=[1, 2, 3] B=[1, 5, 3]\n"
                      "[7, 255][0.500000, -2.000000]\n"
                      "compareArrays: same 1, differ 1\n"
                      "random: in range 1, permutation 1, alphabet 1\n"
                      "time: after 2020 1\n"
                      "zeroState: 8; masks 0xff 0xffffffff\n"
                      "files: length 4, text note, missing -1 null\n"))


# Each name, and the reason its line gives.
UNSUPPORTED = {
    "faasmGetPythonUser": "there is no Python runtime",
    "faasmGetPythonFunc": "there is no Python runtime",
    "faasmGetPythonEntry": "there is no Python runtime",
    "faasmBacktrace": "the runtime cannot walk a guest's stack",
    "__faasm_get_py_user": "there is no Python runtime",
    "__faasm_get_py_func": "there is no Python runtime",
    "__faasm_get_py_entry": "there is no Python runtime",
    "__faasm_chain_py": "there is no Python runtime",
    "__faasm_backtrace": "the runtime cannot walk a guest's stack",
    "__faasm_sm_array": "there are no threads",
    "__faasm_sm_raw": "there are no threads",
    "__faasm_sm_reduce": "there are no threads",
    "__faasm_sm_var": "there are no threads",
    "__faasm_sm_critical_local": "there are no threads",
    "__faasm_sm_critical_local_end": "there are no threads",
    "__faasm_s3_get_num_buckets": "there is no S3 store",
    "__faasm_s3_list_buckets": "there is no S3 store",
    "__faasm_s3_get_num_keys": "there is no S3 store",
    "__faasm_s3_get_num_keys_with_prefix": "there is no S3 store",
    "__faasm_s3_list_keys": "there is no S3 store",
    "__faasm_s3_list_keys_with_prefix": "there is no S3 store",
    "__faasm_s3_add_key_bytes": "there is no S3 store",
    "__faasm_s3_get_key_bytes": "there is no S3 store",
}


def unsupported(env):
    so = env.so("unsupported")
    for name, why in UNSUPPORTED.items():
        line = "faasm: faasmBacktrace" if name == "__faasm_backtrace" else f"faasm: {name}"
        expect_result(env.run(so, name), 134, stdout="",
                      stderr=f"{line} is not supported here: {why}\n" + UNREACHABLE)
    expect_result(env.run(so, "__faasm_host_interface_test"), 134, stdout="", stderr=(
        "faasm: __faasm_host_interface_test(1): the host raised an error (exception "
        "propagation test)\n" + UNREACHABLE))


def no_dispatch(env):
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("no-dispatch", "bad-dispatch"):
        wasm = wat_to_wasm(os.path.join(here, "guests", name + ".wat"),
                           os.path.join(env.dir, name + ".wasm"))
        so = compile_wasm(env.args.codegen, wasm, os.path.join(env.dir, name + ".so"),
                          env.args.bounds)
        expect_result(env.run(so), 7, stdout="", stderr=(
            f"faasm: {name}: chained by function pointer 5, but the module exports no "
            "_faasm_dispatch (i32) -> i32 (build it with faasm/faasm.h)\n"))


# ----- the inventory ------------------------------------------------------------------
# Every function, macro and type of Faasm's public headers, read from
#   faasm/cpp fc018f1 libfaasm/faasm/*.h (core.h, faasm.h, host_interface.h,
#     host_interface_test.h, memory.h, migrate.h, shared_mem.h, input.h, state.h,
#     array.h, compare.h, files.h, time.h, random.h, print.h),
#   faasm/faasm 0debd1a5c (April 2020, the ATC paper's API) include/faasm/core.h
#     and libs/cpp/faasm/input.h, and 3a89e3838 (October 2019) for
#     faasmChainThis and faasmChainFunction.
# Each entry: (name, kind, header, check). Kinds: "c" (a C function, checked
# in C and C++), "c-macro", "c-type", "c-enum", "cxx" (C++ only, in
# namespace faasm), "cxx-macro". `check`, a list of expressions, replaces
# the default one where it cannot work (overloads, templates).
INVENTORY = [
    # faasm/core.h (and faasm/faasm.h): calls, input, output, state
    ("BYTES", "c-macro", "faasm/core.h", None),
    ("FaasmFuncPtr", "c-type", "faasm/core.h", None),
    ("_FaasmFuncPtr", "c-type", "faasm/core.h", None),
    ("faasmReadStateSize", "c", "faasm/core.h", None),
    ("faasmReadState", "c", "faasm/core.h", None),
    ("faasmReadAppendedState", "c", "faasm/core.h", None),
    ("faasmReadStatePtr", "c", "faasm/core.h", None),
    ("faasmReadStateOffset", "c", "faasm/core.h", None),
    ("faasmReadStateOffsetPtr", "c", "faasm/core.h", None),
    ("faasmWriteState", "c", "faasm/core.h", None),
    ("faasmAppendState", "c", "faasm/core.h", None),
    ("faasmClearAppendedState", "c", "faasm/core.h", None),
    ("faasmWriteStateOffset", "c", "faasm/core.h", None),
    ("faasmWriteStateFromFile", "c", "faasm/core.h", None),
    ("faasmFlagStateDirty", "c", "faasm/core.h", None),
    ("faasmFlagStateOffsetDirty", "c", "faasm/core.h", None),
    ("faasmPushState", "c", "faasm/core.h", None),
    ("faasmPushStatePartial", "c", "faasm/core.h", None),
    ("faasmPushStatePartialMask", "c", "faasm/core.h", None),
    ("faasmPullState", "c", "faasm/core.h", None),
    ("faasmLockStateRead", "c", "faasm/core.h", None),
    ("faasmUnlockStateRead", "c", "faasm/core.h", None),
    ("faasmLockStateWrite", "c", "faasm/core.h", None),
    ("faasmUnlockStateWrite", "c", "faasm/core.h", None),
    ("faasmLockStateGlobal", "c", "faasm/core.h", None),
    ("faasmUnlockStateGlobal", "c", "faasm/core.h", None),
    ("faasmGetInputSize", "c", "faasm/core.h", None),
    ("faasmGetInput", "c", "faasm/core.h", None),
    ("faasmSetOutput", "c", "faasm/core.h",
     ["faasmSetOutput((const char*)0, 0)", "faasmSetOutput((const uint8_t*)0, 0)"]),
    ("faasmChainNamed", "c", "faasm/core.h", None),
    ("faasmChain", "c", "faasm/core.h", None),
    ("faasmChainBatch", "c", "faasm/core.h", None),
    ("faasmAwaitCall", "c", "faasm/core.h", None),
    ("faasmAwaitCallOutput", "c", "faasm/core.h",
     ["faasmAwaitCallOutput(1u, (char**)0, (int*)0)",
      "faasmAwaitCallOutput(1u, (uint8_t*)0, 0L)"]),
    ("faasmGetPythonUser", "c", "faasm/core.h", None),
    ("faasmGetPythonFunc", "c", "faasm/core.h", None),
    ("faasmGetPythonEntry", "c", "faasm/core.h", None),
    ("getConfFlag", "c", "faasm/core.h", None),
    ("faasmBacktrace", "c", "faasm/core.h", None),
    ("_faasm_zygote", "c", "faasm/core.h", None),
    ("FAASM_ZYGOTE", "c-macro", "faasm/core.h", None),
    # the 2020 API
    ("faasmChainFunctionInput", "c", "faasm/core.h", None),
    ("faasmChainFunction", "c", "faasm/core.h", None),
    ("faasmChainThisInput", "c", "faasm/core.h", None),
    ("faasmChainThis", "c", "faasm/core.h", None),
    ("faasmGetCurrentIdx", "c", "faasm/core.h", None),
    ("getFaasmFunc", "c", "faasm/core.h", None),
    ("_faasm_func_0", "c", "faasm/core.h", None),
    ("_faasm_func_1", "c", "faasm/core.h", None),
    ("_faasm_func_2", "c", "faasm/core.h", None),
    ("_faasm_func_3", "c", "faasm/core.h", None),
    ("_faasm_func_4", "c", "faasm/core.h", None),
    ("_faasm_func_5", "c", "faasm/core.h", None),
    ("_faasm_func_6", "c", "faasm/core.h", None),
    ("_faasm_func_7", "c", "faasm/core.h", None),
    ("_faasm_func_8", "c", "faasm/core.h", None),
    ("_faasm_func_9", "c", "faasm/core.h", None),
    ("FAASM_FUNC", "c-macro", "faasm/core.h", None),
    ("FAASM_MAIN_FUNC", "c-macro", "faasm/core.h", None),
    # faasm/memory.h
    ("__faasm_memory_layout_protection", "c", "faasm/memory.h", None),
    # faasm/host_interface.h
    ("HOST_IFACE_FUNC", "c-macro", "faasm/host_interface.h", None),
    ("FaasmMigrateEntryPoint", "c-type", "faasm/host_interface.h", None),
] + [(name, "c", "faasm/host_interface.h", None) for name in (
    "__faasm_read_state", "__faasm_read_state_ptr", "__faasm_write_state",
    "__faasm_append_state", "__faasm_read_appended_state", "__faasm_clear_appended_state",
    "__faasm_write_state_offset", "__faasm_write_state_from_file", "__faasm_read_state_offset",
    "__faasm_flag_state_dirty", "__faasm_flag_state_offset_dirty",
    "__faasm_read_state_offset_ptr", "__faasm_push_state", "__faasm_push_state_partial",
    "__faasm_push_state_partial_mask", "__faasm_pull_state", "__faasm_lock_state_read",
    "__faasm_unlock_state_read", "__faasm_lock_state_write", "__faasm_unlock_state_write",
    "__faasm_read_input", "__faasm_write_output", "__faasm_chain_name", "__faasm_chain_ptr",
    "__faasm_await_call", "__faasm_await_call_output", "__faasm_get_py_user",
    "__faasm_get_py_func", "__faasm_get_py_entry", "__faasm_chain_py", "__faasm_conf_flag",
    "__faasm_backtrace", "__faasm_sm_array", "__faasm_sm_raw", "__faasm_sm_reduce",
    "__faasm_sm_var", "__faasm_sm_critical_local", "__faasm_sm_critical_local_end",
    "__faasm_migrate_point", "__faasm_host_interface_test", "__faasm_s3_get_num_buckets",
    "__faasm_s3_list_buckets", "__faasm_s3_get_num_keys", "__faasm_s3_get_num_keys_with_prefix",
    "__faasm_s3_list_keys", "__faasm_s3_list_keys_with_prefix", "__faasm_s3_add_key_bytes",
    "__faasm_s3_get_key_bytes")] + [
    # faasm/host_interface_test.h
    ("HostInterfaceTest", "c-type", "faasm/host_interface_test.h",
     ["sizeof(enum HostInterfaceTest)"]),
    ("NoTest", "c-enum", "faasm/host_interface_test.h", None),
    ("ExceptionPropagationTest", "c-enum", "faasm/host_interface_test.h", None),
    # faasm/migrate.h
    ("__faasm_migrate_point", "c", "faasm/migrate.h", None),
] + [(name, "c-macro", "faasm/shared_mem.h", None) for name in (
    "FAASM_TYPE_RAW", "FAASM_TYPE_BOOL", "FAASM_TYPE_INT", "FAASM_TYPE_LONG", "FAASM_TYPE_FLOAT",
    "FAASM_TYPE_DOUBLE", "FAASM_OP_OVERWRITE", "FAASM_OP_SUM", "FAASM_OP_PRODUCT",
    "FAASM_OP_SUBTRACT", "FAASM_OP_MAX", "FAASM_OP_MIN", "FAASM_REDUCE", "FAASM_REDUCE_INNER",
    "FAASM_START_CRITICAL_LOCAL", "FAASM_END_CRITICAL_LOCAL", "FAASM_CRITICAL_LOCAL",
    "FAASM_ATOMIC_INCR", "FAASM_ATOMIC_INCR_BY")] + [
    # the C++ helpers
    ("getStringInput", "cxx", "faasm/input.h", None),
    ("setStringOutput", "cxx", "faasm/input.h", None),
    ("getIntInput", "cxx", "faasm/input.h", None),
    ("parseStringToIntArray", "cxx", "faasm/input.h", None),
    ("getTypedInput", "cxx", "faasm/input.h", ["&faasm::getTypedInput<int>"]),
    ("maskDouble", "cxx", "faasm/state.h", None),
    ("zeroState", "cxx", "faasm/state.h", None),
    ("BIT_MASK_8", "cxx-macro", "faasm/state.h", None),
    ("BIT_MASK_32", "cxx-macro", "faasm/state.h", None),
    ("AsyncArray", "cxx", "faasm/array.h",
     ["&faasm::AsyncArray<int>::zero", "&faasm::AsyncArray<int>::pullLazy",
      "&faasm::AsyncArray<int>::pull", "&faasm::AsyncArray<int>::push",
      "&faasm::AsyncArray<int>::data", "&faasm::AsyncArray<int>::operator[]",
      "faasm::AsyncArray<int>(\"k\", 1)"]),
    ("compareArrays", "cxx", "faasm/compare.h",
     [f"&faasm::compareArrays<{t}>" for t in ("uint8_t", "int", "double")]),
    ("printArray", "cxx", "faasm/print.h",
     [f"&faasm::printArray<{t}>" for t in ("uint8_t", "int", "double")]),
    ("getFileLength", "cxx", "faasm/files.h", None),
    ("readFileToString", "cxx", "faasm/files.h", None),
    ("getSecondsSinceEpoch", "cxx", "faasm/time.h", None),
    ("FAASM_PROF_START", "cxx-macro", "faasm/time.h", None),
    ("FAASM_PROF_END", "cxx-macro", "faasm/time.h", None),
    ("randomInteger", "cxx", "faasm/random.h", None),
    ("randomFloat", "cxx", "faasm/random.h", None),
    ("shuffleArray", "cxx", "faasm/random.h", None),
    ("randomIntRange", "cxx", "faasm/random.h", None),
    ("randomString", "cxx", "faasm/random.h", None),
]

# faasm/faasm.h must give the whole C API, as Faasm's faasm.h (which
# includes core.h) did.
FAASM_H_GIVES = "faasm/core.h"


def probe(entry, lang):
    """One statement of a function body that compiles only if `entry` is declared."""
    name, kind, _, check = entry
    if kind.endswith("macro"):
        return f"#ifndef {name}\n#error {name} is not defined\n#endif\n"
    if check:
        return "".join(f"(void)({c});\n" for c in check)
    if kind == "c-type":
        return f"(void)sizeof({name});\n"
    if kind == "c-enum":
        return f"(void){name};\n"
    if kind == "cxx":
        return f"(void)&faasm::{name};\n"
    return f"(void)&{name};\n"


def source(entries, lang, headers):
    text = "".join(f"#include <{h}>\n" for h in sorted(headers))
    text += "#include <stdint.h>\nint main(void) {\n"
    for e in entries:
        text += probe(e, lang)
    return text + "return 0;\n}\n"


def compiles(compiler, path, text, include):
    with open(path, "w") as f:
        f.write(text)
    p = run_command([compiler, "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
                     "-isystem", include, path])
    return p.returncode == 0, p.stderr


def inventory(args):
    require_tool(os.environ.get("FAASM_WASI_CLANG", "clang-19"))
    with open(args.doc) as f:
        doc = f.read()
    undocumented = [e[0] for e in INVENTORY if f"`{e[0]}" not in doc]
    if undocumented:
        fail(f"{args.doc} does not name: {', '.join(undocumented)}")
    missing = []
    with work_dir(args.work, "inventory") as dir:
        for lang, compiler, kinds in (("c", args.cc, ("c", "c-macro", "c-type", "c-enum")),
                                      ("cxx", args.cxx, None)):
            entries = [e for e in INVENTORY if kinds is None or e[1] in kinds]
            suffix = ".c" if lang == "c" else ".cpp"
            ok, err = compiles(compiler, os.path.join(dir, "all" + suffix),
                               source(entries, lang, {e[2] for e in entries}), args.include)
            if not ok:
                # Name each entry that is missing.
                for e in entries:
                    one, _ = compiles(compiler, os.path.join(dir, "one" + suffix),
                                      source([e], lang, {e[2]}), args.include)
                    if not one:
                        missing.append(f"{e[0]} ({e[2]}, {lang})")
                if not missing:
                    fail(f"the {lang} probe does not compile:\n{err}")
            # faasm/faasm.h alone gives every C name core.h does.
            core = [e for e in entries if e[2] == FAASM_H_GIVES and e[1].startswith("c")]
            ok, err = compiles(compiler, os.path.join(dir, "faasm-h" + suffix),
                               source(core, lang, {"faasm/faasm.h"}), args.include)
            if not ok:
                missing.append(f"faasm/faasm.h alone ({lang}): {err.strip()}")
    if missing:
        fail("not declared by the sysroot: " + "; ".join(missing))
    print(f"PASS: {len(INVENTORY)} names of Faasm's public headers declared and documented")


SCENARIOS = {
    "chain-ptr": chain_ptr,
    "chain-index": chain_index,
    "state-mask": state_mask,
    "state-file": state_file,
    "state-ptr-first": state_ptr_first,
    "helpers": helpers,
    "unsupported": unsupported,
    "no-dispatch": no_dispatch,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=[*SCENARIOS, "inventory"])
    parser.add_argument("--bounds", choices=["guard", "explicit"], default="guard")
    parser.add_argument("--codegen")
    parser.add_argument("--run")
    parser.add_argument("--guests")
    parser.add_argument("--work", required=True)
    parser.add_argument("--cc")
    parser.add_argument("--cxx")
    parser.add_argument("--include")
    parser.add_argument("--doc")
    args = parser.parse_args()
    if args.scenario == "inventory":
        inventory(args)
        return
    with work_dir(args.work, f"{args.scenario}-{args.bounds}") as dir:
        SCENARIOS[args.scenario](Env(args, dir))
    print(f"PASS: {args.scenario} ({args.bounds})")


if __name__ == "__main__":
    main()
