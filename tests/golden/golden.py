#!/usr/bin/env python3
"""Golden tests of the code generator: the optimised LLVM IR of chosen
functions of small .wat modules, compared with what was accepted before.

Each case is a .wat file in this folder whose leading comments declare

  ;; golden modes: guard explicit     bounds modes it is compiled in
  ;; golden functions: $f $g          functions whose IR is compared
  ;; golden kind: code-map            (optional) compare the code map instead
                                      (faasm-codegen --emit-code-map: the
                                      wasm instructions native code is
                                      attributed to, which traps report)

and, for each mode, <name>.<mode>.expected holds the accepted IR. A case is
converted with `wat2wasm --debug-names` (so functions keep their names),
compiled with `faasm-codegen --bounds=MODE --emit-ir-after-opt`, and each
listed function is cut out of the IR and normalised (see normalise()).

  golden.py --codegen BUILD/bin/faasm-codegen [--mode MODE] [CASE.wat ...]

With no case, every .wat here; with no --mode, every mode a case declares.
A mismatch prints a unified diff (expected -> actual) and exits 1.
--bless, or FAASM_GOLDEN_BLESS=1 in the environment, writes the actual IR
as the new expectation instead; review the diff (git diff) before
committing it.
"""

import argparse
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import faasmtest  # noqa: E402

TIMEOUT = 120

# Metadata attachments kept: they say what a loop or an access is allowed
# (not vectorised, vectorised, no-alias scopes). The others (tbaa, prof,
# invariant.load, ...) are the same on every line of a kind and only add
# noise to a diff.
KEPT_ATTACHMENTS = ("llvm.loop", "alias.scope", "noalias")


class CaseError(Exception):
    pass


def directives(wat_path):
    """The `;; golden KEY: VALUE` lines of a case, as {key: [words]}."""
    found = {}
    with open(wat_path, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"\s*;;\s*golden\s+(\w+)\s*:(.*)$", line)
            if match:
                found.setdefault(match.group(1), []).extend(match.group(2).split())
    for key in ("modes", "functions"):
        if not found.get(key):
            raise CaseError(f"{wat_path}: no ';; golden {key}:' line")
    for mode in found["modes"]:
        if mode not in ("guard", "explicit"):
            raise CaseError(f"{wat_path}: unknown mode {mode!r}")
    return found


def run(cmd):
    return faasmtest.run_command(cmd, check=True, timeout=TIMEOUT)


def symbol_of(wat_name):
    """The LLVM name faasm-codegen gives a function named `wat_name` (with its
    `$`): wasm.<index>.<name, each character other than [A-Za-z0-9_] as _>."""
    return "".join(c if (c.isascii() and c.isalnum()) or c == "_" else "_" for c in wat_name)


def function_text(ir_lines, wat_name):
    symbol = re.escape(symbol_of(wat_name))
    start = next((i for i, line in enumerate(ir_lines)
                  if re.match(rf"define .*@wasm\.\d+\.{symbol}\(", line)), None)
    if start is None:
        raise CaseError(f"no function {wat_name} in the IR (is it exported, so that it stays?)")
    end = ir_lines.index("}", start)
    return ir_lines[start:end + 1]


def metadata_definitions(ir_lines):
    definitions = {}
    for line in ir_lines:
        match = re.match(r"^!(\d+) = (.*)$", line)
        if match:
            definitions[match.group(1)] = match.group(2)
    return definitions


def normalise(ir_lines, functions):
    """The listed functions' IR, with only the kept metadata attachments,
    without attribute-group references, and with metadata renumbered in
    order of first use, its definitions (transitively) listed after the
    functions. Value and block names are LLVM's, which are deterministic."""
    attachment = re.compile(r", !([A-Za-z_.][\w.]*) (!\d+)")
    body = []
    for name in functions:
        for line in function_text(ir_lines, name):
            line = attachment.sub(
                lambda m: m.group(0) if m.group(1) in KEPT_ATTACHMENTS else "", line)
            line = re.sub(r" #\d+\b", "", line)
            # A function's debug info (the code map's, checked by the
            # code-map cases) is the same kind of noise.
            line = re.sub(r" !dbg !\d+", "", line)
            body.append(line.rstrip())
        body.append("")

    definitions = metadata_definitions(ir_lines)
    numbering = {}

    def number(old):
        if old not in numbering:
            numbering[old] = str(len(numbering))
            for ref in re.findall(r"!(\d+)", definitions.get(old, "")):
                number(ref)
        return numbering[old]

    def renumber(text):
        return re.sub(r"!(\d+)", lambda m: "!" + number(m.group(1)), text)

    body = [renumber(line) for line in body]
    listed = sorted(numbering.items(), key=lambda item: int(item[1]))
    for old, new in listed:
        body.append(f"!{new} = {renumber(definitions.get(old, '<undefined>'))}")
    return "\n".join(body).rstrip("\n") + "\n"


