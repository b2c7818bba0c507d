"""The PyTorch side of the embedding benchmark: sentence-transformers on CPU.

Prints one JSON object per line: throughput per (threads, batch) and the
latency of embedding one short question, so run.sh can put it beside
tiembed's figures from the same run.

    compare.py MODEL_DIR TEXTS.txt [--threads 2] [--batches 1,8,16,32,64,128]
               [--query TEXT] [--query-repeats 50] [--dump OUT.f32]

Throughput is `model.encode(all_texts, batch_size=b)`, sentence-transformers'
own bulk path: it sorts every text by length and pads per batch, its best
setting. OMP_WAIT_POLICY must be set before torch loads, so it is set here
(PASSIVE: idle OpenMP threads sleep instead of spinning, which on a shared
2-core machine is faster), unless the caller set it.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def ints(s):
    return [int(x) for x in s.split(",") if x]


def emit(**fields):
    print(json.dumps({"impl": "pytorch", **fields}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("texts")
    ap.add_argument("--threads", type=ints, default=[2])
    ap.add_argument("--batches", type=ints, default=[1, 8, 16, 32, 64, 128])
    ap.add_argument("--query", default="How do I install a package without network access?")
    ap.add_argument("--query-repeats", type=int, default=50)
    ap.add_argument("--dump", help="write the embeddings of all texts (batch 32) as raw f32")
    args = ap.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f]
    model = SentenceTransformer(args.model_dir, device="cpu")
    model.eval()
    encode = lambda xs, b: model.encode(xs, batch_size=b, convert_to_numpy=True, show_progress_bar=False)

    with torch.inference_mode():
        for threads in args.threads:
            torch.set_num_threads(threads)
            encode(texts[:64], 32)  # warm-up: allocator, OpenMP pool
            for batch in args.batches:
                start = time.perf_counter()
                out = encode(texts, batch)
                elapsed = time.perf_counter() - start
                assert out.shape[0] == len(texts)
                emit(threads=threads, batch=batch, sps=len(texts) / elapsed)
            times = []
            for _ in range(args.query_repeats):
                start = time.perf_counter()
                encode([args.query], 1)
                times.append((time.perf_counter() - start) * 1000)
            emit(threads=threads, query_ms=statistics.median(times))
        if args.dump:
            torch.set_num_threads(max(args.threads))
            encode(texts, 32).astype("<f4").tofile(args.dump)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}", file=sys.stderr)


if __name__ == "__main__":
    main()
