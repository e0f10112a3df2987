"""Generated-code benchmark: the kernels of tests/bench/kernels run natively,
under faasm-run (guard and explicit bounds), V8 and wasm2c, side by side.

Driven by scripts/bench-code (see --help). Standard library only, so it runs
with any python3. Every run's exit status and checksum are checked; a peer
that fails on a kernel is reported as failed for that kernel, never dropped.
"""

import argparse
import datetime
import json
import math
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from faasmtest import FAASM_CC, FAASM_CXX, REPO_DIR, capture  # noqa: E402

KERNEL_DIR = REPO_DIR / "tests/bench/kernels"
SHIM = REPO_DIR / "tests/bench/wasm2c-shim/wasi-shim.c"
WASI_NODE = Path("/work/shared/tools/wasi-node.cjs")
WASM2C_RUNTIME = Path("/usr/share/wabt/wasm2c")
EIGEN = "/usr/include/eigen3"

# name, source, built with -msimd128 for wasm, what it stands for
KERNELS = [
    ("matmul", "matmul.c", False, "dense matrix multiply, double, blocked"),
    ("lu", "lu.c", False, "LU factorisation with partial pivoting + solve"),
    ("jacobi2d", "jacobi2d.c", True, "2D 5-point Jacobi stencil"),
    ("quicksort", "quicksort.c", False, "quicksort of 32-bit integers"),
    ("sort_std", "sort_std.cpp", False, "std::sort + std::stable_sort of records (C++)"),
    ("sha256", "sha256.c", False, "SHA-256 over a buffer"),
    ("hashmap", "hashmap.c", False, "open-addressing hash table, 64-bit hash"),
    ("lz77", "lz77.c", False, "LZ77 compression + decompression"),
    ("interp", "interp.c", False, "bytecode interpreter loop (switch dispatch)"),
    ("json", "json.c", False, "JSON tokenising/parsing, number parsing"),
    ("nbody", "nbody.c", False, "n-body simulation, double"),
    ("mandelbrot", "mandelbrot.c", True, "Mandelbrot escape counts, double"),
    ("sgd", "sgd.c", False, "sparse logistic-regression SGD update"),
    ("conv2d", "conv2d.c", True, "2D convolution layer, float"),
    ("mlp_eigen", "mlp_eigen.cpp", True, "MLP forward pass with Eigen (C++)"),
    ("wordfreq", "wordfreq.cpp", False, "word counts, std::unordered_map<std::string> (C++)"),
    ("heat3d", "heat3d.c", False, "3-D 7-point stencil, two arrays alternating"),
    ("stencil2d", "stencil2d.c", False, "2-D 5-point stencil, two arrays alternating"),
    ("fdtd2d", "fdtd2d.c", False, "2-D FDTD, three fields"),
    ("matchain", "matchain.c", False, "chain of three matrix products, i-j-k"),
    ("syrk", "syrk.c", False, "symmetric rank-k and rank-2k updates"),
    ("doitgen", "doitgen.c", False, "batched matrix-vector products"),
]

PEERS = ["native", "guard", "explicit", "v8", "wasm2c"]
PEER_TITLES = {
    "native": "native",
    "guard": "faasm guard",
    "explicit": "faasm explicit",
    "v8": "V8",
    "wasm2c": "wasm2c",
}
PEER_COLOURS = {"guard": "#1f77b4", "explicit": "#6baed6", "v8": "#d62728", "wasm2c": "#2ca02c"}

# Flags, written out once so the report can quote them.
WASM_STACK = "-Wl,-z,stack-size=1048576"
NATIVE_C = ["clang-19", "-O2", "-std=gnu17"]
NATIVE_CXX = ["clang++-19", "-O2", "-std=c++17", "-stdlib=libc++", "-fno-exceptions"]
WASM_C = [str(FAASM_CC), "-O2", "-std=gnu17", WASM_STACK]
WASM_CXX = [str(FAASM_CXX), "-O2", "-std=c++17", WASM_STACK]
WASM2C_CC = ["clang-19", "-O2", "-w"]


def log(message):
    print(f"bench-code: {message}", file=sys.stderr, flush=True)


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:200] if lines else ""


# ---------------------------------------------------------------- building


