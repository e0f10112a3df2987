#!/usr/bin/env python3
"""The thin front of scripts/bench-paper's inference benchmark: one HTTP
server that dispatches each request to an instance of the function, the
same code for both sides (only how an instance is started differs).

It speaks the subset of faasm-worker's invoke API the benchmark needs (so
the load generator can be pointed at faasm-worker instead, --front worker):

  POST /  {"user": U, "function": F, "input_data": TEXT, "async": false}
      -> 200 and the function's output (one line), or 500 and an error
  GET /stats -> JSON: cold starts, service times, instances, busy, waiting
  POST /reset-stats, POST /drop-queue (fails every request still waiting)

An instance is a process that answers requests one at a time on its stdin
and stdout: a request is a little-endian u32 length and the input bytes (the
input_data text, unchanged: the function decodes it); the answer is one line.

  --backend faasm  a Faaslet forked from the function's Proto-Faaslet, which
                   one long-lived `paper-faasm-instance --zygote` process
                   made (and confined, as faasm-run's zygote is) when the
                   front started; the Faaslet serves calls on a socket the
                   front passed to the zygote, reset to the snapshot
                   between calls. A cold start is a restore.
  --backend faasm-process
                   a paper-faasm-instance process per instance, which makes
                   the Proto-Faaslet itself (a cold start is a new process
                   loading and initialising the function: not Faasm's)
  --backend runc   `runc run` of an OCI bundle whose process is the native
                   server (mobilenet-serve), which loads the model from its
                   file when it starts

Dispatch: --instances warm instances are started (and each sent one warm-up
request) before the front reports ready on stdout. Requests wait in one FIFO
queue for an idle instance. Every --cold-every'th request (by arrival) is a
cold start: a new instance is started for it at once and it is sent there;
when it has answered, that instance joins the idle ones and the oldest idle
instance beyond --instances is retired (its stdin closed; a container is
then deleted by runc). So a cold request pays the instance's start and
nothing else does, on both sides.
"""

import argparse
import asyncio
import collections
import errno
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

INFERENCE_LINE = re.compile(rb"inference ([0-9.]+) ms \(cpu ([0-9.]+) ms\)")
# An instance's own start, as it reports it: a Faaslet restored from the
# zygote (fork to ready to serve), or a process's Proto-Faaslet made and
# confined; the container's server with its model loaded.
READY_LINE = re.compile(rb"(?:ready|weights loaded|restored) in ([0-9.]+) ms")


async def read_log(front, stream, who):
    """An instance's (or the zygote's) stderr: inference and start times."""
    while True:
        line = await stream.readline()
        if not line:
            return
        m = INFERENCE_LINE.search(line)
        ready = READY_LINE.search(line)
        if m:
            front.inference_ms.append((float(m.group(1)), float(m.group(2))))
        elif ready:
            front.stats["startup_ms"].append(float(ready.group(1)))
        elif front.verbose or b"error" in line.lower() or b"warning" in line.lower():
            sys.stderr.write(f"{who}: {line.decode(errors='replace')}")


