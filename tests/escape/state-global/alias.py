#!/usr/bin/env python3
"""escape.state-global.key-alias: user "mallory" names keys shaped like the
Redis keys of user "alice" and pushes, partially pushes and appends to them;
users whose names collide as text ("a" with key "b/c", "a/b" with key "c")
each keep their own value. Passes when mallory saw nothing of alice's,
alice's value, version and list are untouched, and every Redis key mallory
made lies in mallory's own hash tag. Each "host" has its own local tier
(FAASM_STATE_DIR), so everything shared goes through Redis."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "support"))
from faasmtest import compile_wasm, fail, finish_command, start_command, work_dir  # noqa: E402
from redisserver import RedisServer  # noqa: E402

CRAFTED = ["k", "alice/k", "/k", "../faasm-alice/k", "}:v", "k}:v", "{alice/k}:v",
           "alice/k}:v", "}", "{", ":v", "%61lice/k", "alice%2Fk", "faasm:{alice/k}:v", "",
           "k\x01", "alice}/k"]


def main():
    p = argparse.ArgumentParser()
    for opt in ("--codegen", "--run", "--wasm", "--workdir"):
        p.add_argument(opt, required=True)
    p.add_argument("--bounds", default="guard")
    args = p.parse_args()
    with work_dir(args.workdir, f"alias-{args.bounds}") as d:
        redis = RedisServer(d)
        try:
            attack(args, d, redis)
        finally:
            RedisServer.kill_all()


def attack(args, d, redis):
    so = compile_wasm(args.codegen, args.wasm, os.path.join(d, f"prober-{args.bounds}.so"),
                      args.bounds)

    def run(host, user, guest_args):
        state = os.path.join(d, f"host-{host}")
        os.makedirs(state, exist_ok=True)
        env = dict(os.environ, FAASM_STATE_DIR=state, FAASM_REDIS=redis.address)
        s, out, err = finish_command(start_command([args.run, "--user", user, so, *guest_args],
                                                   env=env), f"{user} on {host}")
        if s != 0:
            fail(f"{user} {guest_args[:2]}: exit status {s}\nstderr: {err}")
        return out

    run("a1", "alice", ["put", "k", "alice-secret"])
    meta_before = redis.command("HGETALL", "faasm:{alice/k}:m")
    seen = run("m1", "mallory", ["probe", *CRAFTED])
    if "alice-secret" in seen:
        fail(f"mallory read alice's value:\n{seen}")
    for line in seen.splitlines():
        if not line.startswith("0 "):
            fail(f"mallory's fresh key was not empty: {line!r}")
    got = run("a2", "alice", ["get", "k"]).strip()
    if got != "12 alice-secret":
        fail(f"alice's value after the attack: {got!r}")
    if redis.command("HGETALL", "faasm:{alice/k}:m") != meta_before:
        fail("alice's version moved during the attack")
    if redis.command("EXISTS", "faasm:{alice/k}:a") != 0:
        fail("mallory appended to alice's list")
    for key in redis.command("KEYS", "*"):
        k = key.decode("latin-1")
        if not (k.startswith("faasm:{alice/k}:") or k.startswith("faasm:{mallory/")):
            fail(f"a Redis key outside both users' tags: {k!r}")
        tag = k[k.index("{") + 1:k.index("}")]
        if k.startswith("faasm:{mallory/") and ("{" in tag or "}" in k[k.index("}") + 1:]):
            fail(f"a crafted key escaped its encoding: {k!r}")
    print(f"mallory probed {len(CRAFTED)} crafted keys; alice's value, version and list untouched")

    run("x1", "a", ["put", "b/c", "one"])
    run("x2", "a/b", ["put", "c", "two"])
    for user, key, want in (("a", "b/c", "one"), ("a/b", "c", "two")):
        got = run("x3", user, ["get", key]).strip()
        if got != f"3 {want}":
            fail(f"user {user!r} key {key!r} reads {got!r}, want {want!r}")
    print('users "a" (key "b/c") and "a/b" (key "c") keep their own values')


if __name__ == "__main__":
    main()
