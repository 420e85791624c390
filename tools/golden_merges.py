#!/usr/bin/env python3
"""Golden files for the Java merge methods, from an independent NumPy implementation.

Implements the definitions in the NPS design notes (global top-k with the first-in-flattened-order tie
rule, Task Arithmetic, TIES, DARE with the splitmix64 counter RNG, Consensus/TALL masks, Average) as
plainly as possible: float64 throughout, cast to float32 only when a merged tensor is stored.

Run from the repository root:
    /tmp/npsvenv/bin/python tools/golden_merges.py [--out kernels/src/test/resources/golden/merge]

Writes (all safetensors; merged tensors are F32 and keyed by parameter name, case parameters are strings
in __metadata__):
    inputs.safetensors          small case, T=4: base/<name>, ft<t>/<name>, tau<t>/<name> (= ft - base in F32)
    ta, ties, ties_keep05, dare_ta, dare_ties, consensus, average .safetensors   merged theta per case
    topk_keep01, topk_keep033 .safetensors   U8 global top-k mask of tau0 per tensor (pins the tie rule)
    dare_uniform.safetensors    u F64 [2,32] = uniform(42, t, i) for t<2, i<32; plus splitmix64 and key checks
    large/inputs.safetensors and large/{ta,ties,dare_ta,consensus}.safetensors   T=3, ~20k random entries
"""
from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

MASK64 = (1 << 64) - 1
U64 = np.uint64


# ---------------------------------------------------------------- RNG --------------------------------
def splitmix64_int(z: int) -> int:
    """Scalar reference on Python ints (arbitrary precision, wrapped by hand)."""
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def splitmix64(z: np.ndarray) -> np.ndarray:
    """Vectorised over uint64 arrays; NumPy uint64 array arithmetic wraps modulo 2^64."""
    z = np.asarray(z, dtype=U64)
    with np.errstate(over="ignore"):
        z = z + U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
    return z ^ (z >> U64(31))


def dare_key(seed: int, t: int) -> int:
    return splitmix64_int((seed & MASK64) ^ splitmix64_int(t))


def uniforms(seed: int, t: int, n: int) -> np.ndarray:
    """u(seed, t, i) for i in [0, n): (splitmix64(key + i) >>> 11) * 2^-53."""
    key = U64(dare_key(seed, t))
    with np.errstate(over="ignore"):
        z = key + np.arange(n, dtype=U64)
    return (splitmix64(z) >> U64(11)).astype(np.float64) * (2.0 ** -53)


# ---------------------------------------------------------------- top-k ------------------------------
def keep_count(keep: float, n: int) -> int:
    assert 0.0 < keep <= 1.0
    return math.ceil(keep * n)


def topk_mask(x: np.ndarray, keep: float) -> np.ndarray:
    """Exact-k mask by |x| over a flat vector; ties at the threshold go to the first entries.

    Reference by a stable sort of -|x| (deliberately not the threshold algorithm the Java side uses),
    cross-checked against the threshold formulation below.
    """
    n = x.size
    k = keep_count(keep, n)
    a = np.abs(x)
    order = np.argsort(-a, kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    # Threshold formulation from the definition: all |x| > t, then the first |x| == t until k are kept.
    t = np.sort(a)[n - k]
    m2 = a > t
    need = k - int(m2.sum())
    eq = np.flatnonzero(a == t)
    m2[eq[:need]] = True
    assert np.array_equal(mask, m2) and int(mask.sum()) == k
    return mask


# ---------------------------------------------------------------- merges -----------------------------
def ta(base: np.ndarray, taus: list[np.ndarray], lam: float) -> np.ndarray:
    return base + lam * np.sum(taus, axis=0)


def ties_merge(taus: list[np.ndarray], keep: float) -> np.ndarray:
    trimmed = np.stack([np.where(topk_mask(tau, keep), tau, 0.0) for tau in taus])  # [T, n]
    elected = np.sign(trimmed.sum(axis=0))  # sign(0) = 0
    agree = (trimmed != 0) & (np.sign(trimmed) == elected)
    cnt = agree.sum(axis=0)
    tot = np.where(agree, trimmed, 0.0).sum(axis=0)
    return np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.0)


