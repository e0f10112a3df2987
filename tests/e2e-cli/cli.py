#!/usr/bin/env python3
"""faasm-run as a user meets it: .wasm and .wat modules run through the
compile cache, the cache subcommand, the state subcommand. Each subcommand
is one test; it exits 0 on pass and 1 (after saying why) on failure.

Every test has a cache of its own (XDG_CACHE_HOME in a fresh directory), its
own TMPDIR and its own state directory (FAASM_STATE_DIR), and seals with the
test key (FAASM_ARTEFACT_KEY). Cache hits are told by the entry's inode and
modification time, never by how long a run took.
"""

import argparse
import os
import pty
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (TEST_ARTEFACT_KEY, capture, fail, finish_command,  # noqa: E402
                       run_command, skip, start_command, work_dir)


def exit_module(code, extra=""):
    """A command module that exits with `code` (WASI proc_exit)."""
    return f""";; exits with {code}{extra}
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $proc_exit (i32.const {code}))
    unreachable))
"""


class Env:
    """A test's private world: cache, temporary and state directories."""

    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.cache = os.path.join(work, "cache")
        self.tmp = os.path.join(work, "tmp")
        self.state = os.path.join(work, "state")
        for d in (self.tmp, self.state):
            os.makedirs(d)
        os.chmod(self.state, 0o1777)  # Faaslets of another uid (as root) make their directories
        self.env = dict(os.environ, XDG_CACHE_HOME=self.cache, TMPDIR=self.tmp,
                        FAASM_STATE_DIR=self.state, FAASM_ARTEFACT_KEY=TEST_ARTEFACT_KEY)
        self.env.pop("FAASM_LOG", None)
        self.env.pop("FAASM_CODEGEN", None)

    @property
    def cache_dir(self):
        return os.path.join(self.cache, "faasm")

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run(self, cmd_args, env=None, input=None):
        return run_command([self.args.run, *cmd_args], env=env or self.env, input=input)

    def entries(self):
        """The cache directory's files: {name: (inode, mtime_ns)}."""
        if not os.path.isdir(self.cache_dir):
            return {}
        out = {}
        for name in os.listdir(self.cache_dir):
            st = os.stat(os.path.join(self.cache_dir, name))
            out[name] = (st.st_ino, st.st_mtime_ns)
        return out


def expect(proc, status, what):
    if proc.returncode != status:
        fail(f"{what}: exit status {proc.returncode}, want {status}\n"
             f"stdout: {proc.stdout!r}\nstderr: {proc.stderr!r}")


def only_entry(env, what):
    entries = env.entries()
    if len(entries) != 1 or not next(iter(entries)).endswith(".so"):
        fail(f"{what}: the cache should hold one artefact, it holds {sorted(entries)}")
    return entries


# ----- the cache -----------------------------------------------------------------------


def cmd_cache_hit(env):
    """First run compiles (one entry appears), the second uses it (same inode
    and mtime, and FAASM_LOG=debug says so); a .wasm does the same."""
    module = env.write("exit.wat", exit_module(42))
    expect(env.run([module]), 42, "first run")
    first = only_entry(env, "after the first run")
    second = env.run([module], env=dict(env.env, FAASM_LOG="debug"))
    expect(second, 42, "second run")
    if env.entries() != first:
        fail(f"the second run rewrote the cache: {first} -> {env.entries()}")
    if "cache hit" not in second.stderr:
        fail(f"FAASM_LOG=debug says no cache hit: {second.stderr!r}")
    wasm = os.path.join(env.work, "exit.wasm")
    run_command([env.args.wat2wasm, module, "-o", wasm], check=True)
    expect(env.run([wasm]), 42, "the binary module")
    expect(env.run([wasm]), 42, "the binary module again")
    if len(env.entries()) != 2:
        fail(f"a .wasm should have one entry of its own: {sorted(env.entries())}")
    print("second runs hit the cache")


