#!/usr/bin/env bash
# HNSW engine benchmark: tiembed-ann against hnswlib and faiss
# IndexHNSWFlat on the same clustered, normalised 384-d vectors, same M and
# ef_construction, same thread count. Prints build time, recall@10 against
# exact search and QPS (1 query thread and N) at ef_search 16/32/64/128, the
# ratio tiembed/hnswlib, then the time to load / mmap-view the saved index.
# Not a test: CI does not run it. bench/ann/server.py measures the same
# vectors end to end through the server (INSERT, ALTER ... ADD VECTOR INDEX,
# SQL top-10 at each ef against the exact scan, restart); see its header.
#
#   bench/ann/run.sh [N ...]          default: 100000
#
# Env: CARGO_TARGET_DIR (default ~/.cache/tiembed-target), ANN_BENCH_DIR
# (data + index files, default ~/.cache/tiembed-bench-ann), ANN_VENV (pip
# venv for hnswlib/faiss, default ~/.cache/tiembed-bench-venv), THREADS (2).
# STORAGE=bf16 (or f16) stores tiembed-ann vectors in 2 bytes (default f32).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiembed-target}"
DATA="${ANN_BENCH_DIR:-$HOME/.cache/tiembed-bench-ann}"
VENV="${ANN_VENV:-$HOME/.cache/tiembed-bench-venv}"
THREADS="${THREADS:-2}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000)

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import hnswlib, faiss, numpy" 2>/dev/null ||
    "$VENV/bin/pip" install --quiet numpy hnswlib faiss-cpu

cargo build --release -p tiembed-ann --example ann_bench
BENCH="$CARGO_TARGET_DIR/release/examples/ann_bench"

for n in "${SIZES[@]}"; do
    dir="$DATA/n$n"
    extra=()
    [ -n "${STORAGE:-}" ] && extra+=(--storage "$STORAGE")
    echo "=== n=$n: tiembed-ann"
    "$BENCH" --dir "$dir" --n "$n" --threads "$THREADS" ${extra[@]+"${extra[@]}"}
    echo "=== n=$n: hnswlib, faiss"
    "$VENV/bin/python" bench/ann/compare.py --dir "$dir" --n "$n" --threads "$THREADS"
    echo "=== n=$n: reopening the saved index in a fresh process"
    "$BENCH" --dir "$dir" --n "$n" --load-only
done
