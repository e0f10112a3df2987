#!/usr/bin/env python3
"""End-to-end tests of Faasm state (local tier) and of host-call pointer
checks, through the real faasm-codegen and faasm-run. Several faasm-run
processes run at once and share state through the objects of one state
directory (FAASM_STATE_DIR, fresh per test). Exits 0 on pass, 1 on failure.

  counter     N processes each add M to a counter under the write lock
  shared-ptr  two processes talk through faasmReadStatePtr pages only
  sgd         HOGWILD SGD: workers update mapped weights; the loss must fall
  forged      forged pointers/lengths trap with the host-pointer trap
  files       file and directory I/O inside a preopen (faasm-run --dir)
  escape      `..`, absolute paths and symlinks cannot leave the preopen
  run         run one module with arguments; check status and stdout
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (compile_wasm, describe_status, fail, finish_command,  # noqa: E402
                       start_command, work_dir)

TIMEOUT_SECONDS = 120
POINTER_TRAP = "trap: host call with out of bounds pointer"


def compile_module(args, wasm):
    name = os.path.splitext(os.path.basename(wasm))[0]
    return compile_wasm(args.codegen, wasm, os.path.join(args.dir, f"{name}-{args.bounds}.so"),
                        args.bounds)


def start(args, so, guest_args, options=()):
    """faasm-run [options] so guest_args, sharing the test's state directory."""
    return start_command([args.run, *options, so, *guest_args],
                         env=dict(os.environ, FAASM_STATE_DIR=args.state_dir))


def finish(proc, what):
    """finish_command, and a fail if the host (faasm-run itself) died of a signal."""
    status, out, err = finish_command(proc, what, timeout=TIMEOUT_SECONDS)
    if status < 0:
        fail(f"{what}: the host died: {describe_status(status)}: {err.strip()}")
    return status, out, err


def run_ok(args, so, guest_args, what):
    status, out, err = finish(start(args, so, guest_args), what)
    if status != 0:
        fail(f"{what}: exit status {status}\nstdout: {out}\nstderr: {err}")
    return out


def cmd_counter(args):
    so = compile_module(args, args.wasm)
    procs = [start(args, so, ["counter", "add", args.adds]) for _ in range(args.procs)]
    for i, p in enumerate(procs):
        status, out, err = finish(p, f"adder {i}")
        if status != 0:
            fail(f"adder {i}: exit status {status}: {err.strip()}")
    got = run_ok(args, so, ["counter", "get"], "get").strip()
    want = str(args.procs * args.adds)
    if got != want:
        fail(f"counter is {got}, want {want}: updates were lost")
    print(f"counter = {got}")


def cmd_shared_ptr(args):
    so = compile_module(args, args.wasm)
    pong = start(args, so, ["mapped", "pong"])
    ping = start(args, so, ["mapped", "ping"])
    for proc, what, line in ((ping, "ping", "ping: answered"), (pong, "pong", "pong: saw token")):
        status, out, err = finish(proc, what)
        if status != 0 or out.strip() != line:
            fail(f"{what}: exit status {status}, stdout {out.strip()!r}, stderr {err.strip()!r}")
    print("both Faaslets saw each other's stores through mapped state")


def cmd_sgd(args):
    so = compile_module(args, args.wasm)
    run_ok(args, so, ["weights", "init"], "init")
    before = float(run_ok(args, so, ["weights", "loss"], "loss before"))
    workers = [start(args, so, ["weights", "train", i, args.workers, args.epochs])
               for i in range(args.workers)]
    for i, p in enumerate(workers):
        status, out, err = finish(p, f"worker {i}")
        if status != 0:
            fail(f"worker {i}: exit status {status}: {err.strip()}")
        sys.stderr.write(out)
    after = float(run_ok(args, so, ["weights", "loss"], "loss after"))
    print(f"loss {before:.6f} -> {after:.6f}")
    if not after < before * 0.01:
        fail(f"the loss did not fall enough: {before} -> {after}")


