#!/usr/bin/env python3
"""End-to-end tests of faasm-worker (docs/Worker.md) and its hostile clients
and functions: each scenario starts a worker on free loopback ports in a
fresh directory, talks HTTP to it (and runs the `faasm` client), and always
stops it at the end.

  worker.py SCENARIO --bin DIR --work DIR [--bounds guard|explicit]

Scenarios: api, state, client, malformed (tests/e2e-worker), and the attacks
spinner, hog, crash, executor-dies, foreign-call, flood, stuck-init,
hostile-upload, http-abuse (tests/escape/worker, in both bounds modes).
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from faasmtest import (TEST_ARTEFACT_KEY, compile_c_to_wasm, fail, make_work_dir,  # noqa: E402
                       require_tool, run_command, skip)

GUESTS = Path(__file__).resolve().parent / "guests"
# Bounds on every wait of the test itself, so that it ends; never a pass/fail criterion.
WAIT_SECONDS = 120


class Worker:
    def __init__(self, args, work, *options):
        self.args = args
        self.work = work
        self.ports_file = os.path.join(work, "ports")
        self.log_path = os.path.join(work, "worker.log")
        env = dict(os.environ, FAASM_ARTEFACT_KEY=TEST_ARTEFACT_KEY, FAASM_LOG="info")
        cmd = [os.path.join(args.bin, "faasm-worker"), "--data-dir", os.path.join(work, "data"),
               "--state-dir", os.path.join(work, "state"), "--invoke-port", "0",
               "--upload-port", "0", "--ports-file", self.ports_file, "--bounds", args.bounds,
               *options]
        print("+ " + " ".join(cmd), flush=True)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.ports_file):
            if self.proc.poll() is not None:
                fail(f"faasm-worker exited with {self.proc.returncode}: {self.log_text()}")
            if time.monotonic() > deadline:
                fail("faasm-worker did not start listening")
            time.sleep(0.05)
        ports = dict(line.split("=") for line in open(self.ports_file).read().split())
        self.invoke_port = int(ports["invoke"])
        self.upload_port = int(ports["upload"])

    def log_text(self):
        self.log.flush()
        return open(self.log_path, errors="replace").read()[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("faasm-worker did not stop on SIGTERM")
        self.log.close()

    def request(self, port, method, path, body=None, headers=None, timeout=WAIT_SECONDS):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            try:
                conn.request(method, path, body=body, headers=headers or {})
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the body was read: the answer is there
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def upload(self, user, function, wasm_bytes):
        return self.request(self.upload_port, "PUT", f"/f/{user}/{function}", wasm_bytes)

    def invoke(self, user, function, input_data="", is_async=False, **extra):
        body = dict(user=user, function=function, input_data=input_data, **extra)
        if is_async:
            body["async"] = True
        return self.request(self.invoke_port, "POST", "/", json.dumps(body))

    def status(self, user, call_id):
        return self.request(self.invoke_port, "POST", "/",
                            json.dumps({"user": user, "id": call_id, "status": True}))

    def wait_final(self, user, call_id):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            code, _, body = self.status(user, call_id)
            if code != 200:
                fail(f"status of {call_id}: {code} {body!r}")
            s = json.loads(body)
            if s["status"] not in ("queued", "running"):
                return s
            time.sleep(0.05)
        fail(f"call {call_id} did not end")

    def metrics(self):
        code, _, body = self.request(self.invoke_port, "GET", "/metrics")
        if code != 200:
            fail(f"/metrics answered {code}")
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    # Every gauge of capacity held, the frontend's and its executor's.
    HELD = ("faasm_calls_running", "faasm_queue_depth", "faasm_executor_faaslets_running",
            "faasm_executor_faaslets_alive", "faasm_executor_calls_queued")

    def wait_idle(self):
        """Until the worker holds no call and its executor no slot (every
        slot given back); fails, naming the gauges, if that never comes."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            m = self.metrics()
            if all(m[name] == 0 for name in self.HELD):
                return m
            time.sleep(0.05)
        m = self.metrics()
        fail("capacity still held after every call ended: " +
             ", ".join(f"{name} {m[name]:g}" for name in self.HELD))


def expect(what, got, want):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


