#!/usr/bin/env python3
"""Escape tests of the Faaslet's process privilege, through the real
faasm-codegen and faasm-run (docs/Security.md, "Process isolation").

    privilege.py SCENARIO --codegen C --run R --samples DIR --work DIR [--bounds B]

  identity        a Faaslet and its zygote, with and without limits: not root,
                  no capability in any set, no_new_privs, seccomp, a network
                  namespace of their own (the host's with --net), no
                  descriptor faasm-run inherited, none of the zygote's
  init-timeout    a constructor that never returns: one line, status 126,
                  faasm-run ends (a call, and --snapshot-out)
  init-memory     a constructor that allocates 256 MiB under --memory-limit 32:
                  the limit stops it, one line
  chain-slow-init a chained call to a function whose initialisation never ends
                  does not stop another chained call, nor the caller
  stale-cgroups   nothing of a killed faasm-run stays (processes, cgroups); the
                  groups of dead owners are removed at start, a live owner's not

Exit 0 = pass, 1 = fail, 77 = skipped (not root, no memory cgroup, no
clang-19).
"""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from faasmtest import (compile_c_to_wasm, compile_wasm, expect_result, fail,  # noqa: E402
                       finish_command, run_command, skip, start_command, wat_to_wasm, work_dir)

RUN_TIMEOUT_SECONDS = 60

SPIN_WAT = '(module (func (export "_start") (loop $l (br $l))))'

ENDLESS_INIT_C = r"""
#include <stdio.h>
volatile int forever = 1;
__attribute__((constructor)) static void init(void) {
  while (forever) {
  }
}
int main(void) {
  puts("initialised");
  return 0;
}
"""

