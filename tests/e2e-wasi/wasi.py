#!/usr/bin/env python3
"""End-to-end tests of WASI preview1 through the real faasm-codegen and
faasm-run. Exits 0 on pass, 1 on failure, 77 (skip) when it cannot run here.

  imports   every import of the sysroot's wasi-libc (libc.a, read with
            llvm-ar and wasm-objdump) and every function of the preview1
            witx has a host function of the same signature
  calls     guests/preview1.c in one bounds mode: every function, its
            success and error cases; proc_raise's endings
  peer      the same guest under V8 (Node's WASI) with the checks both
            runtimes answer alike, so the expectations are not ours alone
  lua       Debian's Lua 5.4 (source package lua5.4, fetched with apt-get
            source when not cached) compiled with the sysroot, running a
            script that works with files under faasm-run --dir in both
            bounds modes, against the same Lua built natively
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (FAASM_CC, capture, compile_wasm, fail, make_work_dir,  # noqa: E402
                       require_tool, run_command, skip)

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT_SECONDS = 300

# The witx of wasi_snapshot_preview1: every function and its core wasm
# signature ("PARAMS:RESULTS", i = i32, I = i64), as host::HostFunction
# spells it.
PREVIEW1 = {
    "args_get": "ii:i", "args_sizes_get": "ii:i",
    "environ_get": "ii:i", "environ_sizes_get": "ii:i",
    "clock_res_get": "ii:i", "clock_time_get": "iIi:i",
    "fd_advise": "iIIi:i", "fd_allocate": "iII:i", "fd_close": "i:i", "fd_datasync": "i:i",
    "fd_fdstat_get": "ii:i", "fd_fdstat_set_flags": "ii:i", "fd_fdstat_set_rights": "iII:i",
    "fd_filestat_get": "ii:i", "fd_filestat_set_size": "iI:i", "fd_filestat_set_times": "iIIi:i",
    "fd_pread": "iiiIi:i", "fd_prestat_get": "ii:i", "fd_prestat_dir_name": "iii:i",
    "fd_pwrite": "iiiIi:i", "fd_read": "iiii:i", "fd_readdir": "iiiIi:i", "fd_renumber": "ii:i",
    "fd_seek": "iIii:i", "fd_sync": "i:i", "fd_tell": "ii:i", "fd_write": "iiii:i",
    "path_create_directory": "iii:i", "path_filestat_get": "iiiii:i",
    "path_filestat_set_times": "iiiiIIi:i", "path_link": "iiiiiii:i",
    "path_open": "iiiiiIIii:i", "path_readlink": "iiiiii:i", "path_remove_directory": "iii:i",
    "path_rename": "iiiiii:i", "path_symlink": "iiiii:i", "path_unlink_file": "iii:i",
    "poll_oneoff": "iiii:i", "proc_exit": "i:", "proc_raise": "i:i", "sched_yield": ":i",
    "random_get": "ii:i",
    "sock_accept": "iii:i", "sock_recv": "iiiiii:i", "sock_send": "iiiii:i",
    "sock_shutdown": "ii:i",
}
MODULE = "wasi_snapshot_preview1"


def host_functions(lister):
    """{name: signature} of the host's WASI functions (list-wasi-functions)."""
    proc = run_command([lister], check=True)
    out = {}
    for line in proc.stdout.splitlines():
        module, name, signature = line.split(" ")
        if module == MODULE:
            out[name] = signature
    return out


def signature_of(params, results):
    spell = {"i32": "i", "i64": "I", "f32": "f", "f64": "F"}
    p = "".join(spell[t.strip()] for t in params.split(",") if t.strip())
    r = "" if results.strip() == "nil" else spell[results.strip()]
    return f"{p}:{r}"


