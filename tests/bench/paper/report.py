"""scripts/bench-paper's report: the measured part of docs/Evaluation.md
(tables, plots, the machine, the commands, where the time and memory go),
written between the markers below so that the hand-written discussion
around them survives a new run; and the key line.
"""

import math
import os
import re
import statistics

import bench_paper as bp

BEGIN = "<!-- bench-paper: measured part, rewritten by each run -->"
END = "<!-- bench-paper: end of the measured part -->"
KEPT_MARK = "_Not rerun: these SGD figures are"
TITLE = "# Evaluation: the paper's machine-learning results against containers\n"


def mib(n):
    return n / 1048576.0


def median(values):
    return statistics.median(values) if values else math.nan


def fmt(x, digits=2):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x == math.inf:
        return "∞"
    return f"{x:.{digits}f}"


def ms(seconds):
    return "∞" if seconds == math.inf else f"{seconds * 1e3:.0f}"


def largest_sgd(report):
    ok = [r for r in report["sgd"] if "faasm" in r]
    return ok[-1] if ok else None


def sgd_section(report, plot):
    rows = report["sgd"]
    out = []
    if not rows:
        return ["SGD was not run (--skip-sgd).", ""]
    out.append(f"Data: {report['rows']:,} rows x 47,236 columns, {report.get('nnz', 0):,} "
               f"entries ({100.0 * report.get('nnz', 0) / (report['rows'] * 47236):.3f}% "
               f"dense), {report['epochs']} epochs, learning rate 0.1, a sync every `sync` "
               f"weight updates (below), loss and accuracy evaluated after the last epoch. Faasm's state "
               f"tiers: {report['faasm_state']}.")
    out.append("")
    out.append("| workers | sync | training s, Faasm | containers | speedup | CPU s, Faasm / "
               "containers | peak MiB, Faasm | "
               "containers | ratio | GB-s, Faasm | containers | Redis MB in/out, containers "
               "| Faasm | loss, Faasm / containers | accuracy | same model |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "faasm" not in r:
            out.append(f"| {r['workers']} | did not complete: {r['failed'][:200]} |||||||||||||||")
            continue
        f, n = r["faasm"], r["native"]
        fm, nm = f["memory"], n["memory"]
        out.append(
            f"| {r['workers']} | {r['sync']:,} | {f['train_s']:.2f} | {n['train_s']:.2f} | "
            f"**{n['train_s'] / f['train_s']:.1f}x** | {fmt(f['cpu_s'])} / {fmt(n['cpu_s'])} | "
            f"{mib(fm['peak_bytes']):.1f} | "
            f"{mib(nm['peak_bytes']):.1f} | **{nm['peak_bytes'] / fm['peak_bytes']:.1f}x** | "
            f"{fm['gb_seconds']:.3f} | {nm['gb_seconds']:.3f} | "
            f"{n['redis_in'] / 1e6:.0f} / {n['redis_out'] / 1e6:.0f} | "
            f"{f['redis_in'] / 1e6:.0f} / {f['redis_out'] / 1e6:.0f} | "
            f"{f['loss']:.5f} / {n['loss']:.5f} | {f['accuracy']:.4f} / {n['accuracy']:.4f} | "
            f"{'yes' if r['same_model'] else '**no**'} |")
    out.append("")
    out.append("CPU s: the CPU time of every process of the run (faasm-run's scheduler, "
               "zygotes and Faaslets; sgd-main, the runc processes, the containers and Redis), "
               "from the benchmark's cpuacct group.")
    out.append("")
    out.append("Training time is sgd-main's `train_s`: the sum over epochs of the wall time "
               "from chaining the epoch's calls to the last answer (the containers' starts "
               "fall in the first epoch). The whole run, process start to exit (zygotes and "
               "containers started and ended, the final evaluation): " + ", ".join(
                   f"{r['workers']} workers {r['faasm']['wall_s']:.2f} s / "
                   f"{r['native']['wall_s']:.2f} s" for r in rows if "faasm" in r) + ".")
    out.append("")
    if plot:
        out.append(f"![SGD: training time and peak memory against workers]({plot})")
        out.append("")
    big = largest_sgd(report)
    if big:
        out.append(f"### Where the time goes ({big['workers']} workers)")
        out.append("")
        for side, name in (("faasm", "Faasm"), ("native", "containers")):
            e = big[side]["epochs"]
            rest = [x["train_s"] for x in e[1:]] or [math.nan]
            out.append(
                f"- {name}: first epoch {e[0]['train_s']:.3f} s, later epochs median "
                f"{median(rest):.3f} s; in a later epoch the slowest worker's pass "
                f"(syncs included) takes {median([x['pass_s'] for x in e[1:]] or [math.nan]):.3f}"
                f" s of wall time and {median([x['pass_cpu_s'] for x in e[1:]] or [math.nan]):.3f}"
                f" s of CPU; the rest of the epoch is dispatch, batch fetch and awaiting.")
        out.append("")
        out.append(f"### Where the memory goes ({big['workers']} workers, at each side's peak)")
        out.append("")
        out.append("| side | what | processes / objects | MiB |")
        out.append("|---|---|---|---|")
        for side, name in (("faasm", "Faasm"), ("native", "containers")):
            mem = big[side]["memory"]
            parts = mem["peak_breakdown"]
            for role, (size, count) in sorted(parts.items(), key=lambda kv: -kv[1][0]):
                out.append(f"| {name} | {role} | {count} | {mib(size):.1f} |")
            if mem.get("faaslets_added_at_peak"):
                out.append(f"| {name} | Faaslets (sgd-step) the samples missed, counted at the "
                           f"largest seen ({mib(mem['faaslet_bytes']):.2f} MiB) | "
                           f"{mem['faaslets_added_at_peak']} | "
                           f"{mib(mem['faaslets_added_at_peak'] * mem['faaslet_bytes']):.1f} |")
        out.append("")
        fm = big["faasm"]["memory"]
        out.append(f"Faasm's peak above is an upper bound: a worker's pass takes milliseconds "
                   f"and the sampler (every {fm['period'] * 1e3:.0f} ms) sees few Faaslets at "
                   f"once, so each of the {big['workers']} workers' Faaslets it did not see in a "
                   f"sample is added at the largest PSS any had. Sampled alone, the peak was "
                   f"{mib(fm['sampled_peak_bytes']):.1f} MiB.")
        out.append("")
        ok = [r for r in rows if "faasm" in r]
        if len(ok) >= 2:
            a, b = ok[0], ok[-1]
            dw = b["workers"] - a["workers"]
            per = {s: (b[s]["memory"]["peak_bytes"] - a[s]["memory"]["peak_bytes"]) / dw
                   for s in ("faasm", "native")}
            out.append(f"From {a['workers']} to {b['workers']} workers each further worker "
                       f"added {mib(per['faasm']):.2f} MiB to Faasm's peak and "
                       f"{mib(per['native']):.2f} MiB to the containers'.")
            out.append("")
    return out


def inference_section(report, plot):
    inference = report["inference"]
    if not inference:
        return ["Inference was not run (--skip-inference).", ""]
    out = []
    out.append(f"One inference takes {report['inference_cpu_ms']:.1f} ms of CPU natively here "
               f"(the least of 6); offered rates {', '.join(str(r) for r in report['rates'])} "
               f"requests/s. Both sides get the same image (so every answer must be the "
               f"same top 5): {report.get('reference_answer', '').strip()}")
    out.append("")
    for cold, points in inference.items():
        ratio, best, top = bp.equal_p99_ratio(points["faasm"], points["runc"])
        p99s = bp.p99_ratios(points["faasm"], points["runc"])
        out.append(f"### A cold start every {cold} requests "
                   f"({100.0 / int(cold):.1f}%)")
        out.append("")
        out.append("| offered /s | Faasm: throughput /s | p50 ms | p99 ms | containers: "
                   "throughput /s | p50 ms | p99 ms | p99 ratio |")
        out.append("|---|---|---|---|---|---|---|---|")
        for f, r in zip(points["faasm"], points["runc"]):
            mark = lambda p: "" if bp.sustained(p) else " (not sustained)"  # noqa: E731
            out.append(f"| {f['offered']:.2f} | {f['throughput']:.2f}{mark(f)} | "
                       f"{ms(f['p50'])} | {ms(f['p99'])} | {r['throughput']:.2f}{mark(r)} | "
                       f"{ms(r['p50'])} | {ms(r['p99'])} | "
                       f"{fmt(f['p99'] / r['p99'] if r['p99'] not in (0, math.inf) else None)} |")
        out.append("")
        if best is not None:
            out.append(
                f"At equal p99: the containers' best sustained point is "
                f"{best['throughput']:.2f}/s at p99 {ms(best['p99'])} ms; at no more than that "
                f"p99 Faasm sustained "
                f"{(top['throughput'] if top else 0.0):.2f}/s: **{fmt(ratio)}x**. "
                f"Median p99 ratio over the rates both sustained: "
                f"**{fmt(median([x for _, x in p99s]))}**.")
        else:
            out.append("The containers sustained none of the rates.")
        out.append("")
        stats = {side: merge_stats([p["front"] for p in points[side]]) for side in
                 ("faasm", "runc")}
        cpu = {side: [p for p in points[side] if p.get("cpu_s")] for side in ("faasm", "runc")}
        if cpu["faasm"] and cpu["runc"]:
            per = {side: sum(p["cpu_s"] for p in cpu[side]) / max(1, sum(p["answered"] for p in
                                                                       cpu[side]))
                   for side in cpu}
            out.append(f"CPU time of everything the benchmark ran (front, load generator, "
                       f"instances, runc), per answered request over all rates: Faasm "
                       f"{per['faasm'] * 1e3:.1f} ms, containers {per['runc'] * 1e3:.1f} ms.")
            out.append("")
        if stats["runc"]:
            out += time_table(stats, report.get("front", "thin"))
    if plot:
        out.append(f"![Inference: latency against throughput]({plot})")
        out.append("")
    return out


def time_table(stats, front):
    """Where the time goes, each side from its own front: the thin front's
    per-request times (the containers, and Faasm with --front thin), or the
    worker's own figures (/metrics; its Faaslets' inference lines)."""
    worker = front == "worker"

    def mean(s, key):
        count = s.get(key.replace("_ms_sum", "_count"), 0)
        return s[key] / count if count else None

    def cell(s, key):
        if not s or key not in s:
            return "n/a"
        v = s[key]
        if key.endswith("_ms_sum"):
            return fmt(mean(s, key), 1)
        if isinstance(v, list):
            return fmt(median(v), 1)
        return str(v)

    faasm_start = {"worker": "every call a Faaslet restored from the Proto-Faaslet",
                   "process": "a new process making the Proto-Faaslet"}.get(
                       front, "a Faaslet restored from the Proto-Faaslet")
    rows = [("cold_starts", f"cold starts (Faasm: {faasm_start}; containers: a new container "
                            f"loading the model)"),
            ("proto_faaslets_made", "Proto-Faaslets made during the load (Faasm, worker)"),
            ("cold_ms", "cold request: new instance to answer, median ms"),
            ("cold_service_ms", "... of which after dispatch, median ms"),
            ("startup_ms", "an instance's own start (Faasm: "
                           + ("the process's Proto-Faaslet made, initialised and confined"
                              if front == "process" else "fork to a Faaslet ready to serve")
                           + "; container: model loaded), median ms"),
            ("warm_service_ms", "warm request: dispatch to answer, median ms"),
            ("queue_ms_sum", "worker: acceptance to the Faaslet's fork (queueing), mean ms"),
            ("run_ms_sum", "worker: fork to result (restore, call, answer), mean ms"),
            ("inference_wall_ms", "inference inside the instance, median ms"),
            ("inference_cpu_ms", "... its CPU time, median ms")]
    out = ["| where the time goes (each side's front, all rates) | Faasm | containers |",
           "|---|---|---|"]
    for key, label in rows:
        f, r = cell(stats["faasm"], key), cell(stats["runc"], key)
        if f == "n/a" and r == "n/a":
            continue
        out.append(f"| {label} | {f} | {r} |")
    return out + [""]


def merge_stats(stats_list):
    merged = {}
    for s in stats_list:
        for k, v in s.items():
            if isinstance(v, list):
                merged.setdefault(k, []).extend(v)
            elif isinstance(v, (int, float)) and k in ("cold_starts", "proto_faaslets_made",
                                                       "queue_ms_sum", "queue_count",
                                                       "run_ms_sum", "run_count"):
                merged[k] = merged.get(k, 0) + v
    return merged


def key_figures(report):
    figures = {}
    big = largest_sgd(report)
    if big:
        figures["sgd_speedup"] = big["native"]["train_s"] / big["faasm"]["train_s"]
        figures["sgd_mem_ratio"] = (big["native"]["memory"]["peak_bytes"] /
                                    big["faasm"]["memory"]["peak_bytes"])
        figures["sgd_workers"] = big["workers"]
    points = report["inference"].get("5")
    if points:
        ratio, _, _ = bp.equal_p99_ratio(points["faasm"], points["runc"])
        figures["inference_thpt_ratio"] = ratio
        p99s = [x for _, x in bp.p99_ratios(points["faasm"], points["runc"])]
        figures["inference_p99_ratio"] = median(p99s) if p99s else None
    return figures


def targets_section(report, kept=None):
    f = key_figures(report)
    rows = [("SGD: training time, containers / Faasm, at the largest worker count "
             f"({f.get('sgd_workers', 'n/a')})", ">= 3x", f.get("sgd_speedup"),
             lambda v: v >= 3),
            ("SGD: peak memory, containers / Faasm, same point", ">= 10x",
             f.get("sgd_mem_ratio"), lambda v: v >= 10),
            ("inference, 20% cold starts: throughput at equal p99, Faasm / containers",
             ">= 3x", f.get("inference_thpt_ratio"), lambda v: v >= 3),
            ("inference, 20% cold starts: p99, Faasm / containers (median over rates)",
             "<= 0.1x", f.get("inference_p99_ratio"), lambda v: v <= 0.1)]
    out = ["| figure | target | measured | met |", "|---|---|---|---|"]
    if kept:
        out += kept["target_rows"]
        rows = rows[2:]
    for label, target, value, ok in rows:
        out.append(f"| {label} | {target} | {fmt(value)} | "
                   f"{'n/a' if value is None else ('yes' if ok(value) else '**no**')} |")
    return out + [""]


def key_line(report, kept=None):
    f = key_figures(report)
    if kept:
        f.update(kept["key"])
    return " ".join(f"{k}={fmt(f.get(k))}" for k in
                    ("sgd_speedup", "sgd_mem_ratio", "inference_thpt_ratio",
                     "inference_p99_ratio"))


def kept_sgd(text):
    """With --skip-sgd: the SGD part of the page's last measured part (its
    section, its rows of the targets table, its key figures), marked with the
    run it comes from, so that a run of the inference alone does not erase
    the last SGD figures. None when the page has none."""
    if BEGIN not in text or END not in text:
        return None
    part = text[text.index(BEGIN):text.index(END)]
    if "## SGD\n" not in part or "## Inference\n" not in part:
        return None
    section = part[part.index("## SGD\n") + len("## SGD\n"):part.index("## Inference\n")]
    if "SGD was not run" in section:
        return None
    run = re.search(r"^Run of (\S+) to (\S+) \(UTC\): (`[^`]*`)\.", part, re.M)
    if KEPT_MARK not in section:
        when = f"{run.group(1)} to {run.group(2)} (UTC), {run.group(3)}" if run else "an earlier run"
        load = re.search(r"Load average \(1, 5, 15 min\) at the start ([0-9. ]+?), at the end "
                         r"([0-9. ]+?):", part)
        section = (f"\n{KEPT_MARK} from the run of {when}"
                   + (f", load average {load.group(1)} at its start" if load else "")
                   + "; this run (--skip-sgd) did not train._\n" + section)
    rows = [line for line in part.splitlines() if line.startswith("| SGD")]
    if run:
        rows = [line if line.startswith("| SGD (run of") else
                line.replace("| SGD:", f"| SGD (run of {run.group(1)[:10]}):", 1)
                for line in rows]
    key = {}
    m = re.search(r"sgd_speedup=(\S+) sgd_mem_ratio=(\S+)", part)
    if m:
        for name, value in zip(("sgd_speedup", "sgd_mem_ratio"), m.groups()):
            try:
                key[name] = float(value)
            except ValueError:
                pass
    return {"section": section, "target_rows": rows, "key": key}


def measured_part(report, sgd_plot, inference_plot, kept=None):
    m = report["machine"]
    out = [BEGIN, ""]
    # The options as given to scripts/bench-paper (it adds run and --build-dir).
    argv = report["argv"][1:]
    if "--build-dir" in argv:
        i = argv.index("--build-dir")
        argv = argv[:i] + argv[i + 2:]
    out.append(f"Run of {report['started']} to {report['finished']} (UTC): "
               f"`{' '.join(['sudo scripts/bench-paper'] + argv)}`.")
    out.append("")
    out.append(f"Machine: {m['nproc']} x {m['model']}, {m['memory_mib']:,} MiB, Linux "
               f"{m['kernel']}, {m['runc']}, {m['redis']}. Load average (1, 5, 15 min) at the "
               f"start {report['load_start']}, at the end {report['load_end']}: the machine was "
               f"shared with other work throughout.")
    out.append("")
    out.append("## Against the targets")
    out.append("")
    out += targets_section(report, kept)
    out.append("## SGD")
    if kept:
        out.append(kept["section"].rstrip("\n"))
        out.append("")
    else:
        out.append("")
        out += sgd_section(report, sgd_plot)
    out.append("## Inference")
    out.append("")
    out += inference_section(report, inference_plot)
    out.append("Key line: `" + key_line(report, kept) + "`")
    out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def write(report, out_dir, args):
    full = not args.quick and not args.report
    doc = args.report or (os.path.join(bp.REPO_DIR, "docs", "Evaluation.md") if full else
                          os.path.join(out_dir, "Evaluation.md"))
    doc_dir = os.path.dirname(os.path.abspath(doc))
    prefix = "evaluation-" if full else ""
    sgd_plot = inference_plot = None
    if report["sgd"] and bp.plot_sgd(report["sgd"], out_dir, prefix):
        sgd_plot = f"{prefix}sgd.png"
    if report["inference"] and bp.plot_inference(
            {int(k): v for k, v in report["inference"].items()}, out_dir, prefix):
        inference_plot = f"{prefix}inference.png"
    for plot in (sgd_plot, inference_plot):
        if plot and os.path.abspath(out_dir) != doc_dir:
            os.replace(os.path.join(out_dir, plot), os.path.join(doc_dir, plot))
    text = None
    if os.path.exists(doc):
        with open(doc) as f:
            text = f.read()
    kept = kept_sgd(text) if text is not None and not report["sgd"] else None
    part = measured_part(report, sgd_plot, inference_plot, kept)
    if text is not None:
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + part + text[text.index(END) + len(END) + 1:]
        else:
            text = text.rstrip() + "\n\n" + part
    else:
        text = TITLE + "\n" + part
    with open(doc, "w") as f:
        f.write(text)
    bp.log(f"report: {doc}")
    return key_line(report, kept)
