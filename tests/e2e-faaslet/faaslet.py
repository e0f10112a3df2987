#!/usr/bin/env python3
"""End-to-end tests of Faaslets: faasm-codegen and faasm-run on the Faasm
function samples (samples/counter.c, chain-fanout.c, chain-worker.c).

    faaslet.py SCENARIO --codegen C --run R --samples DIR --work DIR

Every scenario compiles the samples it needs into a fresh
<work>/<scenario>.XXXXXX/functions (the function table; the directory is
removed when the scenario passes), runs faasm-run and checks status, stdout
and stderr against exact expectations. Exit status 0 = pass, 1 = fail (saying
what was expected and what came back), 77 = skipped (the host lacks what the
scenario needs: a memory cgroup, wat2wasm, clang-19).
"""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (check_equal, compile_c_to_wasm, compile_wasm, expect_result,  # noqa: E402
                       fail, finish_command, run_command, skip, start_command, wat_to_wasm,
                       sanitized, work_dir)

RUN_TIMEOUT_SECONDS = 120


class Env:
    def __init__(self, args, scenario_dir):
        self.codegen = args.codegen
        self.runner = args.run
        self.samples = args.samples
        self.dir = scenario_dir
        self.functions = os.path.join(self.dir, "functions")
        os.makedirs(self.functions, exist_ok=True)

    def so(self, name, bounds="guard"):
        return compile_wasm(self.codegen, os.path.join(self.samples, name + ".wasm"),
                            os.path.join(self.functions, name + ".so"), bounds)

    def faasm_run(self, *args, stdin=None):
        """faasm-run ARGS: (status, stdout, stderr)."""
        p = run_command([self.runner, *args], input=stdin, timeout=RUN_TIMEOUT_SECONDS)
        return p.returncode, p.stdout, p.stderr


# ----- chaining -------------------------------------------------------------

def chain_fanout(env):
    env.so("chain-worker")
    main = env.so("chain-fanout")
    expect_result(env.faasm_run("--functions", env.functions, "--input", "5", main), 0,
                  stdout="sum of squares 1..5 = 55 (workers: 1 4 9 16 25)\n", stderr="")
    # More workers than cores: calls queue in the scheduler, none is lost.
    want = " ".join(str(k * k) for k in range(1, 41))
    expect_result(env.faasm_run("--functions", env.functions, "--input", "40", main), 0,
                  stdout=f"sum of squares 1..40 = {sum(k * k for k in range(1, 41))} (workers: {want})\n")


def chain_explicit(env):
    env.so("chain-worker", bounds="explicit")
    main = env.so("chain-fanout", bounds="explicit")
    expect_result(env.faasm_run("--functions", env.functions, "--input", "3", main), 0,
                  stdout="sum of squares 1..3 = 14 (workers: 1 4 9)\n", stderr="")


def chain_missing_function(env):
    main = env.so("chain-fanout")
    empty = os.path.join(env.dir, "empty")
    os.makedirs(empty, exist_ok=True)
    # faasmChainNamed answers 0 for an unknown function; the sample exits 3.
    expect_result(env.faasm_run("--functions", empty, "--input", "2", main), 3, stdout="",
                  stderr="chain-fanout: no function chain-worker\n")
    # Without a function table there is nothing to chain to either.
    expect_result(env.faasm_run("--input", "2", main), 3, stdout="")


def chain_callee_fails(env):
    main = env.so("chain-fanout")
    # A worker that traps and one that exits 42 stand in for chain-worker.
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "data")
    for wat, status, line in (("trap-unreachable", 134, "trap"), ("exit-status", 42, "exit")):
        table = os.path.join(env.dir, wat)
        os.makedirs(table, exist_ok=True)
        wasm = wat_to_wasm(os.path.join(data, wat + ".wat"), os.path.join(env.dir, wat + ".wasm"))
        compile_wasm(env.codegen, wasm, os.path.join(table, "chain-worker.so"))
        # The caller survives and sees the callee's return code.
        expect_result(env.faasm_run("--functions", table, "--input", "2", main), 4, stdout="",
                      stderr=f"chain-fanout: worker 1 failed with {status}\n")


def chain_warm(env):
    env.so("chain-worker")
    main = env.so("chain-fanout")
    line = "sum of squares 1..4 = 30 (workers: 1 4 9 16)\n"
    expect_result(env.faasm_run("--functions", env.functions, "--warm", "3", "--input", "4", main), 0,
                  stdout=line * 3)


