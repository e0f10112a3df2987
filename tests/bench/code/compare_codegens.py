#!/usr/bin/env python3
"""Two or more faasm builds on scripts/bench-code's kernels, side by side:
what a change of the code generator costs the generated code.

  python3 tests/bench/code/compare_codegens.py NAME=BUILD_DIR NAME=BUILD_DIR ...
          [--reps N] [--kernels a,b] [--modes guard,explicit] [--work DIR]

Each BUILD_DIR has bin/faasm-codegen and bin/faasm-run (a build of some
commit). Every kernel is compiled to wasm once (faasm-cc, as bench-code
does), then to an artefact by each build, in each mode; the runs of one
repetition are made back to back, builds in turn, so the machine's load
falls on all of them alike. The figure is the kernel's own timing of its
compute phase (CPU time of its thread, as bench-code); per kernel the median
over the repetitions of each build's time divided by the first build's in
the same repetition; then the geometric mean over kernels. Also the size of
each artefact's executable code and faasm-codegen's CPU time. Not a test.
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_code  # noqa: E402


def text_bytes(so):
    """Bytes of the executable sections of a shared object (readelf -S)."""
    out = subprocess.run(["readelf", "-SW", str(so)], capture_output=True, text=True).stdout
    total = 0
    for line in out.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 7 and parts[0].startswith("[") and "X" in parts[7]:
            total += int(parts[5], 16)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("builds", nargs="+", help="NAME=BUILD_DIR; the first is the reference")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--kernels", help="comma-separated subset")
    parser.add_argument("--modes", default="guard,explicit")
    parser.add_argument("--work", type=Path, default=Path("/tmp/compare-codegens"))
    args = parser.parse_args()
    builds = [(b.split("=", 1)[0], Path(b.split("=", 1)[1])) for b in args.builds]
    modes = args.modes.split(",")
    kernels = [k for k in bench_code.KERNELS
               if not args.kernels or k[0] in args.kernels.split(",")]
    env = dict(os.environ, FAASM_LOG="error")

    artefacts, sizes, compile_s = {}, {}, {}
    for kernel in kernels:
        name = kernel[0]
        errors = bench_code.build_kernel(kernel, args.work, builds[0][1] / "bin/faasm-codegen")
        if errors.get("guard"):
            print(f"{name}: {errors['guard']}", file=sys.stderr)
            continue
        wasm = args.work / name / f"{name}.wasm"
        for build, directory in builds:
            for mode in modes:
                so = args.work / name / f"{build}.{mode}.so"
                usage = os.times()
                subprocess.run([str(directory / "bin/faasm-codegen"), str(wasm), "-o", str(so),
                                f"--bounds={mode}"], check=True, env=env)
                after = os.times()
                compile_s[name, build, mode] = ((after.children_user - usage.children_user) +
                                                (after.children_system - usage.children_system))
                artefacts[name, build, mode] = so
                sizes[name, build, mode] = text_bytes(so)

    ratios = {}  # (kernel, build, mode) -> [ratio per repetition]
    for rep in range(args.reps):
        for kernel in kernels:
            name = kernel[0]
            for mode in modes:
                times = {}
                for build, directory in builds:
                    if (name, build, mode) not in artefacts:
                        continue
                    cmd = [str(directory / "bin/faasm-run"), str(artefacts[name, build, mode])]
                    result = bench_code.run_once(cmd, timeout=300)
                    if result.get("status") == "ok":
                        times[build] = result["time_s"]
                    else:
                        print(f"{name} {build} {mode}: {result}", file=sys.stderr)
                reference = times.get(builds[0][0])
                for build, _ in builds:
                    if reference and build in times:
                        ratios.setdefault((name, build, mode), []).append(times[build] / reference)
        print(f"repetition {rep + 1}/{args.reps} done", file=sys.stderr)

    for mode in modes:
        print(f"\n{mode}: median time / {builds[0][0]}'s (same repetition); code bytes; "
              f"compile CPU s")
        header = f"{'kernel':<12}" + "".join(f"{b:>12}" for b, _ in builds[1:])
        header += "".join(f"{'code ' + b:>16}" for b, _ in builds)
        header += "".join(f"{'cpu ' + b:>12}" for b, _ in builds)
        print(header)
        geo = {b: [] for b, _ in builds[1:]}
        for kernel in kernels:
            name = kernel[0]
            row = f"{name:<12}"
            for build, _ in builds[1:]:
                values = ratios.get((name, build, mode))
                median = statistics.median(values) if values else float("nan")
                if values:
                    geo[build].append(median)
                row += f"{median:>12.3f}"
            row += "".join(f"{sizes.get((name, b, mode), 0):>16}" for b, _ in builds)
            row += "".join(f"{compile_s.get((name, b, mode), 0):>12.2f}" for b, _ in builds)
            print(row)
        row = f"{'geomean':<12}"
        for build, _ in builds[1:]:
            row += f"{bench_code.geomean(geo[build]):>12.3f}"
        total = {b: sum(sizes.get((k[0], b, mode), 0) for k in kernels) for b, _ in builds}
        row += "".join(f"{total[b]:>16}" for b, _ in builds)
        cpu = {b: sum(compile_s.get((k[0], b, mode), 0) for k in kernels) for b, _ in builds}
        row += "".join(f"{cpu[b]:>12.2f}" for b, _ in builds)
        print(row)


if __name__ == "__main__":
    main()
