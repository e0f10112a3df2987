#!/usr/bin/env python3
"""End-to-end tests of the ML functions of samples/ml (docs/Evaluation-models.md):
each function's wasm through the real faasm-codegen and faasm-run (local state
tier), against its native twin (state in a private Redis on a Unix socket).
Exits 0 on pass, 1 on failure, 77 when it cannot run here.

  compile           faasm-codegen of every ML function into --so-dir (the
                    other scenarios' fixture, once per bounds mode)
  sgd-trains        a tiny data set (2,000 rows): sgd-load, then sgd-main with
                    2 workers for 2 epochs; the loss falls every epoch
  sgd-same-model    one worker (deterministic): wasm and native end with the
                    same loss and accuracy, to every printed digit
  sgd-native-hogwild  the native twin with 4 worker processes sharing the
                    weights through Redis, syncing every 2,000 updates, ends
                    within 0.04 of the one-worker loss after 4 epochs (it ends
                    within 0.006; pushes that overwrote the others' updates
                    ended 0.15-0.21 above it)
  mobilenet-same    mobilenet-load's weights, made in wasm, are the bytes the
                    native build makes; on 2 deterministic images (that give
                    different answers) mobilenet-infer's top-5 classes are the
                    native server's and the scores agree within 1e-5; the
                    weights in state are unchanged after the calls
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import compile_wasm, fail, require_tool, run_command, work_dir  # noqa: E402

TIMEOUT_SECONDS = 240
IMAGE_SIZE = 224 * 224 * 3
SCORE_TOLERANCE = 1e-5


FUNCTIONS = ["sgd-load", "sgd-main", "sgd-step", "mobilenet-load", "mobilenet-infer"]


def compile_functions(args):
    """Compiles samples/ml's <name>.wasm into --so-dir/<name>.so (the chaining
    function table)."""
    os.makedirs(args.so_dir, exist_ok=True)
    for name in FUNCTIONS:
        compile_wasm(args.codegen, os.path.join(args.ml, f"{name}.wasm"),
                     os.path.join(args.so_dir, f"{name}.so"), args.bounds)


def compiled(args, names):
    """--so-dir, once it holds <name>.so for each name (the compile fixture)."""
    for name in names:
        if not os.path.exists(os.path.join(args.so_dir, f"{name}.so")):
            fail(f"{args.so_dir}/{name}.so is missing: run the compile scenario first")
    return args.so_dir


def native(args, name):
    return os.path.join(args.ml, "native", name)


def faasm_run(args, so_dir, name, options=(), input_text=None, input_file=None):
    """Runs function `name` as a Faaslet; its output (stdout)."""
    cmd = [args.run, "--functions", so_dir, *options]
    if input_text is not None:
        cmd += ["--input", input_text]
    if input_file is not None:
        cmd += ["--input-file", input_file]
    cmd.append(os.path.join(so_dir, f"{name}.so"))
    proc = run_command(cmd, timeout=TIMEOUT_SECONDS,
                       env=dict(os.environ, FAASM_STATE_DIR=args.state_dir))
    if proc.returncode != 0:
        fail(f"{name}: exit status {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc.stdout


def native_run(args, name, input_text, env):
    proc = run_command([native(args, name), input_text], timeout=TIMEOUT_SECONDS, env=env)
    if proc.returncode != 0:
        fail(f"native {name}: exit status {proc.returncode}\nstdout: {proc.stdout}\n"
             f"stderr: {proc.stderr}")
    return proc.stdout


class Redis:
    """A private redis-server on a Unix socket in the test's directory, no
    persistence; stopped on exit."""

    def __init__(self, directory):
        server = require_tool("redis-server")
        self.socket = os.path.join(directory, "redis.sock")
        self.proc = subprocess.Popen(
            [server, "--port", "0", "--unixsocket", self.socket, "--save", "",
             "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                fail("redis-server did not start")
            time.sleep(0.05)

    def env(self):
        return dict(os.environ, FAASM_REDIS=f"unix:{self.socket}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def make_dataset(args, rows):
    data = os.path.join(args.dir, "data")
    os.makedirs(data)
    run_command([native(args, "ml-datagen"), data, "--rows", str(rows)], check=True)
    return data


def parse_training(text, what):
    try:
        result = json.loads(text)
        epochs = [(e["loss"], e["accuracy"]) for e in result["epochs"]]
    except (ValueError, KeyError, TypeError) as e:
        fail(f"{what}: output is not sgd-main's JSON ({e}): {text!r}")
    return result, epochs


def cmd_sgd_trains(args):
    data = make_dataset(args, 2000)
    so_dir = compiled(args, ["sgd-load", "sgd-main", "sgd-step"])
    loaded = faasm_run(args, so_dir, "sgd-load", options=["--dir", f"{data}:/data"],
                       input_text="dir=/data")
    if not loaded.startswith("rows=2000 "):
        fail(f"sgd-load: unexpected output {loaded!r}")
    result, epochs = parse_training(
        faasm_run(args, so_dir, "sgd-main", input_text="workers=2 epochs=2"), "sgd-main")
    print(f"loss per epoch (wasm, 2 workers): {[round(loss, 4) for loss, _ in epochs]}")
    if len(epochs) != 2:
        fail(f"want 2 epochs, got {len(epochs)}")
    # Zero weights have hinge loss exactly 1.
    if not (epochs[0][0] < 1.0 and epochs[1][0] < epochs[0][0]):
        fail(f"the loss did not fall: 1.0 -> {epochs[0][0]} -> {epochs[1][0]}")
    if sum(e["updates"] for e in result["epochs"]) == 0:
        fail("no worker updated the weights")


def cmd_sgd_same_model(args):
    data = make_dataset(args, 2000)
    so_dir = compiled(args, ["sgd-load", "sgd-main", "sgd-step"])
    train = "workers=1 epochs=3"
    faasm_run(args, so_dir, "sgd-load", options=["--dir", f"{data}:/data"],
              input_text="dir=/data")
    wasm, wasm_epochs = parse_training(faasm_run(args, so_dir, "sgd-main", input_text=train),
                                       "wasm sgd-main")
    with Redis(args.dir) as redis:
        native_run(args, "sgd-load", f"dir={data}", redis.env())
        nat, native_epochs = parse_training(native_run(args, "sgd-main", train, redis.env()),
                                            "native sgd-main")
    print(f"wasm   (loss, accuracy) per epoch: {wasm_epochs}")
    print(f"native (loss, accuracy) per epoch: {native_epochs}")
    if wasm_epochs != native_epochs:
        fail("with one worker, wasm and native trained different models")
    if [e["updates"] for e in wasm["epochs"]] != [e["updates"] for e in nat["epochs"]]:
        fail("with one worker, wasm and native made different numbers of updates")


def cmd_sgd_native_hogwild(args):
    data = make_dataset(args, 2000)
    with Redis(args.dir) as redis:
        native_run(args, "sgd-load", f"dir={data}", redis.env())
        _, one = parse_training(native_run(args, "sgd-main", "workers=1 epochs=4",
                                           redis.env()), "native sgd-main, 1 worker")
        _, four = parse_training(native_run(args, "sgd-main", "workers=4 epochs=4 sync=2000",
                                            redis.env()), "native sgd-main, 4 workers")
    print(f"final loss: 1 worker {one[-1][0]:.5f}, 4 workers {four[-1][0]:.5f}")
    if abs(four[-1][0] - one[-1][0]) > 0.04:
        fail("4 native workers ended far from one: updates were lost between them")


def test_image(seed):
    """A deterministic 224x224x3 uint8 image: coloured blocks and a gradient,
    from a 32-bit LCG."""
    state = seed * 2654435761 & 0xFFFFFFFF
    blocks = []
    for _ in range(8 * 8 * 3):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        blocks.append(state >> 24)
    pixels = bytearray(IMAGE_SIZE)
    i = 0
    for y in range(224):
        for x in range(224):
            for c in range(3):
                pixels[i] = (blocks[((y // 28) * 8 + x // 28) * 3 + c] + (x + y) // 4) & 0xFF
                i += 1
    return bytes(pixels)


def parse_top5(line, what):
    try:
        top5 = json.loads(line)["top5"]
        return [(int(c), float(s)) for c, s in top5]
    except (ValueError, KeyError, TypeError) as e:
        fail(f"{what}: not a top-5 answer ({e}): {line!r}")


def cmd_mobilenet_same(args):
    so_dir = compiled(args, ["mobilenet-load", "mobilenet-infer"])
    loaded = faasm_run(args, so_dir, "mobilenet-load")
    weights = os.path.join(args.dir, "weights.bin")
    run_command([native(args, "mobilenet-serve"), "--write", weights], check=True)
    with open(weights, "rb") as f:
        native_blob = f.read()
    if loaded.strip() != f"bytes={len(native_blob)}":
        fail(f"mobilenet-load: unexpected output {loaded!r}")
    # The state value: a 4 KiB header, then the value, in the directory of the
    # function's user (docs/State.md).
    state_weights = os.path.join(args.state_dir, "faasm-demo", "mobilenet-weights")
    with open(state_weights, "rb") as f:
        f.seek(4096)
        if f.read(len(native_blob)) != native_blob:
            fail("the weights mobilenet-load made in wasm differ from the native build's")

    images = [test_image(seed) for seed in (1, 2)]
    wasm_top5 = []
    for n, image in enumerate(images):
        path = os.path.join(args.dir, f"image{n}.bin")
        with open(path, "wb") as f:
            f.write(image)
        wasm_top5.append(parse_top5(faasm_run(args, so_dir, "mobilenet-infer", input_file=path),
                                    f"wasm image {n}"))
    # mobilenet-infer maps the weights in its initialisation, before it has
    # allocated anything: a heap that took in the mapping would write the
    # call's buffers into the shared weights.
    with open(state_weights, "rb") as f:
        f.seek(4096)
        if f.read(len(native_blob)) != native_blob:
            fail("the weights in state changed while mobilenet-infer ran")
    requests = b"".join(struct.pack("<I", len(image)) + image for image in images)
    # Binary stdin, so not run_command (text).
    try:
        proc = subprocess.run([native(args, "mobilenet-serve"), weights], input=requests,
                              capture_output=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        fail(f"mobilenet-serve: timed out after {TIMEOUT_SECONDS} s")
    lines = proc.stdout.decode(errors="replace").splitlines()
    if proc.returncode != 0 or len(lines) != len(images):
        fail(f"mobilenet-serve: exit status {proc.returncode}, {len(lines)} answers\n"
             f"stderr: {proc.stderr.decode(errors='replace')}")
    native_top5 = [parse_top5(line, f"native image {n}") for n, line in enumerate(lines)]
    for n, (w, nat) in enumerate(zip(wasm_top5, native_top5)):
        print(f"image {n}: wasm {w}\n         native {nat}")
        if [c for c, _ in w] != [c for c, _ in nat]:
            fail(f"image {n}: top-5 classes differ")
        worst = max(abs(a - b) for (_, a), (_, b) in zip(w, nat))
        if worst > SCORE_TOLERANCE:
            fail(f"image {n}: scores differ by {worst} > {SCORE_TOLERANCE}")
    if wasm_top5[0] == wasm_top5[1]:
        fail("both images gave the same answer: the test would not see a wrong input path")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command",
                        choices=["compile", "sgd-trains", "sgd-same-model", "sgd-native-hogwild",
                                 "mobilenet-same"])
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--ml", required=True, help="build/samples/ml")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--bounds", default="guard")
    parser.add_argument("--so-dir", required=True, help="the compiled functions")
    args = parser.parse_args()
    if args.command == "compile":
        compile_functions(args)
        return
    with work_dir(args.workdir, f"{args.command}-{args.bounds}") as test_dir:
        args.dir = test_dir
        args.state_dir = os.path.join(test_dir, "state")
        os.makedirs(args.state_dir)
        {"sgd-trains": cmd_sgd_trains, "sgd-same-model": cmd_sgd_same_model,
         "sgd-native-hogwild": cmd_sgd_native_hogwild,
         "mobilenet-same": cmd_mobilenet_same}[args.command](args)


if __name__ == "__main__":
    main()