# A two-level fan-out: the root chains W mids and awaits each, every mid
# chains L leaves and awaits each; leaf i's output is i * i, a mid's the sum
# of its leaves', the root prints the total. Input "W L" for the root,
# "mid L" and "leaf i" below it.
NESTED_C = r"""
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Chains n calls of nested, each "mid <leaves>" (leaves > 0) or "leaf <i>",
// and awaits them: the sum of their outputs, or minus the first failure's
// return code.
static long fanOut(int n, int leaves) {
  uint32_t ids[16];
  for (int i = 0; i < n; ++i) {
    char arg[32];
    int len = leaves ? snprintf(arg, sizeof arg, "mid %d", leaves)
                     : snprintf(arg, sizeof arg, "leaf %d", i + 1);
    if (!(ids[i] = faasmChainNamed("nested", (const uint8_t*)arg, len))) return -3;
  }
  long sum = 0;
  for (int i = 0; i < n; ++i) {
    char out[32] = {0};
    int rc = faasmAwaitCall(ids[i]);
    if (rc != 0) return -rc;
    faasmGetOutput(ids[i], (uint8_t*)out, sizeof out - 1);
    sum += atol(out);
  }
  return sum;
}

int main(void) {
  char in[32] = {0};
  int32_t size = faasmGetInputSize();
  faasmGetInput((uint8_t*)in, size < 31 ? size : 31);
  long value;
  if (strncmp(in, "leaf ", 5) == 0) {
    value = atol(in + 5) * atol(in + 5);
  } else if (strncmp(in, "mid ", 4) == 0) {
    if ((value = fanOut(atoi(in + 4), 0)) < 0) return 5;
  } else {
    int w = 0, l = 0;
    if (sscanf(in, "%d %d", &w, &l) != 2 || w < 1 || w > 16 || l < 1 || l > 16) return 2;
    if ((value = fanOut(w, l)) < 0) {
      printf("nested: a mid returned %ld\n", -value);
      return 4;
    }
    printf("nested: %ld\n", value);
    return 0;
  }
  char out[32];
  faasmSetOutput((const uint8_t*)out, snprintf(out, sizeof out, "%ld", value));
  return 0;
}
"""


def chain_nested(env):
    src = os.path.join(env.dir, "nested.c")
    with open(src, "w") as f:
        f.write(NESTED_C)
    wasm = compile_c_to_wasm(src, os.path.join(env.dir, "nested.wasm"), ["-O2"])
    main = compile_wasm(env.codegen, wasm, os.path.join(env.functions, "nested.so"))
    # 4 mids of 5 leaves: 4 * (1 + 4 + 9 + 16 + 25).
    want = "nested: 220\n"
    expect_result(env.faasm_run("--functions", env.functions, "--input", "4 5", main), 0,
                  stdout=want, stderr="")
    # One Faaslet computing at a time and three alive: each caller waits,
    # lending its running slot to the call it waits for, and no level is
    # refused (docs/Faaslets.md, "Limits").
    expect_result(env.faasm_run("--functions", env.functions, "--tree-running", "1",
                                "--tree-alive", "3", "--input", "4 5", main), 0,
                  stdout=want, stderr="")
    # Two alive: a mid waiting for its leaf would need a third; the leaf is
    # refused (126), the mid fails, the root says so.
    _, err = expect_result(env.faasm_run("--functions", env.functions, "--tree-alive", "2",
                                         "--input", "4 5", main), 4,
                           stdout="nested: a mid returned 5\n")
    check_equal("stderr", err, "faasm-run: nested (chained by nested): refused: its call tree has "
                "2 Faaslets alive (its limit), all waiting for calls that cannot start\n")


# ----- warm Faaslets: nothing of one call is seen by the next --------------------

def warm_check(env, counter, runs, seed=0, extra=()):
    # The guest's prints (stdout) and the call outputs (--output-file) are two
    # streams: each is checked on its own, their interleaving is not defined.
    outfile = os.path.join(env.dir, "warm-output.txt")
    expect_result(env.faasm_run("--warm", str(runs), "--output-file", outfile, *extra, counter), 0,
                  stdout="stdout counter=1101\n" * runs, stderr="")
    with open(outfile) as f:
        check_equal("warm outputs", f.read(), f"counter=1101 seed={seed} dirty=0\n" * runs)


def warm_no_leak(env):
    warm_check(env, env.so("counter"), 4)


