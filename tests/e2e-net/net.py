#!/usr/bin/env python3
"""End-to-end tests of module faasm_net (docs/Networking.md): ordinary
BSD-socket C (guests/net.c, built with the sysroot's headers) through the
real faasm-codegen and faasm-run. Exits 0 on pass, 1 on failure, 77 (skip)
when it cannot run here.

  calls     without the network grant: getaddrinfo, fd confusion, the
            per-Faaslet socket limit, ENETUNREACH at once for connect and
            sendto (never a hang)
  peers     with --net (root: its own namespace, a veth pair to the host):
            a TCP echo and a UDP round trip with servers this driver runs on
            the host, reached through the host's end of the pair, an HTTP GET
            of a web server this driver runs (http.server), poll over two
            sockets, socket options
  serve     with --net: the guest listens and accepts a connection from
            this driver; the veth pair is gone when faasm-run ends
  isolation with --net and nothing allowed: the host's own addresses and the
            host's end of the pair are unreachable (ENETUNREACH), nothing
            arrives; a killed faasm-run leaves no interface behind
  shaping   with --net-rate 8mbit: tbf at both ends of the pair with that
            rate; the throughput into the guest is measured and printed
            (never judged: a timing is not a pass/fail criterion)

Every faasm-run has a timeout; the servers are threads of this driver that
end with it.
"""

import argparse
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (compile_c_to_wasm, compile_wasm, fail, finish_command,  # noqa: E402
                       run_command, skip, start_command)

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_TIMEOUT = 60


def build(args):
    os.makedirs(args.workdir, exist_ok=True)
    wasm = compile_c_to_wasm(os.path.join(HERE, "guests", "net.c"),
                             os.path.join(args.workdir, "net.wasm"),
                             ["-O2", "-Wall", "-Wextra", "-Werror"])
    return compile_wasm(args.codegen, wasm,
                        os.path.join(args.workdir, f"net-{args.bounds}.so"), args.bounds)


# The veth block of the Faaslet's namespace (docs/Networking.md): allowing
# it lets a guest reach the host's end of its own pair, where this driver's
# servers listen.
POOL = "100.64.0.0/10"


def require_veth():
    """Skips unless faasm-run can make a namespace and a veth pair here."""
    if os.geteuid() != 0:
        skip("needs root: a function granted the network gets a veth pair")
    for tool in ("ip", "tc"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            skip(f"{tool} (iproute2) not found")


def net_flags(args, allow=(POOL,)):
    return ["--net", *[f"--net-allow={a}" for a in allow]]


def host_end(guest_addr):
    """The host's interface of the pair whose Faaslet end is guest_addr."""
    host = str(ipaddress.IPv4Address(guest_addr) - 1)
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "to", f"{host}/32"],
                         capture_output=True, text=True).stdout
    m = re.match(r"\d+:\s+(\S+)", out)
    return m.group(1) if m else None


def link_exists(dev):
    return subprocess.run(["ip", "link", "show", "dev", dev], capture_output=True).returncode == 0


def wait_gone(dev, what):
    """The kernel deletes a namespace (and its veth pair) asynchronously
    once its last process is gone: waits for that, boundedly."""
    for _ in range(200):
        if not link_exists(dev):
            return
        time.sleep(0.05)
    fail(f"{what}: interface {dev} is still there 10 s later")


def run_guest(args, so, mode, flags=(), timeout=RUN_TIMEOUT):
    cmd = [args.run, *flags, so, *mode]
    started = time.monotonic()
    proc = run_command(cmd, timeout=timeout)
    took = time.monotonic() - started
    sys.stderr.write(proc.stdout + proc.stderr)
    if proc.returncode != 0 or "FAIL" in proc.stdout:
        fail(f"{' '.join(mode)}: exit status {proc.returncode}")
    return proc.stdout, took


