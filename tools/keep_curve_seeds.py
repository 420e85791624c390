#!/usr/bin/env python3
"""Mean and spread over seeds of the keepCurve of several `merge --method nps --keep auto` runs (stdlib only).

    for s in 0 1 2 3 4; do ./nps merge -q --spec SPEC --method nps --keep auto --seed $s --no-baselines --out OUT/s$s; done
    python3 tools/keep_curve_seeds.py OUT/s*
"""
import json
import os
import statistics as st
import sys

runs = [json.load(open(os.path.join(d, "result.json"))) for d in sys.argv[1:]]
keeps = runs[0]["keepCurve"]["keeps"]
print(f"{len(runs)} seeds; mean test accuracy, mean ± sd over seeds\n")
print("| method | " + " | ".join(f"keep {k}" for k in keeps) + " |")
print("| --- |" + " --- |" * len(keeps))
for m in runs[0]["keepCurve"]["methods"]:
    cols = []
    for i in range(len(keeps)):
        v = [r["keepCurve"]["methods"][m][i] for r in runs]
        cols.append(f"{st.mean(v):.4f} ± {st.stdev(v) if len(v) > 1 else 0:.4f}")
    print(f"| {m} | " + " | ".join(cols) + " |")
if "control" in runs[0]["keepCurve"]["methods"]:
    cols = []
    for i in range(len(keeps)):
        d = [100 * (r["keepCurve"]["methods"]["nps"][i] - r["keepCurve"]["methods"]["control"][i]) for r in runs]
        cols.append(f"{st.mean(d):+.2f} ({sum(x > 0 for x in d)}/{len(d)} seeds > 0)")
    print("| NPS - control, points | " + " | ".join(cols) + " |")
print("\nchosen keep per seed (calibration):", [r["keep"] for r in runs])
