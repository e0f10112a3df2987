#!/usr/bin/env python3
"""scripts/bench-paper: the paper's two machine-learning results (Shillaker &
Pietzuch, ATC 2020, section 6), reproduced on one machine against a runc
container baseline in the same run, and written up in docs/Evaluation.md.

  bench_paper.py run [--quick] [options]   the benchmark (root, runc, redis-server)
  bench_paper.py smoke-sgd                 ctest: both SGD sides run, same model
  bench_paper.py smoke-inference           ctest: both inference sides answer alike

SGD: samples/ml's HOGWILD linear SVM. Faasm: faasm-run sgd-main chaining
sgd-step, the data and the weights in the local state tier, mapped into
every Faaslet (with --state-redis, once faasm-run has it, also synced
through Redis with partial pushes). Baseline: the native build of the same
code, sgd-main on the host chaining each worker's call into a warm runc
container of its own (one process per worker, FAASM_NATIVE_WARM), weights
exchanged through a redis-server this script starts. Same data, epochs and
learning rate; the final loss and accuracy must agree within the tolerance
of docs/Evaluation-models.md. Swept over the number of workers.

Inference: MobileNet v1 behind one HTTP front (front.py), the same code for
both sides: Faaslets forked from one long-lived Proto-Faaslet of the
function (paper-faasm-instance --zygote: the model mapped from shared state
and the network built in its initialisation), a cold start being a new
Faaslet restored from it and a warm request one reused (reset to the
snapshot), against mobilenet-serve in runc containers, a cold start being a
new container that loads the model file; a cold start every 5, 50 and 500
requests; open-loop load at rising rates (loadgen.py). --front worker sends
the Faasm side's requests to faasm-worker instead (every call a restore).

The last line printed is
  sgd_speedup=X sgd_mem_ratio=X inference_thpt_ratio=X inference_p99_ratio=X
"""

import argparse
import base64
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e-ml"))
from faasmtest import REPO_DIR, skip  # noqa: E402

IMAGE_SIZE = 224 * 224 * 3
# What mobilenet-infer and mobilenet-serve print per inference (front.py's too).
INFERENCE_LINE = re.compile(rb"inference ([0-9.]+) ms \(cpu ([0-9.]+) ms\)")
SCORE_TOLERANCE = 1e-5
# docs/Evaluation-models.md, "Same model: the tolerance".
LOSS_TOLERANCE = 0.005
ACCURACY_TOLERANCE = 0.005
SGD_FUNCTIONS = ["sgd-load", "sgd-main", "sgd-step"]
INFER_FUNCTIONS = ["mobilenet-load", "mobilenet-infer"]
COLD_EVERY = [5, 50, 500]
CONTAINER_PREFIX = "bench-paper"


def log(message):
    print(f"bench-paper: {message}", file=sys.stderr, flush=True)


def die(message):
    print(f"bench-paper: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class Failure(Exception):
    """A run that did not do what it should (the benchmark reports it)."""


def run(cmd, *, env=None, input=None, timeout=1800, check=True, cgroup=None):
    """Runs cmd; (status, stdout, stderr, seconds). With check, a non-zero
    status raises Failure with its stderr."""
    t0 = time.monotonic()
    proc = subprocess.run([str(c) for c in cmd], input=input, env=env, capture_output=True,
                          timeout=timeout, preexec_fn=cgroup.enter if cgroup else None)
    seconds = time.monotonic() - t0
    if check and proc.returncode != 0:
        raise Failure(f"{os.path.basename(str(cmd[0]))} exited {proc.returncode}: "
                      f"{proc.stderr.decode(errors='replace').strip()[-2000:]}")
    return proc.returncode, proc.stdout, proc.stderr, seconds


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----- cgroups, Redis, the memory sampler -------------------------------------------


def cgroup2_root():
    for path in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(path, "cgroup.procs")) and \
                os.path.exists(os.path.join(path, "cgroup.subtree_control")):
            return path
    return None