def expect_line(what, response, status, pattern):
    code, _, body = response
    text = body.decode(errors="replace")
    if code != status or not re.search(pattern, text) or text.count("\n") > 1:
        fail(f"{what}: got {code} {text!r}, want {status} and one line matching {pattern!r}")


def guest(args, name):
    """The guest `name` compiled to wasm (once per work directory)."""
    wasm = os.path.join(args.work, f"{name}.wasm")
    if not os.path.exists(wasm):
        compile_c_to_wasm(str(GUESTS / f"{name}.c"), wasm)
    return open(wasm, "rb").read()


def upload_ok(w, user, function, wasm):
    code, _, body = w.upload(user, function, wasm)
    if code != 200:
        fail(f"upload of {user}/{function}: {code} {body!r}")
    return json.loads(body)


def call_ok(w, user, function, input_data, want_output, want_rc=0):
    code, headers, body = w.invoke(user, function, input_data)
    if code != 200 or body != want_output or headers.get("x-faasm-return-code") != str(want_rc):
        fail(f"{user}/{function}({input_data!r}): got {code} {body!r} rc "
             f"{headers.get('x-faasm-return-code')}, want 200 {want_output!r} rc {want_rc}")


# ----- e2e ---------------------------------------------------------------------------


def scenario_api(args, w):
    echo, fanout, crash = guest(args, "echo"), guest(args, "fanout"), guest(args, "crash")
    first = upload_ok(w, "alice", "echo", echo)
    upload_ok(w, "alice", "fanout", fanout)
    expect("first upload compiled", first["compiled"], True)
    before = w.metrics()
    again = upload_ok(w, "alice", "echo", echo)
    # The same bytes under another user and name: the artefact is shared.
    upload_ok(w, "bob", "echo-too", echo)
    after = w.metrics()
    expect("re-upload compiled", again["compiled"], False)
    expect("compiles after re-uploads", after["faasm_compiles_total"], before["faasm_compiles_total"])
    expect("cache hits", after["faasm_compile_cache_hits_total"],
           before["faasm_compile_cache_hits_total"] + 2)
    if "no compile" not in w.log_text():
        fail("the worker's log has no 'no compile' line for the re-upload")

    call_ok(w, "alice", "echo", "hi", b"echo:hi")
    call_ok(w, "alice", "echo", "rc=7", b"echo:rc=7", want_rc=7)
    call_ok(w, "alice", "fanout", "4", b"echo:0,echo:1,echo:2,echo:3")
    call_ok(w, "bob", "echo-too", "x", b"echo:x")
    m = w.metrics()
    if m["faasm_cold_starts_total"] < 1 or m["faasm_warm_starts_total"] < 1:
        fail(f"cold and warm starts not counted: {m}")

    code, headers, body = w.invoke("alice", "fanout", "2", is_async=True)
    call_id = body.decode()
    if code != 200 or not re.fullmatch(r"[0-9a-f]{32}", call_id):
        fail(f"async invoke: {code} {body!r}")
    s = w.wait_final("alice", call_id)
    expect("async status", (s["status"], s["return_code"], s["output_data"]),
           ("done", 0, "echo:0,echo:1"))

    # A new upload of other bytes replaces the function; the old bytes again
    # bring the old artefact back without a compile.
    upload_ok(w, "alice", "echo", crash)
    expect_line("echo replaced by crash", w.invoke("alice", "echo", "hi"), 500, r"trap: unreachable")
    expect("back to the first bytes", upload_ok(w, "alice", "echo", echo)["compiled"], False)
    call_ok(w, "alice", "echo", "back", b"echo:back")

    code, _, body = w.request(w.upload_port, "GET", "/f/alice/")
    names = [f["function"] for f in json.loads(body)["functions"]]
    expect("alice's functions", names, ["echo", "fanout"])
    code, _, body = w.request(w.invoke_port, "GET", "/healthz")
    expect("healthz", (code, json.loads(body)["status"]), (200, "ok"))
    m = w.metrics()
    for name in ("faasm_calls_total{outcome=\"done\"}", "faasm_queue_depth",
                 "faasm_call_duration_seconds_bucket{le=\"+Inf\"}", "faasm_call_run_seconds_count",
                 "faasm_compile_duration_seconds_count", "faasm_proto_faaslets"):
        if name not in m:
            fail(f"/metrics has no {name}")


