#!/usr/bin/env python3
"""Build the tiny committed "digits" fixture under examples/digits/.

One MLP (64 -> 128 -> 64 -> 10) is weakly pre-trained on a mix of eight input
transforms of sklearn's 8x8 digits, then fine-tuned once per transform.  The
output is a real ONNX graph plus safetensors checkpoints whose keys equal the
graph's initializer names, so the Java side can substitute merged weights into
the graph and score them with ONNX Runtime.

Run from the repository root:
    /tmp/npsvenv/bin/python tools/make_digits_fixture.py [--out examples/digits]

Everything is seeded and single-threaded, so a rerun on the same library
versions reproduces the files byte for byte (checked by --check).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from safetensors.numpy import load_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from fixturelib import (OrtScorer, atomic_save_safetensors, atomic_write_bytes, export_classifier, score, spec_conf, state,
                        torch_logits)

SEED = 20250601
N_CALIB = 300
N_TEST = 300
BATCH = 50
TASKS = ["identity", "rot90", "rot180", "rot270", "flip_lr", "flip_ud", "invert", "transpose"]
# Weak pre-training: trained to convergence on a small mixed subset (25 images per task), so the base
# sits well below fine-tuned yet in a settled minimum; a short run from scratch gives task vectors
# that do not add up at all.
BASE_EPOCHS = 150
BASE_SUBSET = 200
FT_LR = 3e-4
FT_MAX_EPOCHS = 80
FT_TARGET = 0.95
MERGE_LAMBDAS = (0.05, 0.1, 0.3)


def transform(task: str, imgs: np.ndarray) -> np.ndarray:
    """imgs [N,8,8] in [0,1] -> [N,64] float32 with the task's input transform applied."""
    f = {
        "identity": lambda a: a,
        "rot90": lambda a: np.rot90(a, 1, axes=(1, 2)),
        "rot180": lambda a: np.rot90(a, 2, axes=(1, 2)),
        "rot270": lambda a: np.rot90(a, 3, axes=(1, 2)),
        "flip_lr": lambda a: a[:, :, ::-1],
        "flip_ud": lambda a: a[:, ::-1, :],
        "invert": lambda a: 1.0 - a,
        "transpose": lambda a: np.transpose(a, (0, 2, 1)),
    }[task]
    return np.ascontiguousarray(f(imgs).reshape(len(imgs), 64), dtype=np.float32)