def code_map_listing(lines, functions):
    """The listed functions' blocks of a code map listing ("func[N] $name: ..."
    and its indented lines)."""
    out, keep = [], False
    for line in lines:
        if not line.startswith("  "):
            match = re.match(r"func\[\d+\] (\S+):", line)
            keep = bool(match) and match.group(1) in functions
        if keep and line:
            out.append(line)
    missing = [f for f in functions if not any(l.split(":")[0].endswith(" " + f) for l in out)]
    if missing:
        raise CaseError(f"no function {' '.join(missing)} in the code map")
    return "\n".join(out) + "\n"


def actual_code_map(case, mode, functions, codegen, wat2wasm, work):
    base = os.path.join(work, f"{os.path.basename(case)}.{mode}")
    run([wat2wasm, "--debug-names", case, "-o", base + ".wasm"])
    run([codegen, base + ".wasm", "-o", base + ".so", f"--bounds={mode}",
         "--emit-code-map", base + ".map"])
    with open(base + ".map", encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = (f"; {os.path.basename(case)}, faasm-codegen --bounds={mode}: "
              f"code map ({' '.join(functions)})\n")
    return header + code_map_listing(lines, functions)


def actual_ir(case, mode, functions, codegen, wat2wasm, work):
    base = os.path.join(work, f"{os.path.basename(case)}.{mode}")
    run([wat2wasm, "--debug-names", case, "-o", base + ".wasm"])
    run([codegen, base + ".wasm", "-o", base + ".so", f"--bounds={mode}",
         "--emit-ir-after-opt", base + ".ll"])
    with open(base + ".ll", encoding="utf-8") as f:
        ir_lines = f.read().split("\n")
    header = (f"; {os.path.basename(case)}, faasm-codegen --bounds={mode}: "
              f"IR after optimisation ({' '.join(functions)})\n")
    return header + normalise(ir_lines, functions)


def check(case, mode, functions, args, work, kind="ir"):
    """True if the case passes in this mode (or was blessed)."""
    name = os.path.splitext(os.path.basename(case))[0]
    expected_path = os.path.join(os.path.dirname(case), f"{name}.{mode}.expected")
    produce = actual_code_map if kind == "code-map" else actual_ir
    actual = produce(case, mode, functions, args.codegen, args.wat2wasm, work)
    if args.bless:
        with open(expected_path, "w", encoding="utf-8") as f:
            f.write(actual)
        print(f"blessed {os.path.relpath(expected_path)}")
        return True
    if not os.path.exists(expected_path):
        print(f"FAIL {name}.{mode}: no {expected_path} (run with --bless to create it)")
        return False
    with open(expected_path, encoding="utf-8") as f:
        expected = f.read()
    if expected == actual:
        print(f"ok {name}.{mode}")
        return True
    print(f"FAIL {name}.{mode}: the generated code differs from {os.path.basename(expected_path)}")
    for line in faasmtest.diff_lines(expected.splitlines(), actual.splitlines(),
                                     f"{name}.{mode}.expected", f"{name}.{mode}.actual"):
        print(line)
    print("(if the change is intended: FAASM_GOLDEN_BLESS=1, then review the diff)")
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help=".wat cases (default: every one here)")
    parser.add_argument("--codegen", required=True, help="the faasm-codegen to test")
    parser.add_argument("--wat2wasm", default="wat2wasm", help="WABT's wat2wasm")
    parser.add_argument("--mode", choices=("guard", "explicit"),
                        help="only this bounds mode (default: those each case declares)")
    parser.add_argument("--bless", action="store_true",
                        default=os.environ.get("FAASM_GOLDEN_BLESS") == "1",
                        help="rewrite the expectations (also FAASM_GOLDEN_BLESS=1)")
    args = parser.parse_args()

    cases = args.cases or sorted(os.path.join(HERE, f) for f in os.listdir(HERE)
                                 if f.endswith(".wat"))
    passed = True
    with tempfile.TemporaryDirectory(prefix="faasm-golden.") as work:
        for case in cases:
            try:
                found = directives(case)
                modes = [args.mode] if args.mode else found["modes"]
                for mode in modes:
                    if mode not in found["modes"]:
                        raise CaseError(f"{case} does not declare mode {mode}")
                    kind = (found.get("kind") or ["ir"])[0]
                    if kind not in ("ir", "code-map"):
                        raise CaseError(f"{case}: unknown kind {kind!r}")
                    passed &= check(os.path.abspath(case), mode, found["functions"], args, work,
                                    kind)
            except CaseError as e:
                print(f"FAIL {case}: {e}")
                passed = False
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
