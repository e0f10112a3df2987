#!/usr/bin/env python3
"""Generates pathological WebAssembly modules, byte by byte, for the compiler's
limits and cost tests (tests/escape/compiler/) and for measuring them by hand:

  pathological.py SHAPE N OUT.wasm      write one module
  pathological.py --list                the shapes and what N means

The modules are made when a test runs, never committed: each shape is a
function of N, so a test can build one just inside a limit and one just past
it. Every module is valid WebAssembly 2.0 unless its shape says otherwise.
"""

import sys

I32 = 0x7F
FUNC = 0x60
BLOCK, LOOP, IF, ELSE, END = 0x02, 0x03, 0x04, 0x05, 0x0B
BR, BR_TABLE, DROP = 0x0C, 0x0E, 0x1A
LOCAL_GET, LOCAL_SET = 0x20, 0x21
I32_CONST, I32_ADD = 0x41, 0x6A
CALL = 0x10
EMPTY = 0x40


def uleb(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def vec(items):
    return uleb(len(items)) + b"".join(items)


def section(sid, payload):
    return bytes([sid]) + uleb(len(payload)) + payload


def functype(params, results):
    return bytes([FUNC]) + vec([bytes([t]) for t in params]) + vec([bytes([t]) for t in results])


def module(types, funcs, exports=(), memory=False):
    """types: list of encoded functypes; funcs: list of (type index, locals
    [(count, type)], body bytes without the final end)."""
    out = b"\0asm" + bytes([1, 0, 0, 0])
    out += section(1, vec(types))
    out += section(3, vec([uleb(t) for t, _, _ in funcs]))
    if memory:
        out += section(5, vec([bytes([0]) + uleb(1)]))
    if exports:
        out += section(
            7, vec([vec([bytes([c]) for c in name.encode()]) + bytes([0]) + uleb(i) for name, i in exports])
        )
    bodies = []
    for _, locals_, body in funcs:
        code = vec([uleb(n) + bytes([t]) for n, t in locals_]) + body + bytes([END])
        bodies.append(uleb(len(code)) + code)
    out += section(10, vec(bodies))
    return out


def one_func(body, params=(), results=(), locals_=()):
    return module([functype(params, results)], [(0, list(locals_), body)], [("f", 0)])


# ----- shapes ---------------------------------------------------------------------


def nest_block(n):
    """n nested empty blocks."""
    return one_func(bytes([BLOCK, EMPTY]) * n + bytes([END]) * n)


def nest_loop(n):
    """n nested loops."""
    return one_func(bytes([LOOP, EMPTY]) * n + bytes([END]) * n)


def nest_if(n):
    """n nested ifs, each with an else arm."""
    return one_func((bytes([I32_CONST]) + sleb(1) + bytes([IF, EMPTY])) * n + bytes([ELSE, END]) * n)


def nest_branching(n):
    """n nested blocks, a br out of the innermost to the outermost, so every
    level's end is reachable and carries a value."""
    body = bytes([BLOCK, I32]) * n + bytes([I32_CONST]) + sleb(7)
    body += bytes([BR]) + uleb(n - 1)
    body += bytes([END]) * n + bytes([DROP])
    return one_func(body)


def nest_unbalanced(n):
    """n opened blocks and no ends: malformed, but the nesting is seen
    (and rejected, past the limit) before the missing ends are."""
    out = one_func(bytes([BLOCK, EMPTY]) * n)
    return out


def params(n):
    """A function of n i32 params returning their sum, and a caller that calls
    it with n constants."""
    sig = functype([I32] * n, [I32])
    callee = bytes([I32_CONST]) + sleb(0)
    callee += b"".join(bytes([LOCAL_GET]) + uleb(i) + bytes([I32_ADD]) for i in range(n))
    caller = b"".join(bytes([I32_CONST]) + sleb(i) for i in range(n))
    caller += bytes([CALL]) + uleb(0) + bytes([DROP])
    return module([sig, functype([], [])], [(0, [], callee), (1, [], caller)], [("f", 1), ("g", 0)])


def results(n):
    """A function of n i32 results, and a caller that drops them."""
    sig = functype([], [I32] * n)
    callee = b"".join(bytes([I32_CONST]) + sleb(i) for i in range(n))
    caller = bytes([CALL]) + uleb(0) + bytes([DROP]) * n
    return module([sig, functype([], [])], [(0, [], callee), (1, [], caller)], [("f", 1), ("g", 0)])


def block_results(n):
    """A block typed by a signature of n params and n results, with a branch
    out of it: n phis at its end."""
    sig = functype([I32] * n, [I32] * n)
    body = b"".join(bytes([I32_CONST]) + sleb(i) for i in range(n))
    body += bytes([BLOCK]) + sleb(1) + bytes([I32_CONST]) + sleb(0) + bytes([0x0D]) + uleb(0)
    body += bytes([END]) + bytes([DROP]) * n
    return module([functype([], []), sig], [(0, [], body)], [("f", 0)])


def br_table(n):
    """A br_table of n targets spread over 64 nested blocks."""
    depth = 64
    body = bytes([BLOCK, EMPTY]) * depth + bytes([LOCAL_GET]) + uleb(0)
    body += bytes([BR_TABLE]) + uleb(n) + b"".join(uleb(i % depth) for i in range(n)) + uleb(0)
    body += bytes([END]) * depth
    return one_func(body, params=[I32])


def locals_(n):
    """A function of n i32 locals, each written and read once."""
    body = b"".join(bytes([I32_CONST]) + sleb(i) + bytes([LOCAL_SET]) + uleb(i) for i in range(n))
    body += bytes([I32_CONST]) + sleb(0)
    body += b"".join(bytes([LOCAL_GET]) + uleb(i) + bytes([I32_ADD]) for i in range(n))
    body += bytes([DROP])
    return one_func(body, locals_=[(n, I32)])


def locals_unused(n):
    """A function of n i32 locals that it never uses: three bytes declare them."""
    return one_func(b"", locals_=[(n, I32)])


def many_results(n, count=100):
    """n functions of 100 results, each returning another's results with one
    call (a few bytes each)."""
    sig = functype([], [I32] * count)
    leaf = b"".join(bytes([I32_CONST]) + sleb(i) for i in range(count))
    funcs = [(0, [], leaf)] + [(0, [], bytes([CALL]) + uleb(i)) for i in range(n)]
    return module([sig], funcs, [("f", n)])


def block_bomb(n):
    """n empty blocks in a row, each typed by a signature of 100 params and
    100 results (200 phis for two bytes), over 100 values."""
    sig = functype([I32] * 100, [I32] * 100)
    body = b"".join(bytes([I32_CONST]) + sleb(i) for i in range(100))
    body += (bytes([BLOCK]) + sleb(1) + bytes([END])) * n
    body += bytes([DROP]) * 100
    return module([functype([], []), sig], [(0, [], body)], [("f", 0)])


def giant(n):
    """One function of about n instructions: a long chain of adds."""
    body = bytes([I32_CONST]) + sleb(0)
    body += (bytes([I32_CONST]) + sleb(1) + bytes([I32_ADD])) * (n // 2)
    body += bytes([DROP])
    return one_func(body)


def giant_stores(n):
    """One function of n stores in one basic block (a memory of one page)."""
    body = (bytes([I32_CONST]) + sleb(0) + bytes([I32_CONST]) + sleb(1) + bytes([0x36, 2]) + uleb(0)) * n
    return module([functype([], [])], [(0, [], body)], [("f", 0)], memory=True)


def functions(n):
    """n small functions that each call the next."""
    funcs = [(0, [], bytes([CALL]) + uleb(i + 1)) for i in range(n - 1)] + [(0, [], b"")]
    return module([functype([], [])], funcs, [("f", 0)])


SHAPES = {
    "nest-block": nest_block,
    "nest-loop": nest_loop,
    "nest-if": nest_if,
    "nest-branching": nest_branching,
    "nest-unbalanced": nest_unbalanced,
    "params": params,
    "results": results,
    "block-results": block_results,
    "br-table": br_table,
    "locals": locals_,
    "locals-unused": locals_unused,
    "many-results": many_results,
    "block-bomb": block_bomb,
    "giant": giant,
    "giant-stores": giant_stores,
    "functions": functions,
}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, fn in SHAPES.items():
            print(f"{name:16} {fn.__doc__.split(chr(10))[0]}")
        return 0
    if len(argv) != 4 or argv[1] not in SHAPES:
        print("usage: pathological.py SHAPE N OUT.wasm | --list", file=sys.stderr)
        return 2
    data = SHAPES[argv[1]](int(argv[2]))
    with open(argv[3], "wb") as out:
        out.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