def warm_no_leak_explicit(env):
    warm_check(env, env.so("counter", bounds="explicit"), 3)


# ----- snapshots in files, restored by another process ----------------------------

def snapshot_file(env):
    counter = env.so("counter")
    snap = os.path.join(env.dir, "counter.snap")
    # Initialisation runs here, with the seed in the environment...
    expect_result(env.faasm_run("--env", "FAASM_SEED=42", "--snapshot-out", snap, counter), 0,
                  stdout="", stderr="")
    if not os.path.exists(snap):
        fail("no snapshot file written")
    # ... and not again here: the seed comes from the snapshot.
    expect_result(env.faasm_run("--snapshot-in", snap, counter), 0,
                  stdout="stdout counter=1101\ncounter=1101 seed=42 dirty=0\n", stderr="")
    warm_check(env, counter, 2, seed=42, extra=("--snapshot-in", snap))
    # A fresh initialisation without the seed.
    expect_result(env.faasm_run(counter), 0, stdout="stdout counter=1101\ncounter=1101 seed=0 dirty=0\n")


def snapshot_wrong_artefact(env):
    counter = env.so("counter")
    worker = env.so("chain-worker")
    snap = os.path.join(env.dir, "counter.snap")
    expect_result(env.faasm_run("--snapshot-out", snap, counter), 0)
    _, err = expect_result(env.faasm_run("--snapshot-in", snap, worker), 126, stdout="")
    if (not err.startswith(f"faasm-run: {worker}: ") or err.count("\n") != 1
            or "belongs to build" not in err or "counter.wasm" not in err):
        fail(f"stderr: expected one line naming the file and the build the snapshot belongs to, "
             f"got {err!r}")
    garbage = os.path.join(env.dir, "garbage.snap")
    with open(garbage, "wb") as f:
        f.write(b"not a snapshot at all")
    _, err = expect_result(env.faasm_run("--snapshot-in", garbage, counter), 126, stdout="")
    if err.count("\n") != 1 or "not a faasm snapshot" not in err:
        fail(f"stderr: {err!r}")


# ----- input and output options ------------------------------------------------

def input_output(env):
    env.so("chain-worker")
    worker = os.path.join(env.functions, "chain-worker.so")
    expect_result(env.faasm_run("--input", "12", worker), 0, stdout="144", stderr="")
    infile = os.path.join(env.dir, "input.txt")
    with open(infile, "w") as f:
        f.write("7")
    expect_result(env.faasm_run("--input-file", infile, worker), 0, stdout="49")
    expect_result(env.faasm_run("--input-file", "-", worker, stdin="9"), 0, stdout="81")
    outfile = os.path.join(env.dir, "output.txt")
    expect_result(env.faasm_run("--input", "11", "--output-file", outfile, worker), 0, stdout="")
    with open(outfile) as f:
        check_equal("output file", f.read(), "121")
    status, _, err = env.faasm_run("--input-file", os.path.join(env.dir, "no-such-input"), worker)
    check_equal("status for a missing input file", status, 126)
    if err.count("\n") != 1 or not err.startswith("faasm-run: "):
        fail(f"stderr: {err!r}")


def input_sizes(env):
    # Inputs up to 16 KiB come with the spawn request to the zygote, larger
    # ones on the Faaslet's channel (loader/faaslet Protocol.h): both sides
    # of the limit, cold and warm (runs after the first get theirs on the
    # channel either way). The worker reads the number at the front.
    env.so("chain-worker")
    worker = os.path.join(env.functions, "chain-worker.so")
    for size in (1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100000):
        infile = os.path.join(env.dir, f"input-{size}.txt")
        with open(infile, "w") as f:
            f.write("7" + " " * (size - 1))
        expect_result(env.faasm_run("--input-file", infile, worker), 0, stdout="49", stderr="")
        expect_result(env.faasm_run("--warm", "3", "--input-file", infile, worker), 0,
                      stdout="494949", stderr="")


# ----- wall-clock timeout, enforced by the scheduler -------------------------------

SPIN_WAT = """
(module
  (func (export "_start") (loop $l (br $l))))
"""


def timeout(env):
    so = spin_so(env)
    start = time.monotonic()
    result = env.faasm_run("--timeout", "0.5", so)
    elapsed = time.monotonic() - start
    _, err = expect_result(result, 134, stdout="")
    if not err.endswith("trap: timeout\n"):
        fail(f"stderr: expected to end with 'trap: timeout', got {err!r}")
    if elapsed > 20:
        fail(f"the endless loop was not stopped near the timeout: {elapsed:.1f} s")