def scenario_state(args, w):
    upload_ok(w, "alice", "state-echo", guest(args, "state-echo"))
    upload_ok(w, "bob", "state-echo", guest(args, "state-echo"))
    code, _, _ = w.request(w.invoke_port, "PUT", "/state/alice/k", b"value-of-alice")
    expect("state set", code, 200)
    call_ok(w, "alice", "state-echo", "k", b"value-of-alice")
    code, _, body = w.request(w.invoke_port, "GET", "/state/alice/k-seen")
    expect("state written by the function", (code, body), (200, b"seen:value-of-alice"))
    # Bob's key of the same name is his own: empty, and his function sees it so.
    expect_line("bob's k", w.request(w.invoke_port, "GET", "/state/bob/k"), 404, r"no state key k")
    call_ok(w, "bob", "state-echo", "k", b"")
    code, _, body = w.request(w.invoke_port, "GET", "/state/alice/k")
    expect("alice's k after bob's call", body, b"value-of-alice")


def faasm_cli(args, w, *argv, input_bytes=None):
    cmd = [os.path.join(args.bin, "faasm"), "--invoke-port", str(w.invoke_port),
           "--upload-port", str(w.upload_port), *argv]
    return run_command(cmd, input=input_bytes)


def scenario_client(args, w):
    for name in ("echo", "crash", "spinner"):
        path = os.path.join(args.work, f"{name}.wasm")
        guest(args, name)
        r = faasm_cli(args, w, "upload", "carol", name, path)
        expect(f"faasm upload {name}", (r.returncode, r.stdout.strip()),
               (0, f"carol/{name}: compiled"))
    r = faasm_cli(args, w, "upload", "carol", "echo", os.path.join(args.work, "echo.wasm"))
    expect("faasm re-upload", r.stdout.strip(), "carol/echo: unchanged (artefact cached, no compile)")
    r = faasm_cli(args, w, "invoke", "carol", "echo", "--input", "hello")
    expect("faasm invoke", (r.returncode, r.stdout), (0, "echo:hello"))
    r = faasm_cli(args, w, "invoke", "carol", "echo", "--input", "rc=9")
    expect("faasm invoke returning 9", r.returncode, 9)
    r = faasm_cli(args, w, "invoke", "carol", "crash")
    expect("faasm invoke of a trap", (r.returncode, "trap: unreachable" in r.stderr), (134, True))
    r = faasm_cli(args, w, "invoke", "carol", "nothing")
    expect("faasm invoke of no function",
           (r.returncode, r.stderr.strip()), (126, "faasm: no function nothing of user carol"))
    r = faasm_cli(args, w, "--json", "invoke", "carol", "echo", "--input", "j")
    j = json.loads(r.stdout)
    expect("faasm --json invoke", (r.returncode, j["status"], j["output_data"]), (0, "done", "echo:j"))
    r = faasm_cli(args, w, "invoke", "carol", "echo", "--input", "later", "--async")
    call_id = r.stdout.strip()
    r = faasm_cli(args, w, "status", "carol", call_id, "--wait")
    expect("faasm status --wait", (r.returncode, r.stdout), (0, "echo:later"))
    r = faasm_cli(args, w, "status", "dave", call_id)
    expect("faasm status of another user's call", r.returncode, 126)
    r = faasm_cli(args, w, "state", "set", "carol", "key", "--value", "v")
    expect("faasm state set", r.returncode, 0)
    r = faasm_cli(args, w, "state", "get", "carol", "key")
    expect("faasm state get", (r.returncode, r.stdout), (0, "v"))
    r = faasm_cli(args, w, "list", "carol")
    expect("faasm list", [line.split("\t")[0] for line in r.stdout.splitlines()],
           ["crash", "echo", "spinner"])
    r = run_command([os.path.join(args.bin, "faasm"), "--invoke-port", "1", "invoke", "carol", "echo"])
    expect("faasm with no worker", (r.returncode, "cannot reach the worker" in r.stderr), (126, True))


