"""What the Python test drivers share: running commands, compiling to wasm and
to native code, failing, skipping, work directories and comparing outputs.

Used by tests/e2e/e2e.py, tests/e2e-faaslet/faaslet.py,
tests/e2e-state/state.py, tests/golden/golden.py, tests/toolchain/,
scripts/fuzz-diff and tests/bench/code/bench_code.py.
A driver imports it by putting this folder on sys.path first.

The outcome of a driver, which tests/CMakeLists.txt relies on:

  exit 0                 the test passed
  exit 1                 it failed; the last line on stderr is "FAIL: <why>"
  exit SKIP_EXIT_CODE    it cannot run here (no root, a cgroup controller or
                         a tool missing); one line on stdout,
                         "FAASM-TEST-SKIPPED: <why>", and ctest reports the
                         test as skipped (SKIP_RETURN_CODE)
"""

import contextlib
import difflib
import hashlib
import hmac
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
FAASM_CC = REPO_DIR / "sysroot/bin/faasm-cc"
FAASM_CXX = REPO_DIR / "sysroot/bin/faasm-c++"

# Both are repeated in tests/CMakeLists.txt (FAASM_TEST_SKIP_RETURN_CODE,
# FAASM_TEST_SKIP_MARKER), which is where ctest learns them; 77 is the
# "skipped" status of automake's test harness.
SKIP_EXIT_CODE = 77
SKIP_MARKER = "FAASM-TEST-SKIPPED: "

DEFAULT_TIMEOUT_SECONDS = 300

# Faaslets run as an unprivileged uid (nobody when faasm-run runs as root,
# docs/Isolation.md), and the file system's permissions apply to them: what
# a test grants a function (--dir, the state directory) must be theirs to
# use, as an operator would make it. So everything the drivers make is open
# to every uid (a private temporary directory holds it).
os.umask(0)


# ----- outcomes -------------------------------------------------------------------


def fail(message):
    """Ends the test as failed, saying why."""
    sys.stdout.flush()
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def skip(reason):
    """Ends the test as skipped: it cannot run on this host, for `reason`
    (one line; a newline in it becomes a space)."""
    print(SKIP_MARKER + str(reason).replace("\n", " "), flush=True)
    sys.exit(SKIP_EXIT_CODE)


def sanitized(binary):
    """Whether `binary` was built with AddressSanitizer (scripts/test
    --sanitize). A test that cannot work under it skips, saying why, and
    docs/Security.md, "Compiler" lists it."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def require_tool(name):
    """The path of program `name` on PATH; skips the test if there is none."""
    path = shutil.which(name)
    if not path:
        skip(f"{name} not found on PATH")
    return path


# ----- running commands -------------------------------------------------------------


def describe_status(status):
    """An exit status as subprocess reports it, in words."""
    if status is not None and status < 0:
        return f"killed by signal {signal.Signals(-status).name}"
    return f"exit status {status}"


def capture(cmd, *, timeout=None, input=None, cwd=None, env=None, merge_stderr=False):
    """Runs cmd with stdin from `input` (text) or empty, and returns the
    CompletedProcess with stdout and stderr as text (undecodable bytes
    replaced; with merge_stderr both in stdout, interleaved). Like
    subprocess.run, raises TimeoutExpired (after `timeout` seconds, if not
    None; the command is killed) or OSError (it could not start): for
    callers to whom that is a result, not a failure of the test."""
    return subprocess.run([str(c) for c in cmd], input=input,
                          stdin=None if input is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                          text=True, errors="replace", timeout=timeout, cwd=cwd, env=env)


def run_command(cmd, *, check=False, timeout=DEFAULT_TIMEOUT_SECONDS, input=None, cwd=None,
                env=None):
    """capture() for a test: echoes the command to stderr, fails the test if
    it cannot start or outlives its timeout, and with check=True also if it
    does not exit 0 (after printing its output)."""
    _print_command(cmd)
    try:
        proc = capture(cmd, timeout=timeout, input=input, cwd=cwd, env=env)
    except subprocess.TimeoutExpired:
        fail(f"timed out after {timeout} s: {shlex.join(map(str, cmd))}")
    except OSError as e:
        fail(f"cannot run {cmd[0]}: {e}")
    if check and proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        fail(f"{cmd[0]} failed with {describe_status(proc.returncode)}")
    return proc


def start_command(cmd, *, env=None):
    """Starts cmd in the background (stdin empty, stdout and stderr piped as
    text); finish_command collects it. Fails the test if it cannot start."""
    _print_command(cmd)
    try:
        return subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", env=env)
    except OSError as e:
        fail(f"cannot run {cmd[0]}: {e}")


def finish_command(proc, what, timeout=DEFAULT_TIMEOUT_SECONDS):
    """Waits for a start_command process: (status, stdout, stderr). If it is
    still running after `timeout` seconds it is killed and the test fails,
    naming it as `what`."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        fail(f"{what}: timed out after {timeout} s")
    return proc.returncode, out, err


def _print_command(cmd):
    print("$ " + shlex.join(map(str, cmd)), file=sys.stderr, flush=True)


# ----- compiling --------------------------------------------------------------------