def spin_so(env):
    wat = os.path.join(env.dir, "spin.wat")
    wasm = os.path.join(env.dir, "spin.wasm")
    so = os.path.join(env.dir, "spin.so")
    with open(wat, "w") as f:
        f.write(SPIN_WAT)
    return compile_wasm(env.codegen, wat_to_wasm(wat, wasm), so)


def stat_fields(pid):
    """The fields of /proc/<pid>/stat after `pid (comm)`: state, ppid, ...;
    None if the process is gone. comm may hold spaces, so split after ')'."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid):
    """Pids whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(entry)
            if fields and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid):
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def spinning_faaslet(env, *options):
    """faasm-run running an endless loop without a timeout: (process, zygote, Faaslet)."""
    proc = start_command([env.runner, *options, spin_so(env)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for zygote in children(proc.pid):
            faaslets = children(zygote)
            if faaslets:
                return proc, zygote, faaslets[0]
        time.sleep(0.05)
    proc.kill()
    fail("no Faaslet appeared under faasm-run's zygote")


def gone_soon(pids, what):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    left = [p for p in pids if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)  # do not leave a spinning process behind
    if left:
        fail(f"{what}: still running 5 s later: {left}")


# The scheduler enforces the timeout, so nothing it started may outlive it: a
# zygote dies with its scheduler, a Faaslet with its zygote.
def no_orphans(env):
    for options in ((), ("--timeout", "60"), ("--timeout", "60", "--memory-limit", "64")):
        proc, zygote, faaslet = spinning_faaslet(env, *options)
        proc.kill()
        proc.wait()
        gone_soon([zygote, faaslet], f"faasm-run {' '.join(options)} killed: its zygote and Faaslet")
    # The zygote killed: the Faaslet goes with it and the call is reported.
    proc, zygote, faaslet = spinning_faaslet(env)
    os.kill(zygote, signal.SIGKILL)
    result = finish_command(proc, "faasm-run after its zygote was killed", timeout=20)
    gone_soon([faaslet], "zygote killed: its Faaslet")
    expect_result(result, 134, stdout="", stderr="trap: faaslet died\n")


# ----- warm reset of WASI descriptors ---------------------------------------------

# Opens a file in the preopen and never closes it, then counts the other
# files (not directories) open in the guest's descriptor table.
FD_LEAK_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

int main(void) {
  int fd = open("/data/note.txt", O_RDONLY);
  int others = 0;
  struct stat st;
  for (int f = 3; f < 64; ++f)
    if (f != fd && fstat(f, &st) == 0 && !S_ISDIR(st.st_mode)) ++others;
  printf("opened fd %d, other open files %d\n", fd, others);
  return 0;
}
"""

ZYGOTE_LOCK_C = r"""
#include <stdio.h>
__attribute__((import_module("faasm"), import_name("faasmLockStateWrite")))
void faasmLockStateWrite(const char* key);
__attribute__((export_name("_faasm_zygote"))) int zygote(void) {
  faasmLockStateWrite("zygote-lock");
  return 0;
}
int main(void) {
  puts("called");
  return 0;
}
"""

# Built with faasm-cc, which links guests as sysroot/cmake/Platform/WASI.cmake
# does: the constructors run once in the Proto-Faaslet, a call enters at
# __main_void.
def c_so(env, name, source):
    src = os.path.join(env.dir, name + ".c")
    with open(src, "w") as f:
        f.write(source)
    wasm = compile_c_to_wasm(src, os.path.join(env.dir, name + ".wasm"), ["-O2"])
    return compile_wasm(env.codegen, wasm, os.path.join(env.dir, name + ".so"))


def warm_no_fd_leak(env):
    so = c_so(env, "fd-leak", FD_LEAK_C)
    data = os.path.join(env.dir, "data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "note.txt"), "w") as f:
        f.write("note\n")
    # Every run gets the same descriptor and sees no file of an earlier run:
    # the warm reset closed what the run before left open; the preopen stays.
    expect_result(env.faasm_run("--dir", data + ":/data", "--warm", "3", so), 0,
                  stdout="opened fd 4, other open files 0\n" * 3, stderr="")


def zygote_holds_lock(env):
    state = os.path.join(env.dir, "state")
    os.makedirs(state, exist_ok=True)
    os.environ["FAASM_STATE_DIR"] = state
    so = c_so(env, "zygote-lock", ZYGOTE_LOCK_C)
    # Every Faaslet forked from it would share the lock (an open file
    # description): the Proto-Faaslet is refused, naming the key.
    expect_result(env.faasm_run(so), 126, stdout="",
                  stderr=f"faasm-run: {so}: initialisation returned holding the state lock "
                         "\"zygote-lock\"; release it before _faasm_zygote returns\n")


# ----- memory limit: a Faaslet's cgroup -------------------------------------------

def memory_limit(env):
    if sanitized(env.runner):
        skip("under AddressSanitizer the Faaslet's initialisation alone (ASan's shadow and "
             "allocator, charged to its cgroup) passes the 3 MiB limit this test needs the call to hit")
    counter = env.so("counter")
    # Each call touches a fresh 4 MiB buffer: 3 MiB is too little, 64 MiB plenty.
    status, out, err = env.faasm_run("--memory-limit", "3", counter)
    skip_without_memory_cgroup(err)
    # The cgroup's OOM kill is told apart from other deaths, naming the function.
    expect_result((status, out, err), 134, stderr=f"faasm-run: {counter}: memory limit reached (3 MiB)\n")
    expect_result(env.faasm_run("--memory-limit", "64", counter), 0,
                  stdout="stdout counter=1101\ncounter=1101 seed=0 dirty=0\n", stderr="")


def faasm_cgroup_dirs():
    """Where faasm-run's Faaslet cgroups go (docs/Isolation.md): under the
    memory controller's group of this process on v1, /sys/fs/cgroup/faasm on v2."""
    dirs = ["/sys/fs/cgroup/faasm"]
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                dirs.append("/sys/fs/cgroup/memory" + path.rstrip("/") + "/faasm")
    return dirs


def skip_without_memory_cgroup(faasm_run_stderr):
    """faasm-run runs a function without the controls the host does not
    permit, after one warning line "...: memory limit not enforced: <why>"."""
    for line in faasm_run_stderr.splitlines():
        if "not enforced" in line:
            skip(f"the host does not permit a memory cgroup here ({line})")


def memory_limit_slots(env):
    env.so("chain-worker")
    main = env.so("chain-fanout")
    # 30 warm runs, each chaining one worker that reports before the next run:
    # 30 worker Faaslets one after another. A slot is free again once its
    # Faaslet has been reaped, so a worker still exiting when the next one
    # starts makes a second slot; never one per call. Slots live as long as
    # their zygote, so the groups are seen while faasm-run runs.
    p = start_command([env.runner, "--memory-limit", "64", "--functions", env.functions,
                       "--warm", "30", "--input", "1", main])
    seen = set()
    while p.poll() is None:
        for d in faasm_cgroup_dirs():
            try:
                seen.update(n for n in os.listdir(d) if n.startswith("faaslet-"))
            except OSError:
                pass
        time.sleep(0.001)
    status, out, err = finish_command(p, "faasm-run --warm 30")
    skip_without_memory_cgroup(err)
    expect_result((status, out, err), 0,
                  stdout="sum of squares 1..1 = 1 (workers: 1)\n" * 30, stderr="")
    if not seen:
        fail("no Faaslet cgroup was seen while faasm-run ran")
    most = max(int(n.rsplit("-", 1)[1]) for n in seen)
    if most > 3:
        fail(f"30 Faaslets one after another used {most} cgroups: {sorted(seen)}")


SCENARIOS = {
    "memory-limit-slots": memory_limit_slots,
    "memory-limit": memory_limit,
    "timeout": timeout,
    "no-orphans": no_orphans,
    "chain-fanout": chain_fanout,
    "chain-explicit": chain_explicit,
    "chain-missing-function": chain_missing_function,
    "chain-warm": chain_warm,
    "chain-callee-fails": chain_callee_fails,
    "chain-nested": chain_nested,
    "warm-no-leak": warm_no_leak,
    "warm-no-leak-explicit": warm_no_leak_explicit,
    "warm-no-fd-leak": warm_no_fd_leak,
    "zygote-holds-lock": zygote_holds_lock,
    "snapshot-file": snapshot_file,
    "snapshot-wrong-artefact": snapshot_wrong_artefact,
    "input-output": input_output,
    "input-sizes": input_sizes,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--codegen", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    with work_dir(args.work, args.scenario) as scenario_dir:
        SCENARIOS[args.scenario](Env(args, scenario_dir))
    print(f"ok {args.scenario}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
