#!/usr/bin/env python3
"""Escape tests of the scheduler: hostile functions (guests/*.c, compiled to
wasm by CMake) run by faasm-run with its default limits unless a scenario
says otherwise, and the attack must be stopped the way docs/Faaslets.md
("Limits", "Call ids") says.

    scheduler.py SCENARIO --bounds B --codegen C --run R --guests DIR --work DIR

Each scenario compiles the guests it needs to native code (cached per bounds
mode under --work), puts them in a fresh function table and checks status,
stdout and stderr exactly. A run that outlives HANG_SECONDS has hung: the
test fails. Exit status 0 = pass, 1 = fail, 77 = skipped.
"""
import argparse
import contextlib
import fcntl
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from faasmtest import (check_equal, compile_wasm, expect_result, fail, run_command, skip,  # noqa: E402
                       work_dir)

# Every scenario ends in a few seconds; one that takes this long hangs.
HANG_SECONDS = 90

# faasm-run's defaults (SchedulerLimits::resolved), for this process's CPUs.
CPUS = len(os.sched_getaffinity(0))
TREE_RUNNING = 2 * CPUS
TREE_ALIVE = min(max(32, 16 * CPUS), max(16, 8 * CPUS))
MIB = 1 << 20


class Env:
    def __init__(self, args, scenario_dir):
        self.args = args
        self.dir = scenario_dir
        self.functions = os.path.join(scenario_dir, "functions")
        os.makedirs(self.functions)
        self.cache = os.path.join(args.work, "cache-" + args.bounds)
        os.makedirs(self.cache, exist_ok=True)
        self.runs = 0

    def so(self, *names):
        """Puts the guests `names` into the function table, compiled for
        this bounds mode (once per mode: tests running at once share it)."""
        for name in names:
            wasm = os.path.join(self.args.guests, name + ".wasm")
            cached = os.path.join(self.cache, name + ".so")
            with open(cached + ".lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                newest = max(os.path.getmtime(wasm), os.path.getmtime(self.args.codegen))
                if not os.path.exists(cached) or os.path.getmtime(cached) < newest:
                    compile_wasm(self.args.codegen, wasm, cached + ".new", self.args.bounds)
                    os.replace(cached + ".new", cached)
            shutil.copy(cached, os.path.join(self.functions, name + ".so"))

    def path(self, name):
        return os.path.join(self.functions, name + ".so")

    def run(self, main, *options, input=None):
        """faasm-run --functions <table> OPTIONS [--input INPUT] <main>.so,
        with a fresh state directory: (status, stdout, stderr)."""
        self.runs += 1
        state = os.path.join(self.dir, f"state-{self.runs}")
        os.makedirs(state)
        cmd = [self.args.run, "--functions", self.functions, *options]
        if input is not None:
            cmd += ["--input", input]
        p = run_command(cmd + [self.path(main)], timeout=HANG_SECONDS,
                        env=dict(os.environ, FAASM_STATE_DIR=state))
        return p.returncode, p.stdout, p.stderr


def match(what, pattern, text):
    m = re.fullmatch(pattern, text)
    if not m:
        fail(f"{what}: expected to match {pattern!r}, got {text!r}")
    return [int(g) if g.isdigit() else g for g in m.groups()]


def lines_match(what, pattern, text, count):
    lines = text.splitlines()
    check_equal(f"{what}: number of lines", len(lines), count)
    for line in lines:
        match(what, pattern, line)


# ----- exhausting the host -------------------------------------------------------


def fanout_bomb(env):
    # 300 calls at once: at most the cap run at once, the rest queue, none is lost.
    env.so("fanout", "fanout-worker")
    out, _ = expect_result(env.run("fanout", input="300"), 0, stderr="")
    calls, ok, peak = match("stdout", r"fanout: (\d+) calls, (\d+) ok, peak (\d+)\n", out)
    check_equal("calls that ended well", ok, 300)
    if not 1 <= peak <= TREE_RUNNING:
        fail(f"{peak} Faaslets ran at once, more than the cap of {TREE_RUNNING}")
    out, _ = expect_result(env.run("fanout", "--tree-running", "2", input="40"), 0, stderr="")
    _, ok, peak = match("stdout", r"fanout: (\d+) calls, (\d+) ok, peak (\d+)\n", out)
    check_equal("calls that ended well", ok, 40)
    if peak > 2:
        fail(f"{peak} Faaslets ran at once under --tree-running 2")


def refused_line(cap, name="recurse"):
    return (f"faasm-run: {name} (chained by {name}): refused: its call tree has "
            f"{cap} Faaslets alive (its limit), all waiting for calls that cannot start\n")


def recursion_bomb(env):
    # Each level waits for the next: the level past the cap of alive
    # Faaslets is refused (126), and the refusal comes back up.
    env.so("recurse")
    expect_result(env.run("recurse", input="100"), 4,
                  stdout=f"recurse: depth 100, status 4, peak {TREE_ALIVE}\n",
                  stderr=refused_line(TREE_ALIVE))
    expect_result(env.run("recurse", "--tree-alive", "5", input="100"), 4,
                  stdout="recurse: depth 100, status 4, peak 5\n", stderr=refused_line(5))
    # Within the cap the recursion ends well.
    expect_result(env.run("recurse", "--tree-alive", "5", input="4"), 0,
                  stdout="recurse: depth 4, status 0, peak 5\n", stderr="")


def recursion_bomb_ptr(env):
    # The same through faasmChain: a call of the caller's own function at a
    # function pointer is held to the same caps as one chained by name.
    env.so("recurse-ptr")
    expect_result(env.run("recurse-ptr", input="100"), 4,
                  stdout=f"recurse-ptr: depth 100, status 4, peak {TREE_ALIVE}\n",
                  stderr=refused_line(TREE_ALIVE, "recurse-ptr"))
    expect_result(env.run("recurse-ptr", "--tree-alive", "5", input="4"), 0,
                  stdout="recurse-ptr: depth 4, status 0, peak 5\n", stderr="")


def output_bomb(env):
    # More than a message may carry, and more than the budget: a clear
    # error naming the limit, not "faaslet died".
    env.so("output-bomb")
    so = env.path("output-bomb")
    for mib, size in ((1126, "1.1 GiB"), (100, "100 MiB")):
        expect_result(env.run("output-bomb", input=str(mib)), 134, stdout="",
                      stderr=f"faasm-run: {so}: output of {size} exceeds the 64 MiB limit "
                             "per call tree\n")
    # The budget is the embedder's to set.
    outfile = os.path.join(env.dir, "output")
    expect_result(env.run("output-bomb", "--tree-bytes", "128", "--output-file", outfile,
                          input="100"), 0, stdout="", stderr="")
    check_equal("output size", os.path.getsize(outfile), 100 * MIB)


def output_pile(env):
    # 20 chained outputs of 8 MiB, all kept for the caller: 7 fit the 64 MiB
    # budget (with the 20 call records), the others fail with 134.
    env.so("output-bomb")
    _, err = expect_result(env.run("output-bomb", input="pile 20 8"), 0,
                           stdout="pile: 7 ok, 13 failed, 0 other\n")
    lines_match("stderr", r"faasm-run: output-bomb \(chained by output-bomb\): output of 8 MiB "
                r"exceeds the 64 MiB limit per call tree, of which the tree holds 56\.0 MiB", err, 13)


def input_bomb(env):
    # A 1.1 GiB input is refused before any of it is sent: faasmChainNamed
    # answers 0 and the caller goes on.
    env.so("input-bomb", "sink")
    expect_result(env.run("input-bomb", input="big 1126"), 7,
                  stdout="input-bomb: chain refused\n",
                  stderr="faasm-run: sink (chained by input-bomb): refused: chained call with "
                         "1.1 GiB of input exceeds the 64 MiB limit per call tree\n")
    # An input within the budget but larger than a Chain message carries.
    expect_result(env.run("input-bomb", input="big 8"), 0,
                  stdout="input-bomb: sink returned 0\n", stderr="")


def input_pile(env):
    # 40 calls of 4 MiB input each while none can finish: the running ones
    # (the cap, less the caller) took theirs; the queue holds 15 inputs of 4
    # MiB and their records within 64 MiB; the rest are refused. Released,
    # every accepted call ends well.
    env.so("input-bomb", "sink")
    out, err = expect_result(env.run("input-bomb", input="pile 40 4"), 0)
    accepted, refused, ok = match("stdout", r"pile: (\d+) accepted, (\d+) refused, (\d+) ok\n", out)
    check_equal("calls accepted", accepted, TREE_RUNNING - 1 + 15)
    check_equal("calls refused", refused, 40 - accepted)
    check_equal("accepted calls that ended well", ok, accepted)
    lines_match("stderr", r"faasm-run: sink \(chained by input-bomb\): refused: chained call with "
                r"4 MiB of input exceeds the 64 MiB limit per call tree, of which the tree holds "
                r"[0-9.]+ MiB", err, refused)


def bombs_in_cgroups(env):
    # With a memory limit each Faaslet has a cgroup and its zygote reaps it
    # and reports its end: a Faaslet's slot comes back only then. The same
    # caps hold.
    env.so("fanout", "fanout-worker", "recurse", "output-bomb")
    limit = ("--memory-limit", "64")
    status, out, err = env.run("fanout", *limit, input="100")
    if "not enforced" in err:
        skip(f"the host does not permit a memory cgroup here ({err.strip()})")
    expect_result((status, out, err), 0, stderr="")
    _, ok, peak = match("stdout", r"fanout: (\d+) calls, (\d+) ok, peak (\d+)\n", out)
    check_equal("calls that ended well", ok, 100)
    if peak > TREE_RUNNING:
        fail(f"{peak} Faaslets ran at once, more than the cap of {TREE_RUNNING}")
    expect_result(env.run("recurse", *limit, input="100"), 4,
                  stdout=f"recurse: depth 100, status 4, peak {TREE_ALIVE}\n",
                  stderr=refused_line(TREE_ALIVE))
    _, err = expect_result(env.run("output-bomb", *limit, input="pile 20 8"), 0,
                           stdout="pile: 7 ok, 13 failed, 0 other\n")
    check_equal("refused outputs", len(err.splitlines()), 13)


# ----- call ids: hanging the host, reading others' outputs -------------------------


def await_guessed_id(env):
    # thief guesses ids 1..64 and a few far ones: it made no call, so it
    # reads nothing, not even secret's output (its caller's sibling).
    env.so("victim", "secret", "thief")
    expect_result(env.run("victim"), 0, stdout="victim: thief read 0 outputs\n", stderr="")


def await_cycle(env):
    # c awaits ids that, numbered globally, are a's and b's (waiting for c).
    env.so("cycle")
    expect_result(env.run("cycle", input="a"), 0, stdout="cycle: c had 0 awaits answered\n",
                  stderr="")


def await_own_id(env):
    env.so("selfish")
    expect_result(env.run("selfish"), 0, stdout="selfish: 0 of own awaits answered, child 0\n",
                  stderr="")


def orphan_spinner(env):
    # A chained call that never ends and that nobody awaits must not keep
    # faasm-run from ending when its call has.
    env.so("orphan", "spinner")
    expect_result(env.run("orphan", input="forget"), 0, stdout="", stderr="")


def chain_timeout(env):
    # An await of a call that never ends ends at the chained-call timeout.
    env.so("orphan", "spinner")
    expect_result(env.run("orphan", "--chain-timeout", "1", input="await"), 0,
                  stdout="orphan: spinner returned 134\n",
                  stderr="faasm-run: spinner (chained by orphan): timed out (the chained-call "
                         "timeout of 1 s)\n")


def chain_stuck_init(env):
    # A chained call that times out while its zygote still initialises (it
    # never had a Faaslet) gives its running slot back: with one slot, the
    # caller resumes and its next chained call runs. Before, the slot stayed
    # counted, and the caller waited for it until its own timeout killed it.
    env.so("stuck-caller", "stuck", "sink")
    expect_result(env.run("stuck-caller", "--host-running", "1", "--chain-timeout", "1",
                          "--timeout", "30"), 0,
                  stdout="stuck-caller: stuck returned 134, sink returned 0\n",
                  stderr="faasm-run: stuck (chained by stuck-caller): timed out (the chained-call "
                         "timeout of 1 s)\n")


SCENARIOS = {
    "fanout-bomb": fanout_bomb,
    "recursion-bomb": recursion_bomb,
    "recursion-bomb-ptr": recursion_bomb_ptr,
    "output-bomb": output_bomb,
    "output-pile": output_pile,
    "input-bomb": input_bomb,
    "input-pile": input_pile,
    "bombs-in-cgroups": bombs_in_cgroups,
    "await-guessed-id": await_guessed_id,
    "await-cycle": await_cycle,
    "await-own-id": await_own_id,
    "orphan-spinner": orphan_spinner,
    "chain-timeout": chain_timeout,
    "chain-stuck-init": chain_stuck_init,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--bounds", choices=("guard", "explicit"), required=True)
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--guests", required=True, help="directory of the guests' .wasm")
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    with work_dir(args.work, f"{args.scenario}.{args.bounds}") as scenario_dir:
        SCENARIOS[args.scenario](Env(args, scenario_dir))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