def libc_imports(libc, ar, objdump, work):
    """{name: signature} of every wasi_snapshot_preview1 import of the
    objects in `libc` (an archive of wasm objects)."""
    objects = os.path.join(work, "objects")
    os.makedirs(objects)
    run_command([ar, "x", libc], check=True, cwd=objects)
    imports = {}
    for obj in sorted(glob.glob(os.path.join(objects, "*.o"))):
        text = capture([objdump, "-x", obj]).stdout
        types = {}
        for m in re.finditer(r"^ - type\[(\d+)\] \((.*)\) -> (\S+)$", text, re.M):
            types[int(m.group(1))] = signature_of(m.group(2), m.group(3))
        for m in re.finditer(r"^ - func\[\d+\] sig=(\d+) <[^>]*> <- ([\w.]+)\.(\w+)$", text, re.M):
            if m.group(2) != MODULE:
                continue
            sig = types[int(m.group(1))]
            if imports.setdefault(m.group(3), sig) != sig:
                fail(f"{obj}: {m.group(3)} imported as {sig} and as {imports[m.group(3)]}")
    return imports


def cmd_imports(args):
    work = make_work_dir(args.workdir, "imports")
    host = host_functions(args.lister)
    libc = libc_imports(args.libc, args.ar, args.objdump, work)
    if len(libc) < 40:
        fail(f"{args.libc}: only {len(libc)} WASI imports found; is it wasi-libc?")
    problems = []
    for what, table in (("wasi-libc", libc), ("the preview1 witx", PREVIEW1)):
        for name, sig in sorted(table.items()):
            if name not in host:
                problems.append(f"{name} ({what}): no host function")
            elif host[name] != sig:
                problems.append(f"{name} ({what}): host signature {host[name]}, wanted {sig}")
    for name in sorted(set(host) - set(PREVIEW1)):
        problems.append(f"{name}: host function not in the preview1 witx")
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        fail(f"{len(problems)} WASI imports without a matching host function")
    print(f"{len(libc)} wasi-libc imports, {len(PREVIEW1)} witx functions, all served")


def build_guest(args, name):
    wasm = os.path.join(args.workdir, f"{name}.wasm")
    run_command([FAASM_CC, "-O2", "-Wall", "-Wextra", "-Werror",
                 os.path.join(HERE, "guests", f"{name}.c"), "-o", wasm], check=True)
    return wasm


def run_in(cmd, cwd, what):
    proc = run_command(cmd, cwd=cwd, timeout=TIMEOUT_SECONDS)
    return proc.returncode, proc.stdout, proc.stderr


def cmd_calls(args):
    require_tool(os.environ.get("FAASM_WASI_CLANG", "clang-19"))
    wasm = build_guest(args, "preview1")
    so = compile_wasm(args.codegen, wasm,
                      os.path.join(args.workdir, f"preview1-{args.bounds}.so"), args.bounds)
    sandbox = make_work_dir(args.workdir, f"calls-{args.bounds}")
    status, out, err = run_in([args.run, "--dir", f"{sandbox}:.", so, "all"], sandbox, "all")
    sys.stderr.write(err)
    if status != 0 or not re.search(r"preview1: \d+ checks, 0 failed", err):
        fail(f"preview1 all: exit status {status}")
    # freopen moved stdout into the preopen: what printf wrote is there.
    with open(os.path.join(sandbox, "stdout.txt")) as f:
        if f.read() != "to the file\n":
            fail("stdout.txt: freopen's output is not in the file")
    # proc_raise: an ignored signal returns, a terminating one ends the call
    # as abort() does (a trap, status 134), with a line naming the signal.
    status, out, err = run_in([args.run, so, "raise", "16"], sandbox, "raise 16")
    if status != 0 or out != "proc_raise returned 0\n":
        fail(f"proc_raise(SIGCHLD): status {status}, stdout {out!r}, stderr {err!r}")
    status, out, err = run_in([args.run, so, "raise", "15"], sandbox, "raise 15")
    if status != 134 or out != "" or "proc_raise: signal 15" not in err or \
            "\ntrap: unreachable\n" not in err:  # then where (e2e-cli checks the frames)
        fail(f"proc_raise(SIGTERM): status {status}, stdout {out!r}, stderr {err!r}")


