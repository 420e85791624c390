#!/usr/bin/env bash
# Offline checks of the Grafana dashboard and the Prometheus rules (k8s/validate.sh runs this; README.md here):
# 1. nps-dashboard.json is make-dashboard.mjs's output (edit the script, then: node make-dashboard.mjs --write);
# 2. check-dashboard.mjs: Grafana's schema (@grafana/schema, tsc --strict on a `satisfies` wrapper), datasource,
#    gridPos, ids, variables, filters, contract metric names, and every expression through promtool;
# 3. nps-rules.yaml: promtool check rules, check-rules.mjs (contract names), promtool test rules nps-rules.test.yaml;
# 4. each broken fixture must be refused with the message it names: fixtures/*.mjs (a function that spoils a copy
#    of the dashboard; `export const expect`), fixtures/rules/*.yaml (a broken rules file; "# expect:" line).
set -euo pipefail
cd "$(dirname "$0")"
sudo_if() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v promtool >/dev/null 2>&1; then   # .ci/run installs prometheus after k8s/validate.sh: install it here first
  sudo_if apt-get update -qq && sudo_if env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi
if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! node make-dashboard.mjs | cmp -s - nps-dashboard.json; then
  echo "k8s/monitoring/validate.sh: nps-dashboard.json is not make-dashboard.mjs's output; run: node k8s/monitoring/make-dashboard.mjs --write" >&2
  exit 1
fi
node check-dashboard.mjs nps-dashboard.json
promtool check rules nps-rules.yaml
node check-rules.mjs nps-rules.yaml
promtool test rules nps-rules.test.yaml

refused() {   # refused FIXTURE EXPECT OUTPUT... : the check failed (we are called only then) with EXPECT in its output
  local f="$1" expect="$2" out="$3"
  if ! grep -qF -- "$expect" <<<"$out"; then
    echo "k8s/monitoring/validate.sh: $f was refused, but not with '$expect': $out" >&2
    exit 1
  fi
}
n=0
for f in fixtures/*.mjs; do
  expect="$(node -e 'import(require("node:url").pathToFileURL(process.argv[1]).href).then((m) => console.log(m.expect))' "$f")"
  if out="$(node check-dashboard.mjs nps-dashboard.json --break "$f" 2>&1)"; then
    echo "k8s/monitoring/validate.sh: $f was accepted, but it is broken ($expect)" >&2
    exit 1
  fi
  refused "$f" "$expect" "$out"; n=$((n + 1))
done
for f in fixtures/rules/*.yaml; do
  expect="$(sed -n 's/^# expect: //p' "$f")"
  if out="$(promtool check rules "$f" 2>&1 && node check-rules.mjs "$f" 2>&1)"; then
    echo "k8s/monitoring/validate.sh: $f was accepted, but it is broken ($expect)" >&2
    exit 1
  fi
  refused "$f" "$expect" "$out"; n=$((n + 1))
done
echo "k8s/monitoring/validate.sh: dashboard and rules valid, $n broken fixtures refused"