class EchoServers:
    """A TCP and a UDP echo server on the same port of every host address."""

    def __init__(self):
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("0.0.0.0", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", self.port))
        self.udp_seen = 0
        self.tcp_seen = 0
        for target in (self._accept, self._datagrams):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.tcp.accept()
            self.tcp_seen += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        with conn:
            try:
                while data := conn.recv(4096):
                    conn.sendall(data)
            except OSError:
                pass

    def _datagrams(self):
        while True:
            data, peer = self.udp.recvfrom(4096)
            self.udp_seen += 1
            self.udp.sendto(data, peer)


class WebServer:
    """An HTTP/1.1 server on every host address: GET /greet/NAME answers
    "hello NAME" with its length, anything else 404."""

    def __init__(self):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path.startswith("/greet/"):
                    code, body = 200, f"hello {self.path[len('/greet/'):]}".encode()
                else:
                    code, body = 404, b"no such page"
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def host_target(args):
    return "gateway"


def cmd_calls(args):
    so = build(args)
    out, _ = run_guest(args, so, ["resolve"])
    run_guest(args, so, ["confuse"])
    out, _ = run_guest(args, so, ["exhaust"])
    if "sockets: 64" not in out:
        fail("exhaust: the limit is not 64 sockets per Faaslet")
    # Not granted: an address the host could reach (its own) and one it
    # could not must both be unreachable, at once (the run's timeout is the
    # bound; ENETUNREACH is what the guest checks).
    servers = EchoServers()
    for target in ("127.0.0.1", "192.0.2.1"):
        run_guest(args, so, ["unreach", target, str(servers.port)], timeout=30)
    if servers.udp_seen:
        fail("a datagram of a Faaslet without the network reached the host")


def cmd_peers(args):
    require_veth()
    so = build(args)
    servers = EchoServers()
    host = host_target(args)
    port = str(servers.port)
    run_guest(args, so, ["tcp-echo", host, port], net_flags(args))
    run_guest(args, so, ["udp-echo", host, port], net_flags(args))
    if servers.udp_seen != 1:
        fail(f"udp-echo: the server saw {servers.udp_seen} datagrams, not 1")
    web = WebServer()
    out, _ = run_guest(args, so, ["http-get", host, str(web.port), "/greet/faaslet"],
                       net_flags(args))
    if "status 200\nbody hello faaslet\n" not in out:
        fail(f"http-get: the guest did not get the server's page: {out!r}")
    run_guest(args, so, ["poll2", host, port], net_flags(args))
    run_guest(args, so, ["options"], net_flags(args))


def start_listening(args, so, mode, flags):
    """Starts the guest in `mode` (serve or sink) and waits for its
    "listening ADDR PORT": (process, address, port, host-side interface)."""
    proc = start_command([args.run, *flags, "--timeout", str(RUN_TIMEOUT), so, mode, "0"])
    line = ""
    # The guest prints its address once it listens; reading blocks until then
    # (or until it ends, and the timeout above bounds that).
    while not line.startswith("listening"):
        line = proc.stdout.readline()
        if not line:
            break
        sys.stderr.write(line)
    m = re.match(r"listening (\S+) (\d+)", line)
    if not m:
        status, out, err = finish_command(proc, mode)
        sys.stderr.write(out + err)
        fail(f"{mode}: the guest did not report where it listens (status {status})")
    dev = host_end(m.group(1))
    if not dev:
        proc.kill()
        fail(f"{mode}: no host interface for the guest's address {m.group(1)}")
    return proc, m.group(1), int(m.group(2)), dev


def cmd_serve(args):
    require_veth()
    so = build(args)
    proc, address, port, dev = start_listening(args, so, "serve", net_flags(args))
    with socket.create_connection((address, port), timeout=30) as conn:
        conn.sendall(b"hello guest\n")
        reply = b""
        while len(reply) < len(b"HELLO GUEST\n"):
            data = conn.recv(100)
            if not data:
                break
            reply += data
    status, out, err = finish_command(proc, "serve", timeout=RUN_TIMEOUT)
    sys.stderr.write(out + err)
    if reply != b"HELLO GUEST\n":
        fail(f"serve: the guest answered {reply!r}")
    if status != 0 or "FAIL" in out:
        fail(f"serve: exit status {status}")
    wait_gone(dev, "serve")


def host_addresses():
    """The host's own IPv4 addresses but loopback (which, for a Faaslet, is
    its own)."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True,
                         text=True).stdout
    found = re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    return [a for a in found if not a.startswith("127.")]


def cmd_isolation(args):
    require_veth()
    so = build(args)
    servers = EchoServers()
    # Nothing allowed: the host's addresses (its end of this very pair among
    # them: the first in the pool, and each fnet interface's) are unreachable.
    targets = host_addresses() + ["100.64.0.1"]
    for target in targets:
        run_guest(args, so, ["unreach", target, str(servers.port)], ["--net"], timeout=30)
    if servers.udp_seen or servers.tcp_seen:
        fail("a packet of a Faaslet with nothing allowed reached the host")
    # A killed faasm-run (its zygote dies with it) leaves no interface.
    proc, address, port, dev = start_listening(args, so, "serve", net_flags(args))
    os.kill(proc.pid, signal.SIGKILL)
    finish_command(proc, "killed serve")
    wait_gone(dev, "kill")
    print(f"{len(targets)} host addresses unreachable; {dev} gone after SIGKILL",
          file=sys.stderr)


def cmd_shaping(args):
    require_veth()
    so = build(args)
    rate = "8mbit"
    proc, address, port, dev = start_listening(args, so, "sink",
                                               net_flags(args) + [f"--net-rate={rate}"])
    pid = dev[len("fnet"):]
    qdiscs = {
        "host end": subprocess.run(["tc", "qdisc", "show", "dev", dev], capture_output=True,
                                   text=True).stdout,
        "Faaslet end": subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "tc", "qdisc",
                                       "show", "dev", "eth0"], capture_output=True,
                                      text=True).stdout,
    }
    size = 2 * 1024 * 1024
    with socket.create_connection((address, port), timeout=30) as conn:
        started = time.monotonic()
        conn.sendall(b"x" * size)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)  # the guest closes once it has read everything
        took = time.monotonic() - started
    status, out, err = finish_command(proc, "sink", timeout=RUN_TIMEOUT)
    sys.stderr.write(out + err)
    for where, text in qdiscs.items():
        sys.stderr.write(f"{where}: {text}")
        if "tbf" not in text or "rate 8Mbit" not in text:
            fail(f"shaping: no tbf at 8Mbit on the {where}: {text.strip()!r}")
    if status != 0 or f"received {size}" not in out:
        fail(f"sink: exit status {status}, stdout {out!r}")
    # Reported, not judged.
    print(f"shaping: {size} bytes into the guest in {took:.2f} s = "
          f"{size * 8 / took / 1e6:.2f} Mbit/s at --net-rate {rate}", file=sys.stderr)
    wait_gone(dev, "sink")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["calls", "peers", "serve", "isolation", "shaping"])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--bounds", choices=["guard", "explicit"], default="guard")
    args = parser.parse_args()
    args.workdir = os.path.join(args.workdir, f"{args.command}-{args.bounds}")
    {"calls": cmd_calls, "peers": cmd_peers, "serve": cmd_serve, "isolation": cmd_isolation,
     "shaping": cmd_shaping}[args.command](args)
    print(f"e2e-net {args.command} ({args.bounds}): passed")


if __name__ == "__main__":
    main()
