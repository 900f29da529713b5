#!/usr/bin/env bash
# A short end-to-end run through every stage (reading -> lm -> align -> instruct), each stage
# starting from the previous one's weights, then the held-out evaluation after each stage.
#   scripts/e2e_stages.sh [PRESET] [STEPS_PER_STAGE] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-tiny}; STEPS=${2:-150}; OUT=${3:-runs/e2e-$PRESET}
D=.venv/bin/docvlm
common=(--preset "$PRESET" --steps "$STEPS" --eval-every "$STEPS" --save-every "$STEPS" --eval-samples 32)
$D train --stage reading  --run "$OUT/1-reading"  "${common[@]}"
$D train --stage lm       --run "$OUT/2-lm"       "${common[@]}" --init "$OUT/1-reading/last"
$D train --stage align    --run "$OUT/3-align"    "${common[@]}" --init "$OUT/2-lm/last"
$D train --stage instruct --run "$OUT/4-instruct" "${common[@]}" --init "$OUT/3-align/last"
for s in 1-reading 2-lm 3-align 4-instruct; do
  $D eval --model "$OUT/$s/last" --set synth-heldout -n 12 -o "$OUT/$s/eval.json" > "$OUT/$s/eval.txt"
done
.venv/bin/python scripts/make_figures.py curves --sequential "$OUT"/1-reading "$OUT"/2-lm "$OUT"/3-align "$OUT"/4-instruct --out "docs/e2e_${PRESET}_curves.png"
