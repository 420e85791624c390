#!/usr/bin/env python3
"""Reference evaluation counts from pycma for the Java CMA-ES tests.

Runs pycma (non-active CMA: CMA_active=False, default population, ftarget 1e-8) on sphere, ellipsoid
(condition 1e6) and Rosenbrock in 5, 10 and 20 dimensions with seeds 1..11, and writes the median number
of function evaluations to reach f <= ftarget per case.

Run from the repository root:
    /tmp/npsvenv/bin/python tools/pycma_reference.py [--out coordinator/src/test/resources/golden/pycma_medians.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", message="Could not import matplotlib")
import cma  # noqa: E402

FTARGET = 1e-8
SEEDS = list(range(1, 12))
DIMS = (5, 10, 20)
# The medians quoted in the issue that asked for this check.
ISSUE = {"sphere": {5: 616, 10: 1250, 20: 2268}, "ellipsoid": {5: 1864, 10: 5480, 20: 17556},
         "rosenbrock": {5: 1896, 10: 5880, 20: 20430}}


def sphere(x):
    x = np.asarray(x)
    return float(np.dot(x, x))


def ellipsoid(x):
    x = np.asarray(x)
    n = len(x)
    w = 10.0 ** (6.0 * np.arange(n) / (n - 1))
    return float(np.dot(w, x * x))


def rosenbrock(x):
    x = np.asarray(x)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


FUNCS = {"sphere": (sphere, 0.5, 0.3), "ellipsoid": (ellipsoid, 0.5, 0.3), "rosenbrock": (rosenbrock, 0.0, 0.5)}


def run(f, n, x0, sigma0, seed):
    opts = {"CMA_active": False, "ftarget": FTARGET, "seed": seed, "verbose": -9,
            "maxfevals": 10_000_000}
    es = cma.CMAEvolutionStrategy(n * [x0], sigma0, opts)
    es.optimize(f)
    return es.result.evaluations, es.result.fbest, es.popsize, dict(es.stop())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="coordinator/src/test/resources/golden/pycma_medians.json", type=Path)
    args = ap.parse_args()

    cases = []
    for name, (f, x0, sigma0) in FUNCS.items():
        for n in DIMS:
            t0 = time.time()
            runs = [run(f, n, x0, sigma0, s) for s in SEEDS]
            evals = [r[0] for r in runs]
            ok = [r[1] <= FTARGET for r in runs]
            # A run that stalls above ftarget (20-D Rosenbrock's local minimum) counts as infinitely slow.
            ranked = sorted(e if k else float("inf") for e, k in zip(evals, ok))
            med = statistics.median(ranked)
            assert med != float("inf"), f"{name} {n}-D: most runs missed ftarget"
            cases.append({
                "function": name, "dim": n, "x0": x0, "sigma0": sigma0, "popsize": runs[0][2],
                "seeds": SEEDS, "evaluations": evals, "reachedTarget": ok,
                "stopReasons": sorted({k for r in runs for k in r[3]}),
                "fbest": [r[1] for r in runs],
                "medianEvaluations": med,
                "medianEvaluationsSuccessfulOnly": statistics.median([e for e, k in zip(evals, ok) if k]),
                "issueMedian": ISSUE[name][n],
            })
            print(f"{name:10s} {n:2d}-D popsize {runs[0][2]:2d}: median {med:8.0f} (issue {ISSUE[name][n]:6d})"
                  f" success {sum(ok)}/{len(ok)} evals {evals} [{time.time() - t0:.1f}s]", flush=True)

    doc = {
        "generator": "tools/pycma_reference.py",
        "pycma": cma.__version__,
        "numpy": np.__version__,
        "options": {"CMA_active": False, "ftarget": FTARGET, "popsize": "default 4+floor(3 ln n)"},
        "functions": {
            "sphere": "sum x_i^2; x0 = 0.5 (all coordinates), sigma0 = 0.3",
            "ellipsoid": "sum 10^(6 i/(n-1)) x_i^2, i = 0..n-1; x0 = 0.5, sigma0 = 0.3",
            "rosenbrock": "sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2; x0 = 0, sigma0 = 0.5",
        },
        "note": "evaluations = pycma's count at stop (whole generations); medianEvaluations ranks runs that "
                "missed ftarget as infinite; issueMedian = the figure quoted in the issue, for comparison",
        "cases": cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, prefix="." + args.out.name)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
