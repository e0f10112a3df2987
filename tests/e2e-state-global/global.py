#!/usr/bin/env python3
"""End-to-end tests of the global state tier: several "hosts" (faasm-run
processes, each with its own local tier: a separate FAASM_STATE_DIR) share
one real redis-server that this driver starts (own port, own directory,
killed at exit) and runs samples/state-global.c. Exits 0 on pass, 1 on
failure, 77 (skipped) without redis-server.

  converge    values pushed on one host are pulled on another, both ways,
              small (one script) and large (staged)
  partial     hosts push disjoint chunks concurrently; every chunk lands
  counter     Faaslets on 3 hosts add under the global write lock: N x k
  kill-push   redis-server SIGKILLed while a host pushes 16 MiB values over
              and over (append-only file on): after a restart the value is
              one whole pushed value, the last acknowledged or the next
  lease       a holder of the write lock is stopped (SIGSTOP) past its
              lease; another host takes the lock and pushes; the holder's
              push, once it runs on, is refused and traps
  down        no Redis, then a stopped (unanswering) Redis: one line, trap
  oom         Redis at its maxmemory refuses a staged push's chunks (4 MiB:
              APPENDed stage; 6 MiB: stage sized at once): the push traps,
              the value is the one before, and no stage is left
"""

import argparse
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import compile_wasm, fail, finish_command, start_command, work_dir  # noqa: E402
from redisserver import RedisServer, free_port  # noqa: E402

TIMEOUT_SECONDS = 180
TRAP_STATUS = 134


