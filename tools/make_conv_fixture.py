#!/usr/bin/env python3
"""Build the small committed CNN fixture under examples/conv/.

A plain torch export of a small CNN: two Conv layers (16 channels, so ONNX Runtime's NchwcTransformer
rewrites them at optimization level ALL), Flatten, a Gemm trunk and one Gemm head per task (graph output
logits_<task>). The base is weakly pre-trained on sklearn's 8x8 digits under every task's input
transform; each task fine-tunes the trunk and its own head. expected.json holds Python onnxruntime's
correct counts over the graph with each checkpoint's weights written into its initializers (optimization
level ALL, the default), plus the calibration logits of the first batch, so the Java scorer can be checked
in every feed mode, including the case where NCHWc conv weights were built from the embedded base
weights rather than the candidate's.

Run from the repository root:
    /tmp/npsvenv/bin/python tools/make_conv_fixture.py [--out examples/conv]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from fixturelib import atomic_save_safetensors, atomic_write_bytes, score, spec_conf, state, torch_logits

SEED = 20261202
N_CALIB = 200
N_TEST = 200
BATCH = 50
TASKS = ["identity", "rot90", "invert"]
BASE_EPOCHS = 40
BASE_SUBSET = 150
FT_LR = 1e-3
FT_MAX_EPOCHS = 40
FT_TARGET = 0.95


def transform(task: str, imgs: np.ndarray) -> np.ndarray:
    """imgs [N,8,8] in [0,1] -> [N,1,8,8] float32 with the task's input transform applied."""
    f = {"identity": lambda a: a, "rot90": lambda a: np.rot90(a, 1, axes=(1, 2)), "invert": lambda a: 1.0 - a}[task]
    return np.ascontiguousarray(f(imgs).reshape(len(imgs), 1, 8, 8), dtype=np.float32)


class CNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(256, 32)
        self.heads = torch.nn.ModuleDict({t: torch.nn.Linear(32, 10) for t in TASKS})

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return torch.relu(self.fc(torch.flatten(h, 1)))

    def forward(self, x: torch.Tensor):
        h = self.trunk(x)
        return tuple(self.heads[t](h) for t in TASKS)


class Head(torch.nn.Module):
    def __init__(self, model: CNN, task: str) -> None:
        super().__init__()
        self.model, self.task = model, task

    def forward(self, x):
        return self.model.heads[self.task](self.model.trunk(x))


def train(model: CNN, task_data: list[tuple[str, np.ndarray, np.ndarray]], epochs: int, lr: float, seed: int,
          params=None, stop=None) -> int:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(params if params is not None else model.parameters(), lr=lr)
    for epoch in range(1, epochs + 1):
        model.train()
        for t, x, y in task_data:
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)
            perm = torch.randperm(len(xt), generator=gen)
            for s in range(0, len(xt), 32):
                idx = perm[s:s + 32]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model.heads[t](model.trunk(xt[idx])), yt[idx])
                loss.backward()
                opt.step()
        if stop is not None and stop(model):
            return epoch
    return epochs


def export(model: CNN, weights: dict[str, np.ndarray]) -> bytes:
    """Plain torch export (constant folding on, as by default); initializer names = checkpoint keys."""
    model.eval()
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "model.onnx"
        torch.onnx.export(model, (torch.zeros(1, 1, 8, 8),), str(p), dynamo=False, opset_version=17,
                          input_names=["x"], output_names=[f"logits_{t}" for t in TASKS],
                          dynamic_axes={"x": {0: "batch"}, **{f"logits_{t}": {0: "batch"} for t in TASKS}})
        proto = onnx.load(str(p))
    proto.producer_name = "nps tools/make_conv_fixture.py"
    onnx.checker.check_model(proto, full_check=True)
    init = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    assert sorted(init) == sorted(weights), f"initializer names {sorted(init)} != {sorted(weights)}"
    for k, v in init.items():
        assert v.dtype == np.float32 and v.shape == weights[k].shape and np.array_equal(v, weights[k]), k
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Conv") == 2 and ops.count("Gemm") == 1 + len(TASKS) and "Flatten" in ops, ops
    return proto.SerializeToString()


