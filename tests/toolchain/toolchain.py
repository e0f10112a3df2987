#!/usr/bin/env python3
"""Driver of the toolchain.* tests: configures and builds the probe project with
sysroot/WasiToolchain.cmake and runs the wrappers, then compares what came out
with what must. Every subcommand exits non-zero, with one line per mismatch, when
anything differs, and also when what it should look at is missing.

  configure --cmake C --toolchain T --source S --build B [--expect-failure]
            [--output TEXT]... [--env NAME=VALUE]... -- cmake arguments
            (the output is kept in B/configure-output.txt)
  cache     --build B [--output TEXT]... NAME=VALUE... | NAME!
            (NAME! : no such entry; --output: in the configure's output)
  compile-line --build B --source FILE [--has REGEX]... [--lacks REGEX]...
  build     --cmake C --build B --target T --wasm FILE [--export NAME]...
  command   [--expect-failure] [--output TEXT]... -- program arguments
  emulator-search --cmake C --sysroot DIR --source S --fake-run F --work W
  ctest     --cmake C --ctest T --toolchain T --source S --build B --run FAASM_RUN
            --passed NAME... --failed NAME...
            (configure with FAASM_RUN, build, run the project's ctest with a
            cache of its own: exactly those tests pass and fail, each run as
            "FAASM_RUN <test>.wasm")
Any subcommand takes --requires FILE (repeatable): a file the check means
nothing without (a host header that must not be seen); missing, it fails.
"""
import argparse
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import faasmtest  # noqa: E402

failures = []
OUTPUT_FILE = "configure-output.txt"


def fail(message):
    """Records a failed check; the test goes on to report every one."""
    failures.append(message)


def finish():
    for message in failures[:-1]:
        print(f"FAIL: {message}", file=sys.stderr)
    if failures:
        faasmtest.fail(failures[-1])
    sys.exit(0)


def run(argv, env=None):
    """Runs argv; returns (exit status, stdout and stderr together)."""
    print("+ " + " ".join(argv), flush=True)
    result = faasmtest.capture(argv, env=env, merge_stderr=True)
    print(result.stdout, flush=True)
    return result.returncode, result.stdout


def check_outcome(status, output, expect_failure, texts):
    if expect_failure and status == 0:
        fail("succeeded, but must fail")
    if not expect_failure and status != 0:
        fail(f"failed with exit status {status}, but must succeed")
    # CMake wraps the text of warnings and errors across lines.
    flowing = " ".join(output.split())
    for text in texts:
        if " ".join(text.split()) not in flowing:
            fail(f"output lacks: {text}")


def read_cache(build):
    path = os.path.join(build, "CMakeCache.txt")
    if not os.path.isfile(path):
        fail(f"{path}: no such file (did the configure run?)")
        finish()
    entries = {}
    with open(path) as cache:
        for line in cache:
            match = re.match(r"^([^#/][^:=]*):[A-Z]+=(.*)$", line.rstrip("\n"))
            if match:
                entries[match.group(1)] = match.group(2)
    return entries


def cmd_configure(a):
    # A fresh build directory each time: the checks are cached, so an old
    # cache would answer for a toolchain file that is no longer there.
    shutil.rmtree(a.build, ignore_errors=True)
    env = dict(os.environ)
    for assignment in a.env:
        name, _, value = assignment.partition("=")
        env[name] = value
    args = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
    status, output = run([a.cmake, "-G", a.generator, "-S", a.source, "-B", a.build,
                          f"-DCMAKE_TOOLCHAIN_FILE={a.toolchain}", *args], env)
    if os.path.isdir(a.build):
        with open(os.path.join(a.build, OUTPUT_FILE), "w") as f:
            f.write(output)
    check_outcome(status, output, a.expect_failure, a.output)


def cmd_cache(a):
    entries = read_cache(a.build)
    if a.output:
        path = os.path.join(a.build, OUTPUT_FILE)
        if not os.path.isfile(path):
            fail(f"{path}: no such file")
            finish()
        with open(path) as f:
            check_outcome(0, f.read(), False, a.output)
    for expectation in a.expectations:
        if expectation.endswith("!"):
            name = expectation[:-1]
            if name in entries:
                fail(f"{name}={entries[name]} is in the cache, but must not be")
            continue
        name, sep, value = expectation.partition("=")
        if not sep:
            fail(f"bad expectation {expectation!r} (NAME=VALUE or NAME!)")
        elif name not in entries:
            fail(f"{name}: not in the cache (the probe did not record it)")
        elif entries[name] != value:
            fail(f"{name}={entries[name]!r}, expected {value!r}")