def cmd_forged(args):
    so = compile_module(args, args.wasm)
    for mode in args.modes:
        status, out, err = finish(start(args, so, [mode]), mode)
        # The trap's line, then where it happened ("  at ..." lines).
        lines = [line for line in err.strip().splitlines() if not line.startswith("  at ")]
        if status != 134 or not lines or lines[-1] != POINTER_TRAP or "not trapped" in out:
            fail(f"{mode}: want status 134 and {POINTER_TRAP!r}, got status {status}, "
                 f"stdout {out.strip()!r}, stderr {err.strip()!r}")
        print(f"{mode}: trapped")
    # The host is unharmed: a normal run afterwards still works.
    if args.after:
        run_ok(args, compile_module(args, args.after), ["after", "get"], "run after the traps")


FILES_STDOUT = """read: hello
read: world
size: 12 regular: 1
tell: 12
entry: .
entry: ..
entry: b.txt
entry: c.txt
content: hello
WORLD
open missing: no
rmdir non-empty: refused
rmdir empty: ok
"""

# WASI errnos: 76 notcapable, 32 loop (O_NOFOLLOW on a symlink), 55 notempty
# (rmdir of "..", refused by the kernel on the parent fd, never followed).
ESCAPE_STDOUT = """open ../outside.txt: 76
open /etc/passwd: 76
open d/../../outside.txt: 76
open link-out/outside.txt: 76
open link-out: 76
open link-up/outside.txt: 76
open link-out nofollow: 32
open inside.txt: 0
stat ..: 76
mkdir ../x: 76
unlink link-out/outside.txt: 76
rename inside.txt ../stolen.txt: 76
rmdir ..: 55
"""


def make_sandbox(args):
    """<dir>/sb is the preopen; <dir>/outside.txt and links that point out."""
    sandbox = os.path.join(args.dir, "sb")
    os.makedirs(os.path.join(sandbox, "d"))
    with open(os.path.join(args.dir, "outside.txt"), "w") as f:
        f.write("secret\n")
    with open(os.path.join(sandbox, "inside.txt"), "w") as f:
        f.write("in\n")
    os.symlink(args.dir, os.path.join(sandbox, "link-out"))
    os.symlink("..", os.path.join(sandbox, "link-up"))
    return sandbox


def run_preopen(args, mode, want):
    so = compile_module(args, args.wasm)
    sandbox = make_sandbox(args)
    status, out, err = finish(start(args, so, ["/data", mode], options=["--dir", f"{sandbox}:/data"]),
                              mode)
    if status != 0 or out != want:
        fail(f"{mode}: exit status {status}, stderr {err.strip()!r}\nstdout:\n{out}\nwant:\n{want}")
    with open(os.path.join(args.dir, "outside.txt")) as f:
        if f.read() != "secret\n":
            fail("the file outside the sandbox changed")
    for name in ("x", "stolen.txt"):
        if os.path.exists(os.path.join(args.dir, name)):
            fail(f"{name} was created outside the sandbox")
    print(out, end="")


def cmd_files(args):
    run_preopen(args, "files", FILES_STDOUT)


def cmd_escape(args):
    run_preopen(args, "escape", ESCAPE_STDOUT)


def cmd_run(args):
    so = compile_module(args, args.wasm)
    status, out, err = finish(start(args, so, args.guest_args), "run")
    if status != args.status:
        fail(f"exit status {status}, want {args.status}\nstdout: {out}\nstderr: {err}")
    if args.stdout is not None and out != args.stdout.encode().decode("unicode_escape"):
        fail(f"stdout {out!r}, want {args.stdout!r}\nstderr: {err}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["counter", "shared-ptr", "sgd", "forged", "files",
                                            "escape", "run"])
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--wasm", required=True)
    parser.add_argument("--bounds", default="guard")
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--adds", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--modes", nargs="*", default=[])
    parser.add_argument("--after")
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--stdout")
    parser.add_argument("guest_args", nargs="*")
    args = parser.parse_args()
    with work_dir(args.workdir, args.command) as test_dir:
        args.dir = test_dir
        args.state_dir = os.path.join(args.dir, "state")
        os.makedirs(args.state_dir)
        {"counter": cmd_counter, "shared-ptr": cmd_shared_ptr, "sgd": cmd_sgd,
         "forged": cmd_forged, "files": cmd_files, "escape": cmd_escape,
         "run": cmd_run}[args.command](args)


if __name__ == "__main__":
    main()