class MLP(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 128)
        self.fc2 = torch.nn.Linear(128, 64)
        self.fc3 = torch.nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def train(model: MLP, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, seed: int,
          stop=None) -> int:
    """Plain Adam, minibatch 32, seeded shuffling. stop(model)->bool ends early after an epoch."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        for s in range(0, len(xt), 32):
            idx = perm[s:s + 32]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        if stop is not None and stop(model):
            return epoch
    return epochs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="examples/digits", type=Path)
    args = ap.parse_args()
    out: Path = args.out

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    np.random.seed(SEED)

    digits = load_digits()
    imgs = (digits.images / 16.0).astype(np.float32)  # [1797,8,8] in [0,1]
    labels = digits.target.astype(np.int64)
    idx = np.arange(len(labels))
    # One split for all tasks: calibration and test images are never trained on, under any transform.
    rest, test_idx = train_test_split(idx, test_size=N_TEST, stratify=labels, random_state=SEED)
    train_idx, calib_idx = train_test_split(rest, test_size=N_CALIB, stratify=labels[rest],
                                            random_state=SEED + 1)
    assert not (set(train_idx) & set(calib_idx) or set(train_idx) & set(test_idx)
                or set(calib_idx) & set(test_idx))
    train_idx, calib_idx, test_idx = np.sort(train_idx), np.sort(calib_idx), np.sort(test_idx)

    data = {t: {s: (transform(t, imgs[ix]), labels[ix])
                for s, ix in (("train", train_idx), ("calib", calib_idx), ("test", test_idx))}
            for t in TASKS}

    # --- weak pre-training on a small mixed subset of every task domain ---
    rng = np.random.default_rng(SEED)
    mix_x, mix_y = [], []
    for t in TASKS:
        sub = rng.choice(len(train_idx), size=BASE_SUBSET // len(TASKS), replace=False)
        mix_x.append(data[t]["train"][0][sub])
        mix_y.append(data[t]["train"][1][sub])
    mix_x, mix_y = np.concatenate(mix_x), np.concatenate(mix_y)
    base = MLP()
    train(base, mix_x, mix_y, BASE_EPOCHS, lr=1e-3, seed=SEED)
    base_w = state(base)

    def acc(model: MLP, t: str, split: str = "test") -> float:
        x, y = data[t][split]
        return float((torch_logits(model, x).argmax(1) == y).mean())

    # --- fine-tune a copy of the base on each task's train split only ---
    ft_w: dict[str, dict[str, np.ndarray]] = {}
    ft_epochs: dict[str, int] = {}
    for ti, t in enumerate(TASKS):
        m = MLP()
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in base_w.items()})
        x, y = data[t]["train"]
        # Early stop on the calibration split (never the test split), to keep it quick.
        ft_epochs[t] = train(m, x, y, FT_MAX_EPOCHS, lr=FT_LR, seed=SEED + 100 + ti,
                             stop=lambda mm, t=t: acc(mm, t, "calib") >= FT_TARGET)
        ft_w[t] = state(m)
        print(f"fine-tuned {t}: {ft_epochs[t]} epochs, test acc {acc(m, t):.3f}", file=sys.stderr)

    # --- export one ONNX graph (base weights as initializers) ---
    model_bytes = export_classifier(base, 64, "nps tools/make_digits_fixture.py", base_w)

    # --- ORT with each checkpoint substituted must reproduce torch ---
    scorer = OrtScorer(model_bytes, BATCH)
    checkpoints = {"base": base_w, **{t: ft_w[t] for t in TASKS}}
    expected = {"batchSize": BATCH, "note": "correct = argmax (first max on ties) == label, onnxruntime "
                + ort.__version__ + " CPU, batches of batchSize", "models": {}}
    acc_table: dict[str, dict[str, float]] = {}
    for name, w in checkpoints.items():
        m = MLP()
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in w.items()})
        sess = scorer.session(w)
        expected["models"][name] = {}
        acc_table[name] = {}
        for t in TASKS:
            entry = {}
            for split in ("calib", "test"):
                x, y = data[t][split]
                lo = scorer.logits(sess, x)
                diff = float(np.abs(lo - torch_logits(m, x)).max())
                assert diff <= 1e-5, f"ORT vs torch logits differ by {diff} ({name}, {t}, {split})"
                entry[split] = score(lo, y)
            expected["models"][name][t] = entry
            acc_table[name][t] = entry["test"]["correct"] / entry["test"]["n"]

    # Reference merges, per the shared definitions: tau = ft - base in F32, sums in float64, theta in F32.
    taus = [{k: (ft_w[t][k] - base_w[k]).astype(np.float32) for k in base_w} for t in TASKS]
    merges = {f"ta_lambda{lam:g}": {"method": "ta", "lambda": lam} for lam in MERGE_LAMBDAS}
    merges["average"] = {"method": "average"}
    expected["merges"] = {}
    merge_acc: dict[str, float] = {}
    for mname, params in merges.items():
        lam = params.get("lambda", 1.0 / len(TASKS))
        w = {k: (base_w[k].astype(np.float64) + lam * np.sum([tv[k].astype(np.float64) for tv in taus], axis=0))
             .astype(np.float32) for k in base_w}
        sess = scorer.session(w)
        entry = {"params": params, "tasks": {}}
        for t in TASKS:
            x, y = data[t]["test"]
            lo = scorer.logits(sess, x)
            entry["tasks"][t] = {"test": score(lo, y)}
        expected["merges"][mname] = entry
        merge_acc[mname] = float(np.mean([e["test"]["correct"] / e["test"]["n"] for e in entry["tasks"].values()]))

    for t in TASKS:
        own, b = acc_table[t][t], acc_table["base"][t]
        assert own > 0.9, f"fine-tuned {t} only reaches {own:.3f} on its test split"
        assert own - b > 0.15, f"base on {t} ({b:.3f}) too close to fine-tuned ({own:.3f})"

    # --- write everything ---
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "model.onnx", model_bytes)
    atomic_save_safetensors(out / "base.safetensors", base_w)
    for t in TASKS:
        atomic_save_safetensors(out / "tasks" / f"{t}.safetensors", ft_w[t])
        for split in ("calib", "test"):
            x, y = data[t][split]
            atomic_save_safetensors(out / "data" / f"{t}-{split}.safetensors",
                                    {"x": x, "labels": y.astype(np.int64)})
    atomic_write_bytes(out / "expected.json",
                       (json.dumps(expected, indent=2, sort_keys=False) + "\n").encode())
    atomic_write_bytes(out / "spec.conf", spec_conf("make_digits_fixture.py", "digits", TASKS, BATCH).encode())
    atomic_write_bytes(out / "README.md", readme(acc_table, ft_epochs, merge_acc).encode())

    # Round-trip: the files on disk load back to exactly what was checked above.
    for t in TASKS:
        back = load_file(str(out / "tasks" / f"{t}.safetensors"))
        assert all(back[k].dtype == np.float32 and np.array_equal(back[k], ft_w[t][k]) for k in back)
        d = load_file(str(out / "data" / f"{t}-test.safetensors"))
        assert d["x"].dtype == np.float32 and d["labels"].dtype == np.int64 and d["x"].shape == (N_TEST, 64)

    print(readme_table(acc_table))
    print(merge_acc)
    for f in sorted(out.rglob("*")):
        if f.is_file():
            print(f"{hashlib.sha256(f.read_bytes()).hexdigest()[:16]}  {f.stat().st_size:8d}  {f}")
    return 0


def readme_table(acc: dict[str, dict[str, float]]) -> str:
    head = "| model | " + " | ".join(TASKS) + " | own | others avg |"
    sep = "|" + "---|" * (len(TASKS) + 3)
    rows = [head, sep]
    for name in ["base", *TASKS]:
        cells = [f"{100 * acc[name][t]:.1f}" for t in TASKS]
        if name == "base":
            own = "-"
            others = f"{100 * np.mean([acc[name][t] for t in TASKS]):.1f} (all)"
        else:
            own = f"{100 * acc[name][name]:.1f}"
            others = f"{100 * np.mean([acc[name][t] for t in TASKS if t != name]):.1f}"
        label = name if name == "base" else f"ft:{name}"
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {own} | {others} |")
    return "\n".join(rows)


def readme(acc: dict[str, dict[str, float]], epochs: dict[str, int], merge_acc: dict[str, float]) -> str:
    merge_lines = "\n".join(f"| {k} | {100 * v:.1f} |" for k, v in merge_acc.items())
    return f"""# digits fixture