HUNGRY_INIT_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static char* blocks[256];
__attribute__((constructor)) static void init(void) {
  for (int i = 0; i < 256; ++i) {
    blocks[i] = malloc(1 << 20);
    if (!blocks[i]) return;
    memset(blocks[i], 1, 1 << 20);
  }
}
int main(void) {
  puts("initialised with 256 MiB");
  return 0;
}
"""

CALLER_C = r"""
#include "faasm/faasm.h"
#include <stdio.h>
FAASM_MAIN_FUNC() {
  uint32_t slow = faasmChainNamed("slow", (const uint8_t*)"1", 1);
  uint32_t fast = faasmChainNamed("chain-worker", (const uint8_t*)"7", 1);
  if (!slow || !fast) return 3;
  char out[32] = {0};
  if (faasmAwaitCall(fast) != 0) return 4;
  faasmGetOutput(fast, (uint8_t*)out, sizeof out - 1);
  printf("fast: %s\n", out);
  return 0;
}
"""


class Env:
    def __init__(self, args, scenario_dir):
        self.codegen = args.codegen
        self.runner = args.run
        self.samples = args.samples
        self.bounds = args.bounds
        self.dir = scenario_dir

    def c_so(self, name, source, dest=None):
        src = os.path.join(self.dir, name + ".c")
        with open(src, "w") as f:
            f.write(source)
        wasm = compile_c_to_wasm(src, os.path.join(self.dir, name + ".wasm"), ["-O2"])
        return compile_wasm(self.codegen, wasm, dest or os.path.join(self.dir, name + ".so"),
                            self.bounds)

    def spin_so(self):
        wat = os.path.join(self.dir, "spin.wat")
        with open(wat, "w") as f:
            f.write(SPIN_WAT)
        wasm = wat_to_wasm(wat, os.path.join(self.dir, "spin.wasm"))
        return compile_wasm(self.codegen, wasm, os.path.join(self.dir, "spin.so"), self.bounds)

    def faasm_run(self, *args):
        p = run_command([self.runner, *args], timeout=RUN_TIMEOUT_SECONDS)
        return p.returncode, p.stdout, p.stderr


def require_root():
    if os.geteuid() != 0:
        skip(f"faasm-run drops privileges from root to nobody here; this runs as uid {os.geteuid()}")


# ----- processes ----------------------------------------------------------------------

def stat_fields(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid):
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


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def status_of(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def fds_of(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return out


def running_faaslet(proc):
    """(zygote, Faaslet) under faasm-run `proc` once the Faaslet runs."""
    # A Faaslet is a fork of the zygote with no exec, so it keeps the zygote's
    # name. The zygote's other children are the cgroup keeper and, with
    # --net, the `ip` and `tc` it runs as root before it gives up its
    # privileges: taking one of those for a Faaslet would look at the zygote
    # too early. A child seen under the zygote's name on two polls in a row
    # is past any exec.
    deadline = time.monotonic() + 20
    seen = set()
    while time.monotonic() < deadline:
        for zygote in children(proc.pid):
            name = comm(zygote)
            faaslets = [c for c in children(zygote) if name and comm(c) == name]
            confirmed = [c for c in faaslets if c in seen]
            if confirmed:
                return zygote, confirmed[0]
            seen.update(faaslets)
        time.sleep(0.05)
    proc.kill()
    fail("no Faaslet appeared under faasm-run's zygote")


# ----- identity ---------------------------------------------------------------------

def check_confined(pid, what, inherited, network):
    st = status_of(pid)
    uids = st["Uid"].split()
    gids = st["Gid"].split()
    if "0" in uids or "0" in gids:
        fail(f"{what} runs with uid/gid 0: Uid {st['Uid']}, Gid {st['Gid']}")
    if st.get("Groups", ""):
        fail(f"{what} keeps supplementary groups: {st['Groups']}")
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(st[cap], 16) != 0:
            fail(f"{what} has capabilities: {cap} {st[cap]}")
    if st.get("NoNewPrivs") != "1":
        fail(f"{what}: NoNewPrivs is {st.get('NoNewPrivs')}")
    if st.get("Seccomp") != "2":
        fail(f"{what}: Seccomp is {st.get('Seccomp')} (2: filter)")
    own_net = os.readlink("/proc/self/ns/net")
    net = os.readlink(f"/proc/{pid}/ns/net")
    # Granted the network, as root it has a namespace of its own joined to
    # the host's by a veth pair (docs/Networking.md); not root, it stays in
    # the host's.
    if network and os.geteuid() != 0 and net != own_net:
        fail(f"{what} granted the network (not root) is not in the host's network namespace")
    if (not network or os.geteuid() == 0) and net == own_net:
        fail(f"{what} shares the host's network namespace ({net})")
    fds = fds_of(pid)
    for fd, target in fds.items():
        if target == inherited:
            fail(f"{what} holds descriptor {fd} that faasm-run inherited ({target})")
    return fds


def identity(env):
    require_root()
    spin = env.spin_so()
    inherited = os.path.join(env.dir, "inherited-secret")
    for options in ((), ("--memory-limit", "64", "--timeout", "60"), ("--net",)):
        fd = os.open(inherited, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            proc = start_command_with_fd([env.runner, *options, spin], fd)
        finally:
            os.close(fd)
        try:
            zygote, faaslet = running_faaslet(proc)
            label = " ".join(options) or "no options"
            network = "--net" in options
            check_confined(zygote, f"the zygote ({label})", inherited, network)
            # A Faaslet keeps stdio, its channel, the snapshot, the artefact
            # it runs (a memfd sealed against writes) and its own
            # user's state directory (opened by the zygote before it gave up
            # its privileges); nothing else of the zygote's (control socket,
            # keeper, other Faaslets' cgroups).
            # It closes those right after the fork: look once it is past that
            # (the endless guest then runs as long as the test looks).
            deadline = time.monotonic() + 10
            while True:
                fds = check_confined(faaslet, f"the Faaslet ({label})", inherited, network)
                extra = {fd: t for fd, t in fds.items()
                         if fd > 2 and not t.startswith("socket:")
                         and not t.startswith("/memfd:faasm-snapshot")
                         and not t.startswith("/memfd:faasm:")
                         and not t.endswith("/faasm-demo")}
                sockets = [t for fd, t in fds.items() if fd > 2 and t.startswith("socket:")]
                # Its channel; and without --net, the socket connected to
                # nothing that faasm_net's socket() hands out (a unix pair
                # whose other end the zygote closed; docs/Networking.md).
                if not extra and len(sockets) == (1 if network else 2):
                    break
                if time.monotonic() > deadline:
                    fail(f"the Faaslet ({label}) holds descriptors beyond its own (stdio, its "
                         f"channel, the snapshot, its artefact): {fds}")
                time.sleep(0.05)
        finally:
            proc.kill()
            proc.wait()


def start_command_with_fd(cmd, fd):
    """start_command with `fd` inherited, as from a careless parent."""
    import subprocess
    print("$ " + " ".join(map(str, cmd)) + f"  (inheriting fd {fd})", file=sys.stderr, flush=True)
    return subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, pass_fds=(fd,))


# ----- initialisation is a call ----------------------------------------------------

def init_timeout(env):
    so = env.c_so("endless-init", ENDLESS_INIT_C)
    expect_result(env.faasm_run("--timeout", "1", so), 126, stdout="",
                  stderr=f"faasm-run: {so}: initialisation timed out after 1 s\n")
    # Taking a snapshot initialises too.
    snap = os.path.join(env.dir, "endless.snap")
    expect_result(env.faasm_run("--timeout", "1", "--snapshot-out", snap, so), 126, stdout="",
                  stderr=f"faasm-run: {so}: initialisation timed out after 1 s\n")


def init_memory(env):
    so = env.c_so("hungry-init", HUNGRY_INIT_C)
    status, out, err = env.faasm_run("--memory-limit", "32", "--timeout", "60", so)
    for line in err.splitlines():
        if "not enforced" in line:
            skip(f"the host does not permit a memory cgroup here ({line})")
    expect_result((status, out, err), 126, stdout="",
                  stderr=f"faasm-run: {so}: initialisation reached the memory limit (32 MiB)\n")


def chain_slow_init(env):
    functions = os.path.join(env.dir, "functions")
    os.makedirs(functions)
    env.c_so("slow", ENDLESS_INIT_C, os.path.join(functions, "slow.so"))
    compile_wasm(env.codegen, os.path.join(env.samples, "chain-worker.wasm"),
                 os.path.join(functions, "chain-worker.so"), env.bounds)
    caller = env.c_so("caller", CALLER_C)
    expect_result(env.faasm_run("--functions", functions, caller), 0, stdout="fast: 49\n",
                  stderr="")


# ----- nothing survives faasm-run -----------------------------------------------------

def memory_cgroup_parent():
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return "/sys/fs/cgroup/memory" + path.rstrip("/") + "/faasm"
    return None


def start_time(pid):
    return int(stat_fields(pid)[19])  # field 22 of /proc/<pid>/stat


def stale_cgroups(env):
    require_root()
    parent = memory_cgroup_parent()
    if not parent or not os.path.isdir(os.path.dirname(parent)):
        skip("no cgroup v1 memory controller here")
    spin = env.spin_so()
    # faasm-run killed while a Faaslet runs: its zygote, Faaslet and keeper
    # go, and so do the zygote's groups.
    proc = start_command([env.runner, "--memory-limit", "64", spin])
    zygote, faaslet = running_faaslet(proc)
    keeper = [c for c in children(zygote) if comm(c) == "faasm-cgkeeper"]
    groups = [n for n in os.listdir(parent) if f"-{zygote}-" in n]
    if not groups:
        proc.kill()
        proc.wait()
        skip("faasm-run made no memory cgroup here")
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [n for n in os.listdir(parent) if f"-{zygote}-" in n]
        procs = [p for p in [zygote, faaslet, *keeper] if alive(p)]
        if not left and not procs:
            break
        time.sleep(0.05)
    else:
        for p in procs:
            os.kill(p, signal.SIGKILL)
        fail(f"faasm-run killed: left behind groups {left} and processes {procs}")

    # Groups of owners that are gone (a pid reaped here; a live pid whose
    # start time is not the one in the name) are removed when faasm-run
    # starts; a group whose owner lives is left alone.
    gone = start_command(["true"])
    gone.wait()
    me = os.getpid()
    planted = {
        f"zygote-{gone.pid}-12345": True,
        f"faaslet-{gone.pid}-12345-1": True,
        f"faaslet-{me}-{start_time(me) + 1}-1": True,
        f"faaslet-{me}-{start_time(me)}-1": False,
    }
    os.makedirs(parent, exist_ok=True)
    for name in planted:
        os.makedirs(os.path.join(parent, name), exist_ok=True)
    try:
        hello = compile_wasm(env.codegen, os.path.join(env.samples, "hello.wasm"),
                             os.path.join(env.dir, "hello.so"), env.bounds)
        expect_result(env.faasm_run("--memory-limit", "64", hello), 0)
        for name, stale in planted.items():
            exists = os.path.isdir(os.path.join(parent, name))
            if stale and exists:
                fail(f"the stale group {name} (owner gone) is still there")
            if not stale and not exists:
                fail(f"the group {name} of a live owner (this test) was removed")
    finally:
        for name in planted:
            try:
                os.rmdir(os.path.join(parent, name))
            except OSError:
                pass


SCENARIOS = {
    "identity": identity,
    "init-timeout": init_timeout,
    "init-memory": init_memory,
    "chain-slow-init": chain_slow_init,
    "stale-cgroups": stale_cgroups,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--codegen", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--bounds", default="guard", choices=("guard", "explicit"))
    args = p.parse_args()
    with work_dir(args.work, f"{args.scenario}-{args.bounds}") as scenario_dir:
        SCENARIOS[args.scenario](Env(args, scenario_dir))
    print(f"ok {args.scenario} ({args.bounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
