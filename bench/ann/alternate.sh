#!/usr/bin/env bash
# Query-only comparison with hnswlib on a shared machine: alternates
# `ann_bench --search-only` and `compare.py --search-only` ROUNDS times on
# the indexes a previous run.sh saved, then prints, per ef, the best
# (least disturbed) single-thread QPS per CPU-second of each and the ratio.
#
#   bench/ann/alternate.sh [N] [ROUNDS]      defaults: 100000 3
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiembed-target}"
DATA="${ANN_BENCH_DIR:-$HOME/.cache/tiembed-bench-ann}"
VENV="${ANN_VENV:-$HOME/.cache/tiembed-bench-venv}"
THREADS="${THREADS:-2}"
N="${1:-100000}"
ROUNDS="${2:-3}"
dir="$DATA/n$N"
BENCH="$CARGO_TARGET_DIR/release/examples/ann_bench"
out="$(mktemp)"
for r in $(seq "$ROUNDS"); do
    "$BENCH" --dir "$dir" --n "$N" --threads "$THREADS" --search-only 2>/dev/null | tee -a "$out"
    "$VENV/bin/python" bench/ann/compare.py --dir "$dir" --n "$N" --threads "$THREADS" --search-only | tee -a "$out"
done
echo
echo "best of $ROUNDS rounds, single-thread QPS per CPU-second (wall QPS, $THREADS-thread QPS):"
awk '
/ef=/ {
    lib = $1; ef = $2; sub("ef=", "", ef)
    for (i = 1; i <= NF; i++) {
        if ($i == "CPU-s") { c = $(i + 1); sub(")", "", c) }
        if ($i ~ /^thread=/) { w = $(i + 1) }
        if ($i ~ /^threads=/) { t = $(i + 1) }
    }
    if ($(NF) + 0 > 0) t = $(NF)
    if (c + 0 > best[lib, ef] + 0) best[lib, ef] = c
    if (w + 0 > bw[lib, ef] + 0) bw[lib, ef] = w
    if (t + 0 > bt[lib, ef] + 0) bt[lib, ef] = t
    efs[ef] = 1
}
END {
    printf "| ef | tiembed-ann | hnswlib | per CPU-s ratio | wall ratio | %s-thread ratio |\n", "'"$THREADS"'"
    for (ef = 16; ef <= 128; ef *= 2) {
        a = best["tiembed-ann", ef]; h = best["hnswlib", ef]
        printf "| %d | %.0f (%.0f, %.0f) | %.0f (%.0f, %.0f) | %.2fx | %.2fx | %.2fx |\n", ef, a, bw["tiembed-ann", ef], bt["tiembed-ann", ef], h, bw["hnswlib", ef], bt["hnswlib", ef], a / h, bw["tiembed-ann", ef] / bw["hnswlib", ef], bt["tiembed-ann", ef] / bt["hnswlib", ef]
    }
}' "$out"
rm -f "$out"