def ensure_tools(build_dir):
    """Builds faasm-codegen, faasm-run and the samples in build_dir (a CMake build;
    a directory with bin/faasm-codegen and bin/faasm-run but no CMake cache is
    used as it is)."""
    if (build_dir / "CMakeCache.txt").exists():
        r = capture(["cmake", "--build", str(build_dir), "--target", "faasm-codegen", "faasm-run", "samples-wasm"])
        if r.returncode != 0:
            sys.exit(f"bench-code: building the tools in {build_dir} failed:\n{r.stdout[-3000:]}{r.stderr[-2000:]}")
    elif not all((build_dir / "bin" / tool).exists() for tool in ("faasm-codegen", "faasm-run")):
        env = dict(os.environ, FAASM_BUILD_DIR=str(build_dir))
        log(f"no build in {build_dir}: running scripts/setup")
        r = subprocess.run([str(REPO_DIR / "scripts/setup")], env=env)
        if r.returncode != 0:
            sys.exit("bench-code: scripts/setup failed")
    for tool in ("faasm-codegen", "faasm-run"):
        if not (build_dir / "bin" / tool).exists():
            sys.exit(f"bench-code: {build_dir}/bin/{tool} is missing after the build")


def build_kernel(kernel, out_dir, codegen):
    """Builds every artefact of one kernel; returns {peer: error or None}."""
    name, source, simd, _ = kernel
    src = KERNEL_DIR / source
    cxx = source.endswith(".cpp")
    errors = {}
    d = out_dir / name
    d.mkdir(parents=True, exist_ok=True)
    extra = ["-I", EIGEN] if cxx else []
    libs = [] if cxx else ["-lm"]

    def step(peer, cmd, deps=()):
        """Runs cmd unless its output (after -o) is newer than src, bench.h and deps
        (a change of flags alone needs the build-dir/bench-code folder removed)."""
        if errors.get(peer):
            return False
        output = Path(cmd[cmd.index("-o") + 1])
        inputs = [src, KERNEL_DIR / "bench.h", *deps]
        if output.exists() and all(output.stat().st_mtime > p.stat().st_mtime for p in inputs):
            return True
        try:
            r = capture(cmd)
        except OSError as e:
            errors[peer] = f"build failed: {shlex.join(cmd[:1])}: {e}"
            return False
        if r.returncode != 0:
            errors[peer] = f"build failed: {shlex.join(cmd[:1])}: {last_line(r.stderr or r.stdout)}"
            return False
        return True

    step("native", (NATIVE_CXX if cxx else NATIVE_C) + extra + [str(src), "-o", str(d / "native")] + libs)
    wasm_ok = step("wasm", (WASM_CXX if cxx else WASM_C) + (["-msimd128"] if simd else []) + extra
                   + [str(src), "-o", str(d / f"{name}.wasm")])
    for peer in ("guard", "explicit", "v8", "wasm2c"):
        if not wasm_ok:
            errors[peer] = errors["wasm"]
    if wasm_ok:
        for mode in ("guard", "explicit"):
            step(mode, [str(codegen), str(d / f"{name}.wasm"), "-o", str(d / f"{mode}.so"), f"--bounds={mode}"],
                 deps=[codegen.resolve(), d / f"{name}.wasm"])
        w2c = d / "wasm2c"
        w2c.mkdir(exist_ok=True)
        kernel_c = w2c / "kernel.c"
        fresh = kernel_c.exists() and kernel_c.stat().st_mtime > (d / f"{name}.wasm").stat().st_mtime
        r = subprocess.CompletedProcess([], 0) if fresh else capture(
            ["wasm2c", str(d / f"{name}.wasm"), "-n", "kernel", "-o", str(kernel_c)])
        if r.returncode != 0:
            kernel_c.unlink(missing_ok=True)
            why = "wasm2c cannot translate it"
            if simd:
                why += " (WABT 1.0.32's wasm2c has no SIMD support)"
            errors["wasm2c"] = f"build failed: {why}, exit {r.returncode}"
        else:
            step("wasm2c", WASM2C_CC + ["-I", str(w2c), "-I", str(WASM2C_RUNTIME), str(SHIM), str(w2c / "kernel.c"),
                                        str(WASM2C_RUNTIME / "wasm-rt-impl.c"), "-lm", "-o", str(w2c / "run")],
                 deps=[SHIM, kernel_c])
    errors.pop("wasm", None)
    return {peer: errors.get(peer) for peer in PEERS}


def peer_command(peer, name, out_dir, build_dir, size):
    d = out_dir / name
    args = [str(size)] if size else []
    if peer == "native":
        return [str(d / "native")] + args
    if peer in ("guard", "explicit"):
        return [str(build_dir / "bin/faasm-run"), str(d / f"{peer}.so")] + args
    if peer == "v8":
        return ["node", "--no-warnings", "--no-liftoff", str(WASI_NODE), str(d / f"{name}.wasm")] + args
    if peer == "wasm2c":
        return [str(d / "wasm2c/run")] + args
    raise AssertionError(peer)


