#!/usr/bin/env python3
"""The memory of one side of scripts/bench-paper while it runs: a sampler
process that every --period seconds adds up what the side's processes hold,
until stdin closes; then it writes one JSON object to --out.

Whose processes: every process of a cgroup v2 group (the harness starts the
side's root processes in it, so their children are in it too), and the
processes of the containers those processes run (the children of the
group's runc processes: runc moves a container into cgroups of its own).

What one sample counts, in bytes:

  sum over the processes of Pss_Anon + Pss_File (smaps_rollup: each page a
      process maps, divided by the number of processes mapping it, so a page
      shared by 16 Faaslets or 16 containers' libc counts once in all)
  + every shared-memory object the side holds, whole and once: the files of
      --state-dir (the Faasm local state tier: tmpfs objects that outlive
      the Faaslets that map them) and the memfds the processes hold open
      (sealed artefacts, snapshots)

Shared memory is counted by object rather than through Pss_Shmem because an
object nobody maps at the moment (the training data between two epochs) is
still memory, and one mapped by some processes would otherwise count twice.

Output: {"period": s, "samples": [[t, bytes, {"Faaslet (<fn>)": n}], ...],
         "peak_bytes": n,
         "peak_at": t, "peak_breakdown": {"<role>": [bytes, processes], ...},
         "gb_seconds": n, "largest_process": {"<role>": bytes},
         "most_processes": {"<role>": n}, "sample_cost_s": mean seconds one
         sample took}
where t counts from the sampler's start and the roles are process names
(comm), faasm-run's processes split by depth (scheduler, zygote, Faaslet)
and by the function they serve. Short-lived processes (a Faaslet's pass
can take milliseconds) may fall between samples: largest_process lets the
harness bound what it missed.
"""

import argparse
import json
import os
import select
import sys
import time


def read_rollup(pid):
    """(Pss_Anon + Pss_File, Pss_Shmem) of a process in bytes, or None if it
    is gone or cannot be read."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            text = f.read()
    except OSError:
        return None
    anon_file = shmem = 0
    for line in text.split(b"\n"):
        if line.startswith(b"Pss_Anon:") or line.startswith(b"Pss_File:"):
            anon_file += int(line.split()[1]) * 1024
        elif line.startswith(b"Pss_Shmem:"):
            shmem += int(line.split()[1]) * 1024
    return anon_file, shmem


def stat_line(pid):
    """(comm, ppid) of a process, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return None
    close = text.rindex(b")")
    comm = text[text.index(b"(") + 1:close].decode(errors="replace")
    ppid = int(text[close + 2:].split()[1])
    return comm, ppid


def children(pid):
    """The children of every thread of a process (runc is multithreaded)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def members(cgroup):
    """The group's processes and, recursively, the children of its runc
    processes (the containers)."""
    try:
        with open(os.path.join(cgroup, "cgroup.procs")) as f:
            pids = [int(p) for p in f.read().split()]
    except OSError:
        return {}
    info = {}
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in info:
            continue
        line = stat_line(pid)
        if line is None:
            continue
        info[pid] = line
        if line[0].startswith("runc") or pid not in pids:
            todo.extend(children(pid))
    return info


def held_shmem(pid, seen):
    """Adds the memfds process `pid` holds open to `seen` ({(dev, ino): bytes})."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return
    for fd in fds:
        path = f"/proc/{pid}/fd/{fd}"
        try:
            target = os.readlink(path)
            if not target.startswith("/memfd:"):
                continue
            st = os.stat(path)
        except OSError:
            continue
        seen[(st.st_dev, st.st_ino)] = st.st_blocks * 512


def state_bytes(state_dir, seen):
    if not state_dir:
        return
    for root, _, files in os.walk(state_dir):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            seen[(st.st_dev, st.st_ino)] = st.st_blocks * 512


FUNCTIONS = {}  # zygote pid -> the function whose artefact it holds


def function_of(zygote):
    """The function a zygote serves: the name of the sealed artefact memfd it
    holds ("/memfd:faasm:<name>.so")."""
    if zygote not in FUNCTIONS:
        name = "?"
        try:
            for fd in os.listdir(f"/proc/{zygote}/fd"):
                target = os.readlink(f"/proc/{zygote}/fd/{fd}")
                if target.startswith("/memfd:faasm:") and ".so" in target:
                    name = target[len("/memfd:faasm:"):target.index(".so")]
                    break
        except OSError:
            return "?"
        FUNCTIONS[zygote] = name
    return FUNCTIONS[zygote]


def role_of(pid, info):
    """A process's name (comm); faasm-run's processes by depth: the
    scheduler, a zygote or a Faaslet, with the function they serve."""
    comm, ppid = info[pid]
    if comm != "faasm-run":
        return comm
    chain = [pid]
    while ppid in info and info[ppid][0] == "faasm-run":
        chain.append(ppid)
        ppid = info[ppid][1]
    depth = len(chain) - 1
    if depth == 0:
        return "faasm-run (scheduler)"
    zygote = chain[-2]
    return f"{'zygote' if depth == 1 else 'Faaslet'} ({function_of(zygote)})"


def sample(cgroup, state_dir, largest=None):
    """(total bytes, breakdown) now; `largest` ({role: bytes}) keeps the
    largest single process of each role seen."""
    info = members(cgroup)
    breakdown = {}
    total = 0
    shm = {}
    for pid in info:
        rollup = read_rollup(pid)
        if rollup is None:
            continue
        role = role_of(pid, info)
        entry = breakdown.setdefault(role, [0, 0])
        entry[0] += rollup[0]
        entry[1] += 1
        if largest is not None:
            largest[role] = max(largest.get(role, 0), rollup[0])
        total += rollup[0]
        held_shmem(pid, shm)
    state_bytes(state_dir, shm)
    shared = sum(shm.values())
    if shared:
        breakdown["shared memory (state, memfds)"] = [shared, len(shm)]
    return total + shared, breakdown


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cgroup", required=True, help="a cgroup v2 directory")
    parser.add_argument("--state-dir", default="", help="the Faasm state directory, if any")
    parser.add_argument("--period", type=float, default=0.05)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    start = time.monotonic()
    samples = []
    peak = (0, 0.0, {})
    cost = 0.0
    gb_seconds = 0.0
    last_t = None
    largest = {}
    counts = {}
    while True:
        t0 = time.monotonic()
        total, breakdown = sample(args.cgroup, args.state_dir, largest)
        for role, (_, count) in breakdown.items():
            counts[role] = max(counts.get(role, 0), count)
        t = t0 - start
        cost += time.monotonic() - t0
        samples.append([round(t, 4), total, {role: count for role, (_, count) in
                                             breakdown.items() if role.startswith("Faaslet")}])
        if last_t is not None:
            gb_seconds += total / 1e9 * (t - last_t)
        last_t = t
        if total > peak[0]:
            peak = (total, t, breakdown)
        # Ends when the harness closes our stdin.
        ready, _, _ = select.select([sys.stdin], [], [], args.period)
        if ready and not sys.stdin.read(1):
            break
    with open(args.out, "w") as f:
        json.dump({"period": args.period, "samples": samples, "peak_bytes": peak[0],
                   "peak_at": round(peak[1], 4), "peak_breakdown": peak[2],
                   "gb_seconds": gb_seconds, "largest_process": largest,
                   "most_processes": counts,
                   "sample_cost_s": cost / max(1, len(samples))}, f)


if __name__ == "__main__":
    main()