class Hosts:
    def __init__(self, args, redis_address, extra_env=None):
        self.args, self.redis, self.extra = args, redis_address, extra_env or {}
        self.so = compile_wasm(args.codegen, args.wasm,
                               os.path.join(args.dir, f"state-global-{args.bounds}.so"),
                               args.bounds)

    def state_dir(self, host):
        d = os.path.join(self.args.dir, f"host-{host}")
        os.makedirs(d, exist_ok=True)
        return d

    def start(self, host, guest_args, new_session=False):
        env = dict(os.environ, FAASM_STATE_DIR=self.state_dir(host), FAASM_REDIS=self.redis,
                   **self.extra)
        if new_session:
            import subprocess
            print("+ " + " ".join(map(str, [self.args.run, self.so, *guest_args])),
                  file=sys.stderr)
            return subprocess.Popen([self.args.run, self.so, *map(str, guest_args)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=env,
                                    start_new_session=True)
        return start_command([self.args.run, self.so, *guest_args], env=env)

    def run(self, host, guest_args, what, status=0):
        s, out, err = finish_command(self.start(host, guest_args), what, timeout=TIMEOUT_SECONDS)
        if s != status:
            fail(f"{what}: exit status {s}, want {status}\nstdout: {out}\nstderr: {err}")
        return out.strip(), err.strip()


def expect(what, got, want):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")
    print(f"{what}: {got}")


def cmd_converge(args):
    redis = RedisServer(args.dir)
    h = Hosts(args, redis.address)
    for size, a, b in ((1 << 20, 5, 6), (8 << 20, 7, 8), (100, 9, 10)):
        h.run("a", ["v", "put", size, a], f"host a puts seed {a}")
        expect("host b pulls", h.run("b", ["v", "get"], "b get")[0], f"{size} seed {a}")
        h.run("b", ["v", "put", size, b], f"host b puts seed {b}")
        expect("host a pulls", h.run("a", ["v", "get"], "a get")[0], f"{size} seed {b}")
        expect("host a pulls again", h.run("a", ["v", "get"], "a get")[0], f"{size} seed {b}")


def cmd_partial(args):
    redis = RedisServer(args.dir)
    h = Hosts(args, redis.address)
    chunk, hosts, per = 65536, 3, 4
    n = hosts * per
    h.run("init", ["p", "put", chunk * n, 0], "initial value")
    procs = []
    for i in range(hosts):
        mine = [i + hosts * j for j in range(per)]
        procs.append(h.start(f"h{i}", ["p", "chunk", chunk * n, chunk, *mine]))
    for i, p in enumerate(procs):
        s, out, err = finish_command(p, f"host {i}", timeout=TIMEOUT_SECONDS)
        if s != 0:
            fail(f"host {i}: exit status {s}: {err.strip()}")
    got = h.run("reader", ["p", "chunks", chunk, n], "reader")[0]
    expect("chunks after concurrent partial pushes", got, " ".join(str(i + 1) for i in range(n)))


def cmd_counter(args):
    redis = RedisServer(args.dir)
    h = Hosts(args, redis.address)
    procs = [h.start(f"h{i % 3}", ["c", "counter", args.adds]) for i in range(args.procs)]
    for i, p in enumerate(procs):
        s, out, err = finish_command(p, f"adder {i}", timeout=TIMEOUT_SECONDS)
        if s != 0:
            fail(f"adder {i}: exit status {s}: {err.strip()}")
    got = h.run("reader", ["c", "get"], "reader")[0]
    expect(f"counter after {args.procs} Faaslets x {args.adds} on 3 hosts", got,
           f"4 seed {args.procs * args.adds}")


def cmd_kill_push(args):
    redis = RedisServer(args.dir, persistence="aof")
    h = Hosts(args, redis.address)
    size = 16 << 20
    pusher = h.start("a", ["big", "put-loop", size, 1, 100000])
    acked = 0
    while acked < 3:
        line = pusher.stdout.readline()
        if not line:
            fail(f"the pusher ended early: {pusher.stderr.read()}")
        acked = int(line.split()[1])
    # Somewhere in the next put: the guest's fill, the staged chunks or the commit.
    time.sleep(random.uniform(0, 0.05))
    redis.kill(signal.SIGKILL)
    out, err = pusher.communicate(timeout=TIMEOUT_SECONDS)
    for line in out.split():
        if line.isdigit():
            acked = max(acked, int(line))
    if pusher.returncode != TRAP_STATUS or "global state of demo/big" not in err:
        fail(f"the pusher, Redis gone: exit status {pusher.returncode}, stderr {err!r}")
    print(f"the pusher trapped: {err.strip().splitlines()[0]}")
    redis.start()
    got = h.run("b", ["big", "get"], "after restart")[0]
    if got not in (f"{size} seed {acked}", f"{size} seed {acked + 1}"):
        fail(f"after the restart the value is {got!r}; the last acknowledged push was seed "
             f"{acked}")
    print(f"after the restart: {got} (last acknowledged seed {acked})")


def wait_for(predicate, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    fail(f"{what} did not happen within {seconds} s")


def cmd_lease(args):
    redis = RedisServer(args.dir)
    h = Hosts(args, redis.address, {"FAASM_STATE_LEASE_MS": "1000"})
    lock = "faasm:{demo/weights}:w"
    holder = h.start("a", ["weights", "hold", 3000, "holder"], new_session=True)
    try:
        wait_for(lambda: redis.command("EXISTS", lock) == 1, "the holder's lock")
        os.killpg(holder.pid, signal.SIGSTOP)
        wait_for(lambda: redis.command("EXISTS", lock) == 0, "the lease's expiry")
        h.run("b", ["weights", "hold", 0, "other"], "the next holder")
    finally:
        os.killpg(holder.pid, signal.SIGCONT)
    out, err = holder.communicate(timeout=TIMEOUT_SECONDS)
    want = "faasm: state lock for demo/weights lost: push refused"
    if holder.returncode != TRAP_STATUS or want not in err.splitlines():
        fail(f"the stalled holder: exit status {holder.returncode}, stderr {err!r}")
    print(f"the stalled holder trapped: {want}")
    expect("the value", h.run("c", ["weights", "value"], "reader")[0], "other")


def cmd_down(args):
    h = Hosts(args, f"127.0.0.1:{free_port()}")
    out, err = h.run("a", ["k", "get"], "no Redis", status=TRAP_STATUS)
    if "global state of demo/k" not in err or "unreachable" not in err:
        fail(f"no Redis: stderr {err!r}")
    print(f"no Redis: {err.splitlines()[0]}")
    redis = RedisServer(args.dir)
    h = Hosts(args, redis.address, {"FAASM_REDIS_TIMEOUT_MS": "500"})
    h.run("a", ["k", "put", 1000, 3], "put")
    redis.kill(signal.SIGSTOP)
    try:
        out, err = h.run("b", ["k", "get"], "a stopped Redis", status=TRAP_STATUS)
    finally:
        redis.kill(signal.SIGCONT)
    if "timed out after 500 ms" not in err:
        fail(f"a stopped Redis: stderr {err!r}")
    print(f"a stopped Redis: {err.splitlines()[0]}")
    expect("after it answers again", h.run("b", ["k", "get"], "get")[0], "1000 seed 3")


def cmd_oom(args):
    redis = RedisServer(args.dir)
    h = Hosts(args, redis.address)
    # 4 MiB: the stage APPENDed, the commit in the same round trip; 6 MiB: a
    # stage sized at once, the commit after the chunks' replies.
    for key, size in (("m", 4 << 20), ("n", 6 << 20)):
        h.run("a", [key, "put", size, 1], f"first put of {key}")
        # Room for a little more: the next push's stage (another value) takes
        # the server past maxmemory, so its chunks are refused.
        info = redis.command("INFO", "memory").decode()
        used = int(next(line for line in info.splitlines()
                        if line.startswith("used_memory:")).split(":")[1])
        redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction")
        redis.command("CONFIG", "SET", "maxmemory", str(used + (1 << 20)))
        out, err = h.run("a", [key, "put", size, 2], f"a put of {key} past maxmemory",
                         status=TRAP_STATUS)
        if f"global state of demo/{key}" not in err or "OOM" not in err:
            fail(f"a put of {key} past maxmemory: stderr {err!r}")
        print(f"a put past maxmemory: {err.splitlines()[0]}")
        redis.command("CONFIG", "SET", "maxmemory", "0")
        expect(f"{key} after the refused push", h.run("b", [key, "get"], "get")[0],
               f"{size} seed 1")
        expect("stages left behind", redis.command("KEYS", f"faasm:{{demo/{key}}}:s:*"), [])


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["converge", "partial", "counter", "kill-push", "lease",
                                       "down", "oom"])
    p.add_argument("--codegen", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--wasm", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--bounds", default="guard", choices=["guard", "explicit"])
    p.add_argument("--procs", type=int, default=6)
    p.add_argument("--adds", type=int, default=25)
    args = p.parse_args()
    with work_dir(args.workdir, f"{args.command}-{args.bounds}") as d:
        args.dir = d
        try:
            globals()["cmd_" + args.command.replace("-", "_")](args)
        finally:
            RedisServer.kill_all()


if __name__ == "__main__":
    main()
