#!/usr/bin/env python3
"""faasm-codegen --report-loops on loops.wat (this folder), in one bounds mode:
the loop of $scale must be reported versioned and vectorised with no checks
left, at the offset of its body in the module; the linked-list walk of
$sum-list not versioned, with its two checks left and the reason (no bound
on its trip count), and not vectorised.

  report_loops.py --codegen BUILD/bin/faasm-codegen --wat2wasm WAT2WASM --mode MODE
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import faasmtest  # noqa: E402,F401  (the drivers' common conventions)


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def loop_record(report, function):
    """The report's block for the one loop of `function` (sanitised name)."""
    blocks = re.split(r"\n(?=\S)", report.strip())
    found = [b for b in blocks if re.match(rf"wasm\.\d+\.{function} loop body at ", b)]
    if len(found) != 1:
        fail(f"expected one loop of {function} in the report, found {len(found)}:\n{report}")
    return found[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--wat2wasm", required=True)
    parser.add_argument("--mode", required=True, choices=["guard", "explicit"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wasm = os.path.join(tmp, "loops.wasm")
        subprocess.run([args.wat2wasm, "--debug-names", os.path.join(HERE, "loops.wat"), "-o", wasm],
                       check=True)
        report_path = os.path.join(tmp, "report.txt")
        r = subprocess.run([args.codegen, wasm, "-o", os.path.join(tmp, "loops.so"),
                            f"--bounds={args.mode}", "--report-loops", report_path],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            fail(f"faasm-codegen exited {r.returncode}: {r.stderr.strip()}")
        report = open(report_path).read()
        # The body of $scale's loop: just after its `loop` opcode (0x03) and
        # block type (0x40), the second loop of the code section.
        data = open(wasm, "rb").read()
        loops = [i + 2 for i in range(len(data) - 1) if data[i:i + 2] == b"\x03\x40"]

    scale = loop_record(report, "_scale")
    for expected in ("versioned: 2 accesses", "vectorized loop", "checks left: none"):
        if expected not in scale:
            fail(f"$scale's loop: '{expected}' missing from\n{scale}")
    offset = int(re.search(r"loop body at 0x([0-9A-F]+)", scale).group(1), 16)
    if offset not in loops:
        fail(f"$scale's loop reported at 0x{offset:X}, not after a loop opcode ({loops})")

    walk = loop_record(report, "_sum_list")
    for expected in ("not versioned: no access or check it could cover",
                     "not vectorised: could not determine number of loop iterations",
                     "checks left: 2", "trip count has no bound"):
        if expected not in walk:
            fail(f"$sum-list's loop: '{expected}' missing from\n{walk}")
    print(report)


if __name__ == "__main__":
    main()
