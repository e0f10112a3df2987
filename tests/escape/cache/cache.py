#!/usr/bin/env python3
"""Escape tests, class "cache": getting one's own code run in place of
someone else's .wasm or .wat module through faasm-run's compile cache
(docs/Security.md, "The compile cache").

The attacker's code is a genuine artefact of this platform (compiled by
faasm-codegen under the platform key: a seal check alone lets it through),
of a module that exits 66; the victim's module exits 42. Each case plants
the attacker's artefact where the victim's cache entry would be and runs the
victim's module: it must exit 42 (the victim's code ran, compiled afresh),
say why in one warning line, and leave the planted file alone.

  planted-entry       in the victim's own cache: a .wasm whose entry's seal
                      names another source
  shared-directory    a cache directory others may write to (mode 0777); a
                      .wat module, whose source the seal cannot vouch for
  symlinked-directory $XDG_CACHE_HOME/faasm a symlink to such a directory
  foreign-owner       a cache directory of another uid (root only)
"""

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from faasmtest import (TEST_ARTEFACT_KEY, compile_wasm, fail, run_command, skip,  # noqa: E402
                       work_dir)

VICTIM = 42
ATTACKER = 66


def module_text(code):
    return f"""(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $proc_exit (i32.const {code}))
    unreachable))
"""


class World:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.cache_home = os.path.join(work, "cache-home")
        self.env = dict(os.environ, XDG_CACHE_HOME=self.cache_home,
                        FAASM_ARTEFACT_KEY=TEST_ARTEFACT_KEY, TMPDIR=work)
        self.env.pop("FAASM_LOG", None)
        self.env.pop("FAASM_CODEGEN", None)

    def write(self, name, code, binary):
        wat = os.path.join(self.work, name + ".wat")
        with open(wat, "w", encoding="utf-8") as f:
            f.write(module_text(code))
        if not binary:
            return wat
        wasm = os.path.join(self.work, name + ".wasm")
        run_command([self.args.wat2wasm, wat, "-o", wasm], check=True)
        return wasm

    def run(self, module):
        return run_command([self.args.run, f"--bounds={self.args.bounds}", module], env=self.env)

    def attacker_artefact(self):
        """A genuine artefact (this platform's key) of the attacker's module."""
        so = os.path.join(self.work, "attacker.so")
        return compile_wasm(self.args.codegen, self.write("attacker", ATTACKER, True), so,
                            self.args.bounds)

    def victim_entry(self, victim):
        """The victim's cache entry, made by a first run in a private cache."""
        proc = self.run(victim)
        if proc.returncode != VICTIM:
            fail(f"the victim's first run: status {proc.returncode}, stderr {proc.stderr!r}")
        cache = os.path.join(self.cache_home, "faasm")
        names = os.listdir(cache)
        if len(names) != 1:
            fail(f"want one cache entry after the first run, got {names}")
        return cache, names[0]


def expect_victim(world, victim, planted, warning):
    with open(planted, "rb") as f:
        before = f.read()
    proc = world.run(victim)
    if proc.returncode == ATTACKER:
        fail(f"the attacker's artefact ran in place of {victim}")
    if proc.returncode != VICTIM:
        fail(f"status {proc.returncode}, want {VICTIM}; stderr {proc.stderr!r}")
    lines = proc.stderr.splitlines()
    if len(lines) != 1 or warning not in lines[0]:
        fail(f"want one warning line containing {warning!r}, got {proc.stderr!r}")
    with open(planted, "rb") as f:
        if f.read() != before:
            fail("the planted file was changed")
    print(f"refused: {lines[0]}")


def case_planted_entry(world):
    victim = world.write("victim", VICTIM, True)
    cache, name = world.victim_entry(victim)
    shutil.copyfile(world.attacker_artefact(), os.path.join(cache, name))
    # The planted entry is refused and replaced, so compare with a copy.
    planted = os.path.join(world.work, "planted-copy.so")
    shutil.copyfile(os.path.join(cache, name), planted)
    expect_victim(world, victim, planted, "its seal names another source than this module")
    expect_victim_silent(world, victim)


def expect_victim_silent(world, victim):
    proc = world.run(victim)
    if proc.returncode != VICTIM or proc.stderr:
        fail(f"after the refusal: status {proc.returncode}, stderr {proc.stderr!r}")


def plant_in_open_directory(world, victim):
    """The victim's entry name, in a directory anyone may write to, holding
    the attacker's artefact. Returns (that directory, the planted file)."""
    cache, name = world.victim_entry(victim)
    shared = os.path.join(world.work, "shared")
    os.rename(cache, shared)
    os.chmod(shared, 0o777)
    planted = os.path.join(shared, name)
    shutil.copyfile(world.attacker_artefact(), planted)
    return shared, planted


def case_shared_directory(world):
    victim = world.write("victim", VICTIM, False)
    shared, planted = plant_in_open_directory(world, victim)
    os.rename(shared, os.path.join(world.cache_home, "faasm"))
    planted = os.path.join(world.cache_home, "faasm", os.path.basename(planted))
    expect_victim(world, victim, planted, "others may write to it (mode 0777)")
    if os.listdir(os.path.dirname(planted)) != [os.path.basename(planted)]:
        fail(f"faasm-run wrote into the shared directory: {os.listdir(os.path.dirname(planted))}")


def case_symlinked_directory(world):
    victim = world.write("victim", VICTIM, False)
    shared, planted = plant_in_open_directory(world, victim)
    os.symlink(shared, os.path.join(world.cache_home, "faasm"))
    expect_victim(world, victim, planted, "not a directory")


def case_foreign_owner(world):
    if os.geteuid() != 0:
        skip("needs root to give the cache directory to another uid")
    victim = world.write("victim", VICTIM, False)
    cache, name = world.victim_entry(victim)
    planted = os.path.join(cache, name)
    shutil.copyfile(world.attacker_artefact(), planted)
    os.chown(cache, 12345, 12345)
    os.chmod(cache, 0o755)
    expect_victim(world, victim, planted, "it belongs to uid 12345")


CASES = {"planted-entry": case_planted_entry, "shared-directory": case_shared_directory,
         "symlinked-directory": case_symlinked_directory, "foreign-owner": case_foreign_owner}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--wat2wasm", required=True)
    parser.add_argument("--bounds", choices=("guard", "explicit"), default="guard")
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.environ["FAASM_ARTEFACT_KEY"] = TEST_ARTEFACT_KEY  # compile_wasm's seals too
    with work_dir(args.work, f"{args.case}.{args.bounds}") as work:
        CASES[args.case](World(args, work))


if __name__ == "__main__":
    main()
