#!/usr/bin/env python3
"""End-to-end test driver: runs the real faasm-codegen and faasm-run and
compares what they do with a reference. One subcommand per kind of test;
each exits 0 on pass and 1 (after saying why) on failure.

  compare      wasm -> faasm-codegen -> .so -> faasm-run, stdout and exit
               status compared with a native build of the same source
  external     configure and build a CMake project twice (wasm via the
               toolchain file, and native), then compare as above
  expect       run a command and check its exit status and its stderr line
  imports      check the imports a wasm module declares against a list
  make-input   write a deliberately broken input (truncated, garbage, empty)
  wasm-build   run a compile command, then check its output is a valid
               command module (wasm-validate, exports _start and memory)
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (compile_wasm, describe_status, diff_lines, fail,  # noqa: E402
                       run_command, work_dir)


def compile_and_run(codegen, runner, wasm, out_dir, bounds, args):
    so = os.path.join(out_dir, os.path.splitext(os.path.basename(wasm))[0] + ".so")
    compile_wasm(codegen, wasm, so, bounds)
    return run_command([runner, so] + args)


def compare_outputs(wasm_proc, native_proc):
    ok = True
    if wasm_proc.stdout != native_proc.stdout:
        ok = False
        diff = diff_lines(native_proc.stdout.splitlines(), wasm_proc.stdout.splitlines(),
                          "native stdout", "faasm-run stdout")
        sys.stderr.write("stdout differs:\n" + "\n".join(diff) + "\n")
    if wasm_proc.returncode != native_proc.returncode:
        ok = False
        sys.stderr.write(f"native: {describe_status(native_proc.returncode)}, "
                         f"faasm-run: {describe_status(wasm_proc.returncode)}\n")
    if not native_proc.stdout:
        ok = False
        sys.stderr.write("the native build printed nothing: nothing was compared\n")
    if not ok:
        sys.stderr.write("faasm-run stderr:\n" + wasm_proc.stderr)
        fail("faasm-run and the native build disagree")
    print(f"PASS: identical stdout ({len(native_proc.stdout)} bytes) and "
          f"{describe_status(native_proc.returncode)}")


def cmd_compare(a):
    with work_dir(a.workdir, os.path.basename(a.wasm)) as out:
        native = run_command([a.native] + a.args)
        wasm = compile_and_run(a.codegen, a.run, a.wasm, out, a.bounds, a.args)
        compare_outputs(wasm, native)


def find_executable(build_dir, name, suffix):
    for root, _, files in os.walk(build_dir):
        if name + suffix in files and "CMakeFiles" not in root:
            return os.path.join(root, name + suffix)
    fail(f"the build in {build_dir} made no {name}{suffix}")


def cmd_external(a):
    with work_dir(a.workdir, "external") as out:
        build_and_compare_external(a, out)


def build_and_compare_external(a, out):
    wasm_build = os.path.join(out, "wasm")
    native_build = os.path.join(out, "native")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    run_command([a.cmake, *generator, "-S", a.source, "-B", wasm_build,
                 f"-DCMAKE_TOOLCHAIN_FILE={a.toolchain}", "-DCMAKE_BUILD_TYPE=Release"], check=True)
    run_command([a.cmake, "--build", wasm_build], check=True)
    run_command([a.cmake, *generator, "-S", a.source, "-B", native_build,
                 "-DCMAKE_BUILD_TYPE=Release"], check=True)
    run_command([a.cmake, "--build", native_build], check=True)
    wasm_file = find_executable(wasm_build, a.target, ".wasm")
    with open(wasm_file, "rb") as f:
        if f.read(4) != b"\0asm":
            fail(f"{wasm_file} is not a wasm module")
    native = run_command([find_executable(native_build, a.target, "")] + a.args)
    wasm = compile_and_run(a.codegen, a.run, wasm_file, out, a.bounds, a.args)
    compare_outputs(wasm, native)


def cmd_expect(a):
    if a.prepare:
        compile_wasm(*a.prepare, a.bounds)
    for path in a.absent:
        if os.path.exists(path):
            os.remove(path)
    proc = run_command(a.command)
    sys.stderr.write(f"stdout: {proc.stdout!r}\nstderr: {proc.stderr!r}\n"
                     f"{describe_status(proc.returncode)}\n")
    problems = []
    if proc.returncode < 0:
        problems.append(f"crashed: {describe_status(proc.returncode)}")
    elif a.status is not None and proc.returncode != a.status:
        problems.append(f"expected exit status {a.status}, got {proc.returncode}")
    elif a.status is None and not (1 <= proc.returncode <= 125):
        problems.append(f"expected a failure status in 1..125, got {proc.returncode}")
    lines = proc.stderr.splitlines()
    if a.stderr_empty:
        if proc.stderr:
            problems.append("expected nothing on stderr")
    elif not lines or not lines[0].strip():
        problems.append("no message on stderr")
    else:
        if a.one_line and len(lines) != 1:
            problems.append(f"expected exactly one line on stderr, got {len(lines)}")
        if a.frame:
            want = [re.escape(f"  at {frame} +0x") + "[0-9a-f]+" for frame in a.frame]
            if len(lines) != 1 + len(want) or not all(
                    re.fullmatch(w, got) for w, got in zip(want, lines[1:])):
                problems.append(f"the lines after the first are not the backtrace {a.frame}")
        line = lines[0]
        if a.prefix is not None:
            if not line.startswith(a.prefix):
                problems.append(f"stderr line does not start with {a.prefix!r}")
            elif not line[len(a.prefix):].strip():
                problems.append("stderr line names no problem after the prefix")
        if a.line is not None and line != a.line:
            problems.append(f"stderr line is not {a.line!r}")
        for word in a.contains:
            if word.lower() not in line.lower():
                problems.append(f"stderr line does not mention {word!r}")
    if a.stdout is not None and proc.stdout != a.stdout:
        problems.append(f"stdout is not {a.stdout!r}")
    if a.stdout_regex is not None and not re.search(a.stdout_regex, proc.stdout):
        problems.append(f"stdout does not match {a.stdout_regex!r}")
    for text in a.stdout_contains:
        if text not in proc.stdout:
            problems.append(f"stdout does not contain {text!r}")
    for path in a.absent:
        if os.path.exists(path):
            problems.append(f"{path} exists (a failed run must leave no output file)")
    if problems:
        fail("; ".join(problems))
    print("PASS: " + (lines[0] if lines else describe_status(proc.returncode)))


def cmd_imports(a):
    """Expected file: one import a line, "name (params) -> results", in
    wasm-objdump's spelling, e.g. "faasmGetInput (i32, i32) -> nil"."""
    proc = run_command([a.objdump, "-x", a.wasm], check=True)
    types = dict(re.findall(r"^ - type\[(\d+)\] (.*)$", proc.stdout, re.M))
    found = set()
    for sig, module, name in re.findall(r"^ - func\[\d+\] sig=(\d+) .*<- (\S+?)\.(\S+)$",
                                        proc.stdout, re.M):
        if module == a.module:
            found.add(f"{name} {types.get(sig, '?')}")
    with open(a.expected) as f:
        expected = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    if sorted(found) != sorted(expected):
        sys.stderr.write("\n".join(diff_lines(sorted(expected), sorted(found),
                                               "expected", "imported")) + "\n")
        fail(f"the module's imports from {a.module!r} are not the expected ones")
    print(f"PASS: {len(found)} imports from {a.module!r} with the documented signatures")