def scenario_malformed(args, w):
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    post = lambda body: w.request(w.invoke_port, "POST", "/", body)  # noqa: E731
    expect_line("malformed JSON", post(b"{\"user\": "), 400, r"^request body: malformed JSON$")
    expect_line("not an object", post(b"[1,2]"), 400, r"not a JSON object")
    expect_line("no user", post(b"{\"function\": \"echo\"}"), 400, r"names no user")
    expect_line("user not a string", post(b"{\"user\": 3, \"function\": \"echo\"}"), 400,
                r"\"user\" is not a string")
    expect_line("bad user name", w.invoke("al/ice", "echo"), 400, r"user name has a character")
    expect_line("dot user name", w.invoke("..", "echo"), 400, r"starts with '.'")
    expect_line("bad async", post(b"{\"user\":\"alice\",\"function\":\"echo\",\"async\":\"yes\"}"),
                400, r"async")
    expect_line("unknown function", w.invoke("alice", "nope"), 404, r"no function nope of user alice")
    expect_line("status with a bad id", w.status("alice", "123"), 400, r"32 lowercase hex")
    expect_line("status of an unknown id", w.status("alice", "0" * 32), 404, r"no call")
    expect_line("unknown endpoint", w.request(w.invoke_port, "GET", "/nowhere"), 404,
                r"no such endpoint")
    expect_line("upload of text", w.upload("alice", "bad", b"hello world, not wasm"), 400,
                r"not a WebAssembly binary module")
    expect_line("upload of a broken module", w.upload("alice", "bad", b"\0asm\1\0\0\0\x01\xff\xff"),
                400, r"^upload of alice/bad: ")
    expect_line("bad state key", w.request(w.invoke_port, "GET", "/state/alice/a%20b"), 400,
                r"state key name")


# ----- attacks -----------------------------------------------------------------------


def scenario_spinner(args, w):
    upload_ok(w, "eve", "spinner", guest(args, "spinner"))
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    expect_line("spinner", w.invoke("eve", "spinner"), 504, r"timed out")
    w.wait_idle()
    call_ok(w, "alice", "echo", "after", b"echo:after")


def scenario_hog(args, w):
    if os.geteuid() != 0:
        skip("a Faaslet's memory limit needs cgroups (root)")
    upload_ok(w, "eve", "hog", guest(args, "hog"))
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    expect_line("hog", w.invoke("eve", "hog"), 500, r"memory limit reached \(32 MiB\)")
    w.wait_idle()
    call_ok(w, "alice", "echo", "after", b"echo:after")


def scenario_crash(args, w):
    upload_ok(w, "eve", "crash", guest(args, "crash"))
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    for _ in range(3):
        expect_line("crash", w.invoke("eve", "crash"), 500, r"trap: unreachable")
    w.wait_idle()
    call_ok(w, "alice", "echo", "after", b"echo:after")


def scenario_executor_dies(args, w):
    upload_ok(w, "eve", "spinner", guest(args, "spinner"))
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    _, _, body = w.invoke("eve", "spinner", is_async=True)
    call_id = body.decode()
    deadline = time.monotonic() + WAIT_SECONDS
    while json.loads(w.status("eve", call_id)[2])["status"] != "running":
        if time.monotonic() > deadline:
            fail("the spinner never ran")
        time.sleep(0.05)
    _, _, health = w.request(w.invoke_port, "GET", "/healthz")
    os.kill(json.loads(health)["executor_pid"], signal.SIGKILL)
    s = w.wait_final("eve", call_id)
    expect("the call the executor held", (s["status"], "executor died" in s.get("error", "")),
           ("failed", True))
    w.wait_idle()
    call_ok(w, "alice", "echo", "after", b"echo:after")
    expect("restarts counted", w.metrics()["faasm_executor_restarts_total"], 1)


def scenario_foreign_call(args, w):
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    _, _, body = w.invoke("alice", "echo", "alice-secret", is_async=True)
    call_id = body.decode()
    s = w.wait_final("alice", call_id)
    expect("alice's own call", s["output_data"], "echo:alice-secret")
    for user in ("bob", "alicex", "Alice"):
        code, _, text = w.status(user, call_id)
        if code != 404 or b"alice-secret" in text:
            fail(f"{user} reading alice's call: {code} {text!r}")
    # A guessed id is as unknown as another user's.
    expect_line("guessed id", w.status("bob", call_id[:-1] + ("0" if call_id[-1] != "0" else "1")),
                404, r"no call")
    w.request(w.invoke_port, "PUT", "/state/alice/secret", b"alice-state")
    code, _, text = w.request(w.invoke_port, "GET", "/state/bob/secret")
    if code != 404 or b"alice-state" in text:
        fail(f"bob reading alice's state: {code} {text!r}")
    # Bob cannot call alice's function, nor does a function of his name exist.
    expect_line("bob calling alice's echo", w.invoke("bob", "echo"), 404, r"no function echo of user bob")