def cmd_peer(args):
    node = require_tool("node")
    if not os.path.isfile(args.peer_script):
        skip(f"the peer runner {args.peer_script} is missing")
    require_tool(os.environ.get("FAASM_WASI_CLANG", "clang-19"))
    wasm = build_guest(args, "preview1")
    so = compile_wasm(args.codegen, wasm, os.path.join(args.workdir, "preview1-peer.so"))
    for what, cmd in (("V8", [node, "--no-warnings", "--no-liftoff", args.peer_script, wasm]),
                      ("faasm-run", [args.run, "--dir", ".:.", so])):
        sandbox = make_work_dir(args.workdir, "peer")
        status, out, err = run_in(cmd + ["all", "peer"], sandbox, what)
        sys.stderr.write(err)
        if status != 0 or not re.search(r"preview1: \d+ checks, 0 failed", err):
            fail(f"{what}: preview1 all peer: exit status {status}")


# ----- lua ---------------------------------------------------------------------------


def system_debian_uris():
    """(uri, suite) pairs of the machine's own Debian sources, from which
    the source package comes (no host is named here)."""
    pairs = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        uris = suites = None
        for line in open(path).read().splitlines() + [""]:
            if line.startswith("URIs:"):
                uris = line.split(":", 1)[1].split()
            elif line.startswith("Suites:"):
                suites = line.split(":", 1)[1].split()
            elif not line.strip():
                if uris and suites:
                    pairs += [(u, s) for u in uris for s in suites if "security" not in u]
                uris = suites = None
    if os.path.exists("/etc/apt/sources.list"):
        for line in open("/etc/apt/sources.list"):
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                pairs.append((parts[1], parts[2]))
    return pairs


def lua_tarball(cache):
    """Debian's lua5.4 source tarball: FAASM_LUA_TARBALL, or the cached one,
    or fetched with apt-get source from the machine's Debian mirror."""
    given = os.environ.get("FAASM_LUA_TARBALL")
    if given:
        return given
    os.makedirs(cache, exist_ok=True)
    found = glob.glob(os.path.join(cache, "lua5.4_*.orig.tar.gz"))
    if found:
        return found[0]
    apt = shutil.which("apt-get")
    pairs = system_debian_uris()
    if not apt or not pairs:
        skip("no apt-get or no Debian source list to fetch lua5.4's source from")
    lists = os.path.join(cache, "lists")
    os.makedirs(os.path.join(lists, "partial"), exist_ok=True)
    sources = os.path.join(cache, "deb-src.list")
    with open(sources, "w") as f:
        for uri, suite in pairs:
            f.write(f"deb-src {uri} {suite} main\n")
    opts = ["-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={lists}", "-o", "APT::Sandbox::User=root"]
    try:
        for cmd in ([apt, *opts, "update"], [apt, *opts, "source", "--download-only", "lua5.4"]):
            proc = capture(cmd, cwd=cache, timeout=240)
            if proc.returncode != 0:
                skip(f"cannot fetch lua5.4's source: {' '.join(cmd[-2:])}: "
                     f"{proc.stderr.strip().splitlines()[-1:]}")
    except subprocess.TimeoutExpired:
        skip("cannot fetch lua5.4's source: apt-get timed out")
    found = glob.glob(os.path.join(cache, "lua5.4_*.orig.tar.gz"))
    if not found:
        skip("apt-get source lua5.4 brought no tarball")
    return found[0]


# WASI has no setjmp (no exception handling in the runtime's wasm): a Lua
# error, which longjmps, aborts the call instead. No tmpfile, tmpnam or
# system either: those Lua functions answer an error.
SETJMP_SHIM = """typedef int jmp_buf[1];
#define setjmp(b) 0
_Noreturn void abort(void);
#define longjmp(b, v) abort()
"""
LIBC_SHIM = """#include <errno.h>
#include <stdio.h>
FILE* tmpfile(void) { errno = ENOTSUP; return NULL; }
int system(const char* command) { return command ? -1 : 0; }
"""