# ---------------------------------------------------------------- running


def parse_report(stdout):
    values = {}
    for line in stdout.splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def run_once(cmd, timeout):
    start = time.monotonic()
    try:
        r = capture(cmd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "rc": None, "process_s": time.monotonic() - start, "detail": f"> {timeout:.0f} s"}
    except OSError as e:
        return {"status": "crash", "rc": None, "process_s": 0.0, "detail": f"cannot start: {e}"}
    elapsed = time.monotonic() - start
    values = parse_report(r.stdout)
    result = {"rc": r.returncode, "process_s": elapsed, "checksum": values.get("checksum")}
    try:
        result["time_s"] = float(values["time_s"])
        result["wall_s"] = float(values.get("wall_s", "nan"))
    except (KeyError, ValueError):
        pass
    if r.returncode == 0 and "time_s" in result and result["checksum"]:
        result["status"] = "ok"
    elif r.returncode == 1 and "FAILED" in r.stderr:
        result["status"] = "wrong"
        result["detail"] = last_line(r.stderr)
    else:
        result["status"] = "crash"
        if r.returncode < 0:
            result["detail"] = f"killed by signal {-r.returncode}"
            if last_line(r.stderr):
                result["detail"] += f": {last_line(r.stderr)}"
            if "time_s" in result:
                result["detail"] += " (after printing its result)"
        else:
            result["detail"] = f"exit {r.returncode}: {last_line(r.stderr)}"
    return result


def geomean(values):
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


# ---------------------------------------------------------------- compile throughput


def code_section_bytes(wasm):
    """Size of the code section (function bodies), without debug and name sections."""
    data = wasm.read_bytes()
    at = 8
    while at < len(data):
        section_id = data[at]
        at += 1
        size = shift = 0
        while True:
            byte = data[at]
            at += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        if section_id == 10:
            return size
        at += size
    return 0


def measure_compile(codegen, modules, out_dir, reps):
    """faasm-codegen wall and CPU time per module at the default level."""
    rows = []
    for label, wasm in modules:
        walls, cpus = [], []
        for i in range(reps):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.monotonic()
            r = capture([str(codegen), str(wasm), "-o", str(out_dir / f"compile-{wasm.stem}.so")])
            wall = time.monotonic() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if r.returncode != 0:
                rows.append({"module": label, "path": str(wasm), "error": last_line(r.stderr)})
                break
            walls.append(wall)
            cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        else:
            size = wasm.stat().st_size
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            rows.append({"module": label, "path": str(wasm), "bytes": size, "code_bytes": code_section_bytes(wasm),
                         "wall_s": wall, "cpu_s": cpu,
                         "mb_per_s": size / 1e6 / wall, "s_per_mb": wall / (size / 1e6)})
    good = [r for r in rows if "error" not in r]
    total = sum(r["bytes"] for r in good) / 1e6 / sum(r["wall_s"] for r in good) if good else float("nan")
    return rows, total


# ---------------------------------------------------------------- report


def format_ratio(x):
    return "–" if x is None or math.isnan(x) else f"{x:.2f}"