def scenario_flood(args, w):
    upload_ok(w, "eve", "spinner", guest(args, "spinner"))
    upload_ok(w, "mallory", "spinner", guest(args, "spinner"))
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    ids = []
    for _ in range(2):  # one runs, one waits: eve's share (2) is full
        code, _, body = w.invoke("eve", "spinner", is_async=True)
        expect("eve's call accepted", code, 200)
        ids.append(("eve", body.decode()))
        deadline = time.monotonic() + WAIT_SECONDS
        while json.loads(w.status("eve", ids[0][1])[2])["status"] != "running":
            if time.monotonic() > deadline:
                fail("eve's first spinner never ran")
            time.sleep(0.02)
    expect_line("eve past her share", w.invoke("eve", "spinner", is_async=True), 429,
                r"user eve has 2 calls queued or running")
    code, _, body = w.invoke("mallory", "spinner", is_async=True)
    expect("mallory's call accepted (the queue holds 2)", code, 200)
    ids.append(("mallory", body.decode()))
    expect_line("the host past its queue", w.invoke("alice", "echo", is_async=True), 503,
                r"this worker is at capacity")
    expect("refusals counted", w.metrics()["faasm_calls_refused_total"], 2)
    for user, call_id in ids:
        s = w.wait_final(user, call_id)
        expect(f"{user}'s spinner ended by a deadline", s["status"], "timeout")
    w.wait_idle()
    call_ok(w, "alice", "echo", "after", b"echo:after")
    w.wait_idle()


def scenario_stuck_init(args, w):
    """A call handed to the executor with less time left than its function's
    initialisation takes (it waited in the queue behind a spinner) ends at its
    deadline while its zygote is still initialising: it never had a Faaslet,
    so no Faaslet's end gives its slot back; the call must (issue 15: the
    executor's scheduler kept the slot, and every later call timed out)."""
    upload_ok(w, "eve", "spinner", guest(args, "spinner"))
    upload_ok(w, "eve", "stuck", guest(args, "init-spinner"))
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    code, _, body = w.invoke("eve", "spinner", is_async=True)
    expect("eve's spinner accepted", code, 200)
    spinner = body.decode()
    deadline = time.monotonic() + WAIT_SECONDS
    while json.loads(w.status("eve", spinner)[2])["status"] != "running":
        if time.monotonic() > deadline:
            fail("eve's spinner never ran")
        time.sleep(0.02)
    code, _, body = w.invoke("eve", "stuck", is_async=True)
    expect("eve's stuck call accepted (queued behind her spinner)", code, 200)
    stuck = body.decode()
    expect("eve's spinner ended by a deadline", w.wait_final("eve", spinner)["status"], "timeout")
    expect("eve's stuck call ended by a deadline", w.wait_final("eve", stuck)["status"], "timeout")
    # Honest calls, each of which needs the one running slot.
    call_ok(w, "alice", "echo", "after", b"echo:after")
    call_ok(w, "alice", "echo", "again", b"echo:again")
    w.wait_idle()


def scenario_hostile_upload(args, w):
    echo = guest(args, "echo")
    expect_line("upload over the size limit", w.upload("eve", "big", b"\0asm\1\0\0\0" + bytes(4 << 20)),
                413, r"larger than the limit")
    # A module big enough that compiling it takes far longer than the limit.
    wat = os.path.join(args.work, "slow.wat")
    with open(wat, "w") as f:
        f.write("(module (memory 1)\n")
        for i in range(4000):
            body = " ".join(f"(i32.store (i32.const {j * 4}) (i32.add (local.get 0) (i32.const {j})))"
                            for j in range(40))
            f.write(f"(func (export \"f{i}\") (param i32) {body})\n")
        f.write(")\n")
    slow = os.path.join(args.work, "slow.wasm")
    run_command([require_tool("wat2wasm"), wat, "-o", slow], check=True)
    expect_line("a compile past its timeout", w.upload("eve", "slow", open(slow, "rb").read()), 400,
                r"compiling used more than its limit of 1 s of CPU time")
    w.request(w.invoke_port, "GET", "/healthz")
    # The compile slot came back: an honest upload compiles.
    upload_ok(w, "alice", "echo", echo)
    call_ok(w, "alice", "echo", "after", b"echo:after")


