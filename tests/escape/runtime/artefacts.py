#!/usr/bin/env python3
"""Escape tests of artefact integrity (docs/Security.md, "Runtime and artefacts"): faasm-run
must refuse every artefact faasm-codegen did not make for this platform,
with one line and before any byte of it runs, whatever the options.

    artefacts.py --codegen C --run R --wat2wasm W --work DIR --bounds B --data DIR

The attacks, each a file in the function table:
  unsealed     the image without its seal (any plain shared object)
  truncated-N  the artefact cut to N bytes
  flipped-N    one bit of byte N flipped (ELF header, program headers, code,
               descriptor, the seal's digest, key id and MAC)
  foreign      compiled by faasm-codegen under another platform's key
  forged       code changed and the seal's SHA-256 recomputed: all an attacker
               who writes .so files but has no key can do
  ctor         a shared object whose constructor creates a marker file (it ran
               as the runner's user, before any check), unsealed, sealed under
               another key and sealed under this platform's key (the ELF check
               must refuse what the MAC would let through were the key leaked)
Each is run with every faasm-run option (and chained to by a genuine
caller); each run must end with status 126 and exactly one line
"faasm-run: <file>: <problem>" (the caller: with the callee's 126), never
with a signal, and no marker may exist afterwards. The genuine artefact must
run with every option first, so that a refusal is the check's doing.

Commands run with FAASM_ARTEFACT_KEY set to the test key and a fresh
FAASM_STATE_DIR. Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import hashlib
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from faasmtest import (ARTEFACT_KEY_ENV, SEAL_BYTES, TEST_ARTEFACT_KEY, capture,  # noqa: E402
                       compile_wasm, describe_status, fail, require_tool, run_command,
                       seal_artefact, seal_fields, skip, split_seal, work_dir)

OTHER_KEY = "0f" * 32
RUN_TIMEOUT_SECONDS = 60

CTOR_SOURCE = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void escape(void) {
  int fd = open("%s", O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
}
/* Looks like an artefact to a loader that trusts the symbol. */
__attribute__((visibility("default"))) const unsigned faasm_module_descriptor[64] = {0x4d534146, 2};
"""