def cmd_cache_changed(env):
    """Changed input, and another bounds mode, are other entries."""
    module = env.write("exit.wat", exit_module(42))
    expect(env.run([module]), 42, "first module")
    first = only_entry(env, "after the first run")
    env.write("exit.wat", exit_module(43))
    expect(env.run([module]), 43, "changed module")
    entries = env.entries()
    if len(entries) != 2 or not set(first.items()) <= set(entries.items()):
        fail(f"a changed module should add an entry and keep the old: {first} -> {entries}")
    expect(env.run(["--bounds=explicit", module]), 43, "explicit bounds")
    if len(env.entries()) != 3:
        fail(f"--bounds=explicit should be an entry of its own: {sorted(env.entries())}")
    print("a changed module and another bounds mode compile anew")


def cmd_no_cache(env):
    """--no-cache compiles, runs and leaves nothing: no cache entry, nothing in TMPDIR."""
    module = env.write("exit.wat", exit_module(42))
    expect(env.run(["--no-cache", module]), 42, "--no-cache run")
    if env.entries():
        fail(f"--no-cache wrote to the cache: {sorted(env.entries())}")
    left = os.listdir(env.tmp)
    if left:
        fail(f"--no-cache left files in TMPDIR: {left}")
    print("--no-cache left nothing behind")


def cmd_clear(env):
    """cache info counts the entries, cache clear empties the cache."""
    for code in (41, 42):
        expect(env.run([env.write(f"exit{code}.wat", exit_module(code))]), code, f"exit {code}")
    info = env.run(["cache", "info"])
    expect(info, 0, "cache info")
    if not info.stdout.startswith(f"{env.cache_dir}: 2 artefacts, "):
        fail(f"cache info: {info.stdout!r}")
    cleared = env.run(["cache", "clear"])
    expect(cleared, 0, "cache clear")
    if not cleared.stdout.startswith("removed 2 artefacts, "):
        fail(f"cache clear: {cleared.stdout!r}")
    if env.entries():
        fail(f"cache clear left {sorted(env.entries())}")
    info = env.run(["cache", "info"])
    if not info.stdout.startswith(f"{env.cache_dir}: 0 artefacts, 0 bytes"):
        fail(f"cache info after clear: {info.stdout!r}")
    print("cache clear emptied the cache")


def cmd_concurrent(env):
    """Several first runs of one module at once: all succeed, one entry, no
    temporary file left."""
    module = env.write("exit.wat", exit_module(42, " (concurrent)"))
    procs = [start_command([env.args.run, module], env=env.env) for _ in range(6)]
    for i, proc in enumerate(procs):
        status, out, err = finish_command(proc, f"run {i}")
        if status != 42:
            fail(f"run {i}: exit status {status}, stderr {err!r}")
    only_entry(env, "after concurrent first runs")
    print("concurrent first runs all ran the module; one entry")


def cmd_corrupted(env):
    """An entry changed in the cache is refused in one warning line naming
    it, never run, removed and compiled again; the run goes on."""
    module = env.write("exit.wat", exit_module(42))
    expect(env.run([module]), 42, "first run")
    name = next(iter(only_entry(env, "after the first run")))
    path = os.path.join(env.cache_dir, name)
    with open(path, "r+b") as f:
        f.seek(0x40)
        byte = f.read(1)
        f.seek(0x40)
        f.write(bytes([byte[0] ^ 0xff]))
    proc = env.run([module])
    expect(proc, 42, "run with a corrupted entry")
    lines = proc.stderr.splitlines()
    if len(lines) != 1 or path not in lines[0] or "refused" not in lines[0]:
        fail(f"want one warning line naming {path}, got {proc.stderr!r}")
    again = env.run([module])
    expect(again, 42, "run after the recompile")
    if again.stderr:
        fail(f"the recompiled entry should be accepted silently: {again.stderr!r}")
    # Truncated to nothing: the same.
    open(path, "wb").close()
    proc = env.run([module])
    expect(proc, 42, "run with an emptied entry")
    if len(proc.stderr.splitlines()) != 1 or path not in proc.stderr:
        fail(f"want one warning line naming {path}, got {proc.stderr!r}")
    print("a corrupted entry was refused, named, and compiled again")


