#!/usr/bin/env bash
# Every figure docs/MODEL.md reports for a model, in one go, written to OUT (JSON and text):
#
#   scripts/model_report.sh docvlm/weights/small docs/results/small
#
# held-out synthetic lines (clean and degraded) and pages (the whole pipeline), the real
# sets in ../shared/eval (measurement only; each script skips with a message when absent)
# side by side with Tesseract and RapidOCR, receipt fields, speed and batch throughput.
# Run it on a quiet machine: the speed figures share the cores with whatever else runs.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:?model folder}"
OUT="${2:?output folder}"
N_LINES="${N_LINES:-200}"
N_PAGES="${N_PAGES:-5}"  # per kind: 3 gave +-6 points of KV F1 from one seed to the next
PY=.venv/bin/python
mkdir -p "$OUT"
run() { echo "== $*" >&2; "$@"; }
run .venv/bin/docvlm eval --model "$MODEL" --set synth-lines -n "$N_LINES" \
    -o "$OUT/synth_lines.json" | tee "$OUT/synth_lines.txt"
run .venv/bin/docvlm eval --model "$MODEL" --set synth-pages -n "$N_PAGES" \
    -o "$OUT/synth_pages.json" | tee "$OUT/synth_pages.txt"
run .venv/bin/docvlm eval --model "$MODEL" --set pubtabnet -n 20 \
    -o "$OUT/pubtabnet.json" | tee "$OUT/pubtabnet.txt"
run $PY benchmarks/bench_ocr_baselines.py --model "$MODEL" -n 200 | tee "$OUT/ocr_baselines.txt"
run $PY benchmarks/bench_funsd_boxes.py -n 50 | tee "$OUT/funsd_boxes.txt"
run $PY benchmarks/bench_sroie_pages.py --model "$MODEL" -n 50 | tee "$OUT/sroie_pages.txt"
run $PY benchmarks/bench_sroie_fields.py --model "$MODEL" -n 50 --json "$OUT/sroie_fields.json" \
    | tee "$OUT/sroie_fields.txt"
run $PY benchmarks/bench_speed.py --model "$MODEL" --repeat 2 | tee "$OUT/speed.txt"
run $PY benchmarks/bench_batch.py --model "$MODEL" --pages 20 | tee "$OUT/batch.txt"