class Run:
    def __init__(self, args, directory):
        self.args = args
        self.dir = directory
        self.env = dict(os.environ, FAASM_STATE_DIR=os.path.join(directory, "state"))
        os.makedirs(self.env["FAASM_STATE_DIR"], exist_ok=True)
        self.checked = 0

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def wasm(self, name):
        wasm = self.path(name + ".wasm")
        run_command([self.args.wat2wasm, os.path.join(self.args.data, name + ".wat"), "-o", wasm],
                    check=True)
        return wasm

    def faasm_run(self, argv, stdin=""):
        try:
            p = capture([self.args.run, *argv], env=self.env, input=stdin,
                        timeout=RUN_TIMEOUT_SECONDS)
        except Exception as e:  # a hang is a failure too
            fail(f"faasm-run {' '.join(argv)}: {e}")
        return p.returncode, p.stdout, p.stderr


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_attacks(run, genuine_path, marker):
    """{name: bytes} of every attack file."""
    with open(genuine_path, "rb") as f:
        genuine = f.read()
    image, seal = split_seal(genuine)
    attacks = {"unsealed": image}
    for n in sorted({0, 1, 63, 64, len(image) // 2, len(image) - 1, len(image) + 1,
                     len(genuine) - 1}):
        attacks[f"truncated-{n}"] = genuine[:n]
    for n in sorted({0, 5, 0x18, 0x40, 0x80, len(image) // 3, len(image) // 2, len(image) - 1,
                     len(image) + 24, len(image) + 60, len(image) + 90, len(genuine) - 1}):
        flipped = bytearray(genuine)
        flipped[n] ^= 0x04
        attacks[f"flipped-{n}"] = bytes(flipped)
    # Another platform's faasm-codegen: a real artefact, another key.
    foreign = run.path("foreign-build.so")
    os.environ[ARTEFACT_KEY_ENV] = OTHER_KEY
    compile_wasm(run.args.codegen, run.wasm("exit7"), foreign, run.args.bounds)
    os.environ[ARTEFACT_KEY_ENV] = TEST_ARTEFACT_KEY
    with open(foreign, "rb") as f:
        attacks["foreign"] = f.read()
    # Changed code, a fresh SHA-256, the genuine key id and MAC.
    evil = bytearray(image)
    evil[len(evil) // 2] ^= 0xff
    evil = bytes(evil)
    attacks["forged"] = evil + seal_fields(evil, OTHER_KEY, seal["source_digest"],
                                           key_id=seal["key_id"])[:96] + seal["mac"]
    # The constructor attack.
    source = run.path("ctor.c")
    with open(source, "w") as f:
        f.write(CTOR_SOURCE % marker)
    ctor = run.path("ctor-build.so")
    run_command([require_tool("cc"), "-shared", "-fPIC", "-O1", source, "-o", ctor], check=True)
    with open(ctor, "rb") as f:
        ctor_image = f.read()
    attacks["ctor-unsealed"] = ctor_image
    attacks["ctor-foreign-key"] = seal_artefact(ctor_image, OTHER_KEY)
    attacks["ctor-sealed"] = seal_artefact(ctor_image, TEST_ARTEFACT_KEY)
    return attacks


def option_sets(run, genuine_snapshot):
    """(name, argv before the module, argv after it, expected genuine status)."""
    input_file = write(run.path("input.txt"), b"some input")
    preopen = run.path("preopen")
    os.makedirs(preopen, exist_ok=True)
    return [
        ("plain", [], [], 7),
        ("invoke-start", ["--invoke", "_start"], [], 7),
        ("invoke-export", ["--invoke", "add"], ["2", "3"], 0),
        ("warm", ["--warm", "3"], [], 7),
        ("input", ["--input", "hello"], [], 7),
        ("input-file", ["--input-file", input_file], [], 7),
        ("input-stdin", ["--input-file", "-"], [], 7),
        ("output-file", ["--output-file", run.path("output.bin")], [], 7),
        ("env", ["--env", "A=B"], [], 7),
        ("dir", ["--dir", preopen], [], 7),
        ("user", ["--user", "mallory"], [], 7),
        ("snapshot-out", ["--snapshot-out", run.path("out.snap")], [], 0),
        ("snapshot-in", ["--snapshot-in", genuine_snapshot], [], 7),
        ("memory-limit", ["--memory-limit", "64"], [], 7),
        ("cpu", ["--cpu", "1"], [], 7),
        ("timeout", ["--timeout", "30"], [], 7),
        ("guest-args", [], ["a", "--dir", "b"], 7),
    ]


def check_refused(run, what, result, path, marker):
    status, out, err = result
    run.checked += 1
    if status is not None and status < 0:
        fail(f"{what}: faasm-run {describe_status(status)}\nstderr: {err!r}")
    if status != 126:
        fail(f"{what}: expected status 126 (refused), got {describe_status(status)}\n"
             f"stdout: {out!r}\nstderr: {err!r}")
    if err.count("\n") != 1 or not err.startswith(f"faasm-run: {path}: "):
        fail(f"{what}: expected one line 'faasm-run: {path}: <problem>', got {err!r}")
    if os.path.exists(marker):
        fail(f"{what}: the artefact's constructor ran")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    for option in ("--codegen", "--run", "--wat2wasm", "--work", "--bounds", "--data"):
        p.add_argument(option, required=True)
    args = p.parse_args()
    os.environ[ARTEFACT_KEY_ENV] = TEST_ARTEFACT_KEY
    with work_dir(args.work, f"artefacts-{args.bounds}") as directory:
        run = Run(args, directory)
        marker = run.path("constructor-ran")
        for sub in ("genuine", "caller"):
            os.makedirs(run.path(sub), exist_ok=True)
        genuine = compile_wasm(args.codegen, run.wasm("exit7"), run.path("genuine", "exit7.so"),
                               args.bounds)
        genuine_snapshot = run.path("genuine.snap")
        status, _, err = run.faasm_run(["--snapshot-out", genuine_snapshot, genuine])
        if status != 0:
            fail(f"the genuine artefact's snapshot: {describe_status(status)}: {err!r}")

        # Options the genuine artefact cannot run with here (no cgroups, or an
        # older faasm-run without them) cannot show a refusal either.
        options, skipped = [], []
        for name, before, after, want in option_sets(run, genuine_snapshot):
            status, out, err = run.faasm_run([*before, genuine, *after])
            if status == want:
                options.append((name, before, after))
            elif status == 126 and (name in ("memory-limit", "cpu", "timeout")
                                    or "unknown option" in err):
                skipped.append(f"{name} ({err.strip()})")
            else:
                fail(f"genuine artefact with {name}: expected {want}, got "
                     f"{describe_status(status)}: {err!r}")
        if not options:
            skip("faasm-run runs nothing here")

        attacks = make_attacks(run, genuine, marker)
        caller = compile_wasm(args.codegen, run.wasm("chain-victim"),
                              run.path("caller", "chain-victim.so"), args.bounds)
        for attack, data in attacks.items():
            path = write(run.path("attack", attack, "victim.so"), data)
            for name, before, after in options:
                check_refused(run, f"{attack} with {name}", run.faasm_run([*before, path, *after]),
                              path, marker)
            # --functions: the attack as the main function of a table and as a
            # callee of a genuine caller, whose call fails (126) and who lives.
            table = os.path.dirname(path)
            check_refused(run, f"{attack} with --functions",
                          run.faasm_run(["--functions", table, path]), path, marker)
            status, out, err = run.faasm_run(["--functions", table, caller])
            run.checked += 1
            if status != 126 or os.path.exists(marker):
                fail(f"{attack} as a chained callee: expected the caller to exit with the "
                     f"callee's 126, got {describe_status(status)}: {err!r}")
        print(f"{run.checked} runs refused as they should; options not available here: "
              f"{', '.join(skipped) or 'none'}")


if __name__ == "__main__":
    main()