def cpu_cgroup_of(pid):
    """pid's group in the cgroup v1 `cpu` hierarchy ("" if none)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if "cpu" in controllers.split(","):
                    return path
    except OSError:
        pass
    return ""


async def move_supervisor(runc_pid, group):
    """--supervisor-cpu-group: once `runc run` has put its container's
    process into the container's own group (below the front's: runc makes
    it relative to its own), runc itself moves to GROUP, outside the
    benchmark's CPU group, as a containerd shim lives in containerd's group
    and not in the pod's. runc's Go threads wake hundreds of times a
    second between them (timers, the runtime's monitor) and use almost no
    CPU; in the benchmark's group those wakeups earned the whole group, so
    the containers, about 1.5x the CPU its weight gives it on a contended
    machine (kernel 6.18's EEVDF), and so more than the Faaslets got at
    the same weight (docs/Evaluation.md, "Fairness on a shared machine").
    Only the cpu hierarchy: runc stays in the front's cpuacct group, so its
    CPU time still counts on the containers' side."""
    own = cpu_cgroup_of(os.getpid())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        children = set()
        try:
            for tid in os.listdir(f"/proc/{runc_pid}/task"):
                with open(f"/proc/{runc_pid}/task/{tid}/children") as f:
                    children.update(int(p) for p in f.read().split())
        except OSError:
            return  # runc has ended
        if any(cpu_cgroup_of(c) not in ("", own) for c in children):
            try:
                with open(os.path.join(group, "cgroup.procs"), "w") as f:
                    f.write(str(runc_pid))
            except OSError as e:
                if e.errno != errno.ESRCH:
                    sys.stderr.write(f"front: cannot move runc {runc_pid} to {group}: {e}\n")
            return
        await asyncio.sleep(0.005)


class Instance:
    """One instance; serves one request at a time. A process talking on its
    stdin and stdout, or a Faaslet of the zygote on a socket."""

    counter = 0

    def __init__(self, front, cold):
        Instance.counter += 1
        self.front = front
        self.id = Instance.counter
        self.cold = cold
        self.started = time.monotonic()
        self.proc = None
        self.reader = self.writer = None
        self.served = 0
        self.lock = asyncio.Lock()

    async def start(self):
        if self.front.zygote_control is not None:
            ours, theirs = socket.socketpair()
            try:
                socket.send_fds(self.front.zygote_control, [b"s"], [theirs.fileno()])
            finally:
                theirs.close()
            self.reader, self.writer = await asyncio.open_connection(sock=ours, limit=1 << 20)
            return
        cmd = self.front.instance_command(self.id)
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, limit=1 << 20)
        self.reader, self.writer = self.proc.stdout, self.proc.stdin
        asyncio.ensure_future(read_log(self.front, self.proc.stderr, f"instance {self.id}"))
        if self.front.args.backend == "runc" and self.front.args.supervisor_cpu_group:
            asyncio.ensure_future(move_supervisor(self.proc.pid,
                                                  self.front.args.supervisor_cpu_group))

    async def call(self, data):
        """The answer line for one request (bytes), or raises."""
        async with self.lock:
            self.writer.write(struct.pack("<I", len(data)) + data)
            await self.writer.drain()
            line = await self.reader.readline()
            if not line:
                status = await self.proc.wait() if self.proc else "unknown: a Faaslet"
                raise RuntimeError(f"instance {self.id} ended (status {status})")
            self.served += 1
            return line

    async def retire(self):
        try:
            self.writer.close()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if self.proc:
            await self.proc.wait()


class Front:
    def __init__(self, args):
        self.args = args
        self.verbose = args.verbose
        self.idle = collections.deque()  # oldest first
        self.waiting = collections.deque()  # futures of requests waiting for an instance
        self.instances = set()
        self.arrivals = 0
        self.stats = {"requests": 0, "cold_starts": 0, "errors": 0, "retired": 0,
                      "cold_ms": [], "warm_service_ms": [], "cold_service_ms": [],
                      "startup_ms": []}
        self.retiring = set()
        self.inference_ms = []
        self.zygote = None
        self.zygote_control = None

    async def start_zygote(self):
        """--backend faasm: the function's Proto-Faaslet, made once, before
        any instance; its stdin is the socket new instances' descriptors go
        through."""
        a = self.args
        ours, theirs = socket.socketpair()
        self.zygote = await asyncio.create_subprocess_exec(
            a.faasm_instance, "--zygote", a.function_file, stdin=theirs.fileno(),
            stdout=subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, limit=1 << 20)
        theirs.close()
        self.zygote_control = ours
        asyncio.ensure_future(read_log(self, self.zygote.stderr, "zygote"))

    def instance_command(self, number):
        a = self.args
        if a.backend == "faasm-process":
            return [a.faasm_instance, a.function_file]
        return ["runc", "run", "--bundle", a.bundle, f"{a.container_prefix}-{os.getpid()}-{number}"]

    async def new_instance(self, cold):
        instance = Instance(self, cold)
        await instance.start()
        self.instances.add(instance)
        return instance

    def release(self, instance):
        """An instance has answered: give it to the next waiting request, or
        keep it idle; retire the oldest idle ones past the pool size."""
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_result(instance)
                return
        self.idle.append(instance)
        while len(self.instances) - len(self.retiring) > self.args.instances and self.idle:
            old = self.idle.popleft()
            self.retiring.add(old)
            self.stats["retired"] += 1
            asyncio.ensure_future(self.retire(old))

    async def retire(self, instance):
        await instance.retire()
        self.instances.discard(instance)
        self.retiring.discard(instance)

    async def acquire(self):
        if self.idle:
            return self.idle.popleft()
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        return await future

    async def invoke(self, data):
        self.arrivals += 1
        cold = self.args.cold_every > 0 and self.arrivals % self.args.cold_every == 0
        t0 = time.monotonic()
        if cold:
            self.stats["cold_starts"] += 1
            instance = await self.new_instance(True)
        else:
            instance = await self.acquire()
        t1 = time.monotonic()
        try:
            line = await instance.call(data)
        except Exception:
            self.instances.discard(instance)
            self.stats["errors"] += 1
            raise
        t2 = time.monotonic()
        if cold:
            self.stats["cold_ms"].append((t2 - t0) * 1e3)
            self.stats["cold_service_ms"].append((t2 - t1) * 1e3)
        else:
            self.stats["warm_service_ms"].append((t2 - t1) * 1e3)
        self.stats["requests"] += 1
        self.release(instance)
        return line

    async def warm_up(self, data):
        for _ in range(self.args.instances):
            instance = await self.new_instance(False)
            line = await instance.call(data)
            if b'"error"' in line:
                raise RuntimeError(f"warm-up answered {line!r}")
            self.idle.append(instance)

    def stats_json(self):
        s = dict(self.stats)
        inference = self.inference_ms
        s["instances"] = len(self.instances)
        s["busy"] = len(self.instances) - len(self.idle) - len(self.retiring)
        s["waiting"] = sum(1 for f in self.waiting if not f.done())
        s["inference_wall_ms"] = [w for w, _ in inference]
        s["inference_cpu_ms"] = [c for _, c in inference]
        return s

    def reset_stats(self):
        for key, value in self.stats.items():
            self.stats[key] = [] if isinstance(value, list) else 0
        self.inference_ms = []

    async def handle(self, reader, writer):
        try:
            while True:
                request = await reader.readline()
                if not request:
                    return
                method, path = request.split()[:2]
                length = 0
                keep_alive = True
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        keep_alive = False
                body = await reader.readexactly(length) if length else b""
                status, answer = await self.route(method, path, body)
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n%s\r\n" % (
                    status, b"OK" if status == 200 else b"Error", len(answer),
                    b"" if keep_alive else b"Connection: close\r\n") + answer)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionResetError, asyncio.IncompleteReadError, BrokenPipeError):
            pass
        except asyncio.CancelledError:
            pass  # the front is ending with the request unanswered
        finally:
            writer.close()

    async def route(self, method, path, body):
        if method == b"GET" and path == b"/stats":
            return 200, json.dumps(self.stats_json()).encode()
        if method == b"POST" and path == b"/reset-stats":
            self.reset_stats()
            return 200, b"{}"
        if method == b"POST" and path == b"/drop-queue":
            # The load generator has given up on what still waits: those
            # requests fail now rather than take the next run's CPU.
            while self.waiting:
                future = self.waiting.popleft()
                if not future.done():
                    future.set_exception(RuntimeError("dropped: the client gave up"))
            return 200, b"{}"
        if method != b"POST":
            return 404, b"not found\n"
        try:
            call = json.loads(body)
            data = call["input_data"].encode()
        except (ValueError, KeyError, TypeError, AttributeError):
            return 400, b"want {\"user\",\"function\",\"input_data\",\"async\"}\n"
        try:
            line = await self.invoke(data)
        except Exception as e:  # an instance died: the request fails, the front goes on
            return 500, f"{e}\n".encode()
        return (500 if line.startswith(b'{"error"') else 200), line


async def serve(args):
    front = Front(args)
    with open(args.warm_up, "rb") as f:
        warm = f.read()
    if args.backend == "faasm":
        await front.start_zygote()
    await front.warm_up(warm)
    server = await asyncio.start_server(front.handle, "127.0.0.1", args.port, limit=1 << 22)
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    # Ends when the harness closes stdin.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    await asyncio.gather(*(i.retire() for i in list(front.instances)), return_exceptions=True)
    if front.zygote:
        front.zygote_control.close()
        await front.zygote.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["faasm", "faasm-process", "runc"], required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--cold-every", type=int, default=0, help="0: no cold starts")
    parser.add_argument("--warm-up", required=True, help="a file holding one request's input")
    parser.add_argument("--faasm-instance", help="paper-faasm-instance")
    parser.add_argument("--function-file", help="the function's .so (faasm)")
    parser.add_argument("--bundle", help="the OCI bundle (runc)")
    parser.add_argument("--container-prefix", default="paper-infer")
    parser.add_argument("--supervisor-cpu-group",
                        help="--backend runc: a cgroup v1 cpu group directory for each "
                             "`runc run` once its container runs (move_supervisor)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