class Cgroup:
    """A cgroup v2 group used to know a side's processes (no controller)."""

    def __init__(self, name):
        root = cgroup2_root()
        if root is None:
            raise Failure("no cgroup v2 hierarchy: memory cannot be attributed")
        self.path = os.path.join(root, f"{CONTAINER_PREFIX}-{os.getpid()}-{name}")
        os.makedirs(self.path, exist_ok=True)

    def enter(self):
        """In a child before exec: join the group."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def remove(self):
        remove_group(self.path)


class CpuGroup:
    """The benchmark's CPU share, the same for both sides, and its CPU time.
    With autogroup scheduling (kernel.sched_autogroup_enabled) every session
    in the root CPU group is one scheduling entity: runc makes each
    container a session of its own, so on a shared machine each container
    would get the CPU share of a whole session while all of Faasm's
    Faaslets (forked within one session) shared one. A process in any other
    CPU group is scheduled without autogroup; so the benchmark moves itself
    (and so everything it starts, containers included: runc makes their
    groups below its own) into a group of its own, whose weight is that of
    one session per CPU. Inside it every thread weighs the same on either
    side. The same group in the cpuacct hierarchy counts the CPU time of
    everything the benchmark runs (usage()). cgroup v1 only; elsewhere a
    warning, the shares are as they fall and no CPU time is reported.

    Equal weight is not equal CPU: under kernel 6.18's EEVDF a group whose
    threads wake often gets more than its weight's share of a contended
    CPU (measured: a group of 10 busy tasks beside 20 threads that wake
    every 50 ms got 1.54x the CPU of the same group without them, both of
    weight 2048). The `runc run` that supervises each container is such a
    set of threads (Go timers: 300-550 wakeups a second over 20 of them),
    so the containers' side got about 1.5x the Faaslets' CPU whenever the
    machine was busy. Hence `supervisors`: a cpu group beside this one
    where the inference front moves each `runc run` once its container
    runs (front.py, move_supervisor), as containerd's shims live outside
    the pods' group; it stays in the cpuacct group, so its CPU time still
    counts. Its weight is one session's; its threads use almost none."""

    def __init__(self):
        self.groups = []
        self.usage_file = None
        self.supervisors = None
        for controller, setting in (("cpu", "cpu.shares"), ("cpuacct", "cpuacct.usage")):
            base = f"/sys/fs/cgroup/{controller}"
            if not os.path.exists(os.path.join(base, setting)):
                log(f"warning: no cgroup v1 {controller} controller: "
                    + ("the sides' CPU shares are not equalised (autogroup)" if controller ==
                       "cpu" else "no CPU time per run"))
                continue
            with open("/proc/self/cgroup") as f:
                mine = next((line.split(":", 2)[2].strip() for line in f
                             if controller in line.split(":")[1].split(",")), "/")
            parent = os.path.join(base, mine.lstrip("/"))
            path = os.path.join(parent, f"{CONTAINER_PREFIX}-{os.getpid()}-{controller}")
            os.makedirs(path, exist_ok=True)
            if controller == "cpu":
                with open(os.path.join(path, "cpu.shares"), "w") as f:
                    f.write(str(1024 * (os.cpu_count() or 1)))
                supervisors = os.path.join(parent, f"{CONTAINER_PREFIX}-{os.getpid()}-runc")
                os.makedirs(supervisors, exist_ok=True)
                self.groups.append((parent, supervisors))
                self.supervisors = supervisors
            else:
                self.usage_file = os.path.join(path, "cpuacct.usage")
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            self.groups.append((parent, path))

    def usage(self):
        """CPU seconds used by everything in the group so far (None: unknown)."""
        if not self.usage_file:
            return None
        with open(self.usage_file) as f:
            return int(f.read()) / 1e9

    def remove(self):
        for parent, path in self.groups:
            with open(os.path.join(parent, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            remove_group(path)


def remove_group(path):
    """rmdir a cgroup once its last process has gone (a container may take a
    moment to be deleted); says so if it does not go."""
    for _ in range(100):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    log(f"warning: cannot remove {path} (processes left in it?)")


CPU = None  # the run's CpuGroup


def cpu_seconds():
    return CPU.usage() if CPU else None


def cpu_delta(before):
    after = cpu_seconds()
    return None if before is None or after is None else after - before


class Redis:
    """A redis-server of our own: its own port and directory, no persistence."""

    def __init__(self, port, directory, cgroup=None):
        self.port = port
        os.makedirs(directory, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", directory, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=cgroup.enter if cgroup else None)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.command("PING")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise Failure("redis-server did not start")
                time.sleep(0.05)

    def command(self, *args):
        """One RESP command; its reply as bytes (bulk/simple) or int."""
        payload = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(payload)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("redis closed")
                data += chunk
            head, _, rest = data.partition(b"\r\n")
            if head[:1] == b"$":
                n = int(head[1:])
                while len(rest) < n + 2:
                    rest += s.recv(65536)
                return rest[:n]
            if head[:1] == b":":
                return int(head[1:])
            if head[:1] == b"-":
                raise Failure(f"redis: {head.decode()}")
            return head[1:]

    def net_bytes(self):
        """(total_net_input_bytes, total_net_output_bytes)."""
        info = dict(line.split(":", 1) for line in
                    self.command("INFO", "stats").decode().splitlines() if ":" in line)
        return int(info["total_net_input_bytes"]), int(info["total_net_output_bytes"])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Sampler:
    """memory.py, sampling one group until stop()."""

    def __init__(self, cgroup, out, period, state_dir=""):
        self.out = out
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "memory.py"), "--cgroup", cgroup.path,
             "--state-dir", state_dir, "--period", str(period), "--out", out],
            stdin=subprocess.PIPE)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        with open(self.out) as f:
            return json.load(f)


# ----- artefacts, data, containers ---------------------------------------------------


class Setup:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.bin = os.path.join(self.build, "bin")
        self.ml = os.path.join(self.build, "samples", "ml")
        self.native = os.path.join(self.ml, "native")
        self.out = os.path.abspath(args.out or os.path.join(self.build, "bench-paper"))
        os.makedirs(self.out, exist_ok=True)
        self.so = args.so_dir or os.path.join(self.out, "so")
        self.codegen = os.path.join(self.bin, "faasm-codegen")
        self.faasm_run = os.path.join(self.bin, "faasm-run")
        self.instance = os.path.join(self.bin, "paper-faasm-instance")
        self.rootfs = os.path.join(self.out, "rootfs")
        self.bundles = os.path.join(self.out, "bundles")
        # Faaslets run as nobody (docs/Isolation.md): the state directory is
        # made by faasm-run; its parent must let them through.
        self.state_dir = tempfile.mkdtemp(prefix="bench-paper-state-", dir="/dev/shm")
        os.chmod(self.state_dir, 0o755)
        self.redis_port = free_port()
        self.redis_dir = os.path.join(self.out, "redis")
        self.launcher = os.path.join(self.out, "launch-runc")
        help_text = run([self.faasm_run, "--help"], check=False)[1].decode()
        self.faasm_has_redis = "--state-redis" in help_text
        mode = args.faasm_state
        if mode == "auto":
            mode = "redis" if self.faasm_has_redis else "local"
        if mode == "redis" and not self.faasm_has_redis:
            die("--faasm-state redis: this faasm-run has no --state-redis (the global tier "
                "is not built yet)")
        self.faasm_state = mode

    def env(self, **extra):
        env = dict(os.environ, FAASM_STATE_DIR=self.state_dir)
        # The native platform's variable; faasm-run with the global tier
        # reads it too, which must be our choice (--faasm-state), not the
        # environment's.
        env.pop("FAASM_REDIS", None)
        env.update(extra)
        return env

    def compile(self, names):
        os.makedirs(self.so, exist_ok=True)
        for name in names:
            wasm = os.path.join(self.ml, f"{name}.wasm")
            so = os.path.join(self.so, f"{name}.so")
            if os.path.exists(so) and os.path.getmtime(so) >= max(
                    os.path.getmtime(wasm), os.path.getmtime(self.codegen)):
                continue
            log(f"faasm-codegen {name}")
            run([self.codegen, wasm, "-o", so])

    def prepare(self):
        """The model file (the container's copy of MobileNet's weights) and
        the containers' root file system."""
        self.weights = os.path.join(self.out, "weights.bin")
        run([os.path.join(self.native, "mobilenet-serve"), "--write", self.weights])
        self.make_rootfs(self.weights)

    def make_rootfs(self, weights):
        """A minimal root file system for both containers: the two native
        functions and the shared libraries they load (found with ldd, copied
        from the host, not linked: the containers' pages are their own files,
        as an image's would be), and the model file."""
        if os.path.exists(self.rootfs):
            shutil.rmtree(self.rootfs)
        for d in ("bin", "proc", "dev", "sys", "tmp", "model"):
            os.makedirs(os.path.join(self.rootfs, d))
        for name in ("sgd-step", "mobilenet-serve"):
            binary = os.path.join(self.native, name)
            shutil.copy2(binary, os.path.join(self.rootfs, "bin", name))
            for line in run(["ldd", binary])[1].decode().splitlines():
                path = next((w for w in line.split() if w.startswith("/")), None)
                if not path:
                    continue
                dest = os.path.join(self.rootfs, path.lstrip("/"))
                if not os.path.exists(dest):
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    shutil.copy2(os.path.realpath(path), dest)
        shutil.copy2(weights, os.path.join(self.rootfs, "model", "weights.bin"))

    def make_bundle(self, name, args, env, host_network):
        bundle = os.path.join(self.bundles, name)
        os.makedirs(bundle, exist_ok=True)
        config_path = os.path.join(bundle, "config.json")
        if os.path.exists(config_path):
            os.remove(config_path)
        run(["runc", "spec", "--bundle", bundle])
        with open(config_path) as f:
            config = json.load(f)
        config["process"]["terminal"] = False
        config["process"]["args"] = args
        config["process"]["env"] = ["PATH=/bin"] + env
        config["root"] = {"path": self.rootfs, "readonly": True}
        config["hostname"] = "bench-paper"
        if host_network:
            # The containers reach the Redis on the host's loopback, as a
            # pod reaches a Redis service; no veth on the path.
            config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"]
                                             if n["type"] != "network"]
        with open(config_path, "w") as f:
            json.dump(config, f, indent=1)
        return bundle

    def write_launcher(self):
        """What FAASM_NATIVE_LAUNCHER runs for a chained call of function $1:
        a container of its own from the function's bundle."""
        with open(self.launcher, "w") as f:
            f.write("#!/bin/sh\n"
                    "# A chained call of function $1 in a runc container of its own\n"
                    "# (samples/ml/platform/PlatformNative.cpp, FAASM_NATIVE_LAUNCHER).\n"
                    f'exec runc run --bundle "{self.bundles}/$1" "{CONTAINER_PREFIX}-$1-$$"\n')
        os.chmod(self.launcher, 0o755)

    def cleanup(self):
        out = run(["runc", "list", "-q"], check=False)[1].decode().split()
        for cid in out:
            if cid.startswith(CONTAINER_PREFIX):
                run(["runc", "delete", "-f", cid], check=False)
        shutil.rmtree(self.state_dir, ignore_errors=True)


