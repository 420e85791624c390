#!/usr/bin/env bash
# The paper-style table for one spec: every classic merge, the per-task-lambda baselines, NPS
# (band/mask default, reweight, all-entries partition, sign election) with its magnitude control
# at keep 0.05/0.1/0.2, prune per task at each keep, compression, and the cache/abort savings.
# Each run writes OUT/<name>/result.json; a rerun skips runs whose result.json exists.
# Then tools/nps_table.py OUT prints the markdown tables of BENCHMARKS.md.
#
#   tools/bench-nps-table.sh SPEC OUT [search options, e.g. --generations 12 --evaluators 2]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPEC="$1"; OUT="$2"; shift 2
SEARCH=("$@")
mkdir -p "$OUT"
LOG="$OUT/runs.log"

run() {
  local name="$1"; shift
  if [ -f "$OUT/$name/result.json" ]; then return 0; fi
  echo "== $name: nps $* -q --spec $SPEC --out $OUT/$name" | tee -a "$LOG"
  local t0=$SECONDS
  "$ROOT/nps" "$@" -q --spec "$SPEC" --out "$OUT/$name" 2>>"$LOG" | tee -a "$LOG"
  echo "   wall $((SECONDS - t0)) s" | tee -a "$LOG"
}

run eval eval --cross
for m in ta ties dare consensus average; do run "$m" merge --method "$m"; done
run ta-per-task merge --method ta --per-task-lambda "${SEARCH[@]}"
run ties-per-task merge --method ties --per-task-lambda --keep auto "${SEARCH[@]}"
run nps merge --method nps --keep auto "${SEARCH[@]}"
run nps-reweight merge --method nps --keep auto --values reweight "${SEARCH[@]}"
run nps-all merge --method nps --keep auto --partition all "${SEARCH[@]}"
run nps-sign merge --method nps --keep auto --sign-election "${SEARCH[@]}"
TASKS=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["tasks"].keys()))' "$OUT/eval/result.json")
for k in 0.05 0.1 0.2; do
  for t in $TASKS; do run "prune-$k-$t" prune --task "$t" --keep "$k" "${SEARCH[@]}"; done
done
FIRST=${TASKS%% *}
run prune-nocache-$FIRST prune --task "$FIRST" --keep 0.05 --no-cache --abort off "${SEARCH[@]}"
run prune-statistical-$FIRST prune --task "$FIRST" --keep 0.05 --abort statistical "${SEARCH[@]}"
run compress-f32 compress --keep 0.05 "${SEARCH[@]}"
run compress-f16 compress --keep 0.05 --encoding f16 "${SEARCH[@]}"
python3 "$ROOT/tools/nps_table.py" "$OUT"
