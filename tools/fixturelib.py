"""Helpers shared by the fixture scripts (make_digits_fixture.py, make_medium_benchmark.py).

Both train a 3-layer MLP, export one ONNX graph whose initializer names equal the safetensors keys,
check ONNX Runtime against torch with every checkpoint substituted, and write files atomically.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from safetensors.numpy import save_file


def state(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().astype(np.float32).copy() for k, v in model.state_dict().items()}


def torch_logits(model: torch.nn.Module, x: np.ndarray, chunk: int | None = None) -> np.ndarray:
    model.eval()
    step = chunk or max(len(x), 1)
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[s:s + step])).numpy() for s in range(0, len(x), step)])


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600
    os.replace(tmp, path)


def atomic_save_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name)
    os.close(fd)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, tmp, metadata=metadata)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600
    os.replace(tmp, path)


def score(lo: np.ndarray, y: np.ndarray) -> dict:
    """Correct count (argmax, first max on ties) and the smallest top-2 logit gap (how safe exact counts are)."""
    top2 = np.sort(lo, axis=1)[:, -2:]
    return {"correct": int((lo.argmax(1) == y).sum()), "n": int(len(y)),
            "minTop2Margin": float((top2[:, 1] - top2[:, 0]).min())}


def export_classifier(model: torch.nn.Module, in_features: int, producer: str, weights: dict[str, np.ndarray],
                      gemm_count: int = 3, conv_count: int = 0) -> bytes:
    """One ONNX graph (input x [batch,in], output logits [batch,10]) whose initializers are exactly `weights`,
    with `gemm_count` Gemm (transB=1) and `conv_count` Conv nodes."""
    model.eval()
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "model.onnx"
        torch.onnx.export(model, (torch.zeros(1, in_features),), str(p), dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True, keep_initializers_as_inputs=False)
        proto = onnx.load(str(p))
    proto.producer_name = producer
    onnx.checker.check_model(proto, full_check=True)
    init = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    assert sorted(init) == sorted(weights), f"initializer names {sorted(init)} != {sorted(weights)}"
    for k, v in init.items():
        # Gemm uses transB=1, so weights keep torch's [out,in] orientation; pin that.
        assert v.dtype == np.float32 and v.shape == weights[k].shape and np.array_equal(v, weights[k]), k
    gemms = [n for n in proto.graph.node if n.op_type == "Gemm"]
    assert sum(n.op_type == "Conv" for n in proto.graph.node) == conv_count, [n.op_type for n in proto.graph.node]
    assert len(gemms) == gemm_count and all(
        {a.name: a.i for a in n.attribute}.get("transB") == 1 for n in gemms), "expected Gemm transB=1"
    assert [i.name for i in proto.graph.input] == ["x"] and [o.name for o in proto.graph.output] == ["logits"]
    return proto.SerializeToString()


class OrtScorer:
    """ONNX graph with a checkpoint's weights substituted for its initializers, run by ORT."""

    def __init__(self, model_bytes: bytes, batch: int, threads: int = 1) -> None:
        self.proto = onnx.load_from_string(model_bytes)
        self.batch = batch
        self.threads = threads

    def session(self, weights: dict[str, np.ndarray]) -> ort.InferenceSession:
        m = onnx.ModelProto()
        m.CopyFrom(self.proto)
        inits = {i.name: i for i in m.graph.initializer}
        assert set(inits) == set(weights), (sorted(inits), sorted(weights))
        for name, arr in weights.items():
            assert tuple(inits[name].dims) == arr.shape, (name, inits[name].dims, arr.shape)
            inits[name].CopyFrom(numpy_helper.from_array(arr, name))
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])

    def logits(self, sess: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
        # Batches of the spec's batch-size, as the Java evaluator does.
        return np.concatenate([sess.run(["logits"], {"x": x[s:s + self.batch]})[0]
                               for s in range(0, len(x), self.batch)])


def spec_conf(script: str, name: str, tasks, batch: int, output=lambda task: "logits") -> str:
    """The NPS spec (HOCON) of a generated zoo: paths relative to the spec, one graph output per task."""
    lines = [f"# Generated by tools/{script}; paths are relative to this file.",
             f"name = {name}", "base = base.safetensors", "graph = model.onnx", f"batch-size = {batch}",
             "tasks = ["]
    for t in tasks:
        lines.append(f"  {{ name = {t}, checkpoint = tasks/{t}.safetensors, "
                     f"calibration = data/{t}-calib.safetensors, test = data/{t}-test.safetensors, "
                     f"output = {output(t)} }}")
    lines.append("]")
    return "\n".join(lines) + "\n"
