#!/usr/bin/env python3
"""Markdown tables from the result.json files written by tools/bench-nps-table.sh (stdlib only).

    python3 tools/nps_table.py OUT
"""
import json
import os
import sys


def load(out, name):
    p = os.path.join(out, name, "result.json")
    return json.load(open(p)) if os.path.exists(p) else None


def f(x, d=4):
    return "-" if x is None else f"{x:.{d}f}"


def main(out):
    ev = load(out, "eval")
    tasks = list(ev["tasks"].keys())
    print(f"### Merge: mean test accuracy over {len(tasks)} tasks (normalized = / each fine-tuned model's own)\n")
    print("| method | mean acc | normalized | keep | lambda(s) chosen on calibration | wall s |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| base (pre-trained) | {f(ev['base']['meanAccuracy'])} | | | | |")
    print(f"| fine-tuned, each on its own task | {f(ev['meanAccuracy'])} | 1.0000 | | | |")
    rows = [("ta", "TA"), ("ties", "TIES"), ("dare", "DARE-TA"), ("consensus", "Consensus (TALL)"),
            ("average", "Average"), ("ta-per-task", "TA, per-task lambdas (CMA-ES)"),
            ("ties-per-task", "TIES, per-task lambdas (CMA-ES, sign election)")]
    for name, label in rows:
        r = load(out, name)
        if r is None:
            continue
        lam = r.get("lambdas") or r.get("lambda")
        lam = "[" + ", ".join(f"{x:.2f}" for x in lam) + "]" if isinstance(lam, list) else f(lam, 2)
        print(f"| {label} | {f(r['meanAccuracy'])} | {f(r['meanNormalizedAccuracy'])} | {r.get('keep') or ''} | {lam} "
              f"| {r['wallSeconds']:.0f} |")
    variants = [("nps", "NPS (band, mask)"), ("nps-reweight", "NPS (band, reweight)"),
                ("nps-all", "NPS (all-entries partition, mask)"), ("nps-sign", "NPS (band, mask, sign election)")]
    for name, label in variants:
        r = load(out, name)
        if r is None:
            continue
        lam = "[" + ", ".join(f"{x:.2f}" for x in r["lambdas"]) + "]"
        print(f"| {label}, keep auto | {f(r['meanAccuracy'])} | {f(r['meanNormalizedAccuracy'])} | {r['keep']} | {lam} "
              f"| {r['wallSeconds']:.0f} |")
        c = r.get("control")
        if c:
            print(f"| &nbsp;&nbsp;its control (weights 1 = magnitude top-k, same lambda search) | {f(c['meanAccuracy'])} "
                  f"| | {r['keep']} | | |")

    print("\n### Merge against keep: mean test accuracy (each method tuned on calibration at that keep)\n")
    base = load(out, "nps")
    if base and "keepCurve" in base:
        keeps = base["keepCurve"]["keeps"]
        print("| method | " + " | ".join(f"keep {k}" for k in keeps) + " |")
        print("| --- |" + " --- |" * len(keeps))
        for m, vals in base["keepCurve"]["methods"].items():
            label = {"nps": "NPS (band, mask)", "control": "control (magnitude top-k, per-task lambdas)",
                     "ties": "TIES (one lambda)", "dare": "DARE-TA, drop = 1 - keep"}.get(m, m)
            print(f"| {label} | " + " | ".join(f(v) for v in vals) + " |")
        for name, label in variants[1:]:
            r = load(out, name)
            if r and "keepCurve" in r:
                c = r["keepCurve"]["methods"]
                print(f"| {label} | " + " | ".join(f(v) for v in c["nps"]) + " |")
                if "control" in c and name == "nps-sign":
                    print(f"| control with sign election | " + " | ".join(f(v) for v in c["control"]) + " |")
        for name in ("nps",) + tuple(v[0] for v in variants[1:]):
            r = load(out, name)
            if r and "selection" in r:
                g = ", ".join(f"{x['keep']}: {x['calibrationMeanAccuracy']:.4f}" for x in r["selection"]["grid"])
                print(f"\n{name}: calibration mean accuracy per keep {g} -> keep {r['keep']}", end="")
        print()

    print("\n### Prune: mean normalized test accuracy over tasks (NPS search vs magnitude top-k, same keep)\n")
    print("| keep | NPS | magnitude top-k | NPS better / equal / worse (tasks) |")
    print("| --- | --- | --- | --- |")
    for k in ("0.05", "0.1", "0.2"):
        n, c, w = [], [], [0, 0, 0]
        for t in tasks:
            r = load(out, f"prune-{k}-{t}")
            if r is None:
                continue
            a = r["meanNormalizedAccuracy"]
            b = r["control"]["normalizedAccuracy"]
            n.append(a)
            c.append(b)
            w[0 if a > b else 1 if a == b else 2] += 1
        if n:
            print(f"| {k} | {f(sum(n) / len(n))} | {f(sum(c) / len(c))} | {w[0]} / {w[1]} / {w[2]} |")

    print("\n### Compression at keep 0.05: bytes over all tasks and the rebuilt models' test accuracy\n")
    print("| encoding | bytes (all tasks) | paper formula 32kn+n bits | dense F32 | mean acc of rebuilt | normalized |")
    print("| --- | --- | --- | --- | --- | --- |")
    for enc in ("f32", "f16"):
        r = load(out, f"compress-{enc}")
        if r is None:
            continue
        per = [v for v in r["compression"].values() if isinstance(v, dict)]
        print(f"| {enc.upper()} | {sum(v['bytes'] for v in per):,} | {sum(v['paperBytes'] for v in per):,} "
              f"| {sum(v['denseBytes'] for v in per):,} | {f(r['meanAccuracy'])} | {f(r['meanNormalizedAccuracy'])} |")

    t0 = tasks[0]
    d = load(out, f"prune-0.05-{t0}")
    p = load(out, f"prune-nocache-{t0}")
    s = load(out, f"prune-statistical-{t0}")
    if d and p:
        print(f"\n### Calibration batches scored by one prune search ({t0}, keep 0.05)\n")
        print("| mode | batches scored | skipped by cache | skipped by abort | best calibration acc | trajectory | wall s |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for label, r in (("cache + exact abort (default)", d), ("no cache, abort off", p),
                         ("cache + statistical abort", s)):
            if r is None:
                continue
            q = r["search"]
            same = "same" if q["trajectorySha256"] == p["search"]["trajectorySha256"] else "differs"
            print(f"| {label} | {q['batchesEvaluated']:,} | {q['batchesSkippedByCache']:,} | {q['batchesSkippedByAbort']:,} "
                  f"| {f(q['bestCalibrationAccuracy'])} | {same} ({q['trajectorySha256'][:12]}) | {r['wallSeconds']:.1f} |")
        q = d["search"]
        print(f"\nCoordinator time per candidate: {q['coordinatorMicrosPerCandidate']:.0f} us "
              f"({q['candidates']} candidates x {q['batchesPerCandidate']} batches).")


if __name__ == "__main__":
    main(sys.argv[1])
