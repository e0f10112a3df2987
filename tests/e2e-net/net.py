#!/usr/bin/env python3
"""End-to-end tests of module faasm_net (docs/Networking.md): ordinary
BSD-socket C (guests/net.c, built with the sysroot's headers) through the
real faasm-codegen and faasm-run. Exits 0 on pass, 1 on failure, 77 (skip)
when it cannot run here.

  calls     without the network grant: getaddrinfo, fd confusion, the
            per-Faaslet socket limit, ENETUNREACH at once for connect and
            sendto (never a hang)
  peers     with --net: a TCP echo and a UDP round trip with servers this
            driver runs, poll over two sockets, socket options
  serve     with --net: the guest listens and accepts a connection from
            this driver

Every faasm-run has a timeout; the servers are threads of this driver that
end with it.
"""

import argparse
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from faasmtest import (compile_c_to_wasm, compile_wasm, fail, finish_command,  # noqa: E402
                       run_command, start_command)

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_TIMEOUT = 60


def build(args):
    os.makedirs(args.workdir, exist_ok=True)
    wasm = compile_c_to_wasm(os.path.join(HERE, "guests", "net.c"),
                             os.path.join(args.workdir, "net.wasm"),
                             ["-O2", "-Wall", "-Wextra", "-Werror"])
    return compile_wasm(args.codegen, wasm,
                        os.path.join(args.workdir, f"net-{args.bounds}.so"), args.bounds)


def net_flags(args):
    return ["--net"]


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
        for target in (self._accept, self._datagrams):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.tcp.accept()
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


def host_target(args):
    return "127.0.0.1"


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
    so = build(args)
    servers = EchoServers()
    host = host_target(args)
    port = str(servers.port)
    run_guest(args, so, ["tcp-echo", host, port], net_flags(args))
    run_guest(args, so, ["udp-echo", host, port], net_flags(args))
    if servers.udp_seen != 1:
        fail(f"udp-echo: the server saw {servers.udp_seen} datagrams, not 1")
    run_guest(args, so, ["poll2", host, port], net_flags(args))
    run_guest(args, so, ["options"], net_flags(args))


def guest_address(args, line):
    return "127.0.0.1"


def cmd_serve(args):
    so = build(args)
    proc = start_command([args.run, *net_flags(args), "--timeout", str(RUN_TIMEOUT), so,
                          "serve", "0"])
    line = ""
    # The guest prints its port once it listens; reading blocks until then
    # (or until it ends, and the timeout above bounds that).
    while not line.startswith("listening"):
        line = proc.stdout.readline()
        if not line:
            break
        sys.stderr.write(line)
    m = re.match(r"listening (\d+)", line)
    if not m:
        status, out, err = finish_command(proc, "serve")
        sys.stderr.write(out + err)
        fail(f"serve: the guest did not report a listening port (status {status})")
    address = guest_address(args, line)
    with socket.create_connection((address, int(m.group(1))), timeout=30) as conn:
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


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["calls", "peers", "serve"])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--codegen", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--bounds", choices=["guard", "explicit"], default="guard")
    args = parser.parse_args()
    args.workdir = os.path.join(args.workdir, f"{args.command}-{args.bounds}")
    {"calls": cmd_calls, "peers": cmd_peers, "serve": cmd_serve}[args.command](args)
    print(f"e2e-net {args.command} ({args.bounds}): passed")


if __name__ == "__main__":
    main()
