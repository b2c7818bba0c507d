"""Runs the embedding benchmark: sentence-transformers (PyTorch, CPU) in
this process against tiembed's local model in a `local_bench --serve`
child, one measurement of each in turn, so that both see the same load on
a shared machine. Prints one JSON object per line (report.py reads them).

    compare.py MODEL_DIR TEXTS.txt --tiembed-bin PATH [--rounds 3]
               [--batches 1,8,16,32,64,128] [--threads 2] [--torch-threads 2]
               [--batch1-count 200] [--query TEXT] [--query-repeats 50]
               [--dump-dir DIR]

PyTorch's throughput is `model.encode(texts, batch_size=b)`,
sentence-transformers' own bulk path: it sorts all texts by length and pads
per batch, its best setting. tiembed's is `embed_batch` on `b` texts at a
time in file order, as the server's batcher hands them over. Batch 1 runs
on the first `--batch1-count` texts on both sides (it is slow). Within a
round the order of the two sides flips at every measurement.
OMP_WAIT_POLICY must be set before torch loads, so it is set here (PASSIVE:
idle OpenMP threads sleep instead of spinning, better on a shared 2-core
machine), unless the caller set it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def ints(s):
    return [int(x) for x in s.split(",") if x]


def emit(record):
    print(json.dumps(record), flush=True)


class Tiembed:
    """The `local_bench --serve` child: one request line, one JSON answer."""

    def __init__(self, args):
        cmd = [args.tiembed_bin, args.model_dir, "--texts", args.texts, "--serve",
               "--threads", ",".join(map(str, args.threads)),
               "--query", args.query, "--query-repeats", str(args.query_repeats)]
        if args.dump_dir:
            cmd += ["--dump", os.path.join(args.dump_dir, "tiembed.f32")]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert json.loads(self.proc.stdout.readline()).get("ready")

    def ask(self, request):
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


class PyTorch:
    def __init__(self, args, texts):
        self.model = SentenceTransformer(args.model_dir, device="cpu")
        self.model.eval()
        self.texts = texts
        self.query, self.repeats = args.query, args.query_repeats

    def encode(self, texts, batch):
        return self.model.encode(texts, batch_size=batch, convert_to_numpy=True,
                                 show_progress_bar=False)

    def sps(self, threads, batch, count):
        torch.set_num_threads(threads)
        texts = self.texts[:count]
        start = time.perf_counter()
        out = self.encode(texts, batch)
        elapsed = time.perf_counter() - start
        assert out.shape[0] == len(texts)
        return {"impl": "pytorch", "threads": threads, "batch": batch, "sps": len(texts) / elapsed}

    def query_ms(self, threads):
        torch.set_num_threads(threads)
        times = []
        for _ in range(self.repeats):
            start = time.perf_counter()
            self.encode([self.query], 1)
            times.append((time.perf_counter() - start) * 1000)
        return {"impl": "pytorch", "threads": threads, "query_ms": statistics.median(times)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("texts")
    ap.add_argument("--tiembed-bin", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batches", type=ints, default=[1, 8, 16, 32, 64, 128])
    ap.add_argument("--threads", type=ints, default=[2], help="tiembed's thread counts")
    ap.add_argument("--torch-threads", type=ints, default=[2])
    ap.add_argument("--batch1-count", type=int, default=200)
    ap.add_argument("--query", default="How do I install a package without network access?")
    ap.add_argument("--query-repeats", type=int, default=50)
    ap.add_argument("--dump-dir", help="write both sides' vectors of all texts (batch 32) here")
    args = ap.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f]
    ours = Tiembed(args)
    theirs = PyTorch(args, texts)
    with torch.inference_mode():
        torch.set_num_threads(max(args.torch_threads))
        theirs.encode(texts[:64], 32)  # warm-up: allocator, OpenMP pool
        if args.dump_dir:
            theirs.encode(texts, 32).astype("<f4").tofile(os.path.join(args.dump_dir, "pytorch.f32"))

        # The measurements of a round in groups (one batch size, the query);
        # within a group the two sides take turns.
        groups = []
        for batch in args.batches:
            count = args.batch1_count if batch == 1 else len(texts)
            groups.append((
                [lambda r=f"sps {t} {batch} {count}": ours.ask(r) for t in args.threads],
                [lambda t=t, b=batch, c=count: theirs.sps(t, b, c) for t in args.torch_threads],
            ))
        groups.append((
            [lambda r=f"query {t}": ours.ask(r) for t in args.threads],
            [lambda t=t: theirs.query_ms(t) for t in args.torch_threads],
        ))
        for round_no in range(1, args.rounds + 1):
            emit({"round": round_no})
            for g, (ours_steps, theirs_steps) in enumerate(groups):
                # Who goes first flips with every group and every round.
                first, second = (ours_steps, theirs_steps) if (round_no + g) % 2 else (theirs_steps, ours_steps)
                for i in range(max(len(first), len(second))):
                    for side in (first, second):
                        if i < len(side):
                            emit(side[i]())
            print(f"round {round_no} done", file=sys.stderr, flush=True)
    ours.close()
    print(f"torch {torch.__version__}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
