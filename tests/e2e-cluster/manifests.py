#!/usr/bin/env python3
"""deploy/k8s parses as YAML and holds what docs/Worker.md and docs/Deploy.md
say it does, and deploy/Containerfile builds on a BASE that defaults to
Debian 12 (offline: no cluster here; skipped without PyYAML). The schema
checks are deploy/check-manifests (kubectl, npm); the image build is
scripts/build-image."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from faasmtest import fail, skip  # noqa: E402

try:
    import yaml
except ImportError:
    skip("no PyYAML")
k8s = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
docs = {}
for f in sorted(k8s.glob("*.yaml")):
    for d in yaml.safe_load_all(f.read_text()):
        docs[(d["kind"], d["metadata"]["name"])] = d
redis = docs[("StatefulSet", "faasm-redis")]["spec"]["template"]["spec"]["containers"][0]
if "--appendonly" not in redis["args"] or redis["args"][redis["args"].index("--appendonly") + 1] != "yes":
    fail("Redis runs without AOF")
worker = docs[("Deployment", "faasm-worker")]["spec"]["template"]["spec"]["containers"][0]
for probe in ("readinessProbe", "livenessProbe"):
    if worker[probe]["httpGet"]["path"] != "/healthz":
        fail(f"worker {probe} is not /healthz")
if "limits" not in worker["resources"]:
    fail("worker has no resource limits")
if "--redis" not in worker["args"]:
    fail("worker does not name Redis")
for limit in ("--memory-limit", "--cpu"):
    if limit not in worker["args"]:
        fail(f"worker runs Faaslets without {limit} (no per-Faaslet cgroup)")
if worker.get("securityContext", {}).get("privileged") is not True:
    fail("worker is not privileged: its cgroups would be read-only (docs/Deploy.md)")

recipe = (Path(__file__).resolve().parents[2] / "deploy" / "Containerfile").read_text().splitlines()
steps = [line.split(None, 1) for line in recipe if line.strip() and not line.startswith("#")]
if steps[0] != ["ARG", "BASE=docker.io/library/debian:bookworm"] or steps[1] != ["FROM", "${BASE}"]:
    fail("Containerfile does not start with ARG BASE=<Debian 12> and FROM ${BASE}")
if not any(s[0] == "ENTRYPOINT" and '"faasm-worker"' in s[1] for s in steps):
    fail("Containerfile's entrypoint is not faasm-worker")
print("manifests: ok")
