#!/usr/bin/env python3
"""Traps that say where: faasm-run's stderr for a trap is "trap: <reason>"
and one line per wasm frame, innermost first,

    trap: integer divide by zero
      at divide (func[3]) +0xbd
      at dispatch (func[9]) +0x106
      at main (func[10]) +0x147

The expected frames are named here by function and instruction; their
offsets are read from `wasm-objdump -d` of the same module (the numbering
users look them up in), so nothing here is a number the compiler chose.
Each case runs data/traps.wat compiled in the given bounds mode.

  traps.py CASE --run R --wat2wasm W --objdump O --bounds MODE --workdir D
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (TEST_ARTEFACT_KEY, fail, run_command, work_dir)  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# Case: (guest arguments, trap line, frames as (function, instruction text as
# wasm-objdump prints it, in that function)).
MAIN = ("main", "call 10 <dispatch>")
CASES = {
    "divide": (["a"], "trap: integer divide by zero",
               [("divide", "i32.div_s"), ("dispatch", "call 3 <divide>"), MAIN]),
    "out-of-bounds": (["a"] * 2, "trap: out of bounds memory access",
                      [("load", "i32.load 2 8"), ("dispatch", "call 4 <load>"), MAIN]),
    "unreachable": (["a"] * 3, "trap: unreachable",
                    [("inner", "unreachable"), ("outer", "call 5 <inner>"),
                     ("dispatch", "call 6 <outer>"), MAIN]),
    "host-pointer": (["a"] * 5, "trap: host call with out of bounds pointer",
                     [("write", "call 0 <fd_write>"), ("dispatch", "call 9 <write>"), MAIN]),
}


def disassembly(objdump, wasm):
    """{function name: [(offset, instruction text)]} from wasm-objdump -d."""
    out = run_command([objdump, "-d", wasm], check=True).stdout
    functions, current = {}, None
    for line in out.splitlines():
        header = re.match(r"^[0-9a-f]+ func\[(\d+)\] <(.+)>:$", line)
        if header:
            current = functions.setdefault(header.group(2), [])
            current.append(("index", int(header.group(1))))
            continue
        instruction = re.match(r"^ ([0-9a-f]+): [0-9a-f ]+\|\s*(.*)$", line)
        if instruction and current is not None:
            current.append((int(instruction.group(1), 16), instruction.group(2).strip()))
    return functions


def frame_line(functions, function, instruction, named=True):
    entries = functions[function]
    index = entries[0][1]
    offsets = [offset for offset, text in entries[1:] if text == instruction]
    if len(offsets) != 1:
        fail(f"the test's module has {len(offsets)} '{instruction}' in {function}")
    label = f"{function} (func[{index}])" if named else f"func[{index}]"
    return f"  at {label} +0x{offsets[0]:x}"


class World:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"),
                        FAASM_ARTEFACT_KEY=TEST_ARTEFACT_KEY)
        self.env.pop("FAASM_LOG", None)

    def module(self, debug_names=True, source="traps"):
        wasm = os.path.join(self.work, (source if debug_names else "unnamed") + ".wasm")
        run_command([self.args.wat2wasm, *(["--debug-names"] if debug_names else []),
                     os.path.join(HERE, "data", source + ".wat"), "-o", wasm], check=True)
        return wasm

    def run(self, *arguments):
        return run_command([self.args.run, f"--bounds={self.args.bounds}", *arguments],
                           env=self.env)


def expect_stderr(proc, want_lines, what):
    want = "".join(line + "\n" for line in want_lines)
    if proc.returncode != 134 or proc.stderr != want:
        fail(f"{what}: want status 134 and stderr\n{want}got status {proc.returncode} and "
             f"stderr\n{proc.stderr}")
    print(f"{what}:\n{proc.stderr}", end="")


def case_frames(world, name):
    wasm = world.module()
    functions = disassembly(world.args.objdump, wasm)
    guest_args, trap, frames = CASES[name]
    want = [trap] + [frame_line(functions, f, i) for f, i in frames]
    expect_stderr(world.run(wasm, *guest_args), want, name)


def case_stack_overflow(world):
    wasm = world.module()
    functions = disassembly(world.args.objdump, wasm)
    proc = world.run(wasm, *["a"] * 4)
    lines = proc.stderr.splitlines()
    # The overflowing frame checks the stack on entry (its first
    # instruction); every frame above it returns to the recursive call.
    first = [offset for offset, _ in functions["recurse"][1:]][0]
    want_head = ["trap: call stack exhausted",
                 f"  at recurse (func[{functions['recurse'][0][1]}]) +0x{first:x}",
                 frame_line(functions, "recurse", "call 7 <recurse>")]
    if proc.returncode != 134 or lines[:3] != want_head or len(lines) != 5:
        fail(f"want status 134 and {want_head} then two summary lines, got status "
             f"{proc.returncode} and {proc.stderr!r}")
    repeated = re.fullmatch(r"  \.\.\. the line above (\d+) more times", lines[3])
    more = re.fullmatch(r"  \.\.\. (\d+) more frames", lines[4])
    if not repeated or not more or int(more.group(1)) < 1000:
        fail(f"want the repetition counted and the frames past the recorded ones: {lines[3:]}")
    print(proc.stderr, end="")


def case_unnamed(world):
    """No name section: func[N] alone, or the export name."""
    wasm = world.module(debug_names=False)
    functions = disassembly(world.args.objdump, world.module())  # offsets are the same
    guest_args, trap, frames = CASES["divide"]
    want = [trap,
            frame_line(functions, "divide", "i32.div_s"),  # exported as "divide"
            frame_line(functions, "dispatch", "call 3 <divide>", named=False),
            frame_line(functions, "main", "call 10 <dispatch>").replace("at main", "at _start")]
    expect_stderr(world.run(wasm, *guest_args), want, "unnamed")


def case_leaf(world):
    """A fault on the fast path of a function that calls only on its trap
    path: its frame is set up on entry all the same, so its caller shows."""
    wasm = world.module()
    functions = disassembly(world.args.objdump, wasm)
    want = ["trap: out of bounds memory access", frame_line(functions, "leaf", "i32.load 2 16"),
            frame_line(functions, "dispatch", "call_indirect 0 (type 0 <leafType>)"), frame_line(functions, *MAIN)]
    expect_stderr(world.run(wasm, *["a"] * 6), want, "leaf")


def case_invoke(world):
    """--invoke runs the export in faasm-run itself: the same report."""
    wasm = world.module()
    functions = disassembly(world.args.objdump, wasm)
    want = ["trap: integer divide by zero", frame_line(functions, "divide", "i32.div_s")]
    expect_stderr(world.run("--invoke", "divide", wasm, "7", "0"), want, "invoke")


def case_warm(world):
    """A warm Faaslet's every run reports its own trap."""
    wasm = world.module()
    functions = disassembly(world.args.objdump, wasm)
    guest_args, trap, frames = CASES["unreachable"]
    one = [trap] + [frame_line(functions, f, i) for f, i in frames]
    expect_stderr(world.run("--warm", "3", wasm, *guest_args), one * 3, "warm")