def cmd_make_input(a):
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    if a.kind == "truncated":
        with open(a.source, "rb") as f:
            data = f.read()
        if len(data) < 16:
            fail(f"{a.source} is too small to truncate meaningfully")
        data = data[: len(data) * 2 // 3]  # keeps the header, cuts inside a section
    elif a.kind == "garbage":
        data = b"This is not a WebAssembly module, just text.\n" * 4
    elif a.kind == "empty":
        data = b""
    elif a.kind == "deep-text":
        # 5,000 nested blocks in the text format: deeper than faasm-codegen
        # lets WABT's recursive text parser go.
        data = (b"(module (func (export \"_start\")" + b" (block" * 5000 + b")" * 5000
                + b"))\n")
    with open(a.output, "wb") as f:
        f.write(data)


def cmd_wasm_build(a):
    if os.path.exists(a.output):
        os.remove(a.output)
    run_command(a.command, check=True)
    if not os.path.isfile(a.output):
        fail(f"the compile command wrote no {a.output}")
    run_command([a.validate, a.output], check=True)
    proc = run_command([a.objdump, "-j", "Export", "-x", a.output], check=True)
    for name in ("_start", "memory"):
        if not re.search(rf'-> "{name}"$', proc.stdout, re.M):
            fail(f"{a.output} does not export {name!r}")
    print(f"PASS: {a.output} is a valid command module ({os.path.getsize(a.output)} bytes)")
    os.remove(a.output)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)

    def tools(sp):
        sp.add_argument("--codegen", required=True)
        sp.add_argument("--run", required=True)
        sp.add_argument("--bounds", choices=["guard", "explicit"])
        sp.add_argument("--workdir", default=tempfile.gettempdir())
        sp.add_argument("args", nargs="*", help="arguments for the function (after --)")

    c = sub.add_parser("compare")
    c.add_argument("--wasm", required=True)
    c.add_argument("--native", required=True)
    tools(c)
    c.set_defaults(func=cmd_compare)

    e = sub.add_parser("external")
    e.add_argument("--cmake", default="cmake")
    e.add_argument("--toolchain", required=True)
    e.add_argument("--source", required=True)
    e.add_argument("--target", required=True, help="name of the executable target")
    tools(e)
    e.set_defaults(func=cmd_external)

    x = sub.add_parser("expect")
    x.add_argument("--status", type=int, help="exact exit status (default: any of 1..125)")
    x.add_argument("--prefix", help="literal start of the first stderr line")
    x.add_argument("--line", help="the whole first stderr line")
    x.add_argument("--contains", action="append", default=[],
                   help="case-insensitive word the stderr line must contain")
    x.add_argument("--one-line", action="store_true", help="stderr must be exactly one line")
    x.add_argument("--frame", action="append", default=[],
                   help="a frame the trap's backtrace must show, as \"NAME (func[N])\" (the "
                        "offset is any): the lines after the first are these, in order")
    x.add_argument("--stderr-empty", action="store_true", help="stderr must be empty")
    x.add_argument("--stdout", help="exact stdout")
    x.add_argument("--stdout-regex", help="a regular expression stdout must match (re.search)")
    x.add_argument("--stdout-contains", action="append", default=[],
                   help="text stdout must contain")
    x.add_argument("--absent", action="append", default=[],
                   help="a file that must not exist afterwards (removed before the run)")
    x.add_argument("--prepare", nargs=3, metavar=("CODEGEN", "WASM", "SO"),
                   help="first compile WASM to SO; it must succeed")
    x.add_argument("--bounds", choices=["guard", "explicit"], help="for --prepare")
    x.add_argument("command", nargs="+")
    x.set_defaults(func=cmd_expect)

    i = sub.add_parser("imports")
    i.add_argument("--objdump", default="wasm-objdump")
    i.add_argument("--module", required=True)
    i.add_argument("--expected", required=True, help="file with one import name per line")
    i.add_argument("--wasm", required=True)
    i.set_defaults(func=cmd_imports)

    m = sub.add_parser("make-input")
    m.add_argument("kind", choices=["truncated", "garbage", "empty", "deep-text"])
    m.add_argument("output")
    m.add_argument("--source")
    m.set_defaults(func=cmd_make_input)

    w = sub.add_parser("wasm-build")
    w.add_argument("--output", required=True)
    w.add_argument("--validate", default="wasm-validate")
    w.add_argument("--objdump", default="wasm-objdump")
    w.add_argument("command", nargs="+")
    w.set_defaults(func=cmd_wasm_build)

    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