def scenario_compile_memory(args, w):
    expect_line("a compile past its memory limit", w.upload("eve", "echo", guest(args, "echo")), 400,
                r"^upload of eve/echo: ")
    expect("failures counted", w.metrics()["faasm_compile_failures_total"], 1)


def scenario_http_abuse(args, w):
    upload_ok(w, "alice", "echo", guest(args, "echo"))
    deep = b"[" * 100000 + b"]" * 100000
    expect_line("deep JSON", w.request(w.invoke_port, "POST", "/", deep), 400,
                r"nested deeper than 8 levels")
    code, _, _ = w.request(w.invoke_port, "GET", "/healthz", headers={"X-Big": "a" * 200000})
    if code not in (413, 431):
        fail(f"a 200 KB header: got {code}, want 413 or 431")
    expect_line("a declared body over the limit",
                w.request(w.invoke_port, "POST", "/", b"x" * (2 << 20)), 413, r"larger than the limit")
    # An undeclared (chunked) body over the limit: the connection is closed.
    s = socket.create_connection(("127.0.0.1", w.invoke_port), timeout=WAIT_SECONDS)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % (256 << 10) + b"y" * (256 << 10) + b"\r\n"
    try:
        for _ in range(16):
            s.sendall(chunk)
        answer = s.recv(4096)
    except OSError:
        answer = b""
    s.close()
    if answer.startswith(b"HTTP/1.1 200"):
        fail(f"an undeclared 4 MiB body was accepted: {answer[:80]!r}")
    # Idle connections beyond the limit do not stop the worker answering.
    idle = [socket.create_connection(("127.0.0.1", w.invoke_port)) for _ in range(40)]
    call_ok(w, "alice", "echo", "still", b"echo:still")
    for s in idle:
        s.close()


SCENARIOS = {
    "api": (scenario_api, []),
    "state": (scenario_state, []),
    "client": (scenario_client, []),
    "malformed": (scenario_malformed, []),
    "spinner": (scenario_spinner, ["--timeout", "1", "--host-running", "1", "--max-queued", "0"]),
    "hog": (scenario_hog, ["--memory-limit", "32", "--host-running", "1", "--max-queued", "0"]),
    "crash": (scenario_crash, ["--host-running", "1", "--max-queued", "0"]),
    "executor-dies": (scenario_executor_dies, ["--host-running", "1"]),
    "foreign-call": (scenario_foreign_call, []),
    # Deadlines long enough that the scenario's steps happen while eve's calls
    # still hold her share, and that the last honest call (a zygote to start)
    # ends in time, however loaded the machine; the spinners end by them.
    "flood": (scenario_flood, ["--host-running", "1", "--max-queued", "2", "--user-share", "2",
                               "--timeout", "20", "--queue-timeout", "8"]),
    # Eve's stuck call waits in the queue for about the spinner's timeout,
    # then reaches the executor with about the queue timeout left: less than
    # its function's initialisation (which never ends) takes.
    "stuck-init": (scenario_stuck_init, ["--host-running", "1", "--max-queued", "1",
                                         "--timeout", "6", "--queue-timeout", "3"]),
    "hostile-upload": (scenario_hostile_upload, ["--max-wasm", "3", "--compile-timeout", "1"]),
    "compile-memory": (scenario_compile_memory, ["--compile-memory", "16"]),
    "http-abuse": (scenario_http_abuse, ["--max-request", "1", "--max-connections", "32"]),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--bounds", default="guard", choices=["guard", "explicit"])
    args = parser.parse_args()
    function, options = SCENARIOS[args.scenario]
    args.work = make_work_dir(args.work, f"{args.scenario}.{args.bounds}")
    w = Worker(args, args.work, *options)
    try:
        function(args, w)
    finally:
        w.stop()
    print(f"{args.scenario}: ok")


if __name__ == "__main__":
    main()
