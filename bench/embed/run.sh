#!/usr/bin/env bash
# The issue-4 benchmark: tiembed's in-process model against
# sentence-transformers (PyTorch, CPU) on the same texts in the same run.
# compare.py alternates one measurement of each side (tiembed in a
# `local_bench --serve` child), every batch size in every round, and
# report.py prints sentences/s, the ratio tiembed / PyTorch-best within each
# round (median and range over rounds), the latency of one short query
# (batch 1), and the cosine agreement of the two sides' vectors.
# Not a test: CI does not run it.
#
#   bench/embed/run.sh [--rounds 3] [--batches 1,8,16,32,64,128]
#                      [--threads 2] [--torch-threads 2] [--model DIR] [--count 1000]
#
# PyTorch gets its best settings: torch.set_num_threads (2 = both cores),
# OMP_WAIT_POLICY=PASSIVE, sentence-transformers' own bulk encode (global
# length sort), and the best of its batch sizes as the reference.
# Env: BENCH_VENV (default ~/.cache/tiembed-bench-venv; torch and
# sentence-transformers are installed there, never in the repo; the PyPI
# torch wheel brings CUDA libraries too: ~6 GB in all, unused here),
# CARGO_TARGET_DIR (default ~/.cache/tiembed-target), BENCH_DIR (scratch,
# default ~/.cache/tiembed-bench-embed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/embed"
cd "$ROOT"

ROUNDS=3
BATCHES=1,8,16,32,64,128
THREADS=2
TORCH_THREADS=2
MODEL="$ROOT/models/sentence-transformers/all-MiniLM-L6-v2"
COUNT=1000
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --batches) BATCHES="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --torch-threads) TORCH_THREADS="$2"; shift 2 ;;
        --model) MODEL="$2"; shift 2 ;;
        --count) COUNT="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ -f "$MODEL/model.safetensors" ] || { echo "no model at $MODEL (scripts/fetch-models.sh)" >&2; exit 1; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiembed-target}"
BENCH_VENV="${BENCH_VENV:-$HOME/.cache/tiembed-bench-venv}"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/tiembed-bench-embed}"
mkdir -p "$BENCH_DIR"

if ! "$BENCH_VENV/bin/python" -c "import torch, sentence_transformers" 2>/dev/null; then
    echo "== installing torch and sentence-transformers into $BENCH_VENV"
    python3 -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/pip" install --quiet --no-cache-dir torch sentence-transformers
fi
PY="$BENCH_VENV/bin/python"

echo "== building the local_bench example (release)"
cargo build --quiet --release -p tiembed-embed --example local_bench
BIN="$CARGO_TARGET_DIR/release/examples/local_bench"

TEXTS="$BENCH_DIR/texts.txt"
python3 "$HERE/corpus.py" "$TEXTS" --count "$COUNT"
DIM=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['hidden_size'])" "$MODEL/config.json")
RESULTS="$BENCH_DIR/results.jsonl"

echo "== $COUNT texts from $TEXTS, $ROUNDS rounds, batches $BATCHES"
OMP_WAIT_POLICY=PASSIVE "$PY" "$HERE/compare.py" "$MODEL" "$TEXTS" --tiembed-bin "$BIN" \
    --rounds "$ROUNDS" --batches "$BATCHES" --threads "$THREADS" --torch-threads "$TORCH_THREADS" \
    --dump-dir "$BENCH_DIR" > "$RESULTS"

echo
"$PY" "$HERE/report.py" "$RESULTS" --dumps "$BENCH_DIR/tiembed.f32" "$BENCH_DIR/pytorch.f32" "$DIM"