def make_dataset(setup, rows):
    data = os.path.join(setup.out, f"data-{rows}")
    if not os.path.exists(os.path.join(data, "sgd-meta")):
        os.makedirs(data, exist_ok=True)
        log(f"ml-datagen {rows} rows")
        run([os.path.join(setup.native, "ml-datagen"), data, "--rows", str(rows)])
    return data


# ----- SGD ----------------------------------------------------------------------------


def parse_training(text, what):
    try:
        result = json.loads(text)
        result["loss"], result["accuracy"], result["train_s"]
    except (ValueError, KeyError, TypeError) as e:
        raise Failure(f"{what}: output is not sgd-main's JSON ({e}): {text[:300]!r}")
    return result


def sync_interval(nnz, workers):
    """Weight updates between a worker's syncs, for both sides: the paper's
    60,000, but never so many that a worker's view of the others' updates is
    more than nnz/25 updates (4% of an epoch's entries) behind. At RCV1/10
    that is 60,000 up to 5 workers, the point at which
    docs/Evaluation-models.md measured both sides training the same model;
    beyond it, weights exchanged through Redis that seldom train a different
    model (the workers' deltas, each computed from a stale view, are summed),
    so the interval shrinks as workers are added."""
    if workers <= 1:
        return 60000
    return max(1000, min(60000, nnz // (25 * (workers - 1))))


def bound_faaslets(memory, workers, function="sgd-step"):
    """Faasm's memory as if all `workers` Faaslets of `function` were alive
    at every sample. A worker's pass can take milliseconds, between two
    samples: the sampler sees few of them at once (5 of 16 with a
    millisecond sampler), so the sampled peak would leave most out. Each
    missing one is counted at the largest PSS any of them had; the peak and
    the GB-s become upper bounds (against Faasm)."""
    role = f"Faaslet ({function})"
    each = memory["largest_process"].get(role, 0)
    if not each:
        each = max((v for k, v in memory["largest_process"].items() if k.startswith("Faaslet")),
                   default=0)
    bounded = [[t, b + max(0, workers - counts.get(role, 0)) * each, counts]
               for t, b, counts in memory["samples"]]
    peak = max(bounded, key=lambda x: x[1]) if bounded else [0, 0, {}]
    gb_seconds = sum(b / 1e9 * (t1 - t0) for (t0, b, _), (t1, _, _) in zip(bounded, bounded[1:]))
    memory.update({"sampled_peak_bytes": memory["peak_bytes"],
                   "sampled_gb_seconds": memory["gb_seconds"], "peak_bytes": peak[1],
                   "gb_seconds": gb_seconds, "faaslet_bytes": each,
                   "faaslets_added_at_peak": max(0, workers - peak[2].get(role, 0))})
    return memory


def faasm_limits(workers):
    """Every worker runs at once, as natively (the defaults cap running
    Faaslets at 2 x CPUs and queue the rest)."""
    running = max(4, workers + 1)
    alive = workers + 2
    return ["--host-running", str(running), "--tree-running", str(running),
            "--host-alive", str(max(32, alive)), "--tree-alive", str(alive)]


class SgdBench:
    def __init__(self, setup, rows, epochs, memory_period):
        self.s = setup
        self.rows = rows
        self.epochs = epochs
        self.period = memory_period
        self.data = make_dataset(setup, rows)
        with open(os.path.join(self.data, "sgd-meta"), "rb") as f:
            self.nnz = struct.unpack("<Q", f.read()[16:24])[0]
        self.faasm_loaded = False

    def faasm_options(self, redis):
        return ["--state-redis", f"127.0.0.1:{redis.port}"] if redis else []

    def train_input(self, workers):
        return (f"workers={workers} epochs={self.epochs} lr=0.1 "
                f"sync={sync_interval(self.nnz, workers)} eval=0")

    def run_faasm(self, workers, measure=True):
        s = self.s
        so = s.so
        group = Cgroup("faasm") if measure else None
        redis = Redis(s.redis_port, s.redis_dir, group) if s.faasm_state == "redis" else None
        try:
            if not self.faasm_loaded or redis:
                run([s.faasm_run, "--functions", so, *self.faasm_options(redis), "--dir",
                     f"{self.data}:/data", "--input", "dir=/data",
                     os.path.join(so, "sgd-load.so")], env=s.env())
                self.faasm_loaded = True
            before = redis.net_bytes() if redis else (0, 0)
            sampler = Sampler(group, os.path.join(s.out, f"mem-faasm-{workers}.json"),
                              self.period, s.state_dir) if measure else None
            cpu = cpu_seconds()
            try:
                _, out, _, wall = run(
                    [s.faasm_run, "--functions", so, *self.faasm_options(redis),
                     *faasm_limits(workers), "--input", self.train_input(workers),
                     os.path.join(so, "sgd-main.so")], env=s.env(), cgroup=group)
                cpu = cpu_delta(cpu)
            finally:
                memory = sampler.stop() if sampler else None
            after = redis.net_bytes() if redis else (0, 0)
        finally:
            if redis:
                redis.stop()
            if group:
                group.remove()
        result = parse_training(out.decode(), f"Faasm sgd-main, {workers} workers")
        if memory:
            memory = bound_faaslets(memory, workers)
        return {"train_s": result["train_s"], "wall_s": wall, "cpu_s": cpu,
                "loss": result["loss"], "accuracy": result["accuracy"], "memory": memory,
                "redis_in": after[0] - before[0], "redis_out": after[1] - before[1],
                "epochs": result["epochs"]}

    def run_native(self, workers, measure=True):
        s = self.s
        group = Cgroup("native") if measure else None
        redis = Redis(s.redis_port, s.redis_dir, group)
        env = s.env(FAASM_REDIS=f"127.0.0.1:{redis.port}")
        try:
            run([os.path.join(s.native, "sgd-load"), f"dir={self.data}"], env=env)
            before = redis.net_bytes()
            sampler = Sampler(group, os.path.join(s.out, f"mem-native-{workers}.json"),
                              self.period) if measure else None
            cpu = cpu_seconds()
            try:
                _, out, _, wall = run(
                    [os.path.join(s.native, "sgd-main"), self.train_input(workers)],
                    env=dict(env, FAASM_NATIVE_LAUNCHER=s.launcher, FAASM_NATIVE_WARM="1"),
                    cgroup=group)
                cpu = cpu_delta(cpu)
            finally:
                memory = sampler.stop() if sampler else None
            after = redis.net_bytes()
        finally:
            redis.stop()
            if group:
                group.remove()
        result = parse_training(out.decode(), f"container sgd-main, {workers} workers")
        return {"train_s": result["train_s"], "wall_s": wall, "cpu_s": cpu,
                "loss": result["loss"], "accuracy": result["accuracy"], "memory": memory,
                "redis_in": after[0] - before[0], "redis_out": after[1] - before[1],
                "epochs": result["epochs"]}

    def prepare(self):
        s = self.s
        s.compile(SGD_FUNCTIONS)
        s.make_bundle("sgd-step", ["/bin/sgd-step"],
                      [f"FAASM_REDIS=127.0.0.1:{s.redis_port}", "FAASM_NATIVE_WARM=1"],
                      host_network=True)
        s.write_launcher()

    def sweep(self, worker_counts):
        rows = []
        for workers in worker_counts:
            log(f"SGD, {workers} workers: Faasm")
            try:
                faasm = self.run_faasm(workers)
                log(f"SGD, {workers} workers: containers")
                native = self.run_native(workers)
            except (Failure, subprocess.TimeoutExpired) as e:
                log(f"SGD with {workers} workers did not complete, the sweep stops here: {e}")
                rows.append({"workers": workers, "failed": str(e)})
                break
            same = (abs(faasm["loss"] - native["loss"]) <= LOSS_TOLERANCE and
                    abs(faasm["accuracy"] - native["accuracy"]) <= ACCURACY_TOLERANCE)
            row = {"workers": workers, "faasm": faasm, "native": native, "same_model": same,
                   "sync": sync_interval(self.nnz, workers)}
            rows.append(row)
            log(f"  train {faasm['train_s']:.2f} s vs {native['train_s']:.2f} s; peak memory "
                f"{mib(faasm['memory']['peak_bytes']):.0f} vs "
                f"{mib(native['memory']['peak_bytes']):.0f} MiB; loss {faasm['loss']:.5f} vs "
                f"{native['loss']:.5f}, accuracy {faasm['accuracy']:.4f} vs "
                f"{native['accuracy']:.4f}: {'same model' if same else 'DIFFERENT MODELS'}")
        return rows


def mib(n):
    return n / 1048576.0


# ----- inference ---------------------------------------------------------------------


def test_image(seed):
    import ml  # tests/e2e-ml/ml.py: the images of e2e-ml.mobilenet-same
    return ml.test_image(seed)


def parse_top5(line):
    top5 = json.loads(line)["top5"]
    return [(int(c), float(sc)) for c, sc in top5]


def same_answer(a, b):
    ta, tb = parse_top5(a), parse_top5(b)
    return [c for c, _ in ta] == [c for c, _ in tb] and \
        max(abs(x - y) for (_, x), (_, y) in zip(ta, tb)) <= SCORE_TOLERANCE


class Front:
    """front.py for one side (or faasm-worker's URL)."""

    def __init__(self, setup, backend, instances, cold_every, request_file, bundle=None):
        cmd = [sys.executable, os.path.join(HERE, "front.py"), "--backend", backend,
               "--instances", str(instances), "--cold-every", str(cold_every),
               "--warm-up", request_file]
        if backend in ("faasm", "faasm-process"):
            cmd += ["--faasm-instance", setup.instance, "--function-file",
                    os.path.join(setup.so, "mobilenet-infer.so")]
        else:
            cmd += ["--bundle", bundle, "--container-prefix", f"{CONTAINER_PREFIX}-infer"]
            if CPU and CPU.supervisors:
                cmd += ["--supervisor-cpu-group", CPU.supervisors]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=setup.env())
        line = self.proc.stdout.readline().decode()
        if not line.startswith("ready "):
            self.proc.kill()
            raise Failure(f"the {backend} front did not start")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/"

    def stats(self, reset=True):
        with urllib.request.urlopen(self.url + "stats", timeout=30) as r:
            stats = json.load(r)
        if reset:
            req = urllib.request.Request(self.url + "reset-stats", data=b"", method="POST")
            urllib.request.urlopen(req, timeout=30).read()
        return stats

    def drop_queue(self):
        req = urllib.request.Request(self.url + "drop-queue", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=30).read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class WorkerFront:
    """The Faasm side served by faasm-worker (--front worker): Faasm's own
    serving path. The worker is started with this run's state
    directory (the model is there, put by mobilenet-load), mobilenet-infer
    is uploaded to it (compiled by the worker's faasm-codegen, once per
    content and compiler: the artefact stays in OUT/worker-data), and one
    call makes the function's Proto-Faaslet (its initialisation maps the
    model and builds the network). From then on every call is a Faaslet of
    its own forked from that Proto-Faaslet (a restore) in the worker's
    executor: a cold start in the paper's sense, whatever --cold says (the
    knob places the containers' cold starts; on this side every request is
    one). Its Faaslets are confined as faasm-run's are (the executor's
    IsolationPlan: an unprivileged uid, their own network namespace,
    Landlock, seccomp; docs/Isolation.md).

    Same interface as Front: url, stats() (from the worker's /metrics and
    the inference lines its Faaslets print to its log), drop_queue(), stop().
    """

    def __init__(self, setup, extra_args, queue_timeout):
        self.setup = setup
        work = os.path.join(setup.out, "worker")
        os.makedirs(work, exist_ok=True)
        ports_file = os.path.join(work, f"ports-{os.getpid()}")
        if os.path.exists(ports_file):
            os.remove(ports_file)
        self.log_path = os.path.join(work, "worker.log")
        binary = os.path.join(setup.bin, "faasm-worker")
        if not os.path.exists(binary):
            raise Failure(f"--front worker: {binary} not found (ninja faasm-worker)")
        # Its queue must hold what the load generator can send (the thin
        # front's queue is unbounded), and give up on a call when the load
        # generator has (the thin front's drop-queue).
        cmd = [binary, "--data-dir", os.path.join(setup.out, "worker-data"),
               "--state-dir", setup.state_dir, "--invoke-port", "0", "--upload-port", "0",
               "--ports-file", ports_file, "--max-queued", "100000",
               "--queue-timeout", f"{queue_timeout:g}", "--timeout", "60", *extra_args]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=setup.env(FAASM_LOG="info"),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not os.path.exists(ports_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Failure(f"faasm-worker did not start: {self.log_tail()}")
            time.sleep(0.05)
        time.sleep(0.05)
        with open(ports_file) as f:
            ports = dict(line.split("=") for line in f.read().split())
        self.invoke_port, self.upload_port = int(ports["invoke"]), int(ports["upload"])
        self.url = f"http://127.0.0.1:{self.invoke_port}/"
        self.log_offset = 0
        self.baseline = None

    def log_tail(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-2000:]

    def http(self, port, method, path, body=None, timeout=600):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def deploy(self, wasm, request_file):
        """Uploads mobilenet-infer and makes its Proto-Faaslet with one call."""
        with open(wasm, "rb") as f:
            status, body = self.http(self.upload_port, "PUT", "/f/demo/mobilenet-infer", f.read())
        if status != 200:
            raise Failure(f"faasm-worker refused the upload of mobilenet-infer: {status} "
                          f"{body[:300]!r}")
        with open(request_file, "rb") as f:
            text = f.read().decode("ascii")
        call = json.dumps({"user": "demo", "function": "mobilenet-infer", "input_data": text,
                           "async": False}).encode()
        status, body = self.http(self.invoke_port, "POST", "/", call)
        if status != 200 or b"top5" not in body:
            raise Failure(f"faasm-worker: the first call of mobilenet-infer answered {status} "
                          f"{body[:300]!r}: {self.log_tail()}")
        self.stats()

    def metrics(self):
        status, body = self.http(self.invoke_port, "GET", "/metrics", timeout=30)
        if status != 200:
            raise Failure(f"faasm-worker /metrics answered {status}")
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def inference_lines(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            data = f.read()
        # Whole lines only; a partial one is read next time.
        data = data[:data.rfind(b"\n") + 1]
        self.log_offset += len(data)
        wall, cpu = [], []
        for m in INFERENCE_LINE.finditer(data):
            wall.append(float(m.group(1)))
            cpu.append(float(m.group(2)))
        return wall, cpu

    def stats(self, reset=True):
        m = self.metrics()
        counters = ("faasm_warm_starts_total", "faasm_cold_starts_total",
                    "faasm_call_queue_seconds_sum", "faasm_call_queue_seconds_count",
                    "faasm_call_run_seconds_sum", "faasm_call_run_seconds_count",
                    'faasm_calls_total{outcome="failed"}', 'faasm_calls_total{outcome="timeout"}')
        now = {k: m.get(k, 0.0) for k in counters}
        base = self.baseline or {k: 0.0 for k in counters}
        d = {k: now[k] - base[k] for k in counters}
        stats = {"busy": int(m.get("faasm_calls_running", 0) + m.get("faasm_queue_depth", 0)),
                 "instances": 0}
        if reset:
            wall, cpu = self.inference_lines()
            self.baseline = now
            queued = d["faasm_call_queue_seconds_count"]
            ran = d["faasm_call_run_seconds_count"]
            stats.update({
                # Every call is a Faaslet restored from the Proto-Faaslet.
                "cold_starts": int(d["faasm_warm_starts_total"]),
                "proto_faaslets_made": int(d["faasm_cold_starts_total"]),
                "errors": int(d['faasm_calls_total{outcome="failed"}'] +
                              d['faasm_calls_total{outcome="timeout"}']),
                "queue_ms_sum": d["faasm_call_queue_seconds_sum"] * 1e3,
                "queue_count": queued,
                "run_ms_sum": d["faasm_call_run_seconds_sum"] * 1e3, "run_count": ran,
                "inference_wall_ms": wall, "inference_cpu_ms": cpu})
        return stats

    def drop_queue(self):
        pass  # the worker's --queue-timeout ends calls the load generator gave up on

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def percentile(sorted_values, p):
    if not sorted_values:
        return math.inf
    k = max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[k]


def summarise_load(paths):
    """One rate point from the load generator's runs of it (pooled: every
    request's latency; throughput over the runs' spans together)."""
    requests, answers, span, duration, rate = [], {}, 0.0, 0.0, None
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        requests += r["requests"]
        span += r["span_s"]
        duration += r["duration"]
        rate = r["rate"]
        for answer, count in r["answers"].items():
            answers[answer] = answers.get(answer, 0) + count
    latencies = sorted(lat if (lat is not None and st == 200) else math.inf
                       for _, lat, st in requests)
    answered = sum(1 for _, lat, st in requests if lat is not None and st == 200)
    return {"offered": rate, "duration": duration, "requests": len(requests),
            "answered": answered, "throughput": answered / span if span > 0 else 0.0,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "answers": answers}


def sustained(point):
    """Every request answered, and the answers kept up with the requests as
    they were sent (a saturated side's answers trail off into the drain)."""
    sent_rate = point["requests"] / point["duration"]
    return point["answered"] == point["requests"] and point["requests"] > 0 and \
        point["throughput"] >= 0.8 * sent_rate


class InferenceBench:
    def __init__(self, setup, instances, duration, drain, front_mode, worker_args):
        self.s = setup
        self.instances = instances
        self.duration = duration
        self.drain = drain
        self.front_mode = front_mode
        self.worker_args = worker_args

    def prepare(self):
        s = self.s
        s.compile(INFER_FUNCTIONS)
        log("mobilenet-load (Faasm state) and mobilenet-serve --write (the container's file)")
        run([s.faasm_run, os.path.join(s.so, "mobilenet-load.so")], env=s.env())
        weights = s.weights
        with open(weights, "rb") as f:
            native_blob = f.read()
        with open(os.path.join(s.state_dir, "faasm-demo", "mobilenet-weights"), "rb") as f:
            f.seek(4096)  # the state object's header (docs/State.md)
            if f.read(len(native_blob)) != native_blob:
                raise Failure("the weights mobilenet-load made in wasm differ from the native ones")
        self.weights = weights
        self.request = os.path.join(s.out, "request.b64")
        with open(self.request, "wb") as f:
            f.write(base64.b64encode(test_image(1)))
        return weights

    def bundle(self):
        return self.s.make_bundle("mobilenet-serve",
                                  ["/bin/mobilenet-serve", "/model/weights.bin"], [],
                                  host_network=False)

    def calibrate(self):
        """CPU ms of one inference, natively on this host (the least of 6
        after the first): what the offered rates are scaled by."""
        with open(self.request, "rb") as f:
            image = f.read()
        requests = b"".join(struct.pack("<I", len(image)) + image for _ in range(7))
        _, _, err, _ = run([os.path.join(self.s.native, "mobilenet-serve"), self.weights],
                           input=requests)
        cpu = [float(line.split("cpu ")[1].split(" ms")[0])
               for line in err.decode().splitlines() if "(cpu " in line]
        return min(cpu[1:])

    def worker_front(self):
        """faasm-worker serving mobilenet-infer, its Proto-Faaslet made."""
        front = WorkerFront(self.s, self.worker_args, self.duration / 2 + self.drain)
        try:
            front.deploy(os.path.join(self.s.ml, "mobilenet-infer.wasm"), self.request)
        except Failure:
            front.stop()
            raise
        return front

    def load_run(self, front, rate, seed, tag):
        """One run of the load generator against a front: (its output file,
        the CPU seconds the benchmark used meanwhile, the front's stats)."""
        out = os.path.join(self.s.out, f"load-{tag}.json")
        cpu = cpu_seconds()
        run([sys.executable, os.path.join(HERE, "loadgen.py"), "--url", front.url, "--rate",
             f"{rate:.3f}", "--duration", str(self.duration / 2), "--drain", str(self.drain),
             "--seed", str(seed), "--input", self.request, "--out", out],
            timeout=self.duration + self.drain + 120)
        cpu = cpu_delta(cpu)
        stats = front.stats()
        self.settle(front)
        return out, cpu, stats

    def settle(self, front):
        """Ends what the run left: requests still queued are dropped (the
        load generator gave up on them), and the benchmark waits until no
        instance is busy and those started for the run's cold starts have
        been retired (a container deleted), so that none of it falls on the
        next run; then a second."""
        front.drop_queue()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = front.stats(reset=False)
            if stats.get("busy", 0) == 0 and stats.get("instances", 0) <= self.instances:
                break
            time.sleep(0.2)
        time.sleep(1)

    def sweep(self, rates, cold_list):
        bundle = self.bundle()
        results = {}
        reference = None
        for cold_every in cold_list:
            log(f"inference, a cold start every {cold_every} requests")
            if self.front_mode == "worker":
                faasm = self.worker_front()
            else:
                faasm = Front(self.s, "faasm" if self.front_mode == "thin" else "faasm-process",
                              self.instances, cold_every, self.request)
            runc_front = Front(self.s, "runc", self.instances, cold_every, self.request, bundle)
            points = {"faasm": [], "runc": []}
            try:
                for i, rate in enumerate(rates):
                    # Each side twice at each rate, half the duration each,
                    # in the order A B B A (B A A B at the next rate), so
                    # that the machine's other load, and what one run
                    # leaves behind, fall on both sides alike.
                    a, b = ("faasm", faasm), ("runc", runc_front)
                    order = [a, b, b, a] if i % 2 == 0 else [b, a, a, b]
                    runs = {"faasm": [], "runc": []}
                    for k, (side, front) in enumerate(order):
                        # A side's first and second halves get the same
                        # arrival schedules as the other side's.
                        half = len(runs[side])
                        runs[side].append(self.load_run(
                            front, rate, 1000 * cold_every + 10 * i + half,
                            f"{side}-{cold_every}-{rate:.2f}-{half}"))
                    for side in ("faasm", "runc"):
                        point = summarise_load([out for out, _, _ in runs[side]])
                        cpu = [c for _, c, _ in runs[side]]
                        point["cpu_s"] = None if None in cpu else sum(cpu)
                        point["front"] = merge_front_stats([st for _, _, st in runs[side]])
                        points[side].append(point)
                        log(f"  {side:5} {rate:6.2f}/s offered: {point['throughput']:6.2f}/s, "
                            f"p50 {point['p50'] * 1e3:8.1f} ms, p99 {point['p99'] * 1e3:8.1f} ms"
                            f" ({point['answered']}/{point['requests']} answered)")
                        for answer in point["answers"]:
                            if reference is None:
                                reference = answer
                            elif not same_answer(reference, answer):
                                raise Failure(f"{side} answered {answer!r}, "
                                              f"not {reference!r}")
            finally:
                faasm.stop()
                runc_front.stop()
            results[cold_every] = points
        return results, reference


def merge_front_stats(stats_list):
    """The front's stats of several runs as one: lists joined, counts added."""
    merged = {}
    for stats in stats_list:
        for key, value in stats.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            elif key != "instances":
                merged[key] = merged.get(key, 0) + value
    return merged


def equal_p99_ratio(faasm, runc):
    """The containers' best operating point (highest throughput among the
    rates they sustained) and Faasm's throughput at no more than that p99
    (highest among the rates it sustained with p99 <= it): (ratio, the
    containers' point, Faasm's point)."""
    runc_ok = [p for p in runc if sustained(p)]
    if not runc_ok:
        return None, None, None
    best = max(runc_ok, key=lambda p: p["throughput"])
    faasm_ok = [p for p in faasm if sustained(p) and p["p99"] <= best["p99"]]
    if not faasm_ok:
        return 0.0, best, None
    top = max(faasm_ok, key=lambda p: p["throughput"])
    return top["throughput"] / best["throughput"], best, top


def p99_ratios(faasm, runc):
    """Faasm's p99 over the containers' at each rate both sustained."""
    return [(f["offered"], f["p99"] / r["p99"]) for f, r in zip(faasm, runc)
            if sustained(f) and sustained(r)]


# ----- the report -----------------------------------------------------------------------


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return {"nproc": os.cpu_count(), "model": model, "kernel": platform.release(),
            "memory_mib": mem, "runc": run(["runc", "--version"], check=False)[1].decode()
            .splitlines()[0], "redis": run(["redis-server", "--version"], check=False)[1]
            .decode().strip()}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def gnuplot(script, out_dir):
    if not shutil.which("gnuplot"):
        log("gnuplot missing: no plots")
        return False
    proc = subprocess.run(["gnuplot"], input=script.encode(), cwd=out_dir, capture_output=True)
    if proc.returncode != 0:
        log(f"gnuplot failed: {proc.stderr.decode()[:500]}")
        return False
    return True


def plot_sgd(rows, out_dir, prefix):
    ok = [r for r in rows if "faasm" in r]
    dat = os.path.join(out_dir, f"{prefix}sgd.dat")
    with open(dat, "w") as f:
        for r in ok:
            f.write(f"{r['workers']} {r['faasm']['train_s']} {r['native']['train_s']} "
                    f"{mib(r['faasm']['memory']['peak_bytes'])} "
                    f"{mib(r['native']['memory']['peak_bytes'])}\n")
    return gnuplot(f"""
set terminal png size 1000,420
set output '{prefix}sgd.png'
set multiplot layout 1,2
set logscale x 2
set xlabel 'workers'
set grid
set key top left
set title 'SGD: training time (s)'
plot '{dat}' using 1:2 with linespoints lw 2 title 'Faasm', '' using 1:3 with linespoints lw 2 title 'runc containers'
set title 'SGD: peak memory (MiB, PSS + shared objects)'
plot '{dat}' using 1:4 with linespoints lw 2 title 'Faasm', '' using 1:5 with linespoints lw 2 title 'runc containers'
unset multiplot
""", out_dir)


def plot_inference(results, out_dir, prefix):
    plots = []
    for cold_every, points in results.items():
        for side in ("faasm", "runc"):
            with open(os.path.join(out_dir, f"{prefix}inference-{cold_every}-{side}.dat"),
                      "w") as f:
                for p in points[side]:
                    if p["p99"] < math.inf:
                        f.write(f"{p['throughput']} {p['p50'] * 1e3} {p['p99'] * 1e3}\n")
        plots.append(
            f"set title 'cold start every {cold_every}'\n"
            f"plot '{prefix}inference-{cold_every}-faasm.dat' using 1:3 with linespoints lw 2 "
            f"title 'Faasm p99', '' using 1:2 with linespoints dt 2 title 'Faasm p50', "
            f"'{prefix}inference-{cold_every}-runc.dat' using 1:3 with linespoints lw 2 "
            f"title 'runc p99', '' using 1:2 with linespoints dt 2 title 'runc p50'\n")
    return gnuplot(f"""
set terminal png size 1400,420
set output '{prefix}inference.png'
set multiplot layout 1,{len(plots)}
set xlabel 'throughput (requests/s)'
set ylabel 'latency (ms, log)'
set logscale y
set grid
set key top left
{''.join(plots)}
unset multiplot
""", out_dir)


# ----- main ------------------------------------------------------------------------------


def check_host(smoke):
    problems = []
    if os.geteuid() != 0:
        problems.append("not root (runc containers and Faaslet confinement need it)")
    for tool in ("runc", "redis-server"):
        if not shutil.which(tool):
            problems.append(f"{tool} not found")
    if cgroup2_root() is None:
        problems.append("no cgroup v2 hierarchy")
    if problems:
        if smoke:
            skip("; ".join(problems))
        die("; ".join(problems))


def cmd_smoke_sgd(args):
    check_host(True)
    setup = Setup(args)
    try:
        setup.prepare()
        bench = SgdBench(setup, rows=2000, epochs=2, memory_period=0.05)
        bench.prepare()
        one_f = bench.run_faasm(1, measure=False)
        one_n = bench.run_native(1, measure=False)
        print(f"1 worker: Faasm loss {one_f['loss']} accuracy {one_f['accuracy']}; "
              f"containers loss {one_n['loss']} accuracy {one_n['accuracy']}")
        # One worker is deterministic and both sides compute in the same order.
        if (one_f["loss"], one_f["accuracy"]) != (one_n["loss"], one_n["accuracy"]):
            raise Failure("with one worker, Faasm and the containers trained different models")
        two_f = bench.run_faasm(2, measure=True)
        two_n = bench.run_native(2, measure=True)
        print(f"2 workers: Faasm loss {two_f['loss']:.5f}, containers {two_n['loss']:.5f}; "
              f"Redis bytes in/out {two_n['redis_in']}/{two_n['redis_out']}; peak memory "
              f"{mib(two_f['memory']['peak_bytes']):.1f} / "
              f"{mib(two_n['memory']['peak_bytes']):.1f} MiB")
        # Two workers are not deterministic: sgd-native-hogwild's bound.
        if abs(two_f["loss"] - two_n["loss"]) > 0.04 or not two_f["loss"] < 1.0:
            raise Failure("with two workers the two sides ended far apart")
        if two_n["redis_in"] == 0 or two_n["redis_out"] == 0:
            raise Failure("the containers exchanged nothing through Redis")
        # What is there for the whole of a run, whatever the timing: Redis on
        # the containers' side, the state tier's objects on Faasm's.
        if "redis-server" not in two_n["memory"]["peak_breakdown"]:
            raise Failure("the containers' memory misses Redis")
        if not any(k.startswith("shared memory") for k in two_f["memory"]["peak_breakdown"]):
            raise Failure("Faasm's memory misses its state")
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        setup.cleanup()


def cmd_smoke_inference(args):
    check_host(True)
    setup = Setup(args)
    try:
        setup.prepare()
        bench = InferenceBench(setup, instances=1, duration=2.0, drain=60, front_mode="worker",
                               worker_args=[])
        bench.prepare()
        bundle = bench.bundle()
        answers = {}
        # The thin front's Faaslets restored from one zygote (the benchmark's
        # Faasm side), faasm-worker (--front worker) and the containers.
        for side in ("faasm", "worker", "runc"):
            if side == "worker":
                front = bench.worker_front()
            else:
                front = Front(setup, side, 1, 2, bench.request, bundle)
            try:
                out = os.path.join(setup.out, f"smoke-{side}.json")
                run([sys.executable, os.path.join(HERE, "loadgen.py"), "--url", front.url,
                     "--rate", "4", "--duration", "1", "--arrival", "constant", "--drain",
                     "120", "--input", bench.request, "--out", out], timeout=300)
                point = summarise_load([out])
                stats = front.stats()
            finally:
                front.stop()
            print(f"{side}: {point['answered']}/{point['requests']} answered, "
                  f"{stats['cold_starts']} cold starts, answers {list(point['answers'])}")
            if point["answered"] != point["requests"] or point["requests"] < 3:
                raise Failure(f"{side}: not every request was answered")
            # On the worker every call is a Faaslet restored from the one
            # Proto-Faaslet the deployment made: none made again.
            if side == "worker" and (stats["cold_starts"] != point["requests"] or
                                     stats["proto_faaslets_made"] != 0):
                raise Failure(f"worker: {stats['cold_starts']} restores and "
                              f"{stats['proto_faaslets_made']} Proto-Faaslets made for "
                              f"{point['requests']} requests")
            if stats["cold_starts"] < 1:
                raise Failure(f"{side}: no cold start happened")
            # Each of the thin front's Faasm instances, cold ones included, is
            # a restore: each reports its start, none makes a Proto-Faaslet.
            if side == "faasm" and len(stats["startup_ms"]) < stats["cold_starts"]:
                raise Failure(f"faasm: {len(stats['startup_ms'])} restores reported for "
                              f"{stats['cold_starts']} cold starts")
            if side == "worker" and len(stats["inference_cpu_ms"]) != point["requests"]:
                raise Failure(f"worker: {len(stats['inference_cpu_ms'])} inference lines in its "
                              f"log for {point['requests']} requests")
            if len(point["answers"]) != 1:
                raise Failure(f"{side}: the same image got different answers")
            answers[side] = next(iter(point["answers"]))
        for side in ("worker", "faasm"):
            if not same_answer(answers[side], answers["runc"]):
                raise Failure(f"Faasm ({side}) answered {answers[side]!r}, the containers "
                              f"{answers['runc']!r}")
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        setup.cleanup()


def cmd_run(args):
    global CPU
    check_host(False)
    CPU = CpuGroup()
    try:
        run_benchmark(args)
    except Failure as e:
        die(str(e))
    finally:
        CPU.remove()


def run_benchmark(args):
    setup = Setup(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = loadavg()
    quick = args.quick
    rows = args.rows or (20000 if quick else 78126)
    workers = [int(w) for w in (args.workers or ("1,4,16" if quick else
                                                  "1,2,4,8,16,32")).split(",")]
    duration = args.duration or (4.0 if quick else 12.0)
    log(f"machine: {os.cpu_count()} CPUs, load average {load_start}; Faasm state tier: "
        f"{setup.faasm_state}")
    report = {"started": started.isoformat(timespec="seconds"), "load_start": load_start,
              "machine": machine(), "argv": sys.argv[1:], "rows": rows, "epochs": args.epochs,
              "faasm_state": setup.faasm_state, "front": args.front}
    try:
        setup.prepare()
        sgd_rows = []
        if not args.skip_sgd:
            sgd = SgdBench(setup, rows, args.epochs, args.memory_period)
            sgd.prepare()
            report["nnz"] = sgd.nnz
            sgd_rows = sgd.sweep(workers)
        report["sgd"] = sgd_rows
        inference = {}
        if not args.skip_inference:
            inf = InferenceBench(setup, args.instances, duration, args.drain, args.front,
                                 args.worker_args.split())
            inf.prepare()
            cpu_ms = inf.calibrate()
            capacity = os.cpu_count() * 1000.0 / cpu_ms
            fractions = [float(x) for x in args.rate_fractions.split(",")]
            rates = [round(capacity * f, 2) for f in fractions]
            log(f"one inference takes {cpu_ms:.1f} ms of CPU here: {capacity:.1f}/s on "
                f"{os.cpu_count()} idle CPUs; offered rates {rates}")
            report["inference_cpu_ms"] = cpu_ms
            report["rates"] = rates
            results, reference = inf.sweep(rates, COLD_EVERY if not args.cold else
                                           [int(c) for c in args.cold.split(",")])
            inference = {str(k): v for k, v in results.items()}
            report["reference_answer"] = reference
        report["inference"] = inference
    finally:
        setup.cleanup()
    report["load_end"] = loadavg()
    report["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    with open(os.path.join(setup.out, "results.json"), "w") as f:
        json.dump(report, f, indent=1, default=lambda x: None)
    import report as writer  # tests/bench/paper/report.py
    key_line = writer.write(report, setup.out, args)
    print(key_line)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "smoke-sgd", "smoke-inference"])
    parser.add_argument("--build-dir", default=os.environ.get("FAASM_BUILD_DIR",
                                                              str(REPO_DIR / "build")))
    parser.add_argument("--out", help="work and result directory (default BUILD/bench-paper)")
    parser.add_argument("--so-dir", help="the ML functions already compiled (guard mode)")
    parser.add_argument("--quick", action="store_true", help="a few minutes: smaller sizes")
    parser.add_argument("--rows", type=int, help="SGD data set rows (default 78,126: RCV1/10)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--workers", help="SGD worker counts, comma-separated")
    parser.add_argument("--memory-period", type=float, default=0.05,
                        help="seconds between memory samples")
    parser.add_argument("--faasm-state", choices=["auto", "local", "redis"], default="auto",
                        help="Faasm's state tiers: local alone, or with the global tier in "
                             "Redis (faasm-run --state-redis; auto: when faasm-run has it)")
    parser.add_argument("--front", choices=["thin", "worker", "process"], default="thin",
                        help="Faasm's inference side: thin (default), the containers' front, "
                             "an instance a Faaslet restored from one long-lived Proto-Faaslet "
                             "(a cold start is a restore, a warm request reuses a Faaslet); "
                             "worker, faasm-worker, every call a restore; process, the thin "
                             "front with a new process making a Proto-Faaslet per instance")
    parser.add_argument("--worker-args", default="",
                        help="more options for faasm-worker (--front worker), space-separated")
    parser.add_argument("--instances", type=int, default=2,
                        help="warm instances per side (inference)")
    parser.add_argument("--duration", type=float, help="seconds of load per rate")
    parser.add_argument("--drain", type=float, default=15.0,
                        help="seconds to wait for answers after the last send")
    parser.add_argument("--rate-fractions", default="0.05,0.1,0.2,0.3,0.45,0.6",
                        help="offered rates as fractions of the CPUs' inference capacity")
    parser.add_argument("--cold", help="cold-start periods (default 5,50,500)")
    parser.add_argument("--skip-sgd", action="store_true")
    parser.add_argument("--skip-inference", action="store_true")
    parser.add_argument("--report", help="write the report here (default: docs/Evaluation.md "
                                         "for a full run, OUT/Evaluation.md for --quick)")
    args = parser.parse_args()
    if args.command == "smoke-sgd":
        cmd_smoke_sgd(args)
    elif args.command == "smoke-inference":
        cmd_smoke_inference(args)
    else:
        cmd_run(args)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