def tools_source(build_dir):
    """Where faasm-codegen and faasm-run were built from: the CMake source dir and its commit."""
    cache = build_dir / "CMakeCache.txt"
    if not cache.exists():
        return f"{build_dir}/bin (prebuilt, source unknown)"
    source = next((l.split("=", 1)[1].strip() for l in cache.read_text().splitlines()
                   if l.startswith("CMAKE_HOME_DIRECTORY:")), "?")
    commit = capture(["git", "-C", source, "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = capture(["git", "-C", source, "status", "--porcelain", "--", "compiler", "loader", "host-interface"]).stdout
    if not commit and (Path(source) / ".commit").exists():
        commit = (Path(source) / ".commit").read_text().strip() + " (exported tree)"
    return f"{source}, commit {commit or '?'}" + (" with uncommitted changes" if dirty.strip() else "")


def machine_info(build_dir):
    info = {"uname": capture(["uname", "-srvmo"]).stdout.strip()}
    lscpu = capture(["lscpu"]).stdout
    keep = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)", "CPU max MHz",
            "L1d cache", "L2 cache", "L3 cache", "Hypervisor vendor", "Flags")
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keep:
            value = value.strip()
            if key.strip() == "Flags":
                wanted = ("sse4_2", "avx", "avx2", "avx512f", "fma", "bmi2")
                value = " ".join(f for f in value.split() if f in wanted)
                key = "SIMD flags (of interest)"
            info[key.strip()] = value
    info["clang"] = capture(["clang-19", "--version"]).stdout.splitlines()[0]
    info["node"] = capture(["node", "--version"]).stdout.strip()
    info["wasm2c"] = "WABT " + capture(["wasm2c", "--version"]).stdout.strip()
    info["commit"] = capture(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"]).stdout.strip()
    info["faasm tools built from"] = tools_source(build_dir)
    info["python"] = platform.python_version()
    return info


def write_svg(path, kernels, ratios, statuses):
    """Grouped bars, log scale, of each peer's time ratio to native."""
    peers = ["guard", "explicit", "v8", "wasm2c"]
    finite = [ratios[k][p] for k in kernels for p in peers if ratios[k].get(p)]
    top = max([2.0] + finite) * 1.15
    low = min([0.5] + finite) / 1.15
    width, height, left, right, top_pad, bottom = 1100, 480, 60, 20, 40, 110
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def y(v):
        return top_pad + plot_h * (math.log(top) - math.log(v)) / (math.log(top) - math.log(low))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">'
           f'Time relative to native (log scale, lower is better; X = failed)</text>']
    for tick in (0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6, 8, 12, 16):
        if low <= tick <= top:
            out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                       f'stroke="{"#444" if tick == 1 else "#ddd"}"/>')
            out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    group_w = plot_w / len(kernels)
    bar_w = group_w * 0.8 / len(peers)
    for i, k in enumerate(kernels):
        x0 = left + i * group_w + group_w * 0.1
        for j, p in enumerate(peers):
            x = x0 + j * bar_w
            v = ratios[k].get(p)
            if v:
                out.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar_w - 1:.1f}" '
                           f'height="{y(low) - y(v):.1f}" fill="{PEER_COLOURS[p]}"><title>{k} {p} {v:.2f}</title></rect>')
            else:
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y(low) - 4:.1f}" text-anchor="middle" '
                           f'fill="{PEER_COLOURS[p]}" font-weight="bold">X<title>{k} {p} {statuses[k][p]}</title></text>')
        cx = left + i * group_w + group_w / 2
        out.append(f'<text transform="translate({cx:.1f},{top_pad + plot_h + 12}) rotate(40)">{k}</text>')
    for j, p in enumerate(peers):
        lx = left + 10 + j * 150
        out.append(f'<rect x="{lx}" y="{height - 20}" width="12" height="12" fill="{PEER_COLOURS[p]}"/>')
        out.append(f'<text x="{lx + 16}" y="{height - 10}">{PEER_TITLES[p]}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def write_markdown(path, ctx):
    k, peers = ctx["kernels"], ["guard", "explicit", "v8", "wasm2c"]
    lines = []
    add = lines.append
    add("# Generated-code benchmark: faasm against native, V8 and wasm2c")
    add("")
    add("*Regenerated by `scripts/bench-code`; do not edit by hand. Prose that is not "
        "generated lives in `tests/bench/code/bench_code.py`.*")
    add("")
    add(f"Run: {ctx['started']} – {ctx['finished']} (UTC), {ctx['reps']} repetitions per peer and kernel, "
        f"kernels and script at commit `{ctx['machine']['commit']}`, faasm tools built from "
        f"{ctx['machine']['faasm tools built from']}.")
    add("")
    add("    " + ctx["command"])
    add("")
    add("## Result")
    add("")
    add("Each cell is the median, over the repetitions, of the kernel's own timing of its compute phase "
        "divided by native's timing in the same repetition (seconds apart); lower is better. The native "
        "column is native's median time. Timing is the CPU time of the thread that runs the "
        "kernel (`CLOCK_THREAD_CPUTIME_ID`, through WASI's `clock_time_get` for the wasm peers), because "
        "this machine is shared: wall-clock time mostly measures the neighbours. Wall time is in the CSV. "
        "Start-up, loading and V8's compilation are outside the timed phase.")
    add("")
    add("| kernel | native (s) | faasm guard | faasm explicit | V8 | wasm2c |")
    add("|---|---:|---:|---:|---:|---:|")
    for name in k:
        row = [name + (" (simd128)" if ctx["simd"][name] else ""), ctx["native_cell"][name]]
        for p in peers:
            row.append(ctx["cells"][name][p])
        add("| " + " | ".join(row) + " |")
    g = ctx["geomeans"]
    add("| **geomean** (kernels each peer passed) | | " + " | ".join(
        f"**{format_ratio(g[p])}** ({ctx['passed'][p]}/{len(k)})" for p in peers) + " |")
    add("| geomean over the kernels every peer passed "
        f"({ctx['common_count']}) | | " + " | ".join(format_ratio(ctx['common_geomeans'][p]) for p in peers) + " |")
    add("| for comparison: geomean of median time / native's median time | | " + " | ".join(
        format_ratio(ctx['median_geomeans'][p]) for p in peers) + " |")
    add("| for comparison: geomean of fastest time / native's fastest time | | " + " | ".join(
        format_ratio(ctx['best_geomeans'][p]) for p in peers) + " |")
    add("")
    add("![time ratio to native per kernel and peer](bench-code.svg)")
    add("")
    if ctx["failures"]:
        add("Failures (a failed cell never counts as fast; it is left out of that peer's geomean):")
        add("")
        for f in ctx["failures"]:
            add(f"- {f}")
        add("")
    add("Slowest kernels relative to native under faasm guard: " + ", ".join(
        f"{n} {format_ratio(r)}" for n, r in ctx["slowest"]) + ".")
    add("")
    add("## Compile throughput")
    add("")
    add("`faasm-codegen` at its default level and bounds, median wall time of 3 runs (CPU time includes "
        "every thread it uses):")
    add("")
    add("| module | size | of which code section | wall | CPU | MB/s | s/MB |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    for r in ctx["compile"]:
        if "error" in r:
            add(f"| {r['module']} | | | | | failed: {r['error']} | |")
        else:
            add(f"| {r['module']} | {r['bytes'] / 1e6:.3f} MB | {r['code_bytes'] / 1e6:.3f} MB | "
                f"{r['wall_s']:.2f} s | {r['cpu_s']:.2f} s | "
                f"{r['mb_per_s']:.2f} | {r['s_per_mb']:.2f} |")
    add("")
    add(f"`compile_mb_per_s` = total size / total wall time of these modules = **{ctx['compile_mb_per_s']:.2f}**.")
    add("")
    add("Key line of this run:")
    add("")
    add("    " + ctx["key_line"])
    add("")
    add("## Machine")
    add("")
    for key, value in ctx["machine"].items():
        add(f"- {key}: {value}")
    add(f"- load average at start / end: {ctx['load_start']} / {ctx['load_end']}")
    add("")
    add("## Kernels")
    add("")
    add("Sources in `tests/bench/kernels/`. Each takes its size as `argv[1]` (default tuned to ≥ 0.3 s of "
        "native CPU time here), times only its compute phase, prints `time_s=`, `wall_s=` and `checksum=`, "
        "and checks its own result against an independent computation or invariant, exiting 1 with "
        "`FAILED:` when it is wrong. The driver also requires every peer's checksum to equal native's. "
        "No kernel calls libm's transcendental functions (glibc and wasi-libc round them differently).")
    add("")
    add("| kernel | source | what | wasm flags |")
    add("|---|---|---|---|")
    for name, source, simd, what in KERNELS:
        if name in k:
            add(f"| {name} | `{source}` | {what} | {'-msimd128' if simd else 'scalar'} |")
    add("")
    add("## How each peer is built")
    add("")
    add(f"- native: `{' '.join(NATIVE_C)} -lm` for C, `{' '.join(NATIVE_CXX)} -I{EIGEN}` for C++ "
        "(x86-64 baseline, so SSE2 only; libc++ like the wasm build, so both sides run the same "
        "standard library code).")
    add(f"- wasm: `sysroot/bin/faasm-cc -O2 -std=gnu17 {WASM_STACK}` / `faasm-c++ -O2 -std=c++17 {WASM_STACK}` "
        "(clang-19 `--target=wasm32-wasi`, C++ with `-fno-exceptions` and `-lc++abi`), plus "
        "`-msimd128` where the table says so.")
    add("- faasm guard / explicit: `faasm-codegen k.wasm -o k.so --bounds=guard|explicit` "
        "(default level and CPU baseline), run by `faasm-run k.so`.")
    add("- V8: `node --no-warnings --no-liftoff /work/shared/tools/wasi-node.cjs k.wasm` "
        f"(Node {ctx['machine']['node']}, TurboFan only).")
    add("- wasm2c: `wasm2c k.wasm -n kernel -o kernel.c`, then `clang-19 -O2` with WABT's "
        "`wasm-rt-impl.c` (guard-page bounds checks, its default on 64-bit Linux) and "
        "`tests/bench/wasm2c-shim/wasi-shim.c`, the WASI subset the kernels import.")
    add("")
    add("Build notes:")
    add("")
    add("- Eigen 3.4 (Debian libeigen3-dev) cross-compiles to wasm32-wasi with `-fno-exceptions` unchanged "
        "(it turns its own exception use off when `__cpp_exceptions` is absent) but needs a larger wasm stack: "
        "its matrix product puts blocks of up to 128 KiB (`EIGEN_STACK_ALLOCATION_LIMIT`) on the stack, and "
        "wasm-ld's default stack is 64 KiB, so the module ran out of stack into its data and trapped with "
        f"an out-of-bounds access. Every kernel is linked with `{WASM_STACK}` (1 MiB). Eigen 3.4 has no "
        "wasm SIMD packet code, so the wasm build uses its scalar paths (auto-vectorised with -msimd128) "
        "while native uses its SSE2 kernels.")
    add("- WABT 1.0.32's wasm2c aborts on modules that use SIMD, so the -msimd128 kernels have no wasm2c "
        "result; its geomean covers the other kernels (see the count), and the second geomean row "
        "compares every peer on the same kernels.")
    add("")
    add("## Method")
    add("")
    add("For each kernel, the peers run one after another, in an order rotated at every repetition, "
        "repeated N times (`--reps`, default 5). Each repetition's time is divided by native's time in the "
        "same repetition, and the median of those N ratios is taken: on this shared virtual machine a "
        "kernel's CPU time, native's included, moves by up to 2x between runs (matmul native: 0.33 s and "
        "0.60 s in one run) as conditions on the host change, and runs seconds apart share most of "
        "it. The two other summaries (ratio of the median times, ratio of the fastest times) are given for "
        "comparison. A run is *ok* when it "
        "exits 0, prints its timing, and its checksum equals native's; *wrong* when the kernel's own check "
        "fails or the checksum differs; *crash* for any other exit, a trap or a signal; *timeout* after "
        "30× native's time (at least 60 s). Any failed run marks the cell as failed. Results of every run: "
        "[bench-code.csv](bench-code.csv); summary: [bench-code.json](bench-code.json).")
    add("")
    path.write_text("\n".join(lines))


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench-code", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5, help="runs per peer and kernel, default 5")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("FAASM_BUILD_DIR", REPO_DIR / "build")),
                        help="CMake build with faasm-codegen, faasm-run and the samples "
                             "(default $FAASM_BUILD_DIR or <repo>/build; built if needed)")
    parser.add_argument("--kernels", help="comma-separated subset of kernels")
    parser.add_argument("--size", type=int, help="pass this size to every kernel (for quick checks)")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite docs/bench-code.*")
    parser.add_argument("--jobs", type=int, default=2, help="parallel build jobs, default 2")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")

    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
    build_dir = args.build_dir.resolve()
    kernels = KERNELS
    if args.kernels:
        wanted = args.kernels.split(",")
        unknown = set(wanted) - {k[0] for k in KERNELS}
        if unknown:
            parser.error(f"unknown kernels: {', '.join(sorted(unknown))}")
        kernels = [k for k in KERNELS if k[0] in wanted]
    for tool in ("clang-19", "clang++-19", "node", "wasm2c"):
        if not shutil.which(tool):
            sys.exit(f"bench-code: {tool} not found (scripts/setup installs it)")

    log(f"building the tools in {build_dir}")
    ensure_tools(build_dir)
    codegen = build_dir / "bin/faasm-codegen"
    out_dir = build_dir / "bench-code"
    out_dir.mkdir(parents=True, exist_ok=True)

    log(f"building {len(kernels)} kernels: native, wasm, faasm guard/explicit, wasm2c")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        build_errors = dict(zip([k[0] for k in kernels], pool.map(lambda k: build_kernel(k, out_dir, codegen), kernels)))

    records = []
    summary = {}
    for name, _, _, _ in kernels:
        runs = {p: [] for p in PEERS}
        order = list(PEERS)
        native_time = None
        for rep in range(args.reps):
            rotated = order[rep % len(order):] + order[:rep % len(order)]
            # native first in the first repetition: its checksum is the reference
            if rep == 0:
                rotated = ["native"] + [p for p in rotated if p != "native"]
            for peer in rotated:
                if build_errors[name][peer]:
                    continue
                timeout = max(60.0, 30 * native_time) if native_time else 600.0
                result = run_once(peer_command(peer, name, out_dir, build_dir, args.size), timeout)
                if peer == "native" and result["status"] == "ok" and native_time is None:
                    native_time = max(result["process_s"], result["time_s"])
                runs[peer].append(result)
        native_ok = [r for r in runs["native"] if r["status"] == "ok"]
        reference = native_ok[0]["checksum"] if native_ok else None
        for peer in PEERS:
            for i, r in enumerate(runs[peer]):
                if r["status"] == "ok" and reference is not None and r["checksum"] != reference:
                    r["status"] = "wrong"
                    r["detail"] = f"checksum {r['checksum']} != native's {reference}"
                records.append(dict(kernel=name, peer=peer, rep=i + 1, **{
                    key: r.get(key) for key in ("status", "time_s", "wall_s", "process_s", "checksum", "rc", "detail")}))
        entry = {}
        for peer in PEERS:
            if build_errors[name][peer]:
                entry[peer] = {"status": "build-failed", "detail": build_errors[name][peer]}
                continue
            bad = [r for r in runs[peer] if r["status"] != "ok"]
            times = [r["time_s"] for r in runs[peer] if r["status"] == "ok"]
            entry[peer] = {"status": "ok" if not bad else bad[0]["status"],
                           "failed_runs": len(bad), "runs": len(runs[peer]),
                           "best_s": min(times) if times else None,
                           "median_s": statistics.median(times) if times else None,
                           "detail": bad[0].get("detail") if bad else None}
        native_ok = entry["native"]["status"] == "ok"
        base = entry["native"].get("best_s") if native_ok else None
        base_median = entry["native"].get("median_s") if native_ok else None
        for peer in PEERS:
            e = entry[peer]
            ok = native_ok and e["status"] == "ok"
            # Each repetition's run against native's run of the same repetition
            # (side by side, seconds apart), then the median of those ratios.
            pairs = [r["time_s"] / n["time_s"] for r, n in zip(runs[peer], runs["native"])] if ok else []
            e["ratio"] = statistics.median(pairs) if pairs else None
            e["ratio_best"] = e["best_s"] / base if base and ok and e.get("best_s") else None
            e["ratio_median"] = e["median_s"] / base_median if base_median and ok and e.get("median_s") else None
        summary[name] = entry
        log(f"{name:11s} " + "  ".join(
            f"{p}={format_ratio(entry[p]['ratio']) if entry[p]['status'] == 'ok' else entry[p]['status'].upper()}"
            for p in PEERS[1:]) + (f"  native={base:.3f}s" if base else "  native FAILED"))

    names = [k[0] for k in kernels]
    peers = ["guard", "explicit", "v8", "wasm2c"]
    ratios = {n: {p: summary[n][p]["ratio"] for p in peers} for n in names}
    statuses = {n: {p: summary[n][p]["status"] for p in PEERS} for n in names}
    geomeans = {p: geomean([ratios[n][p] for n in names]) for p in peers}
    median_geomeans = {p: geomean([summary[n][p]["ratio_median"] for n in names]) for p in peers}
    best_geomeans = {p: geomean([summary[n][p]["ratio_best"] for n in names]) for p in peers}
    passed = {p: sum(1 for n in names if ratios[n][p]) for p in peers}
    common = [n for n in names if all(ratios[n][p] for p in peers)]
    common_geomeans = {p: geomean([ratios[n][p] for n in common]) for p in peers}

    log("measuring compile throughput")
    samples_dir = build_dir / "samples"
    wasm_modules = [(n, out_dir / n / f"{n}.wasm") for n in names if (out_dir / n / f"{n}.wasm").exists()]
    modules = []
    if (samples_dir / "shapes.wasm").exists():
        modules.append(("samples/shapes.wasm (C++ sample)", samples_dir / "shapes.wasm"))
    if wasm_modules:
        largest = max(wasm_modules, key=lambda m: m[1].stat().st_size)
        modules.append((f"{largest[0]}.wasm (largest kernel)", largest[1]))
    compile_rows, compile_mb_per_s = measure_compile(codegen, modules, out_dir, 3)

    key_line = (f"kernels={len(names)} geomean_guard={geomeans['guard']:.3f} "
                f"geomean_explicit={geomeans['explicit']:.3f} geomean_v8={geomeans['v8']:.3f} "
                f"geomean_wasm2c={geomeans['wasm2c']:.3f} compile_mb_per_s={compile_mb_per_s:.2f}")

    # table on stdout
    print(f"{'kernel':12s} {'native s':>9s} " + " ".join(f"{PEER_TITLES[p]:>15s}" for p in peers))
    cells, native_cell, failures = {}, {}, []
    for n in names:
        cells[n] = {}
        nat = summary[n]["native"]
        native_cell[n] = f"{nat['median_s']:.3f}" if nat["status"] == "ok" else nat["status"].upper()
        if nat["status"] != "ok":
            failures.append(f"{n}, native: {nat['status']} ({nat.get('detail')})")
        for p in peers:
            e = summary[n][p]
            if e["status"] == "ok":
                cells[n][p] = format_ratio(e["ratio"]) if e["ratio"] else "–"
            else:
                runs_text = f" {e['failed_runs']}/{e['runs']}" if e.get("runs") else ""
                cells[n][p] = f"**{e['status'].upper()}**{runs_text}"
                failures.append(f"{n}, {PEER_TITLES[p]}: {e['status']}{runs_text} — {e.get('detail')}")
        print(f"{n:12s} {native_cell[n]:>9s} " + " ".join(f"{cells[n][p].replace('**', ''):>15s}" for p in peers))
    print(f"{'geomean':12s} {'':>9s} " + " ".join(f"{format_ratio(geomeans[p]) + f' ({passed[p]})':>15s}" for p in peers))
    print(f"{'common(' + str(len(common)) + ')':12s} {'':>9s} " + " ".join(f"{format_ratio(common_geomeans[p]):>15s}" for p in peers))
    for f in failures:
        print("failed: " + f)
    for r in compile_rows:
        if "error" in r:
            print(f"compile {r['module']}: failed: {r['error']}")
        else:
            print(f"compile {r['module']}: {r['bytes'] / 1e6:.3f} MB in {r['wall_s']:.2f} s wall "
                  f"({r['cpu_s']:.2f} s CPU) = {r['mb_per_s']:.2f} MB/s")

    finished = datetime.datetime.now(datetime.timezone.utc)
    if not args.no_report:
        docs = REPO_DIR / "docs"
        command = "scripts/bench-code " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        slowest = sorted(((n, ratios[n]["guard"]) for n in names if ratios[n]["guard"]), key=lambda x: -x[1])[:5]
        with open(docs / "bench-code.csv", "w") as f:
            cols = ["kernel", "peer", "rep", "status", "time_s", "wall_s", "process_s", "checksum", "rc", "detail"]
            f.write(",".join(cols) + "\n")
            for r in records:
                f.write(",".join(_csv(r.get(c)) for c in cols) + "\n")
            for n in names:
                for p in PEERS:
                    if statuses[n][p] == "build-failed":
                        f.write(",".join(_csv(v) for v in [n, p, "", "build-failed", "", "", "", "", "",
                                                          summary[n][p]["detail"]]) + "\n")
        machine = machine_info(build_dir)
        (docs / "bench-code.json").write_text(json.dumps({
            "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
            "command": command, "reps": args.reps, "machine": machine, "kernels": summary,
            "geomeans": geomeans, "median_geomeans": median_geomeans, "best_geomeans": best_geomeans,
            "passed": passed,
            "common_kernels": common, "common_geomeans": common_geomeans,
            "compile": compile_rows, "compile_mb_per_s": compile_mb_per_s, "key_line": key_line}, indent=1) + "\n")
        write_svg(docs / "bench-code.svg", names, ratios, statuses)
        write_markdown(docs / "bench-code.md", {
            "kernels": names, "simd": {k[0]: k[2] for k in KERNELS}, "cells": cells, "native_cell": native_cell,
            "geomeans": geomeans, "median_geomeans": median_geomeans, "best_geomeans": best_geomeans,
            "passed": passed,
            "common_count": len(common), "common_geomeans": common_geomeans,
            "failures": failures, "slowest": slowest, "compile": compile_rows, "compile_mb_per_s": compile_mb_per_s,
            "key_line": key_line, "machine": machine, "reps": args.reps, "command": command,
            "started": started.strftime("%Y-%m-%d %H:%M"), "finished": finished.strftime("%H:%M"),
            "load_start": load_start, "load_end": " ".join(f"{x:.1f}" for x in os.getloadavg())})
        log("wrote docs/bench-code.md, .csv, .json, .svg")
    print(key_line)


def _csv(value):
    if value is None:
        return ""
    text = f"{value:.6f}" if isinstance(value, float) else str(value)
    return '"' + text.replace('"', '""') + '"' if ("," in text or '"' in text) else text


if __name__ == "__main__":
    main()