def cmd_invalid(env):
    """An invalid module: faasm-codegen's one line, in faasm-run's form, 126."""
    for name, text in (("invalid.wat", "(module (func (result i32)))\n"),
                       ("broken.wat", "(module (func\n")):
        module = env.write(name, text)
        codegen = capture([env.args.codegen, module, "-o", os.path.join(env.tmp, "x.so")],
                          env=env.env)
        if codegen.returncode != 1 or not codegen.stderr.startswith(f"faasm-codegen: {module}: "):
            fail(f"faasm-codegen on {name}: {codegen.returncode} {codegen.stderr!r}")
        problem = codegen.stderr[len(f"faasm-codegen: {module}: "):]
        proc = env.run([module])
        expect(proc, 126, name)
        if proc.stderr != f"faasm-run: {module}: {problem}":
            fail(f"{name}: want {f'faasm-run: {module}: {problem}'!r}, got {proc.stderr!r}")
    wasm = os.path.join(env.work, "garbage.wasm")
    with open(wasm, "wb") as f:
        f.write(b"\0asm\x01\0\0\0\x7f\x7f\x7f")
    proc = env.run([wasm])
    expect(proc, 126, "garbage.wasm")
    if not proc.stderr.startswith(f"faasm-run: {wasm}: ") or len(proc.stderr.splitlines()) != 1:
        fail(f"garbage.wasm: {proc.stderr!r}")
    if env.entries():
        fail(f"a failed compile left {sorted(env.entries())} in the cache")
    print("invalid modules: faasm-codegen's line, as faasm-run's")


def slow_codegen(env):
    """A faasm-codegen that waits until the test writes to a FIFO, then runs
    the real one: the test decides when the compile ends, not a clock."""
    fifo = os.path.join(env.work, "release")
    os.mkfifo(fifo)
    script = env.write("slow-codegen", f"#!/bin/sh\nread line < {fifo}\nexec {env.args.codegen} \"$@\"\n")
    os.chmod(script, 0o755)
    return script, fifo


def cmd_progress_tty(env):
    """On a terminal, a compile still running after half a second shows
    "compiling <name> (<bounds>)…", cleared when it ends."""
    module = env.write("slow.wat", exit_module(42))
    codegen, fifo = slow_codegen(env)
    master, slave = pty.openpty()
    proc = subprocess.Popen([env.args.run, module], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave,
                            env=dict(env.env, FAASM_CODEGEN=codegen))
    os.close(slave)
    want = "compiling slow.wat (guard)\u2026".encode()
    seen = b""
    deadline = time.monotonic() + 120  # a failure guard, never the pass condition
    while want not in seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            fail(f"no progress line on the terminal; saw {seen!r}")
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            seen += os.read(master, 4096)
    with open(fifo, "w") as f:
        f.write("go\n")
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every writer of the terminal is gone
            break
        if not chunk:
            break
        seen += chunk
    status = proc.wait()
    os.close(master)
    if status != 42:
        fail(f"exit status {status}, terminal {seen!r}")
    after = seen[seen.index(want) + len(want):]
    if not after.startswith(b"\r\x1b[K"):
        fail(f"the progress line was not cleared: {seen!r}")
    print(f"terminal saw {seen!r}")


def cmd_progress_pipe(env):
    """Not on a terminal: no progress line, however long the compile takes."""
    module = env.write("slow.wat", exit_module(42))
    codegen, fifo = slow_codegen(env)
    proc = start_command([env.args.run, module], env=dict(env.env, FAASM_CODEGEN=codegen))
    # Long enough for a progress line to be due; the outcome does not depend on it.
    time.sleep(1.5)
    with open(fifo, "w") as f:
        f.write("go\n")
    status, out, err = finish_command(proc, "faasm-run")
    if status != 42 or err:
        fail(f"exit status {status}, stderr {err!r} (want 42 and nothing)")
    print("no progress line on a pipe")