def cmd_compile_line(a):
    path = os.path.join(a.build, "compile_commands.json")
    if not os.path.isfile(path):
        fail(f"{path}: no such file")
        finish()
    with open(path) as f:
        commands = [c for c in json.load(f) if os.path.basename(c["file"]) == a.source]
    if len(commands) != 1:
        fail(f"{a.source}: {len(commands)} compile commands, expected 1")
        finish()
    line = commands[0]["command"]
    print(line)
    for regex in a.has:
        if not re.search(regex, line):
            fail(f"compile line of {a.source} lacks {regex}")
    for regex in a.lacks:
        if re.search(regex, line):
            fail(f"compile line of {a.source} has {regex}")


def leb128(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def wasm_exports(data):
    """Names in the export section of a wasm binary."""
    pos, names = 8, []
    while pos < len(data):
        section, pos = data[pos], pos + 1
        size, pos = leb128(data, pos)
        if section == 7:
            count, p = leb128(data, pos)
            for _ in range(count):
                length, p = leb128(data, p)
                names.append(data[p:p + length].decode())
                p += length + 1  # name, export kind
                _, p = leb128(data, p)  # index
        pos += size
    return names


def cmd_build(a):
    status, _ = run([a.cmake, "--build", a.build, "--target", a.target])
    if status != 0:
        fail(f"building {a.target} failed with exit status {status}")
        finish()
    if not os.path.isfile(a.wasm):
        fail(f"{a.wasm}: not built")
        finish()
    with open(a.wasm, "rb") as f:
        data = f.read()
    if data[:8] != b"\0asm\x01\0\0\0":
        fail(f"{a.wasm}: not a wasm module (version 1)")
        finish()
    exports = wasm_exports(data)
    print(f"{a.wasm}: {len(data)} bytes, exports {exports}")
    for name in a.export:
        if name not in exports:
            fail(f"{a.wasm} does not export {name}")


def cmd_command(a):
    argv = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
    if not argv:
        fail("no command given")
        finish()
    status, output = run(argv)
    check_outcome(status, output, a.expect_failure, a.output)


def cmd_emulator_search(a):
    """Where the toolchain file looks for faasm-run, in order: <sysroot>/../build/bin,
    <sysroot>/../../bin, PATH. Checked on a copy of the sysroot laid out as
    <prefix>/share/sysroot, a faasm-run in each place, removed one at a time."""
    shutil.rmtree(a.work, ignore_errors=True)
    prefix = os.path.join(a.work, "prefix")
    sysroot = os.path.join(prefix, "share", "sysroot")
    shutil.copytree(a.sysroot, sysroot, symlinks=True)
    places = [os.path.join(prefix, "share", "build", "bin"), os.path.join(prefix, "bin"),
              os.path.join(a.work, "path-bin")]
    for place in places:
        os.makedirs(place)
        shutil.copy(a.fake_run, os.path.join(place, "faasm-run"))
    env = dict(os.environ, PATH=os.pathsep.join([places[2], "/usr/bin", "/bin"]))
    for place in places:
        build = os.path.join(a.work, "build")
        shutil.rmtree(build, ignore_errors=True)
        status, _ = run([a.cmake, "-G", "Ninja", "-S", a.source, "-B", build,
                         f"-DCMAKE_TOOLCHAIN_FILE={sysroot}/WasiToolchain.cmake",
                         "-DPROBE_CHECKS=OFF"], env)
        if status != 0:
            fail(f"configure failed with exit status {status}")
            finish()
        expected = os.path.join(place, "faasm-run")
        entries = read_cache(build)
        for name in ("FAASM_RUN", "PROBE_EMULATOR"):
            if entries.get(name) != expected:
                fail(f"{name}={entries.get(name)!r}, expected {expected!r}")
        os.remove(expected)


def cmd_ctest(a):
    shutil.rmtree(a.build, ignore_errors=True)
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(a.build, "faasm-cache"))
    status, output = run([a.cmake, "-G", "Ninja", "-S", a.source, "-B", a.build,
                          f"-DCMAKE_TOOLCHAIN_FILE={a.toolchain}", f"-DFAASM_RUN={a.run}"], env)
    if status != 0:
        fail(f"configure failed with exit status {status}")
        finish()
    status, output = run([a.cmake, "--build", a.build], env)
    if status != 0:
        fail(f"build failed with exit status {status}")
        finish()
    status, output = run([a.ctest, "--test-dir", a.build, "-V"], env)
    results = dict(re.findall(r"Test +#\d+: (\S+) \.+ *(?:\*\*\*)?(\w+)", output))
    passed = sorted(name for name, result in results.items() if result == "Passed")
    failed = sorted(name for name, result in results.items() if result != "Passed")
    if passed != sorted(a.passed) or failed != sorted(a.failed):
        fail(f"ctest: passed {passed}, failed {failed}; expected passed {sorted(a.passed)}, "
             f"failed {sorted(a.failed)}")
    if (status == 0) != (not a.failed):
        fail(f"ctest exited {status}")
    commands = re.findall(r"^\d+: Test command: (\S+) (\S+)", output, re.M)
    if len(commands) != len(results):
        fail(f"{len(commands)} test commands for {len(results)} tests")
    for emulator, executable in commands:
        if emulator.strip('"') != a.run or not executable.strip('"').endswith(".wasm"):
            fail(f"test command {emulator} {executable}: not {a.run} running a .wasm")
    summary = f"{len(a.passed) * 100 // max(1, len(results))}% tests passed, " \
              f"{len(a.failed)} tests failed out of {len(results)}"
    if summary not in output:
        fail(f"ctest's summary is not {summary!r}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser("configure")
    c.add_argument("--cmake", required=True)
    c.add_argument("--generator", default="Ninja")
    c.add_argument("--toolchain", required=True)
    c.add_argument("--source", required=True)
    c.add_argument("--build", required=True)
    c.add_argument("--expect-failure", action="store_true")
    c.add_argument("--output", action="append", default=[])
    c.add_argument("--env", action="append", default=[])
    c.add_argument("rest", nargs=argparse.REMAINDER)
    c.set_defaults(func=cmd_configure)

    k = sub.add_parser("cache")
    k.add_argument("--build", required=True)
    k.add_argument("--output", action="append", default=[])
    k.add_argument("expectations", nargs="+")
    k.set_defaults(func=cmd_cache)

    l = sub.add_parser("compile-line")
    l.add_argument("--build", required=True)
    l.add_argument("--source", required=True)
    l.add_argument("--has", action="append", default=[])
    l.add_argument("--lacks", action="append", default=[])
    l.set_defaults(func=cmd_compile_line)

    b = sub.add_parser("build")
    b.add_argument("--cmake", required=True)
    b.add_argument("--build", required=True)
    b.add_argument("--target", required=True)
    b.add_argument("--wasm", required=True)
    b.add_argument("--export", action="append", default=[])
    b.set_defaults(func=cmd_build)

    x = sub.add_parser("command")
    x.add_argument("--expect-failure", action="store_true")
    x.add_argument("--output", action="append", default=[])
    x.add_argument("rest", nargs=argparse.REMAINDER)
    x.set_defaults(func=cmd_command)

    e = sub.add_parser("emulator-search")
    e.add_argument("--cmake", required=True)
    e.add_argument("--sysroot", required=True)
    e.add_argument("--source", required=True)
    e.add_argument("--fake-run", required=True)
    e.add_argument("--work", required=True)
    e.set_defaults(func=cmd_emulator_search)

    t = sub.add_parser("ctest")
    t.add_argument("--cmake", required=True)
    t.add_argument("--ctest", required=True)
    t.add_argument("--toolchain", required=True)
    t.add_argument("--source", required=True)
    t.add_argument("--build", required=True)
    t.add_argument("--run", required=True)
    t.add_argument("--passed", nargs="*", default=[])
    t.add_argument("--failed", nargs="*", default=[])
    t.set_defaults(func=cmd_ctest)

    for p in (c, k, l, b, x, e, t):
        p.add_argument("--requires", action="append", default=[])
    a = parser.parse_args()
    for path in a.requires:
        if not os.path.exists(path):
            fail(f"{path}: missing, so this test would show nothing")
    if failures:
        finish()
    a.func(a)
    finish()


if __name__ == "__main__":
    main()
