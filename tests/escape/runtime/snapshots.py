#!/usr/bin/env python3
"""Escape tests of snapshots and warm reset (docs/Faaslets.md, "Snapshot"):
what initialisation or a call leaves behind must be exactly what the next
call starts from, in a warm Faaslet, in a Faaslet forked from the
Proto-Faaslet and in one restored from a snapshot file.

    snapshots.py CASE --codegen C --run R --wat2wasm W --work DIR --bounds B --data DIR

  warm-reset-segments    a call's data.drop/elem.drop is undone by the reset
                         (they survived it: later warm runs trapped)
  init-dropped-segments  segments dropped during initialisation stay dropped,
                         also after a snapshot file (they came back)
  funcref-global         a funcref global set during initialisation survives a
                         snapshot file as a function index (it was written as a
                         raw host pointer: garbage in the restoring process, and
                         an ASLR leak)
  init-state             state mapped during initialisation stays shared in
                         every Faaslet and after warm resets (it became a
                         private copy: writes were lost); a snapshot file of
                         such a function is refused
  identity               a snapshot keys on the build: refused on a rebuilt v2
                         with one line naming v1's build, accepted for the same
                         artefact reached by another path

Every command runs with FAASM_ARTEFACT_KEY set to the test key and a fresh
FAASM_STATE_DIR. Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import hashlib
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from faasmtest import (ARTEFACT_KEY_ENV, TEST_ARTEFACT_KEY, check_equal, compile_wasm, expect_result,  # noqa: E402
                       fail, run_command, split_seal, work_dir)

RUN_TIMEOUT_SECONDS = 120


class Env:
    def __init__(self, args, directory):
        self.args = args
        self.dir = directory
        self.state = os.path.join(directory, "state")
        os.makedirs(self.state, exist_ok=True)
        self.env = dict(os.environ, FAASM_STATE_DIR=self.state)

    def wasm(self, name, text=None):
        """data/<name>.wat (or `text`) -> <dir>/<name>.wasm"""
        wat = os.path.join(self.args.data, name + ".wat")
        if text is not None:
            wat = os.path.join(self.dir, name + ".wat")
            with open(wat, "w") as f:
                f.write(text)
        wasm = os.path.join(self.dir, name + ".wasm")
        run_command([self.args.wat2wasm, wat, "-o", wasm], check=True)
        return wasm

    def so(self, name, text=None, out=None):
        wasm = self.wasm(name, text)
        out = out or os.path.join(self.dir, name + ".so")
        return compile_wasm(self.args.codegen, wasm, out, self.args.bounds)

    def run(self, *argv):
        p = run_command([self.args.run, *argv], env=self.env, timeout=RUN_TIMEOUT_SECONDS)
        return p.returncode, p.stdout, p.stderr


def one_line(err, prefix, *contains):
    if err.count("\n") != 1 or not err.startswith(prefix):
        fail(f"stderr: expected one line starting {prefix!r}, got {err!r}")
    for text in contains:
        if text not in err:
            fail(f"stderr: expected {text!r} in {err!r}")


def warm_reset_segments(env):
    so = env.so("segments")
    # Every run uses and drops both segments; the reset must bring them back.
    expect_result(env.run("--warm", "4", so), 49, stdout="", stderr="")
    snap = os.path.join(env.dir, "segments.snap")
    expect_result(env.run("--snapshot-out", snap, so), 0, stdout="", stderr="")
    expect_result(env.run("--snapshot-in", snap, "--warm", "3", so), 49, stdout="", stderr="")


def expect_traps(result, trap, count):
    """Status 134, no output, and `count` times the trap's line on stderr
    (each followed by where it happened, "  at ..." lines, not compared)."""
    _, err = expect_result(result, 134, stdout="")
    check_equal("stderr without the backtraces",
                [line for line in err.splitlines() if not line.startswith("  at ")],
                [trap] * count)


def init_dropped_segments(env):
    for name, trap in (("init-drop-data", "trap: out of bounds memory access"),
                       ("init-drop-elem", "trap: out of bounds table access")):
        so = env.so(name)
        snap = os.path.join(env.dir, name + ".snap")
        # Forked from the Proto-Faaslet, warm, and restored from a file: the
        # segment initialisation dropped is dropped in every call.
        expect_traps(env.run(so), trap, 1)
        expect_traps(env.run("--warm", "2", so), trap, 2)
        expect_result(env.run("--snapshot-out", snap, so), 0, stdout="", stderr="")
        expect_traps(env.run("--snapshot-in", snap, so), trap, 1)
        expect_traps(env.run("--snapshot-in", snap, "--warm", "2", so), trap, 2)


def read_snapshot_globals(path):
    """The global cells of a snapshot file (format 2, docs/Faaslets.md)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"FAASMSNP":
        fail(f"{path} is not a snapshot file")
    version, = struct.unpack_from("<I", data, 8)
    check_equal("snapshot format", version, 2)
    global_count, = struct.unpack_from("<Q", data, 32)
    name_length, = struct.unpack_from("<Q", data, 128)
    at = 136 + name_length
    return [struct.unpack_from("<QQ", data, at + 16 * i) for i in range(global_count)]