def ties(base, taus, keep, lam):
    return base + lam * ties_merge(taus, keep)


def dare(taus: list[np.ndarray], p: float, seed: int) -> list[np.ndarray]:
    scale = 1.0 / (1.0 - p)
    out = []
    for t, tau in enumerate(taus):
        u = uniforms(seed, t, tau.size)
        out.append(np.where(u < p, 0.0, tau * scale))
    return out


def consensus(base, taus, k: int, mask_lambda: float, lam: float):
    mtl = np.sum(taus, axis=0)
    masks = [np.abs(tau) >= mask_lambda * np.abs(mtl - tau) for tau in taus]
    cons = np.sum(masks, axis=0) >= k
    return base + lam * np.where(cons, mtl, 0.0)


def average(base, taus):
    return base + (1.0 / len(taus)) * np.sum(taus, axis=0)


# ---------------------------------------------------------------- plumbing ---------------------------
def flatten(params: dict[str, np.ndarray]) -> np.ndarray:
    """Globally flattened vector: names sorted lexicographically, each tensor row-major, as float64."""
    return np.concatenate([params[k].astype(np.float64).ravel() for k in sorted(params)])


def unflatten(vec: np.ndarray, like: dict[str, np.ndarray], dtype=np.float32) -> dict[str, np.ndarray]:
    out, off = {}, 0
    for k in sorted(like):
        n = like[k].size
        out[k] = vec[off:off + n].reshape(like[k].shape).astype(dtype)
        off += n
    assert off == vec.size
    return out