def compile_wasm(codegen, wasm, so, bounds=None):
    """faasm-codegen `wasm` -o `so` [--bounds=bounds]; fails the test unless
    it exits 0 and writes `so`. A stale `so` is removed first, so that an old
    file cannot stand in for one the compiler did not write."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(so)
    cmd = [codegen, wasm, "-o", so] + ([f"--bounds={bounds}"] if bounds else [])
    proc = run_command(cmd)
    if proc.returncode != 0:
        fail(f"faasm-codegen {wasm} failed ({describe_status(proc.returncode)}): "
             f"{proc.stderr.strip()}")
    if not os.path.isfile(so):
        fail(f"faasm-codegen succeeded but wrote no {so}")
    return so


def wat_to_wasm(wat, wasm):
    """wat2wasm `wat` -o `wasm`; skips the test without wat2wasm, fails it
    if the text does not assemble."""
    run_command([require_tool("wat2wasm"), wat, "-o", wasm], check=True)
    return wasm


def compile_c_to_wasm(source, wasm, flags=()):
    """Compiles a C (.c) or C++ (other suffixes) guest to a wasm32-wasi
    command with the sysroot's faasm-cc / faasm-c++, as a user without CMake
    would; skips the test without clang-19, fails it on a compile error."""
    require_tool(os.environ.get("FAASM_WASI_CLANG", "clang-19"))
    compiler = FAASM_CC if str(source).endswith(".c") else FAASM_CXX
    run_command([compiler, *flags, source, "-o", wasm], check=True)
    return wasm


# ----- work directories --------------------------------------------------------------


def make_work_dir(base, name):
    """A fresh directory `<base>/<name>.XXXXXX` for one run of a test."""
    os.makedirs(base, exist_ok=True)
    path = tempfile.mkdtemp(prefix=name + ".", dir=base)
    os.chmod(path, 0o777)  # see os.umask above
    return path


@contextlib.contextmanager
def work_dir(base, name):
    """make_work_dir for a `with` block; the directory is removed when the
    block completes and kept, for a look, when the test fails or skips."""
    path = make_work_dir(base, name)
    yield path
    shutil.rmtree(path, ignore_errors=True)


# ----- comparing ---------------------------------------------------------------------


def diff_lines(expected, got, expected_name="expected", got_name="got", context=3):
    """A unified diff of two lists of lines (without line ends); empty when
    they are equal."""
    return list(difflib.unified_diff(expected, got, expected_name, got_name,
                                     lineterm="", n=context))


def check_equal(what, got, want):
    """Fails the test unless got == want."""
    if got != want:
        fail(f"{what}: expected {want!r}, got {got!r}")


def expect_result(result, status, stdout=None, stderr=None):
    """Checks a finished command, (status, stdout, stderr): the exact status,
    and stdout and stderr exactly where they are given. Returns (stdout,
    stderr) for further checks."""
    got_status, got_out, got_err = result
    if got_status != status:
        fail(f"status: expected {status}, got {got_status}\nstdout: {got_out!r}\n"
             f"stderr: {got_err!r}")
    if stdout is not None:
        check_equal("stdout", got_out, stdout)
    if stderr is not None:
        check_equal("stderr", got_err, stderr)
    return got_out, got_err


# ----- artefact seals (host-interface/abi/include/faasm/abi/Artefact.h) -----------

SEAL_MAGIC = b"FAASMSEL"
SEAL_VERSION = 1
SEAL_BYTES = 128
ARTEFACT_KEY_ENV = "FAASM_ARTEFACT_KEY"
# The key test artefacts are sealed with (tests/CMakeLists.txt repeats it);
# a test that runs them puts it in FAASM_ARTEFACT_KEY.
TEST_ARTEFACT_KEY = "5eed" * 16


def artefact_key_id(key_hex):
    """The key id a seal records: 8 bytes of SHA-256("faasm artefact key id" || key)."""
    return hashlib.sha256(b"faasm artefact key id" + bytes.fromhex(key_hex)).digest()[:8]


def seal_fields(image, key_hex, source_digest=bytes(32), key_id=None, digest=None):
    """The seal of ELF image bytes, as faasm-codegen makes it; key_id and
    digest replace the true ones (forgeries)."""
    head = (SEAL_MAGIC + struct.pack("<IIQ", SEAL_VERSION, SEAL_BYTES, len(image)) +
            (digest if digest is not None else hashlib.sha256(image).digest()) + source_digest +
            (key_id if key_id is not None else artefact_key_id(key_hex)))
    return head + hmac.new(bytes.fromhex(key_hex), head, hashlib.sha256).digest()


def seal_artefact(image, key_hex, source_digest=bytes(32)):
    """image + its seal under key_hex."""
    return image + seal_fields(image, key_hex, source_digest)


def split_seal(artefact):
    """(image, fields): a sealed artefact's ELF image and its seal as a dict."""
    image, seal = artefact[:-SEAL_BYTES], artefact[-SEAL_BYTES:]
    magic = seal[:8]
    version, size, image_bytes = struct.unpack("<IIQ", seal[8:24])
    return image, {"magic": magic, "version": version, "seal_bytes": size,
                   "image_bytes": image_bytes, "image_digest": seal[24:56],
                   "source_digest": seal[56:88], "key_id": seal[88:96], "mac": seal[96:128]}
