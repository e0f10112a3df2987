#!/usr/bin/python3
"""Turns `runc spec`'s default config.json into the benchmark's minimal
bundle: no terminal, read-only rootfs holding only /fn, args by kind."""
import json
import sys

path, kind = sys.argv[1], sys.argv[2]
with open(path) as f:
    config = json.load(f)
config["process"]["terminal"] = False
config["process"]["args"] = ["/fn", "idle"] if kind == "idle" else ["/fn"]
config["root"]["readonly"] = True
config["hostname"] = "faasm-bench"
with open(path, "w") as f:
    json.dump(config, f, indent=2)
