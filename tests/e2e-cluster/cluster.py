#!/usr/bin/env python3
"""Workers of one cluster (faasm-worker --redis, docs/Worker.md "Across
hosts") on loopback ports, each with its own directories, sharing a
redis-server this test starts on a free port in a fresh directory and always
kills at the end.

  cluster.py SCENARIO --bin DIR --work DIR

Scenarios: artefact (an upload on A runs on B without a compile there),
overflow (a call to a full worker runs on another), kill (SIGKILL of the
worker running a call: it completes elsewhere, one result), deadletter (a
function that always crashes ends dead-lettered), deadline (status polling of
a call that never ends reaches a final state), chain-spread (a fan-out of
chained calls larger than one host's slots runs on every host), chain-kill
(SIGKILL of the worker running a chained child: the parent completes, once),
state (a value set over HTTP on one worker is a guest's pull on another, and
what a guest pushes there is read over HTTP on the first).
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "support"))
sys.path.insert(0, str(HERE.parents[0] / "e2e-worker"))
from faasmtest import compile_c_to_wasm, fail, make_work_dir, skip  # noqa: E402
import worker as single  # noqa: E402

WAIT_SECONDS = single.WAIT_SECONDS


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, work):
        server = shutil.which("redis-server")
        if not server:
            skip("no redis-server (Debian package redis-server)")
        self.dir = os.path.join(work, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    fail("redis-server did not start")
                time.sleep(0.05)

    def cli(self, *argv):
        return subprocess.run(["redis-cli", "-p", str(self.port), *argv], capture_output=True,
                              text=True, timeout=30).stdout

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def guest(args, name):
    wasm = os.path.join(args.work, f"{name}.wasm")
    if not os.path.exists(wasm):
        source = HERE / "guests" / f"{name}.c"
        if not source.exists():
            source = HERE.parents[0] / "e2e-worker" / "guests" / f"{name}.c"
        compile_c_to_wasm(str(source), wasm)
    return open(wasm, "rb").read()


def starts(w):
    m = w.metrics()
    return m["faasm_cold_starts_total"] + m["faasm_warm_starts_total"]


def scenario_artefact(args, redis, workers):
    a, b = workers
    echo = guest(args, "echo")
    up = single.upload_ok(a, "alice", "echo", echo)
    single.expect("compiled on A", up["compiled"], True)
    # B has never seen the function: its table and artefact come from Redis.
    single.call_ok(b, "alice", "echo", "hi", b"echo:hi")
    if "fetched from Redis" not in b.log_text():
        fail("B ran the function without fetching its artefact from Redis")
    again = single.upload_ok(b, "alice", "echo", echo)
    single.expect("the same bytes uploaded on B compile", again["compiled"], False)
    single.expect("compiles on B", b.metrics()["faasm_compiles_total"], 0)
    code, _, body = b.request(b.upload_port, "GET", "/f/alice/")
    single.expect("B lists A's upload", [f["function"] for f in json.loads(body)["functions"]],
                  ["echo"])


def scenario_overflow(args, redis, workers):
    a, b = workers
    single.upload_ok(a, "alice", "slow", guest(args, "slow"))
    single.upload_ok(a, "alice", "echo", guest(args, "echo"))
    code, _, call = a.invoke("alice", "slow", "400", is_async=True)
    single.expect("async slow call", code, 200)
    # A's one slot is taken: the next call to A runs on B.
    single.call_ok(a, "alice", "echo", "over", b"echo:over")
    if starts(b) < 1:
        fail(f"B started no Faaslet: the call to the full A ran elsewhere? {b.metrics()}")
    s = a.wait_final("alice", call.decode())
    single.expect("the slow call", (s["status"], s["output_data"]), ("done", "slow:400"))


def scenario_kill(args, redis, workers):
    a, b = workers
    single.upload_ok(a, "alice", "slow", guest(args, "slow"))
    code, _, call = a.invoke("alice", "slow", "1500", is_async=True)
    single.expect("async slow call", code, 200)
    call = call.decode()
    deadline = time.monotonic() + WAIT_SECONDS
    while a.metrics()["faasm_calls_running"] < 1:
        if time.monotonic() > deadline:
            fail("A never ran the call")
        time.sleep(0.05)
    a.proc.kill()  # SIGKILL: no goodbye, its claim lapses after the lease
    a.proc.wait()
    s = b.wait_final("alice", call)
    single.expect("the call after its worker died", (s["status"], s["output_data"]),
                  ("done", "slow:1500"))
    # One result: every later read shows the same one.
    for _ in range(3):
        single.expect("status again", json.loads(b.status("alice", call)[2]), s)
    if starts(b) != 1:
        fail(f"B ran the call {starts(b)} times, want once")
    if redis.cli("XPENDING", "faasm:q:" + "hostA", "faasm").split()[:1] not in (["0"], []):
        fail("the call is still pending on A's stream: " + redis.cli("XPENDING", "faasm:q:hostA",
                                                                      "faasm"))


def scenario_deadletter(args, redis, workers):
    a, b = workers
    single.upload_ok(a, "eve", "crash", guest(args, "crash"))
    single.expect_line("a call that always crashes", a.invoke("eve", "crash"), 500,
                       r"dead-lettered after 3 attempts; the last: trap: unreachable")
    total = starts(a) + starts(b)
    single.expect("attempts over both workers", total, 3)


def scenario_deadline(args, redis, workers):
    a, b = workers
    single.upload_ok(a, "eve", "spinner", guest(args, "spinner"))
    code, _, call = a.invoke("eve", "spinner", is_async=True)
    single.expect("async spinner", code, 200)
    s = b.wait_final("eve", call.decode())  # bounded by WAIT_SECONDS
    single.expect("the spinner's end", s["status"], "timeout")


def scenario_chain_spread(args, redis, workers):
    a, b, c = workers
    single.upload_ok(a, "alice", "slow", guest(args, "slow"))
    single.upload_ok(a, "alice", "spread", guest(args, "spread"))
    # Each worker has 2 slots: the parent and one child on A, the other 5
    # children elsewhere (B and C, each with room, then the shared stream).
    n = 6
    single.call_ok(a, "alice", "spread", f"{n}:300", b",".join([b"slow:300"] * n))
    ma, mb, mc = a.metrics(), b.metrics(), c.metrics()
    sent = ma["faasm_chained_elsewhere_total"]
    if sent < 1 or starts(a) + starts(b) + starts(c) != 1 + sent:
        fail(f"chained calls sent elsewhere {sent:g}, starts A {starts(a):g} B {starts(b):g} "
             f"C {starts(c):g}: want the parent on A and one start per call sent")
    if starts(b) < 1 or starts(c) < 1:
        fail(f"the fan-out did not reach every host: starts A {starts(a):g} B {starts(b):g} "
             f"C {starts(c):g}")
    print(f"{n} children: {sent:g} sent elsewhere; starts A {starts(a):g} B {starts(b):g} "
          f"C {starts(c):g}")
    single.expect("B and C sent nothing", (mb["faasm_chained_elsewhere_total"],
                                           mc["faasm_chained_elsewhere_total"]), (0, 0))


def scenario_chain_kill(args, redis, workers):
    a, b = workers[:2]
    single.upload_ok(a, "alice", "slow", guest(args, "slow"))
    single.upload_ok(a, "alice", "spread", guest(args, "spread"))
    # A has 2 slots (the parent, one child); the second child goes to B.
    code, _, call = a.invoke("alice", "spread", "2:1500", is_async=True)
    single.expect("async fan-out", code, 200)
    call = call.decode()
    deadline = time.monotonic() + WAIT_SECONDS
    while b.metrics()["faasm_calls_running"] < 1:
        if time.monotonic() > deadline:
            fail("B never ran the chained child")
        time.sleep(0.05)
    single.expect("sent elsewhere", a.metrics()["faasm_chained_elsewhere_total"], 1)
    b.proc.kill()  # SIGKILL: the child's claim lapses after the lease; A takes it over
    b.proc.wait()
    s = a.wait_final("alice", call)
    single.expect("the parent after its child's worker died", (s["status"], s["output_data"]),
                  ("done", "slow:1500,slow:1500"))
    for _ in range(3):
        single.expect("status again", json.loads(a.status("alice", call)[2]), s)
    # The parent and the child taken over ran on A; the parent once.
    single.expect("starts on A", starts(a), 2)
    single.expect("calls done on A", a.metrics()['faasm_calls_total{outcome="done"}'], 2)


def state_get(w, user, key):
    return w.request(w.invoke_port, "GET", f"/state/{user}/{key}")


def state_put(w, user, key, value):
    code, _, body = w.request(w.invoke_port, "PUT", f"/state/{user}/{key}", value)
    single.expect(f"PUT {user}/{key}: {body!r}", code, 200)


def scenario_state(args, redis, workers):
    a, b = workers
    single.upload_ok(a, "alice", "state-sync", guest(args, "state-sync"))
    single.upload_ok(a, "bob", "state-sync", guest(args, "state-sync"))
    state_put(a, "alice", "k", b"set-on-A")
    # B's Faaslet pulls what A's endpoint pushed; B's endpoint sees it too.
    single.call_ok(b, "alice", "state-sync", "k", b"set-on-A")
    single.expect("the call ran on B", (starts(a), starts(b)), (0, 1))
    single.expect("k read on B", state_get(b, "alice", "k")[::2], (200, b"set-on-A"))
    # What B's Faaslet pushed, A's endpoint reads.
    single.expect("k-seen read on A", state_get(a, "alice", "k-seen")[::2], (200, b"seen:set-on-A"))
    # And the other way: set on B, pulled by a Faaslet on A over A's replica.
    state_put(b, "alice", "k", b"then-on-B")
    single.call_ok(a, "alice", "state-sync", "k", b"then-on-B")
    single.expect("k read on A", state_get(a, "alice", "k")[::2], (200, b"then-on-B"))
    single.expect("k-seen read on B", state_get(b, "alice", "k-seen")[::2],
                  (200, b"seen:then-on-B"))
    # The same per-user keys as the guests': bob's k is his own.
    single.expect_line("bob's k on A", state_get(a, "bob", "k"), 404, r"no state key k")
    state_put(a, "bob", "k", b"bob-on-A")
    single.call_ok(b, "bob", "state-sync", "k", b"bob-on-A")
    single.expect("alice's k after bob's call", state_get(b, "alice", "k")[::2],
                  (200, b"then-on-B"))
    if "faasm:{alice/k}:v" not in redis.cli("KEYS", "faasm:{alice/*"):
        fail("alice's k is not under the guests' key in Redis: " + redis.cli("KEYS", "*"))


SCENARIOS = {
    "artefact": (scenario_artefact, []),
    "overflow": (scenario_overflow, ["--host-running", "1"]),
    "kill": (scenario_kill, ["--host-running", "1"]),
    "deadletter": (scenario_deadletter, ["--host-running", "1"]),
    "deadline": (scenario_deadline, ["--timeout", "2", "--queue-timeout", "2"]),
    "chain-spread": (scenario_chain_spread, ["--host-running", "2"]),
    "chain-kill": (scenario_chain_kill, ["--host-running", "2"]),
    "state": (scenario_state, []),
}
# Scenarios with three workers; the rest have two.
THREE = {"chain-spread"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--bounds", default="guard", choices=["guard", "explicit"])
    args = parser.parse_args()
    function, options = SCENARIOS[args.scenario]
    args.work = make_work_dir(args.work, args.scenario)
    redis = Redis(args.work)
    workers = []
    try:
        for name in ("hostA", "hostB", "hostC")[:3 if args.scenario in THREE else 2]:
            work = os.path.join(args.work, name)
            os.makedirs(work, exist_ok=True)
            workers.append(single.Worker(args, work, "--redis", f"127.0.0.1:{redis.port}",
                                         "--lease", "1", "--host-name", name, *options))
        function(args, redis, workers)
    finally:
        for w in workers:
            w.stop()
        redis.stop()
    print(f"{args.scenario}: ok")


if __name__ == "__main__":
    main()