def build_lua(work, tarball):
    with tarfile.open(tarball) as t:
        if hasattr(tarfile, "data_filter"):
            t.extractall(work, filter="data")
        else:
            t.extractall(work)
    src = glob.glob(os.path.join(work, "lua-5.4*", "src"))
    if not src:
        fail(f"{tarball}: no lua-5.4*/src inside")
    src = src[0]
    sources = sorted(p for p in glob.glob(os.path.join(src, "*.c"))
                     if os.path.basename(p) != "luac.c")
    shim = os.path.join(work, "shim")
    os.makedirs(shim)
    with open(os.path.join(shim, "setjmp.h"), "w") as f:
        f.write(SETJMP_SHIM)
    with open(os.path.join(shim, "wasi-shim.c"), "w") as f:
        f.write(LIBC_SHIM)
    wasm = os.path.join(work, "lua.wasm")
    run_command([FAASM_CC, "-O2", "-Wno-deprecated-declarations", "-I", shim,
                 "-D_WASI_EMULATED_SIGNAL", "-D_WASI_EMULATED_PROCESS_CLOCKS",
                 "-Dlua_tmpnam(b,e)={e=1;}", "-DLUA_TMPNAMBUFSIZE=32", *sources,
                 os.path.join(shim, "wasi-shim.c"), "-lwasi-emulated-signal",
                 "-lwasi-emulated-process-clocks", "-lm", "-o", wasm], check=True)
    native = os.path.join(work, "lua-native")
    run_command([require_tool("cc"), "-O2", "-w", "-DLUA_USE_POSIX", *sources, "-lm", "-o",
                 native], check=True)
    return wasm, native


def run_script(cmd, work, name):
    sandbox = make_work_dir(work, name)
    shutil.copy(os.path.join(HERE, "data", "files.lua"), sandbox)
    status, out, err = run_in(cmd + ["files.lua"], sandbox, name)
    if status != 0:
        fail(f"{name}: exit status {status}\nstdout: {out}\nstderr: {err}")
    left = sorted(os.listdir(sandbox))
    if left != ["files.lua"]:
        fail(f"{name}: the script should leave only itself behind, found {left}")
    return out


def cmd_lua(args):
    require_tool(os.environ.get("FAASM_WASI_CLANG", "clang-19"))
    tarball = lua_tarball(os.path.join(args.workdir, "lua-source"))
    work = make_work_dir(args.workdir, "lua")
    wasm, native = build_lua(work, tarball)
    want = run_script([native], work, "native")
    if "binary chunk\t42" not in want:
        fail(f"native Lua did not run the script as expected:\n{want}")
    for bounds in ("guard", "explicit"):
        so = compile_wasm(args.codegen, wasm, os.path.join(work, f"lua-{bounds}.so"), bounds)
        got = run_script_faasm(args, so, work, bounds)
        if got != want:
            fail(f"lua ({bounds}): output differs from native Lua\nwanted:\n{want}\ngot:\n{got}")
    print(want, end="")


def run_script_faasm(args, so, work, bounds):
    sandbox = make_work_dir(work, f"lua-{bounds}")
    shutil.copy(os.path.join(HERE, "data", "files.lua"), sandbox)
    status, out, err = run_in([args.run, "--dir", f"{sandbox}:.", so, "files.lua"], sandbox,
                              f"lua-{bounds}")
    if status != 0:
        fail(f"lua ({bounds}): exit status {status}\nstdout: {out}\nstderr: {err}")
    left = sorted(os.listdir(sandbox))
    if left != ["files.lua"]:
        fail(f"lua ({bounds}): the script should leave only itself behind, found {left}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["imports", "calls", "peer", "lua"])
    p.add_argument("--workdir", required=True)
    p.add_argument("--codegen")
    p.add_argument("--run")
    p.add_argument("--bounds", default="guard")
    p.add_argument("--lister")
    p.add_argument("--libc")
    p.add_argument("--ar")
    p.add_argument("--objdump")
    p.add_argument("--peer-script")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    {"imports": cmd_imports, "calls": cmd_calls, "peer": cmd_peer, "lua": cmd_lua}[args.mode](args)


if __name__ == "__main__":
    main()