def funcref_global(env):
    so = env.so("funcref-global")
    expect_result(env.run(so), 33, stdout="", stderr="")
    snap = os.path.join(env.dir, "funcref.snap")
    expect_result(env.run("--snapshot-out", snap, so), 0, stdout="", stderr="")
    # Restored in another process (another address space), warm and cold.
    expect_result(env.run("--snapshot-in", snap, so), 33, stdout="", stderr="")
    expect_result(env.run("--snapshot-in", snap, "--warm", "3", so), 33, stdout="", stderr="")
    # The cell holds the function's index (0: the module's first function),
    # nothing that looks like an address of the process that wrote it.
    check_equal("funcref global in the snapshot file", read_snapshot_globals(snap), [(0, 0)])


def state_value(env):
    # The default user's directory (docs/State.md: one per user).
    user_dir = os.path.join(env.state, "faasm-demo")
    names = [n for n in os.listdir(user_dir) if "escape-counter" in n and not n.endswith(".append")]
    if len(names) != 1:
        fail(f"expected one state object for escape-counter in {user_dir}, found {names}")
    with open(os.path.join(user_dir, names[0]), "rb") as f:
        f.seek(4096)  # the value starts after the object's header (docs/State.md)
        return struct.unpack("<I", f.read(4))[0]


def init_state(env):
    so = env.so("init-state")
    # Each run adds one through the mapping initialisation made: a warm
    # Faaslet's runs and the next faasm-run's see each other's writes, and so
    # does the state object itself.
    expect_result(env.run("--warm", "3", so), 3, stdout="", stderr="")
    check_equal("state value after 3 runs", state_value(env), 3)
    expect_result(env.run(so), 4, stdout="", stderr="")
    expect_result(env.run("--warm", "2", so), 6, stdout="", stderr="")
    check_equal("state value after 6 runs", state_value(env), 6)
    # A snapshot file cannot carry a mapping of this host's state: refused,
    # rather than a file in which the state is a stale private copy.
    snap = os.path.join(env.dir, "state.snap")
    _, err = expect_result(env.run("--snapshot-out", snap, so), 126, stdout="")
    one_line(err, f"faasm-run: {so}: ", "mapped shared state")
    if os.path.exists(snap) and os.path.getsize(snap) > 0:
        fail("a snapshot file was written")


def identity(env):
    v1_text = open(os.path.join(env.args.data, "version.wat")).read()
    so = env.so("version", v1_text, out=os.path.join(env.dir, "app.so"))
    v1_copy = shutil.copy(so, os.path.join(env.dir, "v1.so.orig"))
    with open(os.path.join(env.dir, "version.wasm"), "rb") as f:
        v1_wasm_digest = hashlib.sha256(f.read()).hexdigest()
    snap = os.path.join(env.dir, "v1.snap")
    expect_result(env.run("--snapshot-out", snap, so), 0, stdout="", stderr="")
    expect_result(env.run("--snapshot-in", snap, so), 11, stdout="", stderr="")

    # The same artefact through another path: a copy elsewhere and a symlink.
    other = os.path.join(env.dir, "elsewhere")
    os.makedirs(other, exist_ok=True)
    copy = shutil.copy(so, os.path.join(other, "renamed.so"))
    link = os.path.join(other, "link.so")
    os.symlink(so, link)
    for path in (copy, link):
        expect_result(env.run("--snapshot-in", snap, path), 11, stdout="", stderr="")

    # v2, rebuilt in place under the same name from the same source path:
    # v1's snapshot is not for it (restored, v2 would run from v1's memory).
    env.so("version", v1_text.replace("(i32.const 11 (; VERSION ;))", "(i32.const 22 (; VERSION ;))"),
           out=so)
    expect_result(env.run(so), 22, stdout="", stderr="")
    _, err = expect_result(env.run("--snapshot-in", snap, so), 126, stdout="")
    # The line names the build the snapshot belongs to: v1's image and wasm
    # digests, as v1's seal records them.
    with open(v1_copy, "rb") as f:
        _, seal = split_seal(f.read())
    check_equal("source digest in v1's seal", seal["source_digest"].hex(), v1_wasm_digest)
    one_line(err, f"faasm-run: {so}: ", f"snapshot {snap} belongs to build {seal['image_digest'][:6].hex()}",
             f"(wasm sha256 {v1_wasm_digest[:12]})", "take the snapshot again")


CASES = {
    "warm-reset-segments": warm_reset_segments,
    "init-dropped-segments": init_dropped_segments,
    "funcref-global": funcref_global,
    "init-state": init_state,
    "identity": identity,
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case", choices=sorted(CASES))
    for option in ("--codegen", "--run", "--wat2wasm", "--work", "--bounds", "--data"):
        p.add_argument(option, required=True)
    args = p.parse_args()
    # Compiler and runner share the test key (compile_wasm runs with this environment).
    os.environ[ARTEFACT_KEY_ENV] = TEST_ARTEFACT_KEY
    with work_dir(args.work, f"{args.case}-{args.bounds}") as directory:
        CASES[args.case](Env(args, directory))


if __name__ == "__main__":
    main()