A tiny but real merging benchmark: eight input transforms of the 8x8 handwritten digits, one MLP
(`fc1` 64->128, ReLU, `fc2` 128->64, ReLU, `fc3` 64->10), a weakly pre-trained base and one fine-tuned
checkpoint per transform. Generated by

    /tmp/npsvenv/bin/python tools/make_digits_fixture.py --out examples/digits

(see `tools/README.md` for the venv). Seeded and single-threaded; do not edit the files by hand.

## Files

- `model.onnx`: opset 17, input `x` float `[batch,64]`, output `logits` float `[batch,10]`, three `Gemm`
  nodes (`transB=1`). Its initializer names are exactly the checkpoint keys (`fc1.weight` `[128,64]`,
  `fc1.bias` `[128]`, `fc2.weight` `[64,128]`, `fc2.bias`, `fc3.weight` `[10,64]`, `fc3.bias`), in the same
  `[out,in]` orientation; the base weights are embedded. Substitute a checkpoint's tensors for the
  initializers to score it.
- `base.safetensors`, `tasks/<task>.safetensors`: F32, same keys and shapes as the initializers.
- `data/<task>-calib.safetensors`, `data/<task>-test.safetensors`: `x` F32 `[300,64]` (pixels/16, transform
  applied), `labels` I64 `[300]`.
- `spec.conf`: the NPS spec (HOCON) for this fixture, task order = the order below.
- `expected.json`: per model (`base` and each fine-tuned task) and per task split, the number of correct
  argmax predictions from onnxruntime (CPU, batches of {BATCH}) and the smallest top-1/top-2 logit margin;
  `merges` holds the same for the reference merges below (test split). Java's ONNX Runtime scoring must
  reproduce the `correct` counts exactly.

## Data and split

sklearn's bundled `load_digits` (1797 images). The image indices are split once, stratified by label,
seed {SEED}: {1797 - N_CALIB - N_TEST} train / {N_CALIB} calibration / {N_TEST} test. Every task uses the
same split, so no calibration or test image is seen in training under any transform.

Tasks (transform of the 8x8 image; the label stays the digit): `identity`, `rot90`, `rot180`, `rot270`
(`np.rot90` counter-clockwise), `flip_lr`, `flip_ud`, `invert` (1 - x), `transpose`.

## Training

- Base: {BASE_EPOCHS} epochs (to convergence) of Adam (lr 1e-3, batch 32) on {BASE_SUBSET} training images, {BASE_SUBSET // len(TASKS)}
  from each task domain, so it is deliberately weak.
- Fine-tuned: from the base, Adam (lr {FT_LR:g}, batch 32) on that task's train split only, stopping after the
  first epoch with calibration accuracy >= {FT_TARGET} (at most {FT_MAX_EPOCHS}). Epochs:
  {", ".join(f"{t} {e}" for t, e in epochs.items())}.

## Test accuracy (%), onnxruntime

Rows: model; columns: the task whose test split is scored. "own" = the fine-tuned model on its own task;
"others avg" = its mean over the other seven tasks.

{readme_table(acc)}

Reference merges (also in `expected.json` under `merges`, per-task correct counts): task arithmetic
`base + lambda * sum tau` and the plain average of the eight fine-tuned models; mean test accuracy over
the eight tasks (%). Uniform merging gains only a few points over the base: the transforms compete for the same
weights, which is what per-task coefficients and pruning (NPS) have to work around.

| merge | mean test acc |
|---|---|
| base | {100 * np.mean(list(acc["base"].values())):.1f} |
{merge_lines}

## Licence

The images are the UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin, C. Kaynak,
1998), as bundled with scikit-learn, licensed CC BY 4.0 (https://doi.org/10.24432/C50P49). The derived
files here (transformed arrays and trained weights) are distributed under the same licence.
"""


if __name__ == "__main__":
    sys.exit(main())