def cmd_compile_limits(env):
    """faasm-run compiles an untrusted module under the limits the worker
    compiles uploads with (codegenjob): 4 GiB of address space, 120 s of CPU,
    no core file, and a process group of its own. A stand-in faasm-codegen
    reports what it got, as its one-line complaint."""
    module = env.write("limits.wat", exit_module(42))
    script = env.write("limits-codegen", "#!/bin/bash\n"
                       "echo \"faasm-codegen: $1: as=$(ulimit -v) cpu=$(ulimit -t) core=$(ulimit -c)"
                       " own-group=$([ \"$(ps -o pgid= $$)\" -eq $$ ] && echo yes || echo no)\" >&2\n"
                       "exit 1\n")
    os.chmod(script, 0o755)
    proc = env.run([module], env=dict(env.env, FAASM_CODEGEN=script))
    expect(proc, 126, "a compile the stand-in refuses")
    want = f"faasm-run: {module}: as=4194304 cpu=120 core=0 own-group=yes\n"
    if proc.stderr != want:
        fail(f"want {want!r}, got {proc.stderr!r}")
    print(f"the compile ran under its limits: {proc.stderr.strip()}")


def cmd_env_inherit(env):
    """--env NAME passes NAME on from faasm-run's environment, as wasmtime's
    does. The guest exits with the size of its environment block, which is
    "NAME=VALUE\\0" for the one variable given."""
    module = env.write("environ.wat", """;; exits with environ_sizes_get's buffer size
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (call $proc_exit (i32.load (i32.const 4)))
    unreachable))
""")
    name, value = "FAASM_CLI_INHERITED", "inherited-value"
    proc = env.run(["--env", name, module], env=dict(env.env, **{name: value}))
    want = len(f"{name}={value}") + 1
    expect(proc, want, "--env NAME with NAME set")
    proc = env.run(["--env", f"{name}=x", module])
    expect(proc, len(f"{name}=x") + 1, "--env NAME=VALUE")
    print(f"the guest's environment was {want} bytes: {name} inherited")


# ----- the state command ----------------------------------------------------------------


