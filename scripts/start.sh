#!/usr/bin/env bash
# Starts tiembed on a fresh machine with the in-process default model:
# fetches all-MiniLM-L6-v2 into ./models (idempotent, skipped when present),
# builds the release binary and runs it with its data in ./data.
#
#   scripts/start.sh [tiembed flags, e.g. --listen 127.0.0.1:4000 --config config/tiembed.toml]
#
# Defaults: 127.0.0.1:4000, data in ./data, models in ./models, user root
# with an empty password. Ctrl-C (SIGINT) or SIGTERM shuts down cleanly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

models_dir="${TIEMBED_MODELS_DIR:-$ROOT/models}"
extra=()
has_flag() { local f="$1"; shift; for a in "$@"; do case "$a" in "$f"|"$f"=*) return 0 ;; esac; done; return 1; }
if has_flag --models-dir "$@"; then
    for ((i = 1; i <= $#; i++)); do
        case "${!i}" in
            --models-dir) j=$((i + 1)); models_dir="${!j}" ;;
            --models-dir=*) models_dir="${!i#*=}" ;;
        esac
    done
else
    extra+=(--models-dir "$models_dir")
fi
has_flag --data-dir "$@" || extra+=(--data-dir "${TIEMBED_DATA_DIR:-$ROOT/data}")

scripts/fetch-models.sh --models-dir "$models_dir"
exec cargo run --release -p tiembed-server --bin tiembed -- "${extra[@]}" "$@"
