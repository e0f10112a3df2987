#!/usr/bin/env python3
"""The installable package, checked without installing it on this host.

  package.py --build BUILD_DIR --work DIR

Makes the .deb with CPack from BUILD_DIR, checks its metadata (name, the
guest toolchain and libLLVM among its dependencies) and contents, unpacks it
into an empty root and uses that tree alone, as a user would after
`apt install ./faasm_*.deb`: faasm-cc, faasm-codegen and faasm-run on
samples/hello.c; a host CMake project that finds the sysroot with
find_package(FaasmSysroot) and builds a function with faasm_add_function;
pkg-config's flags. (scripts/test-package does the real install in a clean
Debian chroot; it needs the network, so it is not a ctest test.)
"""
import argparse
import glob
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import REPO_DIR, fail, require_tool, run_command  # noqa: E402

EXPECTED_FILES = [
    "usr/bin/faasm-run", "usr/bin/faasm-codegen", "usr/bin/faasm-cc", "usr/bin/faasm-c++",
    "usr/share/faasm-sysroot/WasiToolchain.cmake",
    "usr/share/faasm-sysroot/include/faasm/faasm.h",
    "usr/share/cmake/FaasmSysroot/FaasmSysrootConfig.cmake",
    "usr/share/pkgconfig/faasm-sysroot.pc",
]
EXPECTED_DEPENDS = ["clang-19", "lld-19", "wasi-libc", "libc++-19-dev-wasm32", "libllvm19"]

HOST_PROJECT = """cmake_minimum_required(VERSION 3.25)
project(host NONE)
find_package(FaasmSysroot 0.1 REQUIRED)
faasm_add_function(hello SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fn TARGET hello)
"""
FUNCTION_PROJECT = """cmake_minimum_required(VERSION 3.25)
project(fn C)
find_package(FaasmSysroot REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE FaasmSysroot::faasm)
"""


def make_deb(build, out):
    run_command(["cpack", "-G", "DEB", "-B", out], check=True, cwd=build, timeout=600)
    debs = glob.glob(os.path.join(out, "faasm_*.deb"))
    if len(debs) != 1:
        fail(f"cpack made {len(debs)} faasm_*.deb files in {out}")
    return debs[0]


def check_metadata(deb):
    info = run_command(["dpkg-deb", "-f", deb, "Package", "Depends"], check=True).stdout
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    if fields.get("Package") != "faasm":
        fail(f"package name is {fields.get('Package')!r}, not 'faasm'")
    depends = [d.strip().split(" ")[0] for d in fields.get("Depends", "").split(",")]
    for name in EXPECTED_DEPENDS:
        if name not in depends:
            fail(f"Depends lacks {name}: {fields.get('Depends')}")


def unpack(deb, root):
    shutil.rmtree(root, ignore_errors=True)
    run_command(["dpkg-deb", "-x", deb, root], check=True)
    for path in EXPECTED_FILES:
        if not os.path.lexists(os.path.join(root, path)):
            fail(f"the package has no /{path}")


def run_hello(root, work):
    bin_dir = os.path.join(root, "usr/bin")
    wasm, so = os.path.join(work, "hello.wasm"), os.path.join(work, "hello.so")
    run_command([os.path.join(bin_dir, "faasm-cc"), "-O2", REPO_DIR / "samples/hello.c",
                 "-o", wasm], check=True)
    run_command([os.path.join(bin_dir, "faasm-codegen"), wasm, "-o", so], check=True)
    out = run_command([os.path.join(bin_dir, "faasm-run"), so], check=True).stdout
    if "Hello from a Faaslet!" not in out:
        fail(f"the installed tools ran hello.c with output {out!r}")


def build_with_package_config(root, work):
    project = os.path.join(work, "project")
    os.makedirs(os.path.join(project, "fn"), exist_ok=True)
    with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
        f.write(HOST_PROJECT)
    with open(os.path.join(project, "fn", "CMakeLists.txt"), "w") as f:
        f.write(FUNCTION_PROJECT)
    shutil.copy(REPO_DIR / "samples/hello.c", os.path.join(project, "fn"))
    build = os.path.join(work, "project-build")
    shutil.rmtree(build, ignore_errors=True)
    run_command(["cmake", "-G", "Ninja", "-S", project, "-B", build,
                 f"-DCMAKE_PREFIX_PATH={root}/usr"], check=True)
    run_command(["cmake", "--build", build], check=True, timeout=600)
    out = run_command([os.path.join(root, "usr/bin/faasm-run"), os.path.join(build, "hello.so")],
                      check=True).stdout
    if "Hello from a Faaslet!" not in out:
        fail(f"the function built through find_package(FaasmSysroot) printed {out!r}")


def check_pkg_config(root):
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(root, "usr/share/pkgconfig"))
    flags = run_command([require_tool("pkg-config"), "--cflags", "faasm-sysroot"], check=True,
                        env=env).stdout.split()
    include = [f for f in flags if f.endswith("/include")]
    if not include or not os.path.isfile(os.path.join(include[0], "faasm/faasm.h")):
        fail(f"pkg-config --cflags faasm-sysroot gave {flags}, which does not lead to faasm.h")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--work", required=True)
    a = parser.parse_args()
    require_tool("dpkg-deb")
    os.makedirs(a.work, exist_ok=True)
    deb = make_deb(a.build, os.path.join(a.work, "deb"))
    check_metadata(deb)
    root = os.path.join(a.work, "root")
    unpack(deb, root)
    run_hello(root, a.work)
    build_with_package_config(root, a.work)
    check_pkg_config(root)
    print(f"PASS: {os.path.basename(deb)}")


if __name__ == "__main__":
    main()