def case_start(world):
    """A trap while the Proto-Faaslet initialises (the start function): the
    same report, from the zygote; and from --snapshot-out's initialisation."""
    wasm = world.module(source="start-trap")
    functions = disassembly(world.args.objdump, wasm)
    want = ["trap: integer divide by zero", frame_line(functions, "boom", "i32.div_u"),
            frame_line(functions, "init", "call 0 <boom>")]
    expect_stderr(world.run(wasm), want, "start")
    snapshot = os.path.join(world.work, "start.snap")
    expect_stderr(world.run("--snapshot-out", snapshot, wasm), want, "start, --snapshot-out")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=sorted([*CASES, "stack-overflow", "unnamed", "invoke",
                                                "warm", "start", "leaf"]))
    parser.add_argument("--run", required=True)
    parser.add_argument("--wat2wasm", required=True)
    parser.add_argument("--objdump", required=True)
    parser.add_argument("--bounds", choices=("guard", "explicit"), required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    with work_dir(args.workdir, f"trap-{args.case}.{args.bounds}") as work:
        world = World(args, work)
        if args.case in CASES:
            case_frames(world, args.case)
        else:
            {"stack-overflow": case_stack_overflow, "unnamed": case_unnamed,
             "invoke": case_invoke, "warm": case_warm, "start": case_start,
             "leaf": case_leaf}[args.case](world)


if __name__ == "__main__":
    main()
