"""all-MiniLM-L6-v2 as a torch BERT encoder, its weights read from the fp32 ONNX graph, plus a mean-pooled
multi-head classifier. Used by make_minilm_zoo.py.

The source graph names its biases and LayerNorms with the Hugging Face keys, but its 36 MatMul weights are
anonymous initializers (onnx::MatMul_787 ...) stored [in, out]; each takes its key from the MatMul node that
uses it (/encoder/layer.0/attention/self/query/MatMul -> encoder.layer.0.attention.self.query.weight) and is
transposed to torch's [out, in].
"""
from __future__ import annotations

import math
import re

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HIDDEN, HEADS, LAYERS, FFN, VOCAB, MAX_POS = 384, 12, 6, 1536, 30522, 512
LN_EPS = 1e-12
_MATMUL_NODE = re.compile(r"^/(encoder/layer\.\d+/(?:attention/self/(?:query|key|value)|attention/output/dense"
                          r"|intermediate/dense|output/dense))/MatMul$")


def weights_from_onnx(proto: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Every float initializer of the source graph under its Hugging Face key, Linear weights as [out, in]."""
    init = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    out: dict[str, np.ndarray] = {}
    for name, arr in init.items():
        if not name.startswith("onnx::") and arr.dtype == np.float32:
            out[name] = arr
    named = 0
    for node in proto.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in init:
            continue
        m = _MATMUL_NODE.match(node.name)
        assert m, f"unexpected MatMul with a weight initializer: {node.name}"
        key = m.group(1).replace("/", ".") + ".weight"
        assert key not in out, key
        out[key] = np.ascontiguousarray(init[node.input[1]].T)
        named += 1
    assert named == 6 * LAYERS, named
    expected = set(Encoder().state_dict())
    assert set(out) == expected, (sorted(set(out) ^ expected))
    for k, v in Encoder().state_dict().items():
        assert tuple(v.shape) == out[k].shape, (k, v.shape, out[k].shape)
    return out


class Embeddings(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.word_embeddings = torch.nn.Embedding(VOCAB, HIDDEN)
        self.position_embeddings = torch.nn.Embedding(MAX_POS, HIDDEN)
        self.token_type_embeddings = torch.nn.Embedding(2, HIDDEN)
        self.LayerNorm = torch.nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        # Single sentences only: token type 0 everywhere (the graph has no token_type_ids input). The zeros are
        # computed from the input, not a constant index, so no ONNX node reads only initializers: ONNX
        # Runtime's constant folding would otherwise bake the graph's embedded values into the session.
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        types = torch.zeros_like(input_ids)
        e = self.word_embeddings(input_ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings(types)
        return self.LayerNorm(e)


def linear(x: torch.Tensor, lin: torch.nn.Linear) -> torch.Tensor:
    """lin on [batch, seq, in] through a 2-D matrix product, which ONNX export writes as Gemm(transB=1): the weight
    stays the named [out, in] initializer (a 3-D Linear exports as MatMul over a Transpose of it, which constant
    folding turns into an anonymous copy)."""
    b, n, d = x.shape
    return torch.nn.functional.linear(x.reshape(b * n, d), lin.weight, lin.bias).reshape(b, n, lin.out_features)


class SelfAttention(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query = torch.nn.Linear(HIDDEN, HIDDEN)
        self.key = torch.nn.Linear(HIDDEN, HIDDEN)
        self.value = torch.nn.Linear(HIDDEN, HIDDEN)


class DenseNorm(torch.nn.Module):
    def __init__(self, d_in: int) -> None:
        super().__init__()
        self.dense = torch.nn.Linear(d_in, HIDDEN)
        self.LayerNorm = torch.nn.LayerNorm(HIDDEN, eps=LN_EPS)


class Attention(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.self = SelfAttention()
        self.output = DenseNorm(HIDDEN)


class Intermediate(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dense = torch.nn.Linear(HIDDEN, FFN)


class Layer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = Attention()
        self.intermediate = Intermediate()
        self.output = DenseNorm(FFN)

    def forward(self, h: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, _ = h.shape
        sa = self.attention.self
        d = HIDDEN // HEADS

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, n, HEADS, d).transpose(1, 2)

        q, k, v = split(linear(h, sa.query)), split(linear(h, sa.key)), split(linear(h, sa.value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, n, HIDDEN)
        ao = self.attention.output
        h = ao.LayerNorm(linear(ctx, ao.dense) + h)
        f = torch.nn.functional.gelu(linear(h, self.intermediate.dense))  # erf GELU, as the source graph
        return self.output.LayerNorm(linear(f, self.output.dense) + h)


class Encoder(torch.nn.Module):
    """BertModel without pooler; keys equal the Hugging Face ones (embeddings.*, encoder.layer.N.*)."""

    def __init__(self) -> None:
        super().__init__()
        self.embeddings = Embeddings()
        self.encoder = torch.nn.Module()
        self.encoder.layer = torch.nn.ModuleList([Layer() for _ in range(LAYERS)])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.embeddings(input_ids)
        # Padded keys get the most negative float added (as Hugging Face does): softmax weight exactly 0.
        bias = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        for layer in self.encoder.layer:
            h = layer(h, bias)
        return h


class MiniLMClassifier(torch.nn.Module):
    """Encoder + mean pooling over unpadded tokens + one linear head per task (keys heads.<task>.weight/bias)."""

    def __init__(self, classes: dict[str, int]) -> None:
        super().__init__()
        self.tasks = list(classes)
        self.bert = Encoder()
        self.heads = torch.nn.ModuleDict({t: torch.nn.Linear(HIDDEN, c) for t, c in classes.items()})

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids, attention_mask)
        m = attention_mask.to(h.dtype)[:, :, None]
        return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        p = self.pooled(input_ids, attention_mask)
        return tuple(self.heads[t](p) for t in self.tasks)
