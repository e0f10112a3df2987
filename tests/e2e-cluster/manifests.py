#!/usr/bin/env python3
"""deploy/k8s parses as YAML and holds what docs/Worker.md says it does
(offline: no cluster here; skipped without PyYAML)."""
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
print("manifests: ok")