_DTYPES = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.int64): "I64",
           np.dtype(np.uint8): "U8"}


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None) -> bytes:
    """Deterministic safetensors: sorted metadata keys and tensor names (the safetensors package writes
    __metadata__ in hash order, so its files differ run to run). Read back with safetensors to check."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    blobs, off = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def atomic_save(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name)
    with os.fdopen(fd, "wb") as fh:
        fh.write(safetensors_bytes(tensors, metadata))
    back = load_file(tmp)
    assert sorted(back) == sorted(tensors) and all(
        back[k].dtype == tensors[k].dtype and np.array_equal(back[k], tensors[k]) for k in tensors), path
    os.chmod(tmp, 0o644)  # mkstemp creates 0600
    os.replace(tmp, path)


def make_inputs(rng, shapes: dict[str, tuple], T: int, quantize: bool):
    """base + T fine-tuned F32 tensors; tau_t = ft_t - base computed in float32 as the spec says."""
    base, fts = {}, [dict() for _ in range(T)]
    for name, shape in shapes.items():
        if quantize:
            # Multiples of 1/64 (exact in F32, so ft - base round-trips): many |tau| ties and exact zeros.
            b = np.round(rng.normal(0, 0.5, shape) * 64) / 64
            base[name] = b.astype(np.float32)
            for t in range(T):
                tau = np.round(rng.normal(0, 0.08, shape) * 64) / 64
                fts[t][name] = (b + tau).astype(np.float32)
        else:
            base[name] = rng.normal(0, 0.5, shape).astype(np.float32)
            for t in range(T):
                fts[t][name] = (base[name] + rng.normal(0, 0.02, shape).astype(np.float32)).astype(np.float32)
    taus = [{k: (ft[k] - base[k]).astype(np.float32) for k in base} for ft in fts]
    for tau in taus:
        for v in tau.values():
            assert v.dtype == np.float32
    return base, fts, taus


def write_inputs(path: Path, base, fts, taus, note: str):
    t = {f"base/{k}": v for k, v in base.items()}
    for i, (ft, tau) in enumerate(zip(fts, taus)):
        t.update({f"ft{i}/{k}": v for k, v in ft.items()})
        t.update({f"tau{i}/{k}": v for k, v in tau.items()})
    atomic_save(path, t, {"T": str(len(fts)), "note": note})


def fmt(x) -> str:
    return repr(x) if isinstance(x, float) else str(x)


def run_cases(out: Path, base, taus, cases: dict[str, dict]):
    b = flatten(base)
    tv = [flatten(t) for t in taus]
    results = {}
    for name, c in cases.items():
        m = c["method"]
        if m == "ta":
            theta = ta(b, tv, c["lambda"])
        elif m == "ties":
            theta = ties(b, tv, c["keep"], c["lambda"])
        elif m == "dare_ta":
            theta = ta(b, dare(tv, c["p"], c["seed"]), c["lambda"])
        elif m == "dare_ties":
            theta = ties(b, dare(tv, c["p"], c["seed"]), c["keep"], c["lambda"])
        elif m == "consensus":
            theta = consensus(b, tv, c["k"], c["maskLambda"], c["lambda"])
        elif m == "average":
            theta = average(b, tv)
        else:
            raise ValueError(m)
        tensors = unflatten(theta, base)
        atomic_save(out / f"{name}.safetensors", tensors, {k: fmt(v) for k, v in c.items()})
        results[name] = theta
    return results


def self_checks(base, fts, taus, res):
    """Properties the results must have, independent of the merge code paths above."""
    b = flatten(base)
    tv = [flatten(t) for t in taus]
    T = len(tv)
    # Average equals the mean of the fine-tuned weights.
    mean_ft = np.mean([flatten(f) for f in fts], axis=0)
    assert np.allclose(res["average"], mean_ft, atol=1e-6)
    # TIES with keep=1 and one task is plain TA with lambda.
    assert np.allclose(ties(b, tv[:1], 1.0, 0.7), ta(b, tv[:1], 0.7))
    # DARE with p -> 0 keeps everything unchanged.
    assert all(np.array_equal(d, t) for d, t in zip(dare(tv, 0.0, 1), tv))
    # Consensus with k=0 is TA.
    assert np.allclose(consensus(b, tv, 0, 0.4, 0.3), ta(b, tv, 0.3))
    # Cross-check the elementwise TIES against a per-entry loop on a few entries.
    trimmed = [np.where(topk_mask(t, 0.2), t, 0.0) for t in tv]
    for d in range(0, b.size, max(1, b.size // 50)):
        vals = [float(tr[d]) for tr in trimmed]
        s = sum(vals)
        e = (s > 0) - (s < 0)
        sel = [v for v in vals if v != 0 and ((v > 0) - (v < 0)) == e]
        want = float(b[d]) + 1.0 * (sum(sel) / len(sel) if sel else 0.0)
        assert abs(res["ties"][d] - want) < 1e-12, d
    assert T >= 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="kernels/src/test/resources/golden/merge", type=Path)
    args = ap.parse_args()
    out: Path = args.out

    # --- RNG pins ---
    for s, t in ((42, 0), (42, 1), (7, 3), (-1, 5)):
        u_np = uniforms(s, t, 40)
        key = dare_key(s, t)
        u_int = [(splitmix64_int((key + i) & MASK64) >> 11) * 2.0 ** -53 for i in range(40)]
        assert np.array_equal(u_np, np.array(u_int)), (s, t)
    # Known splitmix64 outputs for a zero state (Vigna's reference: the first draws from seed 0).
    assert splitmix64_int(0) == 0xE220A8397B1DCDAF
    assert splitmix64_int(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4
    u = np.stack([uniforms(42, t, 32) for t in range(2)])
    sm_in = np.arange(8, dtype=U64)
    atomic_save(out / "dare_uniform.safetensors", {
        "u": u,
        # Bit patterns as signed 64-bit (what a Java long holds).
        "splitmix64_of_0to7": splitmix64(sm_in).view(np.int64),
        "key_seed42_t0to1": np.array([dare_key(42, 0), dare_key(42, 1)], dtype=U64).view(np.int64),
    }, {"seed": "42", "shape": "u[t][i] = uniform(seed, t, i), t<2, i<32"})

    # --- small quantized case, T=4; pick the first seed whose tau0 top-k thresholds are split ties ---
    shapes = {"a.weight": (7, 5), "b.bias": (5,), "c.w": (3, 4, 2), "d": (11,)}
    for data_seed in range(1000):
        rng = np.random.default_rng(data_seed)
        base, fts, taus = make_inputs(rng, shapes, 4, quantize=True)
        tv = [flatten(t) for t in taus]

        def split_tie(v, keep):
            a = np.abs(v)
            k = keep_count(keep, v.size)
            t = np.sort(a)[v.size - k]
            return t > 0 and (a > t).sum() < k < (a >= t).sum()

        def zero_election(keep):  # some entry where trimmed values cancel exactly: sign(0) = 0 matters
            tr = np.stack([np.where(topk_mask(t, keep), t, 0.0) for t in tv])
            return bool(((tr.sum(axis=0) == 0) & (tr != 0).any(axis=0)).any())

        if (all(split_tie(tv[0], kp) for kp in (0.1, 0.33, 0.2, 0.5))
                and all(split_tie(t, 0.2) for t in tv) and all((t == 0).any() for t in tv)
                and zero_election(0.5)):
            break
    else:
        raise SystemExit("no seed gave split ties")
    write_inputs(out / "inputs.safetensors", base, fts, taus,
                 f"numpy default_rng({data_seed}); values multiples of 1/64; tau<t> = ft<t> - base in F32")
    for kp, nm in ((0.1, "topk_keep01"), (0.33, "topk_keep033")):
        mask = topk_mask(tv[0], kp)
        atomic_save(out / f"{nm}.safetensors", unflatten(mask.astype(np.uint8), base, np.uint8),
                    {"keep": repr(kp), "k": str(keep_count(kp, tv[0].size)), "of": "tau0", "n": str(tv[0].size)})
    small_cases = {
        "ta": {"method": "ta", "lambda": 0.3},
        "ties": {"method": "ties", "keep": 0.2, "lambda": 1.0},
        "ties_keep05": {"method": "ties", "keep": 0.5, "lambda": 0.7},
        "dare_ta": {"method": "dare_ta", "p": 0.5, "seed": 42, "lambda": 0.5},
        "dare_ties": {"method": "dare_ties", "p": 0.3, "seed": 7, "keep": 0.5, "lambda": 1.0},
        "consensus": {"method": "consensus", "k": 2, "maskLambda": 0.4, "lambda": 1.0},
        "average": {"method": "average"},
    }
    res = run_cases(out, base, taus, small_cases)
    self_checks(base, fts, taus, res)
    print(f"small: seed {data_seed}, n={tv[0].size}, T=4; wrote {len(small_cases)} cases")

    # --- large random case, T=3 ---
    shapes_l = {"l1.weight": (64, 200), "l1.bias": (200,), "l2.weight": (30, 220), "l2.bias": (30,),
                "norm.scale": (37,)}
    rng = np.random.default_rng(12345)
    base_l, fts_l, taus_l = make_inputs(rng, shapes_l, 3, quantize=False)
    write_inputs(out / "large" / "inputs.safetensors", base_l, fts_l, taus_l,
                 "numpy default_rng(12345); base N(0,0.5), ft = base + N(0,0.02); tau<t> = ft<t> - base in F32")
    large_cases = {k: small_cases[k] for k in ("ta", "ties", "dare_ta", "consensus")}
    large_cases["average"] = small_cases["average"]
    res_l = run_cases(out / "large", base_l, taus_l, large_cases)
    self_checks(base_l, fts_l, taus_l, res_l)
    print(f"large: n={flatten(base_l).size}, T=3; wrote {len(large_cases)} cases")

    # Round-trip: stored F32 equals the float64 result rounded once.
    for name, theta in res.items():
        back = load_file(str(out / f"{name}.safetensors"))
        assert np.array_equal(flatten(back), theta.astype(np.float32).astype(np.float64)), name
    return 0


if __name__ == "__main__":
    sys.exit(main())
