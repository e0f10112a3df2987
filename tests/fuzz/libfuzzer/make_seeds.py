#!/usr/bin/env python3
"""Writes the seed inputs of fuzz-codegen into OUTDIR: every .wat of the
golden and fuzz regression tests (through wat2wasm) and small pathological
modules, each prefixed with the options byte the target reads first (both
bounds modes, -O2). Used by ctest and scripts/fuzz-run.

  make_seeds.py OUTDIR
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests/escape/compiler"))
import pathological  # noqa: E402


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    modules = {}
    wat2wasm = shutil.which("wat2wasm")
    if wat2wasm:
        wats = sorted((REPO / "tests/golden").glob("*.wat")) + sorted((REPO / "tests/fuzz/regressions").glob("*.wat"))
        with tempfile.TemporaryDirectory() as tmp:
            for wat in wats:
                wasm = Path(tmp) / (wat.stem + ".wasm")
                if subprocess.run([wat2wasm, "--enable-all", str(wat), "-o", str(wasm)], capture_output=True).returncode == 0:
                    modules[wat.stem] = wasm.read_bytes()
    for shape, n in [("nest-block", 20), ("nest-if", 20), ("nest-branching", 8), ("params", 12),
                     ("results", 12), ("block-results", 10), ("br-table", 40), ("locals", 20),
                     ("giant", 50), ("giant-stores", 10), ("functions", 5), ("many-results", 3)]:
        modules[shape] = pathological.SHAPES[shape](n)
    for name, wasm in modules.items():
        (out / f"{name}.guard").write_bytes(bytes([2]) + wasm)
        (out / f"{name}.explicit").write_bytes(bytes([3]) + wasm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
