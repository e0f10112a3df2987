"""A real redis-server for a test: its own port (a free-port search), its own
temporary directory, persistence as the test asks (none: --save '' and no
AOF; "aof": append-only with fsync at every write), and killed when the
driver exits, however it exits. Skips the test (exit 77) when redis-server
is not installed. Also a minimal RESP client, so the drivers need nothing
but the standard library.
"""

import atexit
import os
import signal
import socket
import subprocess
import tempfile
import time

from faasmtest import fail, require_tool


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class _Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ConnectionError(f"bad reply {line!r}")


class RedisServer:
    started = []

    @classmethod
    def kill_all(cls):
        for server in cls.started:
            server.kill()

    def __init__(self, work, persistence=None):
        self.binary = require_tool("redis-server")
        self.dir = tempfile.mkdtemp(prefix="redis-", dir=work)
        self.port = free_port()
        self.persistence = persistence
        self.proc = None
        atexit.register(self.kill)
        RedisServer.started.append(self)
        self.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--daemonize", "no", "--protected-mode", "yes"]
        if self.persistence == "aof":
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        log = open(os.path.join(self.dir, "redis.log"), "a")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"redis-server exited at start: see {self.dir}/redis.log")
            try:
                if self.command("PING") == "PONG":
                    return
            except (OSError, ConnectionError):
                pass
            except RuntimeError as e:
                # A restart with AOF answers LOADING until the file is read back.
                if not str(e).startswith("LOADING"):
                    raise
            time.sleep(0.05)
        fail("redis-server did not answer within 20 s")

    def kill(self, sig=signal.SIGKILL):
        """SIGKILL (waited for) by default; another signal is only sent."""
        if self.proc and self.proc.poll() is None:
            if sig in (signal.SIGSTOP, signal.SIGCONT):
                self.proc.send_signal(sig)
                return
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(sig)
            self.proc.wait()

    def command(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(_encode(args))
            r = _Reader(s).reply()
        if isinstance(r, RuntimeError):
            raise r
        return r
