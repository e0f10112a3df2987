#!/usr/bin/env python3
"""Measures the ML functions as docs/Evaluation-models.md reports them: wasm
(faasm-codegen, faasm-run, local state tier) against the native twins (Redis).

  measure.py spread  [--runs 5]   SGD at the default scale (1/10 of RCV1), 5
                                  workers, 20 epochs: final loss and accuracy
                                  of each run on each side, and a 1-worker
                                  reference (deterministic) on each side
  measure.py speed   [--reps 5]   code speed, paired: per repetition native
                                  then wasm (guard, then explicit), seconds
                                  apart, and the ratio of the two; CPU time
                                  of the thread that computes (the wall
                                  clock of a shared machine is too noisy)
      MobileNet: the least of 8 inferences per side, in one call (wasm:
                 FAASM_ML_REPEAT=9) or one server (native), after a first one
                 that is dropped (it faults the weights and buffers in); the
                 function's own clock around classify()
      SGD:       one worker, sync off (no Redis traffic inside the pass), 5
                 epochs; the least of the worker's pass times (pass_cpu_s,
                 after the batch check has read every page of the batch)

Needs a build (scripts/setup) and redis-server. Work files go to --work
(default /tmp/faasm-ml-measure); the data set is made once there.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INFERENCES = 8  # per side and repetition, after a first one that is dropped
EPOCHS = 5  # SGD passes per side and repetition
FUNCTIONS = ["sgd-load", "sgd-main", "sgd-step", "mobilenet-load", "mobilenet-infer"]


def run(cmd, env=None, input=None, check=True):
    proc = subprocess.run([str(c) for c in cmd], env=env, input=input, capture_output=True)
    if check and proc.returncode != 0:
        sys.exit(f"measure: {' '.join(map(str, cmd))}: status {proc.returncode}\n"
                 f"{proc.stderr.decode(errors='replace')}")
    return proc


class Setup:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.ml = os.path.join(self.build, "samples", "ml")
        self.codegen = os.path.join(self.build, "bin", "faasm-codegen")
        self.runner = os.path.join(self.build, "bin", "faasm-run")
        self.work = args.work
        os.makedirs(self.work, exist_ok=True)
        self.data = os.path.join(self.work, "data")
        if not os.path.exists(os.path.join(self.data, "sgd-meta")):
            os.makedirs(self.data, exist_ok=True)
            print(run([self.native("ml-datagen"), self.data]).stdout.decode().strip())
        self.so = {}
        for bounds in ("guard", "explicit"):
            d = os.path.join(self.work, f"so-{bounds}")
            os.makedirs(d, exist_ok=True)
            for name in FUNCTIONS:
                so, wasm = os.path.join(d, f"{name}.so"), os.path.join(self.ml, f"{name}.wasm")
                if not os.path.exists(so) or os.path.getmtime(so) < os.path.getmtime(wasm):
                    run([self.codegen, wasm, "-o", so, f"--bounds={bounds}"])
            self.so[bounds] = d
        sock = os.path.join(self.work, "redis.sock")
        self.redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly",
             "no", "--dir", self.work], stdout=subprocess.DEVNULL)
        while not os.path.exists(sock):
            time.sleep(0.05)
        self.native_env = dict(os.environ, FAASM_REDIS=f"unix:{sock}")
        self.state = {b: os.path.join(self.work, f"state-{b}") for b in self.so}
        for d in self.state.values():
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)

    def native(self, name):
        return os.path.join(self.ml, "native", name)

    def faasm(self, bounds, name, input_text=None, input_file=None, options=()):
        cmd = [self.runner, "--functions", self.so[bounds], *options]
        cmd += ["--input", input_text] if input_text is not None else []
        cmd += ["--input-file", input_file] if input_file is not None else []
        return run(cmd + [os.path.join(self.so[bounds], f"{name}.so")],
                   env=dict(os.environ, FAASM_STATE_DIR=self.state[bounds]))

    def native_call(self, name, input_text):
        return run([self.native(name), input_text], env=self.native_env)

    def close(self):
        self.redis.terminate()
        self.redis.wait()


def load_sgd(s, bounds="guard"):
    s.faasm(bounds, "sgd-load", "dir=/data", options=["--dir", f"{s.data}:/data"])
    s.native_call("sgd-load", f"dir={s.data}")


def cmd_spread(s, args):
    load_sgd(s)
    rows = []
    for side in ("wasm", "native"):
        for workers, runs in ((1, 1), (5, args.runs)):
            for i in range(runs):
                train = f"workers={workers} epochs=20 eval=0"
                out = (s.faasm("guard", "sgd-main", train) if side == "wasm"
                       else s.native_call("sgd-main", train)).stdout
                r = json.loads(out)
                rows.append((side, workers, r["loss"], r["accuracy"], r["train_s"]))
                print(f"{side:6} workers={workers} run {i + 1}: loss {r['loss']:.5f} "
                      f"accuracy {r['accuracy']:.5f} train {r['train_s']:.2f} s", flush=True)
    for side in ("wasm", "native"):
        losses = [r[2] for r in rows if r[0] == side and r[1] == 5]
        accs = [r[3] for r in rows if r[0] == side and r[1] == 5]
        print(f"{side}: 5 workers, {len(losses)} runs: loss {min(losses):.5f}..{max(losses):.5f} "
              f"(mean {statistics.mean(losses):.5f}), accuracy {min(accs):.5f}..{max(accs):.5f} "
              f"(mean {statistics.mean(accs):.5f})")


def image(seed):
    state = seed * 2654435761 & 0xFFFFFFFF
    blocks = []
    for _ in range(8 * 8 * 3):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        blocks.append(state >> 24)
    return bytes((blocks[((y // 28) * 8 + x // 28) * 3 + c] + (x + y) // 4) & 0xFF
                 for y in range(224) for x in range(224) for c in range(3))


def inference_ms(stderr):
    """Least CPU time of the inferences after the first."""
    times = [float(t) for t in re.findall(rb"inference [0-9.]+ ms \(cpu ([0-9.]+) ms\)", stderr)]
    return min(times[1:])


def cmd_speed(s, args):
    weights = os.path.join(s.work, "weights.bin")
    run([s.native("mobilenet-serve"), "--write", weights])
    for bounds in s.so:
        s.faasm(bounds, "mobilenet-load")
    img = image(1)
    img_path = os.path.join(s.work, "image.bin")
    with open(img_path, "wb") as f:
        f.write(img)
    requests = (struct.pack("<I", len(img)) + img) * (INFERENCES + 1)
    load_sgd(s)
    s.faasm("explicit", "sgd-load", "dir=/data", options=["--dir", f"{s.data}:/data"])
    sgd_input = f"workers=1 epochs={EPOCHS} eval=0 sync=1e15"
    results = {k: [] for k in ("mn-native", "mn-guard", "mn-explicit", "sgd-native", "sgd-guard",
                               "sgd-explicit")}
    for rep in range(args.reps):
        results["mn-native"].append(
            inference_ms(run([s.native("mobilenet-serve"), weights], input=requests).stderr))
        for bounds in s.so:
            results[f"mn-{bounds}"].append(inference_ms(
                s.faasm(bounds, "mobilenet-infer", input_file=img_path,
                        options=["--env", f"FAASM_ML_REPEAT={INFERENCES + 1}"]).stderr))
        native = json.loads(s.native_call("sgd-main", sgd_input).stdout)
        results["sgd-native"].append(min(e["pass_cpu_s"] for e in native["epochs"]))
        for bounds in s.so:
            r = json.loads(s.faasm(bounds, "sgd-main", sgd_input).stdout)
            results[f"sgd-{bounds}"].append(min(e["pass_cpu_s"] for e in r["epochs"]))
        print(f"rep {rep + 1}: " + ", ".join(f"{k} {v[-1]:.4g}" for k, v in results.items()),
              flush=True)
    for model, unit in (("mn", "ms per inference"), ("sgd", "s per epoch pass")):
        base = results[f"{model}-native"]
        line = f"{model}: native median {statistics.median(base):.4g} {unit}"
        for bounds in s.so:
            ratios = [w / n for w, n in zip(results[f"{model}-{bounds}"], base)]
            line += (f"; {bounds} median {statistics.median(results[f'{model}-{bounds}']):.4g}, "
                     f"paired ratio median {statistics.median(ratios):.3f} "
                     f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
        print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["spread", "speed"])
    parser.add_argument("--build", default=os.path.join(REPO, "build"))
    parser.add_argument("--work", default="/tmp/faasm-ml-measure")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    s = Setup(args)
    try:
        {"spread": cmd_spread, "speed": cmd_speed}[args.command](s, args)
    finally:
        s.close()


if __name__ == "__main__":
    main()