def written(model_bytes: bytes, weights: dict[str, np.ndarray]) -> bytes:
    """The graph as NPS writes it: every initializer holding the checkpoint's values."""
    m = onnx.load_from_string(model_bytes)
    inits = {i.name: i for i in m.graph.initializer}
    assert set(inits) == set(weights)
    for name, arr in weights.items():
        inits[name].CopyFrom(numpy_helper.from_array(arr, name))
    return m.SerializeToString()


def session(model_bytes: bytes, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = level
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def logits(sess: ort.InferenceSession, t: str, x: np.ndarray) -> np.ndarray:
    return np.concatenate([sess.run([f"logits_{t}"], {"x": x[s:s + BATCH]})[0] for s in range(0, len(x), BATCH)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="examples/conv", type=Path)
    args = ap.parse_args()
    out: Path = args.out

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    np.random.seed(SEED)

    digits = load_digits()
    imgs = (digits.images / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    idx = np.arange(len(labels))
    rest, test_idx = train_test_split(idx, test_size=N_TEST, stratify=labels, random_state=SEED)
    train_idx, calib_idx = train_test_split(rest, test_size=N_CALIB, stratify=labels[rest], random_state=SEED + 1)
    train_idx, calib_idx, test_idx = np.sort(train_idx), np.sort(calib_idx), np.sort(test_idx)
    data = {t: {s: (transform(t, imgs[ix]), labels[ix])
                for s, ix in (("train", train_idx), ("calib", calib_idx), ("test", test_idx))} for t in TASKS}

    rng = np.random.default_rng(SEED)
    mix = []
    for t in TASKS:
        sub = rng.choice(len(train_idx), size=BASE_SUBSET // len(TASKS), replace=False)
        mix.append((t, data[t]["train"][0][sub], data[t]["train"][1][sub]))
    base = CNN()
    train(base, mix, BASE_EPOCHS, lr=1e-3, seed=SEED)
    base_w = state(base)

    def acc(model: CNN, t: str, split: str = "test") -> float:
        x, y = data[t][split]
        return float((torch_logits(Head(model, t), x).argmax(1) == y).mean())

    ft_w, ft_epochs = {}, {}
    for ti, t in enumerate(TASKS):
        m = CNN()
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in base_w.items()})
        own = [p for n, p in m.named_parameters() if not n.startswith("heads.") or n.startswith(f"heads.{t}.")]
        x, y = data[t]["train"]
        ft_epochs[t] = train(m, [(t, x, y)], FT_MAX_EPOCHS, lr=FT_LR, seed=SEED + 100 + ti, params=own,
                             stop=lambda mm, t=t: acc(mm, t, "calib") >= FT_TARGET)
        ft_w[t] = state(m)
        print(f"fine-tuned {t}: {ft_epochs[t]} epochs, test acc {acc(m, t):.3f}", file=sys.stderr)

    model_bytes = export(base, base_w)
    checkpoints = {"base": base_w, **ft_w}
    expected = {"batchSize": BATCH, "note": "correct = argmax (first max on ties) == label, onnxruntime "
                + ort.__version__ + " CPU, optimization level ALL, over the graph with the model's weights written"
                " into its initializers, batches of batchSize; firstCalibBatchLogits = that session's logits on"
                " the first calibration batch",
                "models": {}}
    acc_table = {}
    nchwc_wrong = {}
    for name, w in checkpoints.items():
        m = CNN()
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in w.items()})
        sess = session(written(model_bytes, w))
        # The bug class this fixture pins: the base graph with the checkpoint given as session initializers.
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        keep = [ort.OrtValue.ortvalue_from_numpy(v) for v in w.values()]
        for (k, _), v in zip(w.items(), keep):
            so.add_initializer(k, v)
        stale = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
        expected["models"][name] = {}
        acc_table[name] = {}
        for t in TASKS:
            entry = {}
            for split in ("calib", "test"):
                x, y = data[t][split]
                lo = logits(sess, t, x)
                diff = float(np.abs(lo - torch_logits(Head(m, t), x)).max())
                assert diff <= 1e-4, f"ORT vs torch logits differ by {diff} ({name}, {t}, {split})"
                entry[split] = score(lo, y)
            entry["firstCalibBatchLogits"] = [float(v) for v in logits(sess, t, data[t]["calib"][0][:BATCH]).ravel()]
            expected["models"][name][t] = entry
            acc_table[name][t] = entry["test"]["correct"] / entry["test"]["n"]
            if name != "base":
                nchwc_wrong[f"{name}/{t}"] = float(np.abs(logits(stale, t, data[t]["calib"][0][:BATCH])
                                                          - np.array(entry["firstCalibBatchLogits"]).reshape(BATCH, 10)).max())
    expected["addInitializerAtLevelAllMaxLogitError"] = nchwc_wrong
    print("addInitializer at level ALL, max |logit error| on the first calibration batch:", nchwc_wrong, file=sys.stderr)
    assert max(nchwc_wrong.values()) > 0.1, "the fixture no longer shows the NCHWc bug class"

    for t in TASKS:
        own, b = acc_table[t][t], acc_table["base"][t]
        assert own > 0.85, f"fine-tuned {t} only reaches {own:.3f}"
        assert own - b > 0.05, f"base on {t} ({b:.3f}) too close to fine-tuned ({own:.3f})"

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "model.onnx", model_bytes)
    atomic_save_safetensors(out / "base.safetensors", base_w)
    for t in TASKS:
        atomic_save_safetensors(out / "tasks" / f"{t}.safetensors", ft_w[t])
        for split in ("calib", "test"):
            x, y = data[t][split]
            atomic_save_safetensors(out / "data" / f"{t}-{split}.safetensors", {"x": x, "labels": y.astype(np.int64)})
    atomic_write_bytes(out / "expected.json", (json.dumps(expected, indent=1) + "\n").encode())
    atomic_write_bytes(out / "spec.conf", spec_conf("make_conv_fixture.py", "conv", TASKS, BATCH,
                                                    output=lambda t: f"logits_{t}").encode())
    table = "\n".join(f"| {n} | " + " | ".join(f"{100 * acc_table[n][t]:.1f}" for t in TASKS) + " |"
                      for n in checkpoints)
    atomic_write_bytes(out / "README.md", f"""# conv fixture

A small CNN zoo made by `/tmp/npsvenv/bin/python tools/make_conv_fixture.py` (seeded, one thread; do not
edit by hand). Graph: `x` [batch,1,8,8] -> Conv 1->16 3x3 -> Relu -> Conv 16->16 3x3 stride 2 -> Relu ->
Flatten -> Gemm 256->32 (`fc`) -> Relu -> one Gemm 32->10 head per task (`heads.<task>`, output
`logits_<task>`); a plain `torch.onnx.export` (opset 17). Data: sklearn's 8x8 digits (CC BY 4.0), one split
for every task: {N_CALIB} calibration and {N_TEST} test images never trained on; tasks are input transforms
({", ".join(TASKS)}). Each fine-tuned checkpoint trained the trunk and its own head.

Why it exists: at optimization level ALL, ONNX Runtime's NchwcTransformer reorders the Conv weights from the
initializers embedded in the graph, so a session given other weights through `SessionOptions.addInitializer`
silently runs the conv layers with the embedded ones (max logit error on the first calibration batch:
{max(nchwc_wrong.values()):.2f}). `expected.json` holds onnxruntime's counts over the graph with each
checkpoint written in, which every NPS feed mode must reproduce.

Test accuracy (%), onnxruntime {ort.__version__}:

| model | {" | ".join(TASKS)} |
|---|{"---|" * len(TASKS)}
{table}
""".encode())
    for f in sorted(out.rglob("*")):
        if f.is_file():
            print(f"{hashlib.sha256(f.read_bytes()).hexdigest()[:16]}  {f.stat().st_size:8d}  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