def cmd_state_values(env):
    """set from an argument, a file and stdin; get raw bytes and --hex;
    list keys with sizes per user; delete one key, then all."""
    blob = bytes(range(256)) + b"\n\0end"
    blob_file = os.path.join(env.work, "blob")
    with open(blob_file, "wb") as f:
        f.write(blob)
    expect(env.run(["state", "set", "greeting", "hello"]), 0, "set from an argument")
    expect(env.run(["state", "set", "--user", "alice", "blob", "--file", blob_file]), 0,
           "set from a file")
    expect(env.run(["state", "set", "--user", "alice", "piped", "--file", "-"], input="from stdin"),
           0, "set from stdin")
    got = subprocess.run([env.args.run, "state", "get", "--user", "alice", "blob"],
                         env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if got.returncode != 0 or got.stdout != blob:
        fail(f"get blob: status {got.returncode}, {len(got.stdout)} bytes, stderr {got.stderr!r}")
    hexed = env.run(["state", "get", "--hex", "greeting"])
    if hexed.stdout != "68656c6c6f\n":
        fail(f"get --hex greeting: {hexed.stdout!r}")
    piped = env.run(["state", "get", "--user", "alice", "piped"])
    if piped.stdout != "from stdin":
        fail(f"get piped: {piped.stdout!r}")

    listing = env.run(["state", "list"])
    expect(listing, 0, "list")
    rows = [line.split() for line in listing.stdout.splitlines()]
    want = [["USER", "KEY", "SIZE", "CHARGED"], ["alice", "blob", str(len(blob))],
            ["alice", "piped", "10"], ["demo", "greeting", "5"]]
    if [row[:len(w)] for row, w in zip(rows, want)] != want or len(rows) != len(want):
        fail(f"list: {listing.stdout!r}")
    only = env.run(["state", "list", "--user", "alice"])
    if [row[1] for row in (line.split() for line in only.stdout.splitlines()[1:])] != ["blob", "piped"]:
        fail(f"list --user alice: {only.stdout!r}")

    expect(env.run(["state", "delete", "--user", "alice", "blob"]), 0, "delete")
    gone = env.run(["state", "get", "--user", "alice", "blob"])
    expect(gone, 1, "get after delete")
    if gone.stderr != 'faasm-run state: user "alice", key "blob": no such key\n':
        fail(f"get after delete: {gone.stderr!r}")
    again = env.run(["state", "delete", "--user", "alice", "blob"])
    expect(again, 1, "delete of a missing key")
    expect(env.run(["state", "delete", "--user", "alice", "--all"]), 0, "delete --all")
    rest = env.run(["state", "list"])
    if [line.split()[:2] for line in rest.stdout.splitlines()[1:]] != [["demo", "greeting"]]:
        fail(f"list after deleting alice's keys: {rest.stdout!r}")
    # The command is the local tier only, and says so when a global tier is configured.
    local = env.run(["state", "get", "greeting"], env=dict(env.env, FAASM_REDIS="127.0.0.1:1"))
    expect(local, 0, "get with FAASM_REDIS set")
    if local.stdout != "hello" or "local tier" not in local.stderr or \
            len(local.stderr.splitlines()) != 1:
        fail(f"get with FAASM_REDIS set: {local.stdout!r}, stderr {local.stderr!r}")
    for bad in (["state", "set", "k"], ["state", "delete"], ["state", "frobnicate"]):
        proc = env.run(bad)
        if proc.returncode != 1 or len(proc.stderr.splitlines()) != 1:
            fail(f"{bad}: status {proc.returncode}, stderr {proc.stderr!r} (want 1 and one line)")
    print("state set/get/list/delete behave")


def cmd_state_guest(env):
    """The command and Faaslets see the same state: a guest's counter is read
    with state get, a value set with state set is read by the guest."""
    counter = env.args.counter_wasm
    expect(env.run([counter, "hits", "add", "3"]), 0, "guest adds 3")
    got = env.run(["state", "get", "--hex", "hits"])
    if got.stdout != "03000000\n":
        fail(f"state get --hex hits after the guest added 3: {got.stdout!r}")
    value = os.path.join(env.work, "seven")
    with open(value, "wb") as f:
        f.write((7).to_bytes(4, "little"))
    expect(env.run(["state", "set", "hits", "--file", value]), 0, "state set")
    read = env.run([counter, "hits", "get"])
    expect(read, 0, "guest reads")
    if read.stdout != "7\n":
        fail(f"the guest read {read.stdout!r} after state set to 7")
    print("state set and get meet the guest's state")


def cmd_chain_wasm(env):
    """A function table of .wasm modules: each chained function is compiled
    through the cache as the main one is."""
    table = os.path.join(env.work, "functions")
    os.makedirs(table)
    for name in ("chain-fanout", "chain-worker"):
        shutil.copy(os.path.join(env.args.samples, name + ".wasm"), table)
    proc = env.run(["--functions", table, "--input", "5", os.path.join(table, "chain-fanout.wasm")])
    expect(proc, 0, "fan-out of .wasm functions")
    if proc.stdout != "sum of squares 1..5 = 55 (workers: 1 4 9 16 25)\n" or proc.stderr:
        fail(f"fan-out: stdout {proc.stdout!r}, stderr {proc.stderr!r}")
    if len(env.entries()) != 2:
        fail(f"want two cache entries (caller and worker), got {sorted(env.entries())}")
    print("chained .wasm functions compiled and ran")


COMMANDS = {
    "cache-hit": cmd_cache_hit, "cache-changed": cmd_cache_changed, "no-cache": cmd_no_cache,
    "clear": cmd_clear, "concurrent": cmd_concurrent, "corrupted": cmd_corrupted,
    "invalid": cmd_invalid, "progress-tty": cmd_progress_tty, "progress-pipe": cmd_progress_pipe,
    "state-values": cmd_state_values, "state-guest": cmd_state_guest,
    "chain-wasm": cmd_chain_wasm, "compile-limits": cmd_compile_limits,
    "env-inherit": cmd_env_inherit,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--run", required=True)
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--wat2wasm", default="wat2wasm")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--counter-wasm", help="samples/state-counter.wasm (state-guest)")
    parser.add_argument("--samples", help="the samples' .wasm directory (chain-wasm)")
    args = parser.parse_args()
    if args.command == "state-guest" and not args.counter_wasm:
        skip("no state-counter sample built")
    if args.command == "chain-wasm" and not args.samples:
        skip("no samples built")
    with work_dir(args.workdir, args.command) as work:
        COMMANDS[args.command](Env(args, work))


if __name__ == "__main__":
    main()
